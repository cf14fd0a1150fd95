"""GMM-HMM training, alignment and decoding on a tiny synthetic corpus."""

import glob
import os
import shutil

import kaldifst
import numpy as np
import pytest

from sb_rectifier.cli.main import main
from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus
from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.gmm.evaluate import boundary_accuracy
from sb_rectifier.gmm.train import align_data_dir, load_ali_dir, train_gmm
from sb_rectifier.kaldi.alignments import load_alignment_dir
from sb_rectifier.kaldi.archives import read_int_vectors
from sb_rectifier.kaldi.prepare_lang import prepare_lang
from sb_rectifier.kaldi.transition_model import TransitionModel

TINY = CorpusConfig(hours=0.01, seed=3)
OPTIONS = {
    "jobs": 2,
    "mono_gauss": 300,
    "mono_iters": 12,
    "num_leaves": 60,
    "num_gauss": 240,
    "tri_iters": 12,
    "boost_silence": 1.25,
    "progress": False,
    "verbose": False,
}
# Share of the synthesiser's phone boundaries within 20 ms. Measured on
# this 36-utterance set (9k frames, too little for 185 monophone pdfs):
# mono_ali 12.9 %, tri1_ali 15-20 %; with more data it rises (0.1 h: 54 /
# 58 %, 1 h: 67 / 66 %). Pronunciation variants that the aligner cannot
# tell apart (aI/aI2) count as misses.
BOUNDARY_FLOOR_20MS = 8.0
WER_CEILING = 30.0  # measured 15.5 % (train set, tri1, corpus G)


def _make_lang(corpus_lang, out):
    """A Kaldi lang folder (with G.fst) from the corpus's lexicon and G."""
    dict_dir = out / "dict"
    dict_dir.mkdir()
    phones = [
        p
        for p in read_symbols(corpus_lang / "phones.txt")
        if p not in ("<eps>", "SIL") and not p.startswith("#")
    ]
    (dict_dir / "silence_phones.txt").write_text("SIL\n")
    (dict_dir / "optional_silence.txt").write_text("SIL\n")
    (dict_dir / "nonsilence_phones.txt").write_text(
        "".join(f"{p}\n" for p in phones)
    )
    lexicon = (corpus_lang / "lexicon.txt").read_text()
    (dict_dir / "lexicon.txt").write_text("<UNK> SIL\n" + lexicon)
    lang = out / "lang"
    prepare_lang(dict_dir, lang)
    # The corpus's G over our words.txt ids.
    old = {i: w for w, i in read_symbols(corpus_lang / "words.txt").items()}
    new = read_symbols(lang / "words.txt")
    lines = []
    g = kaldifst.StdVectorFst.read(str(corpus_lang / "G.fst"))
    for line in g.to_str(show_weight_one=True).splitlines():
        f = line.split()
        if len(f) >= 4:
            f[2] = str(new[old[int(f[2])]] if int(f[2]) else 0)
            f[3] = str(new[old[int(f[3])]] if int(f[3]) else 0)
        lines.append(" ".join(f))
    kaldifst.compile("\n".join(lines), acceptor=False).write(
        str(lang / "G.fst")
    )
    return lang


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    root = tmp_path_factory.mktemp("gmm")
    corpus = root / "corpus"
    make_corpus(str(corpus), TINY, num_workers=1, progress=False)
    lang = _make_lang(corpus / "data" / "lang", root)
    exp = root / "exp"
    summaries = train_gmm(corpus / "data" / "train", lang, exp, **OPTIONS)
    return corpus, lang, exp, summaries


def _ali(folder):
    tm = TransitionModel.read(os.path.join(folder, "final.mdl"))
    alis = {}
    for path in glob.glob(os.path.join(folder, "ali.*.gz")):
        alis.update(dict(read_int_vectors(path)))
    return tm, alis


def test_kaldi_layout_and_likelihood(system):
    corpus, lang, exp, summaries = system
    assert list(summaries) == ["mono", "mono_ali", "tri1", "tri1_ali"]
    for stage in summaries:
        folder = exp / stage
        names = set(os.listdir(folder))
        assert {
            "final.mdl",
            "tree",
            "ali.1.gz",
            "ali.2.gz",
            "num_jobs",
            "phones.txt",
            "summary.json",
            "options.json",
        } <= names
        assert (folder / "num_jobs").read_text() == "2\n"
        pdfs = load_alignment_dir(folder)
        assert len(pdfs) == summaries[stage]["utterances"] > 0
        tm, alis = _ali(folder)
        assert set(pdfs) == set(alis)
        for utt, ali in alis.items():
            assert np.array_equal(pdfs[utt], tm.tid2pdf[ali])
    for stage in ("mono", "tri1"):
        log = (exp / stage / "log" / "train.log").read_text()
        assert "iter 5: avg log-likelihood per frame" in log
        history = summaries[stage]["history"]
        likes = [h["avg_like"] for h in history]
        assert likes[-1] > likes[0] + 1.0, likes
        assert history[-1]["num_gauss"] > history[0]["num_gauss"]
    tree_info = summaries["tri1"]["tree"]
    assert 10 < tree_info["num_leaves"] <= OPTIONS["num_leaves"] * 1.1
    # Alignment lengths = feature lengths (same frames as the fbank feats).
    frames = dict(
        line.split()
        for line in (corpus / "data" / "train" / "utt2num_frames")
        .read_text()
        .splitlines()
    )
    _, alis = _ali(exp / "tri1_ali")
    for utt, ali in alis.items():
        assert len(ali) == int(frames[utt])


