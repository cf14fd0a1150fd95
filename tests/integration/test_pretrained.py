"""Pretrained models: export, HybridASR, hub layouts, trust, bad input.

One small experiment is trained and decoded on an embedded corpus, then
exported; every test loads that folder (or a tampered copy of it).
"""

import json
import os
import shutil
import subprocess
import sys
import wave

import kaldiio
import numpy as np
import pytest
import torch

from sb_rectifier.files import is_temp_name, read_table
from sb_rectifier.inference import HybridASR
from sb_rectifier.inference.export import (
    ExportError,
    export_model,
    pad_signals,
    read_wav16,
)
from sb_rectifier.inference.hybrid_asr import CheckpointError, HubFolderError

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
RUN = ["relu_4x512", "embedded_0.3h_seed0", "1234"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A trained, decoded experiment and its exported folder."""
    root = tmp_path_factory.mktemp("pretrained")
    cmd = [
        sys.executable, os.path.join(REPO_ROOT, "train.py"),
        os.path.join(REPO_ROOT, "hparams", "relu.yaml"),
        "--corpus_hours", "0.3", "--number_of_epochs", "6",
        "--noprogressbar", "--device", "cpu",
    ]  # fmt: skip
    result = subprocess.run(
        cmd, cwd=root, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    exp = root.joinpath("results", *RUN)
    corpus = root / "results" / "embedded_corpus" / "0.3h_seed0"
    hub = root / "hub"
    report = export_model(exp, hub)
    return {"exp": exp, "corpus": corpus, "hub": hub, "report": report}


@pytest.fixture(scope="module")
def asr(trained):
    return HybridASR.from_hparams(source=trained["hub"])


def _write_wav(path, samples, rate, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype=np.int16).tobytes())


def _test_set(corpus):
    data = corpus / "data" / "test"
    wavs = read_table(data / "wav.scp", "wav.scp")
    utt2spk = read_table(data / "utt2spk", "utt2spk")
    text = read_table(data / "text", "text")
    return wavs, utt2spk, text


# ---------------------------------------------------------------------------
# The folder
# ---------------------------------------------------------------------------


def test_export_writes_a_complete_hub_folder(trained):
    hub = trained["hub"]
    names = set(os.listdir(hub))
    assert {
        "hyperparams.yaml", "config.json", "custom_interface.py",
        "example.wav", "README.md", "model.ckpt", "normalizer.ckpt",
        "priors.ckpt", "transitions.ckpt", "decoding.ckpt",
        "alignment.ckpt", "HCLG.fst", "words.txt", "final.mdl",
        "sparsity.png",
    } <= names  # fmt: skip
    assert json.loads((hub / "config.json").read_text()) == {
        "speechbrain_interface": "HybridASR"
    }
    source = os.path.join(
        REPO_ROOT, "sb_rectifier", "inference", "hybrid_asr.py"
    )
    assert (hub / "custom_interface.py").read_bytes() == open(
        source, "rb"
    ).read()
    # No temporary folders left next to it.
    assert not [n for n in os.listdir(hub.parent) if is_temp_name(n)]
    # Every checkpoint loads with weights_only=True: the folder's, and the
    # torch-format ones of the training run (SpeechBrain writes counter,
    # brain and dataloader state as text).
    for name in names:
        if name.endswith(".ckpt"):
            torch.load(hub / name, weights_only=True)
    for ckpt in (trained["exp"] / "save").glob("CKPT*"):
        for name in ("model", "normalizer", "priors", "optimizer"):
            torch.load(ckpt / f"{name}.ckpt", weights_only=True)


def test_model_card_reports_the_runs_own_figures(trained):
    summary = json.loads((trained["exp"] / "summary.json").read_text())
    card = (trained["hub"] / "README.md").read_text()
    assert f"| dev | {summary['dev_ce']:.4f} |" in card
    assert f"{summary['test_wer']:.2f} |" in card
    assert "![Activation probability" in card
    assert "license: apache-2.0" in card
    assert "load only repositories you trust" in card
    transcript = trained["report"]["example_transcript"]
    assert f"`example.wav` transcribes as: `{transcript}`" in card


def test_export_refuses_a_folder_with_files_and_incomplete_runs(
    trained, tmp_path
):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        export_model(trained["exp"], full)
    assert os.listdir(full) == ["keep.txt"]

    with pytest.raises(ExportError, match="experiment folder not found"):
        export_model(tmp_path / "nowhere", tmp_path / "out")
    # A run that was never decoded.
    run = tmp_path / "undecoded"
    shutil.copytree(trained["exp"], run)
    summary = json.loads((run / "summary.json").read_text())
    del summary["lm_weight"]
    (run / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ExportError, match=r"--stages=\[decode\]"):
        export_model(run, tmp_path / "out")
    # A run without its checkpoint.
    summary["lm_weight"] = 4
    (run / "summary.json").write_text(json.dumps(summary))
    shutil.rmtree(run / "save")
    with pytest.raises(ExportError, match="no checkpoint"):
        export_model(run, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------
# HybridASR against the training run
# ---------------------------------------------------------------------------


def test_transcripts_and_scores_equal_the_training_runs_decode(trained, asr):
    """Same features, network, priors, graph and LM weight as the run."""
    wavs, utt2spk, _ = _test_set(trained["corpus"])
    decode = trained["exp"] / "decode" / "test"
    hyps = read_table(decode / "hyp.txt", "hyp.txt", allow_empty=True)
    loglikes = kaldiio.load_scp(str(decode / "loglikes.scp"))
    by_speaker = {}
    for utt, spk in utt2spk.items():
        by_speaker.setdefault(spk, []).append(utt)
    checked = 0
    for spk, utts in sorted(by_speaker.items()):
        batch, lens = pad_signals([read_wav16(wavs[u]) for u in utts])
        speakers = [spk] * len(utts)
        scores = asr.log_likelihoods(batch, lens, speakers=speakers)
        for utt, score in zip(utts, scores, strict=True):
            np.testing.assert_allclose(
                score.numpy(), loglikes[utt], rtol=0, atol=1e-4
            )
        texts = asr.transcribe_batch(batch, lens, speakers=speakers)
        for utt, text in zip(utts, texts, strict=True):
            assert text == hyps.get(utt, ""), utt
            checked += 1
    assert checked == len(wavs)


def test_log_posteriors_are_normalised_and_differ_by_the_priors(trained, asr):
    signal = read_wav16(str(trained["hub"] / "example.wav")).unsqueeze(0)
    post = asr.log_posteriors(signal)[0]
    like = asr.log_likelihoods(signal)[0]
    np.testing.assert_allclose(post.exp().sum(-1).numpy(), 1.0, atol=1e-4)
    log_priors = torch.load(trained["hub"] / "priors.ckpt", weights_only=True)[
        "log_priors"
    ]
    np.testing.assert_allclose(
        (post - like).numpy(), log_priors.expand_as(post).numpy(), atol=1e-5
    )


def _reference_words(asr, corpus, utt, text):
    """Word segments of the corpus's own (synthesiser) alignment."""
    phones = []
    path = corpus / "exp" / "ali_test" / "phone_alignment.txt"
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields[0] == utt:
            start, count = int(fields[2]), int(fields[3])
            phones.append((fields[1], start * 0.01, (start + count) * 0.01))
    return asr._word_segments(text.split(), phones, utt)


def test_alignment_matches_the_synthesisers_word_boundaries(trained, asr):
    """Word boundaries against the corpus's own (synthesiser) alignment.

    Measured with this fixture's model (0.3 h, 6 epochs, 4 x 512): 89 % of
    the boundaries within 20 ms, most of the rest at pauses, where the
    synthesiser's phoneme events and the model disagree on where silence
    starts; 44 % of the utterances have every boundary within 20 ms.
    """
    wavs, _, text = _test_set(trained["corpus"])
    errors, exact_utts = [], 0
    for utt in sorted(wavs):
        alignment = asr.align_file(wavs[utt], text[utt])
        ref = _reference_words(asr, trained["corpus"], utt, text[utt])
        assert [w for w, _, _ in alignment.words] == text[utt].split()
        utt_errors = [
            hyp - truth
            for (_, *bounds), (_, *truths) in zip(
                alignment.words, ref, strict=True
            )
            for hyp, truth in zip(bounds, truths, strict=True)
        ]
        errors.extend(utt_errors)
        exact_utts += max(abs(e) for e in utt_errors) <= 0.020 + 1e-9
        frames = len(alignment.transition_ids)
        assert alignment.phones[-1][2] == pytest.approx(frames * 0.01)
    errors = np.abs(np.array(errors))
    assert np.median(errors) <= 0.010 + 1e-9
    assert np.mean(errors <= 0.020 + 1e-9) >= 0.80
    assert exact_utts >= len(wavs) / 4
    ctm = alignment.ctm(utt).splitlines()
    assert len(ctm) == len(alignment.words)
    assert ctm[0].split()[:2] == [utt, "1"]


def test_alignment_refuses_words_outside_the_lexicon(trained, asr):
    with pytest.raises(ValueError, match="not in the model's lexicon.*: zyxt"):
        asr.align_file(trained["hub"] / "example.wav", "zyxt one")
    with pytest.raises(ValueError, match="empty transcript"):
        asr.align_file(trained["hub"] / "example.wav", "  ")


# ---------------------------------------------------------------------------
# Loading in a fresh process: folder, HF cache, foreign_class
# ---------------------------------------------------------------------------


def _fresh(code, tmp_path, **env):
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_cli_transcribes_and_aligns_offline_in_a_fresh_process(
    trained, tmp_path
):
    hub = str(trained["hub"])
    wav = os.path.join(hub, "example.wav")
    transcript = trained["report"]["example_transcript"]
    out = _fresh(
        "import sys; from sb_rectifier.cli.main import main; "
        f"sys.exit(main(['transcribe', {hub!r}, {wav!r}]))",
        tmp_path,
    )
    assert out.strip() == f"{wav} {transcript}"
    out = _fresh(
        "import sys; from sb_rectifier.cli.main import main; "
        f"sys.exit(main(['force-align', {hub!r}, {wav!r}, {transcript!r}]))",
        tmp_path,
    )
    assert [line.split()[4] for line in out.splitlines()] == transcript.split()


def test_loads_from_the_huggingface_cache_layout_offline(trained, tmp_path):
    """The folder placed as huggingface_hub caches a download."""
    cache = tmp_path / "hf_cache"
    repo = cache / "models--someone--hybrid-relu"
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for name in os.listdir(trained["hub"]):
        blob = repo / "blobs" / f"blob-{name}"
        shutil.copyfile(trained["hub"] / name, blob)
        os.symlink(os.path.relpath(blob, snapshot), snapshot / name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    transcript = trained["report"]["example_transcript"]
    out = _fresh(
        "from sb_rectifier.inference import HybridASR\n"
        "asr = HybridASR.from_hparams(source='someone/hybrid-relu', "
        "savedir='save')\n"
        f"print(asr.transcribe_file({str(snapshot / 'example.wav')!r}))\n",
        tmp_path,
        HF_HUB_CACHE=str(cache),
    )
    assert out.strip().splitlines()[-1] == transcript
    assert (tmp_path / "save" / "model.ckpt").exists()


def test_foreign_class_works_without_the_plugin(trained, tmp_path):
    hub = str(trained["hub"])
    transcript = trained["report"]["example_transcript"]
    out = _fresh(
        "import sys\n"
        "sys.modules['sb_rectifier'] = None  # as if not installed\n"
        "from speechbrain.inference.interfaces import foreign_class\n"
        f"asr = foreign_class(source={hub!r}, "
        "pymodule_file='custom_interface.py', classname='HybridASR')\n"
        "print(type(asr).__module__)\n"
        f"print(asr.transcribe_file({os.path.join(hub, 'example.wav')!r}))\n",
        tmp_path,
    )
    assert out.strip().splitlines()[-2:] == ["custom_interface", transcript]


# ---------------------------------------------------------------------------
# Trust: tampered folders
# ---------------------------------------------------------------------------


@pytest.fixture
def copy(trained, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(trained["hub"], folder)
    return folder


def test_a_checkpoint_with_pickled_objects_is_refused(copy):
    state = torch.load(copy / "priors.ckpt", weights_only=True)
    state["extra"] = np.zeros(3)  # a numpy object: not weights-only
    torch.save(state, copy / "priors.ckpt")
    with pytest.raises(CheckpointError, match=r"priors.ckpt: refused"):
        HybridASR.from_hparams(source=copy)


def test_a_missing_or_reshaped_key_is_an_error_naming_file_and_key(copy):
    state = torch.load(copy / "model.ckpt", weights_only=True)
    del state["2.bias"]
    torch.save(state, copy / "model.ckpt")
    with pytest.raises(CheckpointError, match=r"model.ckpt: key '2.bias'"):
        HybridASR.from_hparams(source=copy)
    state["2.bias"] = torch.zeros(7)
    torch.save(state, copy / "model.ckpt")
    with pytest.raises(CheckpointError, match=r"'2.bias' has shape \(7,\)"):
        HybridASR.from_hparams(source=copy)


def test_yaml_that_calls_code_is_refused_before_anything_is_built(
    copy, tmp_path
):
    marker = tmp_path / "ran"
    text = (copy / "hyperparams.yaml").read_text()
    (copy / "hyperparams.yaml").write_text(
        f"side_effect: !apply:pathlib.Path.touch [{str(marker)!r}]\n" + text
    )
    with pytest.raises(
        HubFolderError, match=r"hyperparams.yaml:1: side_effect"
    ):
        HybridASR.from_hparams(source=copy)
    assert not marker.exists()


def test_file_names_cannot_escape_the_folder(copy):
    text = (copy / "hyperparams.yaml").read_text()
    text = text.replace(
        "    custom_hooks:", "    paths:\n        model: ../model.ckpt\n"
        "    custom_hooks:",
    )  # fmt: skip
    (copy / "hyperparams.yaml").write_text(text)
    with pytest.raises(HubFolderError, match="'../model.ckpt' is not a plain"):
        HybridASR.from_hparams(source=copy)
    with pytest.raises(HubFolderError, match="not a plain file name"):
        HybridASR.from_hparams(source=copy, hparams_file="../h.yaml")


# ---------------------------------------------------------------------------
# Bad audio
# ---------------------------------------------------------------------------


def test_bad_audio_gets_clear_errors(asr, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.wav: audio file"):
        asr.transcribe_file(tmp_path / "nothing.wav")
    text = tmp_path / "text.wav"
    text.write_text("not audio")
    with pytest.raises(ValueError, match="text.wav: cannot read audio"):
        asr.transcribe_file(text)
    stereo = tmp_path / "stereo.wav"
    _write_wav(stereo, np.zeros(1600, np.int16), 8000, channels=2)
    with pytest.raises(ValueError, match="stereo.wav: 2 channels"):
        asr.transcribe_file(stereo)
    empty = tmp_path / "empty.wav"
    _write_wav(empty, [], 8000)
    with pytest.raises(ValueError, match="empty.wav: empty signal"):
        asr.transcribe_file(empty)
    short = tmp_path / "short.wav"
    _write_wav(short, np.ones(80, np.int16), 8000)
    with pytest.raises(ValueError, match=r"short.wav: 10.0 ms .* 25 ms"):
        asr.transcribe_file(short)
    with pytest.raises(ValueError, match="relative lengths"):
        asr.transcribe_batch(torch.zeros(2, 800), torch.tensor([1.0, 0.0]))


def test_another_sample_rate_is_resampled_and_logged(trained, asr, caplog):
    import torchaudio.functional as AF

    signal = read_wav16(str(trained["hub"] / "example.wav"))
    up = AF.resample(signal, 8000, 16000)
    path = trained["hub"].parent / "example16k.wav"
    _write_wav(path, (up * 32767).round().clamp(-32768, 32767), 16000)
    with caplog.at_level("INFO"):
        text = asr.transcribe_file(path)
    assert "resampled from 16000 Hz to the model's 8000 Hz" in caplog.text
    assert text == trained["report"]["example_transcript"]


def test_a_failed_push_keeps_the_folder_and_fails_the_command(
    trained, tmp_path
):
    out = tmp_path / "hub"
    result = subprocess.run(
        [
            sys.executable, "-m", "sb_rectifier.cli.main", "export",
            str(trained["exp"]), str(out), "--push", "someone/model",
        ],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1
    assert "offline mode" in result.stderr and "uploaded:" not in result.stdout
    assert sorted(os.listdir(out)) == sorted(os.listdir(trained["hub"]))
