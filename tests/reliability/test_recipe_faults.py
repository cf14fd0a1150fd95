"""train.py against bad input and faults: nothing lost, nothing mixed.

Each test is one row of docs/reliability.md. Data: the Kaldi-format
fixture of tests/kaldi_fixture.py (40/10/10 utterances, 18 pdfs, 13-dim
features), trained small (2 x 64 units) for one or two epochs.
"""

import json
import os
import re
import shutil
import signal
import subprocess

import kaldiio
import numpy as np
import pytest
import torch
from faults import (
    limit_file_size_in_child,
    python_command,
    run_with_file_size_limit,
    temporaries,
    wait_for,
)
from kaldi_fixture import make_kaldi_dataset
from train_runner import run_train, train_command, train_module

from sb_rectifier.data.frame_store import FrameStore
from sb_rectifier.data.kaldi_frames import prepare_split
from sb_rectifier.files import read_table, temp_sibling
from sb_rectifier.kaldi import (
    KaldiDataDir,
    TransitionModel,
    write_int_vectors,
)
from sb_rectifier.recipe.experiment import ExperimentMismatchError

ONE_EPOCH = ["--number_of_epochs", "1"]


def _fixture(tmp_path, name="kaldi", **kwargs):
    root = tmp_path / name
    return root, make_kaldi_dataset(root, seed=kwargs.pop("seed", 7), **kwargs)


def _checkpoints(out):
    save = out / "save"
    if not save.is_dir():
        return []
    return sorted(p.name for p in save.iterdir() if p.name.startswith("CKPT+"))


def _prepare(root, split, cache, report, **kwargs):
    ali = root / "exp" / f"ali_{split}"
    folder, report = prepare_split(
        split,
        str(root / "data" / split),
        str(ali),
        kwargs.pop("num_pdfs", 18),
        str(cache),
        str(report),
        progress=False,
        **kwargs,
    )
    return FrameStore.load(folder), report


# ---------------------------------------------------------------- runs