def test_boundary_agreement(system):
    corpus, lang, exp, _ = system
    ref_tm, ref = _ali(corpus / "exp" / "ali_train")
    ref_phones = {
        i: n
        for n, i in read_symbols(
            corpus / "data" / "lang" / "phones.txt"
        ).items()
    }
    hyp_phones = {i: n for n, i in read_symbols(lang / "phones.txt").items()}
    for stage in ("mono_ali", "tri1_ali"):
        hyp_tm, hyp = _ali(exp / stage)
        r = boundary_accuracy(ref, ref_tm, ref_phones, hyp, hyp_tm, hyp_phones)
        assert r["within"][20] >= BOUNDARY_FLOOR_20MS, (stage, r["within"])


def test_resume_skips_and_refuses_other_options(system, capsys):
    corpus, lang, exp, _ = system
    before = (exp / "tri1" / "final.mdl").stat().st_mtime_ns
    again = train_gmm(corpus / "data" / "train", lang, exp, **OPTIONS)
    assert all(s["skipped"] for s in again.values())
    assert (exp / "tri1" / "final.mdl").stat().st_mtime_ns == before
    other = dict(OPTIONS, num_leaves=OPTIONS["num_leaves"] + 10)
    with pytest.raises(ValueError, match="num_leaves: 60 there, 70 now"):
        train_gmm(corpus / "data" / "train", lang, exp, **other)
    # A stage folder without its options is not taken as finished.
    broken = exp / "broken"
    shutil.copytree(exp / "mono", broken / "mono")
    os.remove(broken / "mono" / "options.json")
    with pytest.raises(ValueError, match="not a finished stage"):
        train_gmm(corpus / "data" / "train", lang, broken, **OPTIONS)


def test_align_failures_and_oov(system, tmp_path):
    corpus, lang, exp, _ = system
    data = tmp_path / "data"
    shutil.copytree(corpus / "data" / "train", data)
    lines = (data / "text").read_text().splitlines()
    long_utt, oov_utt, only_oov = (line.split()[0] for line in lines[:3])
    words = [w for line in lines for w in line.split()[1:]]
    edited = []
    for line in lines:
        utt = line.split()[0]
        if utt == long_utt:  # far more words than the audio can hold
            line = utt + " " + " ".join(words * 3)
        elif utt == oov_utt:
            line = line + " zzyzx"
        elif utt == only_oov:
            line = utt + " qwxq qwxq"
        edited.append(line)
    (data / "text").write_text("\n".join(edited) + "\n")
    ali_dir = tmp_path / "ali"
    summary = align_data_dir(
        data, lang, exp / "tri1", ali_dir, jobs=2, progress=False, verbose=False
    )
    failed = dict(
        line.split(" ", 1)
        for line in (ali_dir / "failed.txt").read_text().splitlines()
    )
    assert failed[long_utt].startswith("too few frames")
    assert failed[only_oov].startswith("transcript only OOV")
    assert oov_utt not in failed
    assert summary["failed"] == len(failed) >= 2
    assert summary["utterances"] == len(lines) - len(failed)
    assert (
        "3 of" in summary["oov"]
        and "qwxq (2)" in summary["oov"]
        and "zzyzx (1)" in summary["oov"]
    )
    # train.py --train_ali_dir reads it.
    assert len(load_alignment_dir(ali_dir)) == summary["utterances"]
    tm, am, alis = load_ali_dir(ali_dir)
    assert am.num_pdfs == tm.num_pdfs and len(alis) == summary["utterances"]


def test_training_is_reproducible(system, tmp_path):
    """The same data and options give the same model, byte for byte
    (mixing up draws its perturbations from a seeded generator, not from
    kaldi-hmm-gmm's std::random_device)."""
    corpus, lang, exp, _ = system
    again = tmp_path / "again"
    train_gmm(corpus / "data" / "train", lang, again, **OPTIONS)
    for stage in ("mono", "tri1"):
        ours = (again / stage / "final.mdl").read_bytes()
        assert ours == (exp / stage / "final.mdl").read_bytes(), stage
    assert (again / "tri1" / "tree").read_bytes() == (
        exp / "tri1" / "tree"
    ).read_bytes()


def test_decode_gmm_cli(system, tmp_path, capsys):
    from sb_rectifier.decoding.context_graph import make_context_graph

    corpus, lang, exp, _ = system
    graph = tmp_path / "graph"
    make_context_graph(lang, exp / "tri1", graph)
    out = tmp_path / "decode"
    status = main(
        [
            "decode-gmm",
            str(graph),
            str(corpus / "data" / "train"),
            str(exp / "tri1"),
            str(out),
            "--jobs",
            "2",
            "--no-progress",
        ]
    )
    assert status == 0
    assert {"hyp.txt", "wer.txt", "per_utt.txt", "decoding.json"} <= set(
        os.listdir(out)
    )
    wer = float((out / "wer.txt").read_text().split()[1])
    assert wer <= WER_CEILING, (out / "wer.txt").read_text()
    assert "%WER" in capsys.readouterr().out


def test_cli_align_and_train_gmm_help(system, tmp_path, capsys):
    corpus, lang, exp, _ = system
    ali = tmp_path / "ali"
    status = main(
        [
            "align",
            str(corpus / "data" / "train"),
            str(lang),
            str(exp / "mono"),
            str(ali),
            "--no-progress",
        ]
    )
    assert status == 0
    assert (ali / "num_jobs").read_text() == "1\n"
    assert "utterances aligned" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train-gmm", "--stage", "tri3", "d", "l", "e"])
