"""Decoding a log-likelihood archive: CLI, workers, dev tuning."""

import json
import os

import kaldifst as kf
import kaldiio
import numpy as np
import pytest

from sb_rectifier.cli.main import main
from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus
from sb_rectifier.decoding import (
    ParallelDecoder,
    make_graph,
    read_graph,
    read_lexicon,
    read_symbols,
    tune_and_decode,
)
from sb_rectifier.kaldi import TransitionModel, load_alignment_dir
from sb_rectifier.scoring import read_text


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("dec")
    corpus = root / "corpus"
    make_corpus(str(corpus), CorpusConfig(hours=0.01, seed=5), progress=False)
    model = corpus / "exp" / "ali_train" / "final.mdl"
    make_graph(
        str(corpus / "data" / "lang"), str(model), out_dir=str(root / "graph")
    )
    rng = np.random.default_rng(0)
    scps = {}
    for split in ("dev", "test"):
        pdfs = load_alignment_dir(str(corpus / "exp" / f"ali_{split}"))
        num_pdfs = TransitionModel.read(str(model)).num_pdfs
        mats = {}
        for utt, ali in sorted(pdfs.items()):
            mat = rng.normal(-6.0, 2.0, size=(len(ali), num_pdfs)).astype(
                np.float32
            )
            mat[np.arange(len(ali)), ali] = 0.0
            mats[utt] = mat
        ark = root / f"{split}.ark"
        kaldiio.save_ark(str(ark), mats, scp=str(root / f"{split}.scp"))
        scps[split] = str(root / f"{split}.scp")
    return root, corpus, model, scps


def test_decode_command_recovers_the_transcripts(setup, tmp_path):
    root, corpus, model, scps = setup
    hyp = tmp_path / "hyp.txt"
    args = [
        "decode", str(root / "graph" / "HCLG.fst"), str(root / "graph" / "words.txt"),
        str(model), f"ark:{root / 'dev.ark'}", f"ark,t:{hyp}", "--jobs", "2",
        "--acoustic-scale", "1.0",
        "--alignments", f"ark:{tmp_path / 'ali.ark'}",
    ]  # fmt: skip
    assert main(args) == 0
    refs = read_text(str(corpus / "data" / "dev" / "text"))
    assert read_text(str(hyp)) == refs
    alis = dict(kaldiio.load_ark(str(tmp_path / "ali.ark")))
    truth = dict(
        kaldiio.load_ark(
            __import__("gzip").open(corpus / "exp" / "ali_dev" / "ali.1.gz")
        )
    )
    # Noisy likelihoods can move a boundary by a frame; exact alignments on
    # clean oracles are tested in tests/unit/test_decoder.py.
    agree = total = 0
    for utt, ali in truth.items():
        assert len(alis[utt]) == len(ali)
        agree += int((alis[utt] == ali).sum())
        total += len(ali)
    assert agree >= 0.99 * total


def test_decode_command_reads_a_pipe(setup, tmp_path, capsys):
    root, corpus, model, _ = setup
    hyp = tmp_path / "hyp.txt"
    args = [
        "decode", str(root / "graph" / "HCLG.fst"), str(root / "graph" / "words.txt"),
        str(model), f"ark:cat {root / 'dev.ark'} |", f"ark,t:{hyp}", "--jobs", "1",
        "--acoustic-scale", "1.0",
    ]  # fmt: skip
    assert main(args) == 0
    assert read_text(str(hyp)) == read_text(
        str(corpus / "data" / "dev" / "text")
    )
    # The copy of the piped archive was a temporary, removed at the end.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hyp.txt"]
    assert "0 did not reach a final state" in capsys.readouterr().err


def test_one_or_two_workers_give_the_same_results(setup):
    root, _, model, scps = setup
    graph = str(root / "graph" / "HCLG.fst")
    with ParallelDecoder(graph, str(model), num_workers=1) as one:
        a = one.decode(scps["test"], 0.1, 0.5, progress=False)
    with ParallelDecoder(graph, str(model), num_workers=2) as two:
        b = two.decode(scps["test"], 0.1, 0.5, progress=False)
    assert list(a) == list(b)
    for utt in a:
        assert a[utt].words == b[utt].words
        assert np.array_equal(a[utt].alignment, b[utt].alignment)


def test_tuning_chooses_on_dev_and_decodes_test_once(setup, tmp_path):
    root, corpus, model, scps = setup
    refs = {
        s: read_text(str(corpus / "data" / s / "text")) for s in ("dev", "test")
    }
    id2word = {
        i: w for w, i in read_symbols(str(root / "graph" / "words.txt")).items()
    }
    with ParallelDecoder(
        str(root / "graph" / "HCLG.fst"), str(model), num_workers=1
    ) as decoder:
        report = tune_and_decode(
            decoder,
            scps,
            refs,
            id2word,
            str(tmp_path),
            [0.5, 10.0, 40.0],
            [0.0, 2.0],
            progress=False,
        )
    grid = report["dev_grid"]
    assert len(grid) == 6
    assert all(g["not_reaching_final"] >= 0 for g in grid)
    best = min(g["wer"] for g in grid)
    assert report["dev"]["wer"] == pytest.approx(best)
    chosen = [
        g
        for g in grid
        if g["lm_weight"] == report["lm_weight"]
        and g["word_ins_penalty"] == report["word_ins_penalty"]
    ]
    assert chosen[0]["wer"] == pytest.approx(best)
    assert report["acoustic_scale"] == pytest.approx(1 / report["lm_weight"])
    # The grid matters: a huge LM weight drowns the acoustics.
    assert max(g["wer"] for g in grid) > best
    saved = json.loads((tmp_path / "decoding.json").read_text())
    assert saved["test"]["wer"] == report["test"]["wer"]
    assert (tmp_path / "test" / "hyp.txt").is_file() and (
        tmp_path / "test" / "wer.txt"
    ).is_file()
    assert saved["test"]["real_time_factor"] > 0


def test_the_corpus_lang_dir_is_complete(setup):
    """make-corpus writes data/lang/G.fst, so data/lang is a Kaldi lang
    directory; a corpus made before that gets the same G.fst when reused."""
    root, corpus, model, _ = setup
    lang = corpus / "data" / "lang"
    for name in ("phones.txt", "words.txt", "lexicon.txt", "G.fst"):
        assert (lang / name).is_file(), name
    G = read_graph(lang / "G.fst")
    word_ids = read_symbols(lang / "words.txt")
    pronounced = {row[0] for row in read_lexicon(lang / "lexicon.txt")}
    kf.arcsort(G, sort_type="ilabel")
    accepted = 0
    for split in ("train", "dev", "test"):
        for line in (corpus / "data" / split / "text").read_text().splitlines():
            words = line.split()[1:]
            sentence = kf.make_linear_acceptor([word_ids[w] for w in words])
            reached = kf.compose(sentence, G)
            kf.connect(reached)
            # Every transcript whose words have pronunciations is in G.
            assert (reached.num_states > 0) == pronounced.issuperset(words)
            accepted += reached.num_states > 0
    assert accepted > 30
    # An older corpus has no G.fst: reusing it adds the same file.
    made = (lang / "G.fst").read_bytes()
    (lang / "G.fst").unlink()
    make_corpus(str(corpus), CorpusConfig(hours=0.01, seed=5), progress=False)
    assert (lang / "G.fst").read_bytes() == made
    assert not [n for n in os.listdir(lang) if n.startswith(".")]
    # The decoder's graph is the lang directory's.
    hclg = read_graph(root / "graph" / "HCLG.fst")
    assert make_graph(lang, model).hclg.to_str() == hclg.to_str()