@pytest.mark.slow
def test_second_run_into_a_busy_output_folder_is_refused(tmp_path):
    """Two train.py into one folder: the second stops at once, touching
    nothing; kill -9 of the first frees the folder, and a re-run resumes."""
    root, _ = _fixture(tmp_path)
    first, out = train_command(
        tmp_path, "relu", root, ["--number_of_epochs", "500"]
    )
    proc = subprocess.Popen(
        first, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        assert wait_for(lambda: len(_checkpoints(out)) >= 1, timeout=120)
        hyperparams = (out / "hyperparams.yaml").read_text()
        log_lines = (out / "log.txt").read_text().count("Beginning experiment")
        second, _ = train_command(
            tmp_path, "relu", root, ["--number_of_epochs", "1", "--lr", "0.5"]
        )
        result = subprocess.run(
            second, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 1, result.stderr
        assert "train.py: error:" in result.stderr
        assert "Traceback" not in result.stderr
        assert (
            f"this output folder is in use by another run (pid {proc.pid}"
            in (result.stderr)
        )
        assert "another --output_folder" in result.stderr
        # The refused run wrote nothing into the busy folder.
        assert (out / "hyperparams.yaml").read_text() == hyperparams
        assert "lr: 0.5" not in hyperparams
        log = (out / "log.txt").read_text()
        assert log.count("Beginning experiment") == log_lines
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    # The kernel released the lock of the killed run: a re-run takes the
    # folder and resumes from the killed run's last checkpoint.
    done = len(json.loads((out / "metrics.json").read_text()))
    summary, _ = run_train(
        tmp_path, "relu", root, ["--number_of_epochs", str(done + 1)]
    )
    records = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in records] == list(range(1, done + 2))
    assert summary["dev_frame_acc"] > 30


def test_cmvn_archive_outside_the_data_dir_changed_in_place(tmp_path):
    """Kaldi keeps CMVN stats in mfcc/cmvn_*.ark: a change there rebuilds
    the frame cache (it used to be reused, stale)."""
    root, _ = _fixture(tmp_path)
    data = root / "data" / "train"
    mfcc = root / "mfcc"
    mfcc.mkdir()
    stats = dict(kaldiio.load_scp(str(data / "cmvn.scp")).items())
    ark = mfcc / "cmvn_train.ark"
    kaldiio.save_ark(str(ark), stats, scp=str(data / "cmvn.scp"))
    (data / "cmvn.ark").unlink()
    before, _ = _prepare(root, "train", tmp_path / "cache", tmp_path / "r.json")

    # Same speakers, same file, same size: other statistics.
    shifted = {k: v.copy() for k, v in stats.items()}
    for value in shifted.values():
        value[0, :-1] += 3.0 * value[0, -1]  # means + 3
    kaldiio.save_ark(str(ark), shifted, scp=str(data / "cmvn.scp"))
    after, _ = _prepare(root, "train", tmp_path / "cache", tmp_path / "r.json")
    fresh, _ = _prepare(root, "train", tmp_path / "fresh", tmp_path / "r.json")

    assert torch.equal(after.feats, fresh.feats)
    assert torch.allclose(after.feats, before.feats - 3.0, atol=1e-4)


def test_dev_model_with_other_pdf_ids_is_refused(tmp_path):
    """A dev final.mdl whose pdf ids differ from train's: an error naming
    both files, before any training."""
    root, _ = _fixture(tmp_path)
    dev_model = root / "exp" / "ali_dev" / "final.mdl"
    tm = TransitionModel.read(dev_model)
    shifted = [
        (p, s, (f + 3) % tm.num_pdfs, (loop + 3) % tm.num_pdfs)
        for p, s, f, loop in tm.tuples
    ]
    TransitionModel(tm.topology, shifted).write(dev_model)
    with pytest.raises(
        ValueError,
        match=r"ali_dev/final.mdl: this transition model differs from "
        r".*ali_train/final.mdl, the one the network is trained for "
        r"\(transition state 1 is",
    ):
        run_train(tmp_path, "relu", root, ONE_EPOCH)
    assert _checkpoints(tmp_path / "exp_relu") == []


def test_disk_full_while_saving_a_checkpoint(tmp_path):
    """A checkpoint that cannot be written leaves no checkpoint folder (so
    no torn model.ckpt) and a clear error; the re-run works."""
    root, _ = _fixture(tmp_path)
    run_train(
        tmp_path, "relu", root, ["--output_folder", str(tmp_path / "warm")]
    )
    cmd, out = train_command(
        tmp_path, "relu", root, ONE_EPOCH + ["--neurons", "256"]
    )
    result = subprocess.run(
        cmd,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_file_size_in_child(300_000),  # model.ckpt: ~430 kB
    )
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    assert "Traceback" not in result.stderr
    assert "train.py: error:" in result.stderr
    assert "cannot write the checkpoint" in result.stderr
    assert "nothing was saved" in result.stderr
    assert _checkpoints(out) == []
    assert temporaries(out) == []
    # The re-run (disk space back) trains and saves normally.
    summary, _ = run_train(
        tmp_path, "relu", root, ONE_EPOCH + ["--neurons", "256"]
    )
    assert len(_checkpoints(out)) == 1
    assert summary["best_epoch"] == 1


def test_unreadable_checkpoint_is_skipped_for_the_previous_one(
    tmp_path, caplog
):
    """A torn newest checkpoint (as an interrupted in-place save leaves):
    recovery warns, moves it aside and resumes from the previous one."""
    root, _ = _fixture(tmp_path)
    _, out = run_train(tmp_path, "relu", root, ONE_EPOCH)
    (good,) = _checkpoints(out)
    torn = out / "save" / "CKPT+2999-01-01+00-00-00+00"
    shutil.copytree(out / "save" / good, torn)
    data = (torn / "model.ckpt").read_bytes()
    (torn / "model.ckpt").write_bytes(data[: len(data) // 2])
    meta = (torn / "CKPT.yaml").read_text()
    stamp = float(meta.split("unixtime: ")[1].split()[0])
    (torn / "CKPT.yaml").write_text(
        meta.replace(f"unixtime: {stamp}", f"unixtime: {stamp + 60}")
    )

    summary, _ = run_train(tmp_path, "relu", root, ["--number_of_epochs", "2"])
    log = (out / "log.txt").read_text()
    assert f"{torn}: unreadable checkpoint" in log
    assert f"Recovered from {out / 'save' / good} instead of" in log
    assert (out / "save" / f"unreadable+{torn.name}").is_dir()
    records = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in records] == [1, 2]
    assert summary["dev_frame_acc"] > 30


def test_other_data_or_network_in_the_same_folder_is_refused(tmp_path):
    """Checkpoints of another experiment are never resumed: the error says
    what differs, and the folder is left as it was."""
    root, _ = _fixture(tmp_path)
    other, _ = _fixture(tmp_path, "other", num_phones=5, seed=8)
    _, out = run_train(tmp_path, "relu", root, ONE_EPOCH)
    before = _checkpoints(out)
    with pytest.raises(
        ExperimentMismatchError, match="data.num_pdfs: 18 there, 15 now"
    ):
        run_train(tmp_path, "relu", other, ONE_EPOCH)
    with pytest.raises(
        ExperimentMismatchError, match="model.neurons: 64 there, 32 now"
    ):
        run_train(tmp_path, "relu", root, ONE_EPOCH + ["--neurons", "32"])
    assert _checkpoints(out) == before
    # The same experiment resumes.
    summary, _ = run_train(tmp_path, "relu", root, ["--number_of_epochs", "2"])
    assert summary["best_epoch"] in (1, 2)


def test_output_folder_is_named_by_the_data(tmp_path, monkeypatch):
    """The README's examples (embedded corpus, another size, a Kaldi root)
    get three folders."""
    monkeypatch.chdir(tmp_path)
    load = train_module().load_experiment
    relu = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "hparams", "relu.yaml")  # fmt: skip
    folders = {
        load(relu, overrides)[0]["output_folder"]
        for overrides in (
            "",
            "corpus_hours: 0.5",
            "data_folder: /corpora/a/s5c",
            "data_folder: /corpora/b/s5c",
            "train_dir: /corpora/a/s5c/data/train_nodup",
        )
    }
    assert len(folders) == 5
    assert "results/relu_4x512/embedded_1.0h_seed0/1234" in folders
    assert not (tmp_path / "results").exists()  # loading writes nothing


# ---------------------------------------------------------- bad input


def _rewrite_scp_entry(scp, utt, target):
    lines = scp.read_text().splitlines()
    lines = [f"{utt} {target}" if ln.split()[0] == utt else ln for ln in lines]
    scp.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("fault", ["missing archive", "other dim"])
def test_bad_first_utterance_costs_only_itself(tmp_path, fault):
    root, _ = _fixture(tmp_path)
    scp = root / "data" / "train" / "feats.scp"
    first = scp.read_text().split()[0]
    if fault == "missing archive":
        target = f"{tmp_path}/gone.ark:15"
    else:
        kaldiio.save_ark(
            str(tmp_path / "odd.ark"),
            {first: np.zeros((50, 12), np.float32)},
            scp=str(tmp_path / "odd.scp"),
        )
        target = (tmp_path / "odd.scp").read_text().split()[1]
    _rewrite_scp_entry(scp, first, target)
    store, report = _prepare(
        root, "train", tmp_path / "cache", tmp_path / "r.json"
    )
    assert report["kept"] == 39 and report["feat_dim"] == 13
    (listed,) = report["skipped_utterances"][
        "unreadable or non-finite features"
    ]
    assert listed.startswith(f"{first}: ")
    assert (
        ("gone.ark" in listed)
        if fault == "missing archive"
        else ("feature dim 12 differs from 13" in listed)
    )
    assert store.num_utts == 39


def test_dev_features_of_another_dim_fail_before_training(tmp_path):
    root, _ = _fixture(tmp_path)
    dev, _ = _fixture(tmp_path, "dev13", feat_dim=12, seed=7)
    shutil.rmtree(root / "data" / "dev")
    shutil.copytree(dev / "data" / "dev", root / "data" / "dev")
    for scp in (root / "data" / "dev").glob("*.scp"):
        scp.write_text(scp.read_text().replace(str(dev), str(root)))
    with pytest.raises(
        ValueError,
        match=r"data/dev/feats.scp: the dev features have dim 12, but the "
        r"training features have dim 13",
    ):
        run_train(tmp_path, "relu", root, ONE_EPOCH)
    assert _checkpoints(tmp_path / "exp_relu") == []


@pytest.mark.parametrize(
    "option, value, message",
    [
        (
            "length_tolerance",
            "-1",
            "length_tolerance: must be an integer >= 0, got -1",
        ),
        ("num_layers", "0", "num_layers: must be an integer >= 1, got 0"),
        ("batch_size", "0", "batch_size: must be an integer >= 1, got 0"),
        (
            "max_skip_fraction",
            "1.5",
            r"max_skip_fraction: must be a number in \[0, 1\)",
        ),
        ("lr", "-0.1", "lr: must be a number > 0, got -0.1"),
        (
            "lr_annealing_factor",
            "0",
            r"lr_annealing_factor: must be a number in \(0, 1\]",
        ),
        ("context_left", "-2", "context_left: must be an integer >= 0"),
        ("store_device", "gpu", "store_device: must be cpu, cuda or cuda:<n>"),
        ("data_name", "a/b", "data_name: must be a folder name"),
        (
            "lm_weights",
            "[]",
            "lm_weights: must be a non-empty list of numbers > 0",
        ),
    ],
)
def test_bad_option_is_named_before_anything_runs(
    tmp_path, option, value, message
):
    with pytest.raises(ValueError, match=message):
        run_train(
            tmp_path, "relu", tmp_path / "nowhere", [f"--{option}", value]
        )
    assert not (tmp_path / "exp_relu").exists()


def test_bad_option_on_the_command_line_is_one_line(tmp_path):
    cmd, _ = train_command(
        tmp_path, "relu", tmp_path / "nowhere", ["--length_tolerance", "-1"]
    )
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "train.py: error: length_tolerance: must be an integer >= 0, got -1"
    )
    assert "Traceback" not in result.stderr


