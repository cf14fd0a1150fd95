"""Dev tuning by lattice rescoring against exhaustive decoding (real decoding)."""

import json

import kaldifst as kf
import kaldiio
import numpy as np
import pytest

from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus
from sb_rectifier.decoding import (
    ParallelDecoder,
    decode_utterance,
    make_graph,
    read_graph,
    read_symbols,
    tune_and_decode,
    write_graph,
)
from sb_rectifier.decoding.fst_io import read_graph_arrays
from sb_rectifier.decoding.lattice_search import search_lattice
from sb_rectifier.decoding.rescore import grid_best_paths
from sb_rectifier.kaldi import TransitionModel, load_alignment_dir
from sb_rectifier.scoring import read_text

LM_WEIGHTS = [1.0, 2.0, 5.0]
PENALTIES = [0.0, 1.0, 4.0]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny corpus, its graph and noisy oracle log-likelihoods."""
    root = tmp_path_factory.mktemp("rescore")
    corpus = root / "corpus"
    make_corpus(str(corpus), CorpusConfig(hours=0.01, seed=5), progress=False)
    model = corpus / "exp" / "ali_train" / "final.mdl"
    make_graph(
        str(corpus / "data" / "lang"), str(model), out_dir=str(root / "graph")
    )
    rng = np.random.default_rng(1)
    num_pdfs = TransitionModel.read(str(model)).num_pdfs
    scps = {}
    for split in ("dev", "test"):
        pdfs = load_alignment_dir(str(corpus / "exp" / f"ali_{split}"))
        mats = {}
        for utt, ali in sorted(pdfs.items()):
            # Noisy enough that the grid matters (errors at some points).
            mat = rng.normal(-2.0, 1.5, size=(len(ali), num_pdfs))
            mat[np.arange(len(ali)), ali] = 0.0
            mats[utt] = mat.astype(np.float32)
        kaldiio.save_ark(
            str(root / f"{split}.ark"), mats, scp=str(root / f"{split}.scp")
        )
        scps[split] = str(root / f"{split}.scp")
    refs = {
        s: read_text(str(corpus / "data" / s / "text")) for s in ("dev", "test")
    }
    id2word = {
        i: w for w, i in read_symbols(str(root / "graph" / "words.txt")).items()
    }
    return root, model, scps, refs, id2word


def test_lattice_best_path_at_reference_scale_is_the_1best(setup):
    root, model, scps, _, _ = setup
    graph = read_graph(str(root / "graph" / "HCLG.fst"))
    arrays = read_graph_arrays(str(root / "graph" / "HCLG.fst"))
    tid2pdf = TransitionModel.read(str(model)).tid2pdf
    for utt, mat in kaldiio.load_scp(scps["dev"]).items():
        for scale in (0.1, 0.5):
            one = decode_utterance(graph, mat, tid2pdf, scale)
            lattice, reached = search_lattice(arrays, mat, tid2pdf, scale)
            (path,) = grid_best_paths(
                lattice, [1 / scale], [0.0], utt, alignments=True
            )
            assert reached == one.reached_final
            assert path.words == one.words, utt
            assert path.alignment.tolist() == one.alignment.tolist(), utt
            assert path.graph_cost == pytest.approx(one.graph_cost, abs=1e-2)
            assert path.acoustic_cost == pytest.approx(
                one.acoustic_cost, rel=1e-4, abs=1e-2
            )


def test_lattice_tuning_picks_the_exhaustive_point(setup, tmp_path):
    root, model, scps, refs, id2word = setup
    reports = {}
    for mode in ("exhaustive", "lattice"):
        with ParallelDecoder(
            str(root / "graph" / "HCLG.fst"), str(model), num_workers=1
        ) as decoder:
            reports[mode] = tune_and_decode(
                decoder,
                scps,
                refs,
                id2word,
                str(tmp_path / mode),
                LM_WEIGHTS,
                PENALTIES,
                progress=False,
                tuning=mode,
                lattice_beam=8.0,
            )
    ex, lat = reports["exhaustive"], reports["lattice"]
    assert (lat["lm_weight"], lat["word_ins_penalty"]) == (
        ex["lm_weight"],
        ex["word_ins_penalty"],
    )
    table = [(g["lm_weight"], g["word_ins_penalty"]) for g in ex["dev_grid"]]
    assert table == [
        (g["lm_weight"], g["word_ins_penalty"]) for g in lat["dev_grid"]
    ]
    for a, b in zip(ex["dev_grid"], lat["dev_grid"], strict=True):
        assert b["wer"] == pytest.approx(a["wer"], abs=0.01), a
    # The grid matters on this corpus, and test is decoded as before.
    assert max(g["wer"] for g in ex["dev_grid"]) > ex["dev"]["wer"]
    assert lat["test"]["wer"] == ex["test"]["wer"]
    saved = json.loads((tmp_path / "lattice" / "decoding.json").read_text())
    assert saved["tuning"] == "lattice" and len(saved["dev_grid"]) == 9
    assert (tmp_path / "lattice" / "test" / "hyp.txt").read_text() == (
        tmp_path / "exhaustive" / "test" / "hyp.txt"
    ).read_text()


def test_ctm_writer_gets_the_final_pass(setup, tmp_path):
    root, model, scps, refs, id2word = setup
    seen = {}

    def writer(split, results, path):
        seen[split] = sorted(results)
        with open(path, "w") as f:
            f.write("")

    with ParallelDecoder(
        str(root / "graph" / "HCLG.fst"), str(model), num_workers=2
    ) as decoder:
        report = tune_and_decode(
            decoder, scps, refs, id2word, str(tmp_path), [1.0, 10.0], [0.0],
            progress=False, ctm_writer=writer, tuning="lattice",
        )  # fmt: skip
    assert seen["dev"] == sorted(refs["dev"]) and seen["test"] == sorted(
        refs["test"]
    )
    assert report["test"]["ctm"] == "test/ctm"


def test_unknown_tuning_is_an_error(setup, tmp_path):
    root, model, scps, refs, id2word = setup
    with pytest.raises(ValueError, match="tuning must be"):
        tune_and_decode(
            None, scps, refs, id2word, str(tmp_path), [1.0], [0.0],
            tuning="nbest",
        )  # fmt: skip


def test_graph_arrays_are_the_graph_in_both_forms(setup, tmp_path):
    root, _, _, _, _ = setup
    graph = read_graph(str(root / "graph" / "HCLG.fst"))
    write_graph(graph, str(tmp_path / "const.fst"), const=True)
    for path in (root / "graph" / "HCLG.fst", tmp_path / "const.fst"):
        arrays = read_graph_arrays(str(path))
        assert arrays.start == graph.start
        assert arrays.num_states == graph.num_states
        for s in range(graph.num_states):
            lo, n = arrays.first[s], arrays.count[s]
            got = [
                (int(i), int(o), float(w), int(d))
                for (i, o, _, d), w in zip(
                    arrays.arcs[lo : lo + n],
                    arrays.weights[lo : lo + n, 2],
                    strict=True,
                )
            ]
            want = [
                (a.ilabel, a.olabel, a.weight.value, a.nextstate)
                for a in kf.ArcIterator(graph, s)
            ]
            assert got == want, (path, s)
            assert arrays.num_eps[s] == sum(i == 0 for i, *_ in want)
            assert arrays.final[s] == graph.final(s).value


def test_truncated_vector_graph_is_an_error_naming_it(setup, tmp_path):
    root, _, _, _, _ = setup
    data = (root / "graph" / "HCLG.fst").read_bytes()
    bad = tmp_path / "HCLG.fst"
    bad.write_bytes(data[:-8])
    with pytest.raises(ValueError, match=r"HCLG\.fst: could not read the FST"):
        read_graph_arrays(str(bad))


def test_lattice_search_prunes_to_max_active_and_checks_labels(setup):
    root, model, scps, _, _ = setup
    arrays = read_graph_arrays(str(root / "graph" / "HCLG.fst"))
    tid2pdf = TransitionModel.read(str(model)).tid2pdf
    scratch = np.full(arrays.num_states, -1, np.int32)
    utt, mat = next(iter(kaldiio.load_scp(scps["dev"]).items()))
    wide, _ = search_lattice(arrays, mat, tid2pdf, 0.1, scratch=scratch)
    narrow, _ = search_lattice(
        arrays, mat, tid2pdf, 0.1, max_active=20, min_active=5,
        scratch=scratch,
    )  # fmt: skip
    assert (scratch == -1).all()
    # Fewer tokens survive; pruning harder cannot find a cheaper path.
    assert narrow.num_states < wide.num_states
    cost = [
        p.graph_cost + 0.1 * p.acoustic_cost
        for p in (
            grid_best_paths(a, [10.0], [0.0], utt)[0] for a in (wide, narrow)
        )
    ]
    assert cost[1] >= cost[0] - 1e-3
    with pytest.raises(ValueError, match="transition-ids"):
        search_lattice(arrays, mat, tid2pdf[:5], 0.1)
