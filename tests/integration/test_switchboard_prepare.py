"""recipes/Switchboard/prepare.py on a generated s5c directory.

The fixture is laid out as Kaldi's ``egs/swbd/s5c`` after ``run.sh`` has
made ``exp/tri4``: data dirs with ``segments`` and ``wav.scp`` lines that
are ``sph2pipe`` pipes over two-channel SPHERE files, eval2000 with ``stm``
and ``glm``, alignment dirs with a binary triphone ``final.mdl`` (its GMMs
after the transition model), ``tree``, ``num_jobs`` and gzipped
alignments of several jobs, and a graph dir. The system is a real
triphone GMM-HMM trained with ``sb-rectifier train-gmm`` on a tiny
embedded corpus, its audio converted to SPHERE.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zlib

import numpy as np
import pytest
import soundfile

from sb_rectifier.cli.main import main
from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus
from sb_rectifier.decoding.fst_io import read_graph, write_graph
from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.features.audio import iter_audio
from sb_rectifier.gmm.train import train_gmm
from sb_rectifier.kaldi.prepare_lang import prepare_lang

RECIPE = os.path.join(
    os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ),
    "recipes",
    "Switchboard",
)
spec = importlib.util.spec_from_file_location(
    "swbd_prepare", os.path.join(RECIPE, "prepare.py")
)
prepare_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prepare_module)
prepare, S5cError = prepare_module.prepare, prepare_module.S5cError
spec = importlib.util.spec_from_file_location(
    "swbd_kaldi_rescore", os.path.join(RECIPE, "kaldi_rescore.py")
)
rescore_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rescore_module)

OPTIONS = {
    "jobs": 2,
    "mono_gauss": 200,
    "mono_iters": 8,
    "num_leaves": 40,
    "num_gauss": 160,
    "tri_iters": 8,
    "progress": False,
    "verbose": False,
}


def _dict_dir(corpus_lang, out):
    phones = [
        p
        for p in read_symbols(corpus_lang / "phones.txt")
        if p not in ("<eps>", "SIL") and not p.startswith("#")
    ]
    out.mkdir(parents=True)
    (out / "silence_phones.txt").write_text("SIL\n")
    (out / "optional_silence.txt").write_text("SIL\n")
    (out / "nonsilence_phones.txt").write_text(
        "".join(f"{p}\n" for p in phones)
    )
    lexicon = (corpus_lang / "lexicon.txt").read_text()
    (out / "lexicon.txt").write_text("<UNK> SIL\n" + lexicon)
    return out


def _s5c_data(src, dst, side, rename=None):
    """A data dir as s5c's: SPHERE conversations, segments, sph2pipe;
    ``rename`` gives utterance ids their corpus prefix (sw_, en_)."""
    rename = rename or (lambda utt: utt)
    dst.mkdir(parents=True)
    sph = dst.parent.parent / "sph"
    sph.mkdir(exist_ok=True)
    wav_lines, seg_lines, text, utt2spk = [], [], [], []
    texts = dict(
        line.split(None, 1) for line in (src / "text").read_text().splitlines()
    )
    for line in (src / "wav.scp").read_text().splitlines():
        utt, path = line.split(None, 1)
        x, rate = soundfile.read(path, dtype="int16")
        rec = f"{side}{zlib.crc32(utt.encode()) % 10**5:05d}"
        # two channels: the utterance on channel 1, silence on channel 2
        soundfile.write(
            sph / f"{rec}.sph",
            np.stack([x, np.zeros_like(x)], 1),
            rate,
            format="NIST",
            subtype="ULAW",
        )
        reco = f"{rec}-A"
        new = rename(utt)
        wav_lines.append(f"{reco} sph2pipe -f wav -p -c 1 {sph}/{rec}.sph |")
        seg_lines.append(f"{new} {reco} 0.00 {len(x) / rate:.2f}")
        text.append(f"{new} {texts[utt].strip()}")
        utt2spk.append(f"{new} {new.split('-')[0]}")
    for name, lines in (
        ("wav.scp", wav_lines),
        ("segments", seg_lines),
        ("text", text),
        ("utt2spk", utt2spk),
    ):
        (dst / name).write_text("".join(f"{ln}\n" for ln in sorted(lines)))


@pytest.fixture(scope="module")
def s5c(tmp_path_factory):
    root = tmp_path_factory.mktemp("swbd")
    corpus = root / "corpus"
    make_corpus(
        str(corpus),
        CorpusConfig(hours=0.01, seed=5),
        num_workers=1,
        progress=False,
    )
    lang = root / "s5c" / "data" / "lang"
    prepare_lang(_dict_dir(corpus / "data" / "lang", root / "dict"), lang)
    s5c = root / "s5c"
    data = s5c / "data"
    _s5c_data(corpus / "data" / "train", data / "train_nodup", "sw0")
    _s5c_data(corpus / "data" / "dev", data / "train_dev", "sw1")
    _s5c_data(
        corpus / "data" / "test",
        data / "eval2000",
        "en",
        rename=lambda u: ("sw_" if zlib.crc32(u.encode()) % 2 else "en_") + u,
    )
    (data / "eval2000" / "glm").write_text(
        ";; hub5 glm excerpt\n[UH] => %HESITATION / [ ] __ [ ] ;; hesitation\n"
    )
    stm = [
        f"{u} A {u} 0.00 1.00 {t}"
        for u, t in (
            ln.split(None, 1)
            for ln in (data / "eval2000" / "text").read_text().splitlines()
        )
    ]
    (data / "eval2000" / "stm").write_text("\n".join(stm) + "\n")
    exp = root / "gmm"
    train_gmm(corpus / "data" / "train", lang, exp, **OPTIONS)
    (s5c / "exp" / "tri4").mkdir(parents=True)
    shutil.copytree(exp / "tri1_ali", s5c / "exp" / "tri4_ali_nodup")
    status = main(
        [
            "align",
            str(corpus / "data" / "dev"),
            str(lang),
            str(exp / "tri1"),
            str(s5c / "exp" / "tri4_ali_dev"),
            "--jobs",
            "2",
            "--no-progress",
        ]
    )
    assert status == 0
    # s5c's dev alignments cover its dev set: leave out what the tiny GMM
    # could not align
    failed = s5c / "exp" / "tri4_ali_dev" / "failed.txt"
    if failed.is_file():
        gone = {ln.split()[0] for ln in failed.read_text().splitlines()}
        for name in ("segments", "text", "utt2spk"):
            path = data / "train_dev" / name
            kept = [
                ln
                for ln in path.read_text().splitlines()
                if ln.split()[0] not in gone
            ]
            path.write_text("".join(f"{ln}\n" for ln in kept))
    status = main(
        [
            "make-graph",
            str(lang),
            str(exp / "tri1"),
            str(s5c / "exp" / "tri4" / "graph_sw1_tg"),
            "--word-loop",
        ]
    )
    assert status == 0
    # mkgraph.sh writes HCLG in OpenFst's const form
    hclg = s5c / "exp" / "tri4" / "graph_sw1_tg" / "HCLG.fst"
    write_graph(read_graph(hclg), hclg, const=True)
    assert b"const" in hclg.read_bytes()[:64]
    return s5c


def test_prepare_lays_out_the_recipe_folder(s5c, tmp_path):
    out = tmp_path / "swbd"
    info = prepare(str(s5c), str(out), dev_utts=4)
    assert info["utterances"]["dev"] == 4
    assert info["utterances"]["train"] == len(
        (s5c / "data" / "train_nodup" / "text").read_text().splitlines()
    )
    assert info["word_boundary"] is True
    saved = json.loads((out / "prepare.json").read_text())
    assert saved["num_pdfs"] == info["num_pdfs"] > 40
    for link, target in (
        ("ali_train", "exp/tri4_ali_nodup"),
        ("ali_dev", "exp/tri4_ali_dev"),
        ("graph", "exp/tri4/graph_sw1_tg"),
    ):
        assert os.path.realpath(out / "exp" / link) == os.path.realpath(
            s5c / target
        )
    for name in ("stm", "glm", "segments", "wav.scp", "spk2utt"):
        assert (out / "data" / "test" / name).is_file(), name
    dev = out / "data" / "dev"
    assert len((dev / "segments").read_text().splitlines()) == 4
    assert len((dev / "wav.scp").read_text().splitlines()) == 4
    # the sph2pipe lines are read (in-process when sph2pipe is absent)
    utts = [u for u, samples, _ in iter_audio(dev) if len(samples)]
    assert len(utts) == 4


def test_every_problem_is_reported_at_once(s5c, tmp_path):
    broken = tmp_path / "s5c"
    shutil.copytree(s5c, broken, symlinks=True)
    (broken / "data" / "eval2000" / "glm").unlink()
    os.remove(broken / "exp" / "tri4_ali_nodup" / "ali.2.gz")
    (broken / "exp" / "tri4_ali_dev" / "tree").write_bytes(b"\0Bnot a tree")
    os.remove(broken / "exp" / "tri4" / "graph_sw1_tg" / "HCLG.fst")
    out = tmp_path / "out"
    with pytest.raises(S5cError) as err:
        prepare(str(broken), str(out))
    message = str(err.value)
    assert "4 problem(s)" in message, message
    assert "eval2000/glm: missing" in message
    assert "tri4_ali_nodup/num_jobs says 2 jobs, but ali.2.gz are missing" in (
        message
    )
    assert "tri4_ali_dev/tree" in message
    assert "graph_sw1_tg/HCLG.fst: missing" in message
    assert not out.exists()  # nothing half-written
    # an existing output folder is refused; the command line says so
    out.mkdir()
    assert prepare_module.main([str(s5c), str(out)]) == 1


@pytest.mark.slow
def test_prepared_folder_trains_decodes_and_scores(s5c, tmp_path, capsys):
    """prepare -> the recipe's train.py and YAML (small, on the CPU) ->
    decoding with the s5c graph -> Hub5 scoring with the GLM and the
    SWBD / CallHome subsets, in one table."""
    out = tmp_path / "swbd"
    prepare(str(s5c), str(out))
    run = tmp_path / "run"
    small = {
        "num_layers": "2",
        "neurons": "64",
        "number_of_epochs": "3",
        "lr": "0.02",
        "device": "cpu",
        "precision": "fp32",
        "store_device": "cpu",
        "lm_weights": "[4, 8]",
        "word_ins_penalties": "[0.0, 1.0]",
    }
    cmd = [
        sys.executable,
        os.path.join(RECIPE, "train.py"),
        os.path.join(RECIPE, "hparams", "relu.yaml"),
        "--data_folder",
        str(out),
        "--output_folder",
        str(run),
        "--noprogressbar",
    ]
    for key, value in small.items():
        cmd += [f"--{key}", value]
    result = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert 0 <= summary["test_wer"] <= 100
    assert {"SWBD", "CallHome"} <= set(summary["test_wer_subsets"])
    # one table: all, SWBD (sw_), CallHome (en_); the subsets' words add up
    table = {}
    for line in (run / "decode" / "test" / "wer.txt").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] in ("all", "SWBD", "CallHome"):
            table[cells[0]] = (int(cells[1]), int(cells[2]))
    assert set(table) == {"all", "SWBD", "CallHome"}
    assert table["SWBD"][0] + table["CallHome"][0] == table["all"][0] == 6
    assert table["SWBD"][1] + table["CallHome"][1] == table["all"][1]
    # a CTM in recording time (segments), as score_sclite.sh consumes it
    decoding = json.loads((run / "decode" / "decoding.json").read_text())
    assert decoding["test"]["ctm"] == "test/ctm"
    # train_dev tuned by rescoring one pass of lattices (the recipe's YAML)
    assert decoding["tuning"] == "lattice" and len(decoding["dev_grid"]) == 4
    hyps = {
        ln.split(None, 1)[0]: ln.split()[1:]
        for ln in (run / "decode" / "test" / "hyp.txt").read_text().splitlines()
    }
    ctm = (run / "decode" / "test" / "ctm").read_text().splitlines()
    assert len(ctm) == sum(len(w) for w in hyps.values())
    recordings = {
        ln.split()[1]
        for ln in (out / "data" / "test" / "segments").read_text().splitlines()
    }
    for line in ctm:
        rec, channel, start, duration, _word = line.split()
        assert rec in recordings and channel == "1"
        assert float(start) >= 0 and float(duration) > 0
    _check_kaldi_rescore(s5c, out, run, capsys)


def _check_kaldi_rescore(s5c, out, run, capsys):
    """kaldi_rescore.py: every input checked, then the exact commands."""
    capsys.readouterr()
    assert rescore_module.main([str(out), str(run)]) == 1
    err = capsys.readouterr().err
    assert "data/lang_sw1_tg/G.fst: missing (the graph's LM)" in err
    lang = s5c / "data" / "lang_sw1_tg"
    lang.mkdir(exist_ok=True)
    shutil.copy(
        s5c / "exp" / "tri4" / "graph_sw1_tg" / "HCLG.fst", lang / "G.fst"
    )
    try:
        assert rescore_module.main([str(out), str(run)]) == 0
    finally:
        shutil.rmtree(lang)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    scp = run / "decode" / "test" / "loglikes.scp"
    latgen = next(ln for ln in lines if ln.startswith("latgen-faster-mapped"))
    assert f"scp:{scp}" in latgen and scp.is_file()
    assert "--beam=13.0 --lattice-beam=8.0 --acoustic-scale=0.1" in latgen
    graph = s5c / "exp" / "tri4" / "graph_sw1_tg"
    assert f"{graph}/HCLG.fst" in latgen
    assert (
        "steps/lmrescore_const_arpa.sh --cmd run.pl data/lang_sw1_tg "
        f"data/lang_sw1_fsh_fg {s5c}/data/eval2000 "
        f"{run}/kaldi/decode_eval2000_sw1_tg "
        f"{run}/kaldi/decode_eval2000_sw1_fsh_fg"
    ) in lines
    assert "lang_sw1_fsh_fg/G.carpa does not exist yet" in captured.err
    script = run / "kaldi" / "rescore_fg.sh"
    assert script.read_text().endswith("\n".join(lines) + "\n")
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_sweep_runs_the_recipe_unchanged(capsys):
    """sb-rectifier sweep --recipe recipes/Switchboard: the 9 runs."""
    assert main(["sweep", "--recipe", RECIPE, "--dry-run"]) == 0
    lines = [
        ln for ln in capsys.readouterr().out.splitlines() if "train.py" in ln
    ]
    assert len(lines) == 9
    assert all("Switchboard && python train.py hparams/" in ln for ln in lines)