def test_zero_frame_utterance_is_a_counted_skip(tmp_path):
    root, _ = _fixture(tmp_path)
    data = root / "data" / "train"
    speaker = (data / "utt2spk").read_text().split()[1]
    utt = f"{speaker}-utt9999"
    kaldiio.save_ark(
        str(tmp_path / "empty.ark"),
        {utt: np.zeros((0, 13), np.float32)},
        scp=str(tmp_path / "empty.scp"),
    )
    with open(data / "feats.scp", "a") as fout:
        fout.write((tmp_path / "empty.scp").read_text())
    with open(data / "utt2spk", "a") as fout:
        fout.write(f"{utt} {speaker}\n")
    write_int_vectors(str(root / "exp" / "ali_train" / "ali.3.gz"), [(utt, [])])
    (root / "exp" / "ali_train" / "num_jobs").write_text("3\n")
    store, report = _prepare(
        root, "train", tmp_path / "cache", tmp_path / "r.json"
    )
    assert report["skipped"] == {"no frames": 1}
    assert report["skipped_utterances"]["no frames"] == [utt]
    assert utt not in store.utt_ids


@pytest.mark.parametrize("name", ["utt2spk", "text"])
def test_non_utf8_table_names_file_and_line(tmp_path, name):
    root, _ = _fixture(tmp_path)
    path = root / "data" / "train" / name
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].rstrip(b"\n") + b" caf\xe9\n"
    path.write_bytes(b"".join(lines))
    expected = rf"{path}: line 3: not valid UTF-8 \(byte 0xe9 at column \d+\)"
    with pytest.raises(ValueError, match=expected):
        read_table(path, name, allow_empty=True)
    if name == "utt2spk":
        with pytest.raises(ValueError, match=expected):
            KaldiDataDir(root / "data" / "train")


