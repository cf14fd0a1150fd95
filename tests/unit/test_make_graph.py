"""``sb-rectifier make-graph``: HCLG of context-dependent models (mkgraph.sh).

A hand-made triphone tree (N=3, P=1) whose pdfs depend on the left and
right phones, its Kaldi TransitionModel, and graphs that must recover both
the words and the context-dependent pdfs of constructed likelihoods; the
monophone model of a tiny embedded corpus, whose graph must decode its
exact alignments as :func:`sb_rectifier.decoding.hclg.make_graph`'s does.
"""

import glob
import os

import kaldi_hmm_gmm as khg
import numpy as np
import pytest

from sb_rectifier.cli.main import main
from sb_rectifier.decoding.context_graph import (
    PDF_CLASS_KEY,
    check_tree,
    make_context_graph,
    monophone_tree,
)
from sb_rectifier.decoding.decoder import decode_utterance, tid_loglikes
from sb_rectifier.decoding.fst_io import read_graph, write_graph
from sb_rectifier.decoding.hclg import make_graph
from sb_rectifier.decoding.lang import add_symbols, read_symbols, write_symbols
from sb_rectifier.decoding.lexicon_fst import make_l
from sb_rectifier.gmm.model import khg_transition_model
from sb_rectifier.gmm.tree import (
    read_tree,
    tree_to_bytes,
    tree_to_context_dependency,
)
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

PHONES = ["SIL", "j", "E", "s", "n", "oU", "t", "aI", "w", "V"]
PHONE_IDS = {"<eps>": 0, **{p: i for i, p in enumerate(PHONES, 1)}}
LEXICON = [
    ("yes", ["j", "E", "s"]),
    ("no", ["n", "oU"]),
    ("not", ["n", "oU", "t"]),
    ("nice", ["n", "aI", "s"]),
    ("one", ["w", "V", "n"]),
    ("so", ["s", "oU"]),
]
PRON = dict(LEXICON)
WORDS = [w for w, _ in LEXICON]
WORD_IDS = {"<eps>": 0, **{w: i for i, w in enumerate(WORDS, 1)}}
# The pdfs that only a context-dependent graph gives: "oU" after "n",
# "s" before "oU".
OU_AFTER_N, S_BEFORE_OU = 30, 31

BIGRAM_ARPA = """
\\data\\
ngram 1=8
ngram 2=6

\\1-grams:
-99 <s> -0.5
-1.0 </s>
-0.8 yes -0.3
-0.8 no -0.3
-0.9 not -0.3
-0.9 nice -0.3
-1.2 so -0.3
-1.5 one -0.3

\\2-grams:
-0.1 <s> yes
-0.3 yes no
-0.3 yes not
-0.2 not nice
-0.2 nice </s>
-0.5 <s> so

\\end\\
"""


def _triphone_map():
    """Each phone has pdfs 3(p-1) .. 3(p-1)+2, except two splits."""
    table = [None]
    for phone in range(1, len(PHONES) + 1):
        pdfs = [["CE", 3 * (phone - 1) + c] for c in range(3)]
        if phone == PHONE_IDS["oU"]:  # middle state: left context n?
            pdfs[1] = ["SE", 0, [PHONE_IDS["n"]], ["CE", OU_AFTER_N], pdfs[1]]
        if phone == PHONE_IDS["s"]:  # last state: right context oU?
            pdfs[2] = ["SE", 2, [PHONE_IDS["oU"]], ["CE", S_BEFORE_OU], pdfs[2]]
        table.append(["TE", PDF_CLASS_KEY, pdfs])
    return ["TE", 1, table]


@pytest.fixture(scope="module")
def triphone(tmp_path_factory):
    """exp dir (binary final.mdl + tree), the tree and both models."""
    exp = tmp_path_factory.mktemp("tri")
    topology = HmmTopology.left_to_right(range(1, len(PHONES) + 1))
    (exp / "tree").write_bytes(tree_to_bytes(_triphone_map(), 3, 1))
    tree = read_tree(exp / "tree")
    topo = khg.HmmTopology()
    topo.read(topology.to_text())
    kaldi_model = khg.TransitionModel(tree, topo)
    tuples = [tuple(t.__getstate__()) for t in kaldi_model.tuples]
    model = TransitionModel(topology, tuples)
    # A GMM final.mdl: the transition model, then the GMMs (not read).
    model.write(exp / "final.mdl", binary=True)
    with open(exp / "final.mdl", "ab") as f:
        f.write(b"<DIMENSION> \x04\x28\x00\x00\x00<NUMPDFS> ...")
    return exp, tree, model, kaldi_model