def test_dev_text_missing_an_utterance_fails_before_training(tmp_path):
    root, _ = _fixture(tmp_path)
    text = root / "data" / "dev" / "text"
    lines = text.read_text().splitlines()
    missing = lines[4].split()[0]
    text.write_text("\n".join(lines[:4] + lines[5:]) + "\n")
    module = train_module()
    hparams = {
        "dev_dir": str(root / "data" / "dev"),
        "test_dir": str(root / "data" / "test"),
    }
    stores = {
        split: _prepare(root, split, tmp_path / "cache", tmp_path / "r.json")[0]
        for split in ("dev", "test")
    }
    datasets = {
        s: module.FrameDataset(store, 1, 1) for s, store in stores.items()
    }
    with pytest.raises(
        ValueError,
        match=rf"{text}: no transcript for 1 of 10 dev utterances \(e.g. "
        rf"{missing}\); WER needs one per utterance",
    ):
        module.check_transcripts(hparams, datasets)


def test_graph_dir_without_its_files_fails_before_training(tmp_path):
    root, _ = _fixture(tmp_path)
    (tmp_path / "graph").mkdir()
    with pytest.raises(
        FileNotFoundError, match=r"graph/HCLG.fst: not found \(graph_dir\)"
    ):
        run_train(
            tmp_path,
            "relu",
            root,
            ONE_EPOCH + ["--graph_dir", str(tmp_path / "graph")],
        )
    assert _checkpoints(tmp_path / "exp_relu") == []


# ------------------------------------------------------- full disks


def test_disk_full_during_the_frame_store_build(tmp_path):
    root, _ = _fixture(tmp_path)
    cache = tmp_path / "cache"
    code = (
        "from sb_rectifier.data.kaldi_frames import prepare_split\n"
        f"prepare_split('train', {str(root / 'data' / 'train')!r}, "
        f"{str(root / 'exp' / 'ali_train')!r}, 18, {str(cache)!r}, "
        f"{str(tmp_path / 'r.json')!r}, progress=False)\n"
    )
    # The train features are ~240 kB.
    result = run_with_file_size_limit(python_command(code), 50_000)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"sb_rectifier.files.WriteError: .*/cache/train-train-[0-9a-f]+: "
        r"cannot write the frame store: File too large",
        last,
    ), result.stderr[-2000:]
    assert temporaries(cache) == []
    assert [p for p in os.listdir(cache) if not p.startswith(".")] == []


def test_disk_full_during_sparsity_export(tmp_path):
    folder = tmp_path / "sparsity"
    code = (
        "import torch\n"
        "from sb_rectifier import RectifierDNN\n"
        "from sb_rectifier.sparsity import SparsityMonitor, export_all\n"
        "model = RectifierDNN(input_size=8, num_layers=2, neurons=16, n_pdfs=4)\n"
        "with SparsityMonitor(model) as monitor:\n"
        "    model(torch.randn(200, 8))\n"
        f"export_all(monitor.results(), {str(folder)!r}, 'dev')\n"
    )
    # dev.json is the first file over the limit.
    result = run_with_file_size_limit(python_command(code), 2_000)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"sb_rectifier.files.WriteError: .*/sparsity/[^ /]+: cannot write: "
        r"File too large \(file size limit\)",
        last,
    ), result.stderr[-2000:]
    assert temporaries(tmp_path) == []