def _lexicon_lang(folder, g_words=None):
    """A lang dir with lexicon.txt (L made by make-graph)."""
    folder.mkdir()
    write_symbols(PHONE_IDS, folder / "phones.txt")
    write_symbols(WORD_IDS, folder / "words.txt")
    (folder / "lexicon.txt").write_text(
        "".join(f"{w} {' '.join(p)}\n" for w, p in LEXICON)
    )
    return folder


def _kaldi_lang(folder):
    """Kaldi's layout: L_disambig.fst, phones/disambig.int, #k, #0, <s>."""
    folder.mkdir()
    words, _ = add_symbols(WORD_IDS, ["#0", "<s>", "</s>"])
    L, disambig = make_l(LEXICON, PHONE_IDS, words, return_disambig=True)
    phones, ids = add_symbols(
        PHONE_IDS, [f"#{k}" for k in range(len(disambig))]
    )
    assert ids == disambig
    write_symbols(phones, folder / "phones.txt")
    write_symbols(words, folder / "words.txt")
    write_graph(L, folder / "L_disambig.fst")
    (folder / "phones").mkdir()
    (folder / "phones" / "disambig.int").write_text(
        "".join(f"{d}\n" for d in disambig)
    )
    (folder / "phones" / "word_boundary.int").write_text("1 nonword\n")
    return folder


def _truth(tree, model, words, rng, silence=0.5):
    """Transition-ids of a sentence (contexts by the tree), peaked loglikes."""
    phones = ["SIL"]
    for i, word in enumerate(words):
        phones += PRON[word]
        if i + 1 < len(words) and rng.random() < silence:
            phones.append("SIL")
    ids = [PHONE_IDS[p] for p in phones + ["SIL"]]
    tids = []
    for i, phone in enumerate(ids):
        left = ids[i - 1] if i > 0 else 0
        right = ids[i + 1] if i + 1 < len(ids) else 0
        for state in range(3):
            ok, pdf = tree.compute([left, phone, right], state)
            assert ok
            tstate = model.tuples.index((phone, state, pdf, pdf)) + 1
            first = int(model.tstate2first_tid[tstate])
            loop, fwd = (
                (first, first + 1)
                if model.tid_is_self_loop[first]
                else (first + 1, first)
            )
            tids += [loop] * int(rng.integers(0, 4)) + [fwd]
    tids = np.array(tids, dtype=np.int32)
    pdfs = model.ali_to_pdf(tids)
    loglik = rng.normal(-12.0, 1.0, size=(len(tids), model.num_pdfs))
    loglik[np.arange(len(tids)), pdfs] = rng.normal(-1.0, 1.0, len(tids))
    return loglik.astype(np.float32), pdfs


# ------------------------------------------------------------------ trees


def test_tree_bytes_are_kaldis_and_read_back(tmp_path):
    topo = khg.HmmTopology()
    topo.read(HmmTopology.left_to_right([1, 2, 3]).to_text())
    kaldi = khg.monophone_context_dependency(
        topo.phones, topo.get_phone_to_num_pdf_classes()
    )
    kaldi.write(True, str(tmp_path / "kaldi_tree"))
    ours = tree_to_bytes(
        [
            "TE",
            0,
            [None]
            + [
                ["TE", -1, [["CE", 3 * p + c] for c in range(3)]]
                for p in range(3)
            ],
        ],
        1,
        0,
    )
    assert (tmp_path / "kaldi_tree").read_bytes() == ours
    tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    assert str(monophone_tree(tm)) == str(kaldi)
    tree = tree_to_context_dependency(_triphone_map(), 3, 1)
    n, oU, s = PHONE_IDS["n"], PHONE_IDS["oU"], PHONE_IDS["s"]
    assert (tree.context_width, tree.central_position) == (3, 1)
    assert tree.compute([n, oU, s], 1) == (True, OU_AFTER_N)
    assert tree.compute([s, oU, 0], 1) == (True, 3 * (oU - 1) + 1)
    assert tree.compute([0, s, oU], 2) == (True, S_BEFORE_OU)
    assert tree.compute([0, s, 0], 2) == (True, 3 * (s - 1) + 2)