# ------------------------------------------------------------- logs


def test_logs_hold_what_a_user_reads(tmp_path, capsys):
    root, _ = _fixture(tmp_path)
    out = tmp_path / "exp_relu"
    out.mkdir()
    dead = temp_sibling(out / "metrics.json").replace(
        f"-{os.getpid()}-", "-999999999-"
    )
    open(dead, "w").write("half a file from a killed run")
    summary, out = run_train(tmp_path, "relu", root, ONE_EPOCH)
    captured = capsys.readouterr()
    terminal = captured.out + captured.err
    assert "torchvision is not available" not in terminal
    assert "frames train" not in terminal  # --noprogressbar
    log = (out / "log.txt").read_text()
    for chatter in ("matplotlib", "font_manager", "superpowers", "torchvision"):
        assert chatter not in log, chatter
    assert len(log.splitlines()) < 80
    last = (out / "train_log.txt").read_text().splitlines()[-2:]
    assert last[0].startswith("best checkpoint (epoch): 1, dev ce: ")
    assert last[1].startswith("best checkpoint (epoch): 1, test ce: ")
    assert not os.path.exists(dead)
    assert summary["summary"] == str(out / "summary.json")
    assert summary["sparsity"] == str(out / "sparsity")
    assert (
        "(checkpoint of epoch 1, the lowest dev cross-entropy)" in captured.out
    )
    assert " WER: not computed (no decoding graph" in captured.out


def test_decode_false_says_so(tmp_path, capsys):
    root, _ = _fixture(tmp_path)
    summary, out = run_train(
        tmp_path, "relu", root, ONE_EPOCH + ["--decode", "False"]
    )
    assert summary["wer_not_computed"] == "decode: False"
    log = (out / "log.txt").read_text()
    assert "decode: False, so WER will not be computed" in log
    assert "graph_dir" not in capsys.readouterr().out


def test_frame_progress_bars_follow_noprogressbar(tmp_path, capsys):
    root, _ = _fixture(tmp_path)
    _prepare(root, "dev", tmp_path / "c1", tmp_path / "r.json")
    assert "frames dev" not in capsys.readouterr().err
    prepare_split(
        "dev",
        str(root / "data" / "dev"),
        str(root / "exp" / "ali_dev"),
        18,
        str(tmp_path / "c2"),
        str(tmp_path / "r.json"),
        progress=True,
    )
    assert "frames dev" in capsys.readouterr().err


def test_a_full_disk_under_the_log_is_reported_once(tmp_path):
    """Python's logging prints a traceback per record it cannot write; a
    run's log says so once instead."""
    log = tmp_path / "log.txt"
    code = (
        "import logging\n"
        "from sb_rectifier.recipe import report_log_errors_once\n"
        "log = logging.getLogger('run')\n"
        f"log.addHandler(logging.FileHandler({str(log)!r}))\n"
        "report_log_errors_once(log)\n"
        "for i in range(200):\n"
        "    log.warning(f'record {i}: ' + 'x' * 40)\n"
    )
    result = run_with_file_size_limit(python_command(code), 1_000)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("logging: cannot write") == 1, result.stderr
    assert str(log) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_corpus_made_by_make_corpus_is_decoded(tmp_path):
    """--data_folder pointing at a make-corpus corpus gets WER, as the
    embedded corpus does (it used to be skipped with one INFO line)."""
    from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus

    corpus = tmp_path / "mycorpus"
    make_corpus(str(corpus), CorpusConfig(hours=0.01, seed=3), progress=False)
    summary, out = run_train(
        tmp_path, "relu", corpus, ONE_EPOCH + ["--neurons", "32"]
    )
    assert "test_wer" in summary and "wer_not_computed" not in summary
    assert (out / "decode" / "test" / "hyp.txt").is_file()