def test_khg_transition_model_is_kaldis(triphone):
    exp, tree, model, kaldi_model = triphone
    read = TransitionModel.read(exp / "final.mdl")
    assert read == model and read.num_pdfs == 32
    ours = khg_transition_model(read)
    assert str(ours) == str(kaldi_model)
    assert ours.__getstate__()[2:6] == kaldi_model.__getstate__()[2:6]
    np.testing.assert_allclose(
        ours.non_self_loop_log_probs,
        kaldi_model.non_self_loop_log_probs,
        rtol=1e-6,
    )
    check_tree(tree, read)
    with pytest.raises(ValueError, match="context-dependent model"):
        monophone_tree(read)


# ----------------------------------------------------------- triphone HCLG


def test_triphone_graph_decodes_words_and_context_pdfs(triphone, tmp_path):
    exp, tree, model, _ = triphone
    lang = _lexicon_lang(tmp_path / "lang")
    out = tmp_path / "graph"
    info = make_context_graph(lang, exp, out, word_loop=True)
    assert not info["skipped"]
    assert (info["context_width"], info["central_position"]) == (3, 1)
    assert sorted(os.listdir(out)) == [
        "HCLG.fst",
        "disambig_tid.int",
        "make_graph.json",
        "num_pdfs",
        "phones",
        "phones.txt",
        "words.txt",
    ]
    assert (out / "num_pdfs").read_text() == "32\n"
    phones = read_symbols(out / "phones.txt")
    disambig = [
        int(x) for x in (out / "phones" / "disambig.int").read_text().split()
    ]
    assert [k for k, v in phones.items() if v in disambig][0] == "#0"
    tids = [int(x) for x in (out / "disambig_tid.int").read_text().split()]
    assert min(tids) > model.num_transition_ids
    for stage in ("LG", "CLG", "Ha", "HCLGa", "HCLG"):
        assert min(info["sizes"][stage]) > 0
    # Context: CLG has more states than LG.
    assert info["sizes"]["CLG"][0] > info["sizes"]["LG"][0]
    hclg = read_graph(out / "HCLG.fst")
    id2word = {i: w for w, i in read_symbols(out / "words.txt").items()}
    rng = np.random.default_rng(0)
    seen = set()
    sentences = [["so", "no", "nice"], ["one", "yes", "not", "so"]]
    sentences += [[str(w) for w in rng.choice(WORDS, size=4)] for _ in range(4)]
    for words in sentences:
        loglik, pdfs = _truth(tree, model, words, rng)
        seen |= set(pdfs.tolist())
        r = decode_utterance(hclg, loglik, model.tid2pdf)
        assert r.reached_final
        assert [id2word[w] for w in r.words] == words
        np.testing.assert_array_equal(model.ali_to_pdf(r.alignment), pdfs)
    assert {OU_AFTER_N, S_BEFORE_OU} <= seen
    # The GMM decoder (khg, Kaldi's LatticeFasterDecoder) reads it too.
    loglik, pdfs = _truth(tree, model, ["so", "no"], rng)
    decoder = khg.LatticeFasterDecoder(
        hclg, khg.LatticeFasterDecoderConfig(beam=13.0, lattice_beam=6.0)
    )
    ok, ali, words, _ = khg.decode_utterance_lattice_faster(
        decoder=decoder,
        decodable=khg.DecodableCtc(tid_loglikes(loglik, model.tid2pdf)),
        trans_model=khg_transition_model(model),
        utt="u1",
        allow_partial=False,
    )
    assert ok and [id2word[w] for w in words] == ["so", "no"]
    np.testing.assert_array_equal(model.ali_to_pdf(ali), pdfs)


def test_kaldi_lang_layout_with_an_arpa_lm(triphone, tmp_path, capsys):
    exp, tree, model, _ = triphone
    lang = _kaldi_lang(tmp_path / "lang")
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(BIGRAM_ARPA)
    out = tmp_path / "graph"
    args = ["make-graph", str(lang), str(exp), str(out), "--arpa", str(arpa)]
    assert main(args) == 0
    assert "written; HCLG" in capsys.readouterr().err
    assert (out / "phones" / "word_boundary.int").read_text() == "1 nonword\n"
    assert read_symbols(out / "phones.txt") == read_symbols(lang / "phones.txt")
    hclg = read_graph(out / "HCLG.fst")
    id2word = {i: w for w, i in read_symbols(out / "words.txt").items()}
    rng = np.random.default_rng(1)
    # Back-off (#0) through C: "so no yes" has no bigram of its own.
    for words in (["yes", "not", "nice"], ["yes", "no"], ["so", "no", "yes"]):
        loglik, pdfs = _truth(tree, model, words, rng)
        r = decode_utterance(hclg, loglik, model.tid2pdf)
        assert r.reached_final
        assert [id2word[w] for w in r.words] == words
        np.testing.assert_array_equal(model.ali_to_pdf(r.alignment), pdfs)
    # Up to date: not rebuilt; a changed input: rebuilt.
    stamp = os.stat(out / "HCLG.fst").st_mtime_ns
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().err
    assert os.stat(out / "HCLG.fst").st_mtime_ns == stamp
    arpa.write_text(BIGRAM_ARPA.replace("-0.5 <s> so", "-0.6 <s> so"))
    assert main(args) == 0
    assert "written" in capsys.readouterr().err
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


# ------------------------------------------------------------------ errors


def test_errors_name_the_file(triphone, tmp_path, capsys):
    exp, tree, model, _ = triphone
    lang = _lexicon_lang(tmp_path / "lang")
    out = tmp_path / "graph"
    # No G.fst and neither --arpa nor --word-loop.
    with pytest.raises(
        FileNotFoundError, match=r"lang/G\.fst: grammar not found"
    ):
        make_context_graph(lang, exp, out)
    # No final.mdl.
    empty = tmp_path / "empty_exp"
    empty.mkdir()
    with pytest.raises(
        FileNotFoundError, match=r"empty_exp/final\.mdl: not found"
    ):
        make_context_graph(lang, empty, out, word_loop=True)
    # A context-dependent final.mdl without its tree.
    (empty / "final.mdl").write_bytes((exp / "final.mdl").read_bytes())
    with pytest.raises(ValueError, match=r"no tree in .*context-dependent"):
        make_context_graph(lang, empty, out, word_loop=True)
    # A tree of another phone set: phones 2 and 3 swapped.
    swapped = _triphone_map()
    swapped[2][2], swapped[2][3] = swapped[2][3], swapped[2][2]
    (empty / "tree").write_bytes(tree_to_bytes(swapped, 3, 1))
    with pytest.raises(
        ValueError, match=r"empty_exp/tree and .*final\.mdl differ on pdf 3"
    ):
        make_context_graph(lang, empty, out, word_loop=True)
    # A tree of fewer phones.
    fewer = ["TE", 1, _triphone_map()[2][:-1]]
    (empty / "tree").write_bytes(tree_to_bytes(fewer, 3, 1))
    with pytest.raises(
        ValueError,
        match=r"empty_exp/tree and .*final\.mdl differ on pdf 27: \(phone, "
        r"pdf class\) \[\] in the tree, \[\(10, 0\)\] in the model",
    ):
        make_context_graph(lang, empty, out, word_loop=True)
    # A text tree (as Kaldi's copy-tree --binary=false writes) reads as
    # the binary one; a truncated tree is an error naming the file.
    (empty / "tree").write_text(str(tree))
    assert str(read_tree(empty / "tree")) == str(tree)
    (empty / "tree").write_bytes(b"\0BContextDependency ")
    with pytest.raises(ValueError, match=r"empty_exp/tree: .*end of file"):
        make_context_graph(lang, empty, out, word_loop=True)
    # phones.txt with a phone the model lacks.
    other = _lexicon_lang(tmp_path / "other")
    write_symbols({**PHONE_IDS, "x": 11}, other / "phones.txt")
    with pytest.raises(
        ValueError,
        match=r"other/phones\.txt and .*final\.mdl have different phones: \[11\]",
    ):
        make_context_graph(other, exp, out, word_loop=True)
    # An ARPA file with words that words.txt lacks.
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(BIGRAM_ARPA.replace(" one ", " two "))
    with pytest.raises(
        ValueError,
        match=r"lm\.arpa: 1 words not in the word table, e\.g\. \['two'\]",
    ):
        make_context_graph(lang, exp, out, arpa=arpa)
    assert not out.exists()
    # A folder that make-graph did not make is never replaced.
    out.mkdir()
    (out / "HCLG.fst").write_text("mine")
    with pytest.raises(FileExistsError, match="not made by make-graph"):
        make_context_graph(lang, exp, out, word_loop=True)
    # The command: error named, exit status 1; --arpa xor --word-loop.
    assert (
        main(["make-graph", str(lang), str(empty / "no"), str(tmp_path / "g")])
        == 1
    )
    assert "no: model directory not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["make-graph", "l", "e", "g", "--arpa", "a", "--word-loop"])


# ------------------------------------------------- embedded corpus, monophone


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus

    folder = tmp_path_factory.mktemp("corpus") / "c"
    info = make_corpus(
        str(folder),
        CorpusConfig(hours=0.01, seed=3),
        num_workers=1,
        progress=False,
    )
    return folder, info


def test_corpus_monophone_graph_agrees_with_make_graph(corpus, tmp_path):
    from sb_rectifier.kaldi import read_int_vectors

    folder, info = corpus
    lang = folder / "data" / "lang"
    exp = folder / "exp" / "ali_train"
    assert not (exp / "tree").exists()  # monophone tree from final.mdl
    out = tmp_path / "graph"
    assert main(["make-graph", str(lang), str(exp), str(out)]) == 0
    hclg = read_graph(out / "HCLG.fst")
    id2word = {i: w for w, i in read_symbols(out / "words.txt").items()}
    reference = make_graph(lang, exp / "final.mdl")
    model = TransitionModel.read(exp / "final.mdl")
    assert (out / "num_pdfs").read_text() == f"{model.num_pdfs}\n"
    alignments = {}
    for path in sorted(glob.glob(str(folder / "exp" / "ali_dev" / "ali.*.gz"))):
        alignments.update(read_int_vectors(path))
    texts = dict(
        line.split(maxsplit=1)
        for line in (folder / "data" / "dev" / "text").read_text().splitlines()
    )
    missing = set(info["words_without_pronunciation"])
    checked = 0
    loglikes = {}
    for utt, tids in sorted(alignments.items()):
        if missing & set(texts[utt].split()):
            continue
        pdfs = model.ali_to_pdf(tids)
        loglik = np.full((len(tids), model.num_pdfs), -20.0, np.float32)
        loglik[np.arange(len(tids)), pdfs] = 0.0
        loglikes[utt] = loglik
        ours = decode_utterance(hclg, loglik, model.tid2pdf)
        theirs = decode_utterance(reference.hclg, loglik, model.tid2pdf)
        assert ours.reached_final
        words = " ".join(id2word[w] for w in ours.words)
        assert words == " ".join(reference.id2word[w] for w in theirs.words)
        assert words == texts[utt]
        np.testing.assert_array_equal(model.ali_to_pdf(ours.alignment), pdfs)
        checked += 1
    assert checked >= 3
    # ``sb-rectifier decode`` reads the graph directory as it is.
    from sb_rectifier.decoding.loglikes import write_log_likelihoods

    utts = sorted(loglikes)
    scp = write_log_likelihoods(
        [
            (
                utts,
                [len(loglikes[u]) for u in utts],
                np.concatenate([loglikes[u] for u in utts]),
            )
        ],
        tmp_path / "ll.ark",
    )
    hyp = tmp_path / "hyp.txt"
    argv = ["decode", str(out / "HCLG.fst"), str(out / "words.txt")]
    argv += [str(exp / "final.mdl"), f"scp:{scp}", str(hyp), "--jobs", "1"]
    assert main(argv) == 0
    decoded = dict(
        line.split(maxsplit=1) for line in hyp.read_text().splitlines()
    )
    assert decoded == {u: texts[u] for u in utts}


def test_corpus_word_loop(corpus, tmp_path):
    folder, _ = corpus
    lang = folder / "data" / "lang"
    exp = folder / "exp" / "ali_train"
    info = make_context_graph(lang, exp, tmp_path / "loop", word_loop=True)
    lexicon = {line.split()[0] for line in open(lang / "lexicon.txt")}
    words = set(read_symbols(lang / "words.txt")) & lexicon
    # One state, one arc per pronounced word.
    assert info["sizes"]["G"] == [1, len(words)]
    assert info["options"]["word_loop"] and info["inputs"][-1].endswith(
        "lexicon.txt"
    )
