"""Lang files, H, L and HCLG construction, graph files (sb_rectifier.decoding).

G from the corpus grammar is tested in test_grammar.py.
"""

import math

import kaldifst as kf
import numpy as np
import pytest
from topologies import kaldi_topology

from sb_rectifier.decoding.arpa import write_arpa_g
from sb_rectifier.decoding.fst_io import graph_size, read_graph, write_graph
from sb_rectifier.decoding.hclg import compile_hclg, make_graph
from sb_rectifier.decoding.lang import (
    add_lex_disambig,
    add_symbols,
    read_lexicon,
    read_symbols,
    write_symbols,
)
from sb_rectifier.decoding.lexicon_fst import make_l
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.hmm_utils import make_h
from sb_rectifier.kaldi.transition_model import TransitionModel

# Kaldi's standard topology (utils/gen_topo.pl): 3-state phones and a
# 5-state silence whose middle states are fully connected; phone 5 has a
# 1-state topology with separate forward / self-loop pdf classes.
TOPO = kaldi_topology([2, 3, 4], silence=1, one_state=5)

PHONES = {"<eps>": 0, "SIL": 1, "n": 2, "oU": 3, "t": 4, "s": 5}
WORDS = {"<eps>": 0, "no": 1, "know": 2, "not": 3, "so": 4, "nos": 5}
LEXICON = [
    ("no", ["n", "oU"]),
    ("know", ["n", "oU"]),
    ("not", ["n", "oU", "t"]),
    ("so", ["s", "oU"]),
    ("nos", ["n", "oU", "s"]),
]


@pytest.fixture(scope="module")
def model():
    return TransitionModel.monophone(HmmTopology.from_text(TOPO))


def _random_tids(model, phone, rng):
    """A random valid transition-id path through one phone's HMM."""
    final = len(model.topology.topology_for_phone(phone)) - 1
    state, tids = 0, []
    while state != final:
        options = np.flatnonzero(
            (model.tid2phone == phone) & (model.tid2hmm_state == state)
        )
        tid = int(rng.choice(options))
        tids.append(tid)
        state = int(model.tid2dest[tid])
    return tids


def _best(fst):
    """(ok, inputs, outputs, cost) of the best path of ``fst``."""
    if fst.num_states == 0:
        return False, [], [], math.inf
    ok, ins, outs, w = kf.get_linear_symbol_sequence(kf.shortest_path(fst))
    return ok, ins, outs, w.value


# ---------------------------------------------------------------- lang.py


def test_read_symbols_and_errors(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("<eps> 0\nyes 1\n\nno 2\n")
    assert read_symbols(path) == {"<eps>": 0, "yes": 1, "no": 2}
    path.write_text("<eps> 0\nyes 1\nno 1\n")
    with pytest.raises(ValueError, match=r"words.txt: line 3: id 1 .*'yes'"):
        read_symbols(path)
    path.write_text("<eps> 0\nyes one\n")
    with pytest.raises(ValueError, match="line 2: id 'one'"):
        read_symbols(path)
    path.write_text("<eps> 0\nyes 1 2\n")
    with pytest.raises(ValueError, match="line 2: expected 'symbol id'"):
        read_symbols(path)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_symbols(tmp_path / "missing.txt")


def test_read_lexicon_formats_and_errors(tmp_path):
    path = tmp_path / "lexicon.txt"
    # Phone names "0" and "3" (eSpeak) are not probabilities.
    path.write_text("one w 0 n\nthree T r i:\nerr 3\n")
    assert read_lexicon(path) == [
        ("one", ["w", "0", "n"]),
        ("three", ["T", "r", "i:"]),
        ("err", ["3"]),
    ]
    path.write_text("one 1.0 w 0 n\none 0.25 w V n\n")
    assert read_lexicon(path, with_probs=True) == [
        ("one", ["w", "0", "n"], 1.0),
        ("one", ["w", "V", "n"], 0.25),
    ]
    path.write_text("one w 0 n\ntwo\n")
    with pytest.raises(ValueError, match="lexicon.txt: line 2: .*no phones"):
        read_lexicon(path)
    path.write_text("one w 0 n\none w 0 n\n")
    with pytest.raises(ValueError, match="line 2: duplicate entry one w 0 n"):
        read_lexicon(path)
    path.write_text("one w #1\n")
    with pytest.raises(ValueError, match="line 1: phone '#1'"):
        read_lexicon(path)
    path.write_text("one 1.5 w\n")
    with pytest.raises(ValueError, match="line 1: expected 'word prob"):
        read_lexicon(path, pron_probs=True)


def test_add_lex_disambig_is_kaldis():
    rows, n = add_lex_disambig(LEXICON + [("no", ["n", "oU"])])
    # "n oU" occurs 3 times and is a prefix of "n oU t" and "n oU s".
    assert rows == [
        ("no", ["n", "oU", "#1"]),
        ("know", ["n", "oU", "#2"]),
        ("not", ["n", "oU", "t"]),
        ("so", ["s", "oU"]),
        ("nos", ["n", "oU", "s"]),
        ("no", ["n", "oU", "#3"]),
    ]
    assert n == 3
    rows, n = add_lex_disambig([("a", ["a"]), ("b", ["b"])])
    assert n == 0 and rows == [("a", ["a"]), ("b", ["b"])]
    table, ids = add_symbols(PHONES, ["#0", "#1"])
    assert ids == [6, 7] and table["s"] == 5


# ----------------------------------------------------------------------- H


def test_h_follows_any_topology(model):
    rng = np.random.default_rng(0)
    H = make_h(model, disambig_phones=[9, 10])
    kf.arcsort(H, sort_type="ilabel")
    n = model.num_transition_ids
    assert {a.ilabel for a in kf.ArcIterator(H, H.start)} == {0, n + 1, n + 2}
    for _ in range(30):
        phones = [int(p) for p in rng.integers(1, 6, size=4)]
        tids = [t for p in phones for t in _random_tids(model, p, rng)]
        ok, ins, outs, _ = _best(kf.compose(kf.make_linear_acceptor(tids), H))
        assert ok and ins == tids and outs == phones
    # A path that skips a state, or stops inside a phone, is rejected.
    tids = model.alignment_from_durations([(2, [1, 1, 1])]).tolist()
    for bad in ([tids[0], tids[2]], tids[:2]):
        ok, *_ = _best(kf.compose(kf.make_linear_acceptor(bad), H))
        assert not ok


def test_h_weights_are_kaldis(model):
    # Kaldi: self-loop -0.1 log p(loop); forward transition
    # -(log(p / (1 - p(loop))) + 0.1 log(1 - p(loop))).
    H = make_h(model)
    kf.arcsort(H, sort_type="ilabel")
    durations = [3, 1, 2]
    tids = model.alignment_from_durations([(3, durations)]).tolist()
    ok, _, outs, cost = _best(kf.compose(kf.make_linear_acceptor(tids), H))
    expected = sum(
        -0.1 * (d - 1) * math.log(0.75) - 0.1 * math.log(0.25)
        for d in durations
    )
    assert ok and outs == [3] and cost == pytest.approx(expected, abs=1e-4)
    H = make_h(model, transition_scale=0.5, self_loop_scale=1.0)
    kf.arcsort(H, sort_type="ilabel")
    ok, _, _, cost = _best(kf.compose(kf.make_linear_acceptor(tids), H))
    expected = -sum(
        (d - 1) * math.log(0.75) + math.log(0.25) for d in durations
    )
    assert cost == pytest.approx(expected, abs=1e-4)


def test_h_rejects_context_dependent_models():
    topo = HmmTopology.left_to_right([1], num_states=1)
    cd = TransitionModel(topo, [(1, 0, 0, 0), (1, 0, 1, 1)])
    with pytest.raises(ValueError, match="only monophone models"):
        make_h(cd)


# ----------------------------------------------------------------------- L


def _word_loop(word_ids):
    G = kf.StdVectorFst()
    s = G.add_state()
    G.start = s
    G.set_final(s, 0.0)
    ids = [i for w, i in word_ids.items() if i and not w.startswith("#")]
    for i in ids:
        G.add_arc(s, kf.StdArc(i, i, math.log(len(ids)), s))
    return G


def test_l_homophones_and_prefixes_determinise():
    G = _word_loop(WORDS)
    L, dis = make_l(LEXICON, PHONES, WORDS, return_disambig=True)
    # #0 (back-off), #1 #2 (no/know), #3 (silence).
    assert dis == [6, 7, 8, 9]
    kf.arcsort(L, sort_type="olabel")
    LG = kf.compose(L, G)
    assert kf.determinize_star(LG) is False
    assert LG.properties(0x40000, True)  # kIDeterministic
    # Without disambiguation symbols, no/know make L o G non-functional.
    L = make_l(LEXICON, PHONES, WORDS, disambig=False)
    kf.arcsort(L, sort_type="olabel")
    with pytest.raises(RuntimeError, match="not functional"):
        kf.determinize_star(kf.compose(L, G))


def test_l_optional_silence_and_costs():
    L = make_l(LEXICON, PHONES, WORDS, silence_prob=0.2, disambig=False)
    kf.arcsort(L, sort_type="ilabel")

    def best(phones):
        ids = [PHONES[p] for p in phones]
        return _best(kf.compose(kf.make_linear_acceptor(ids), L))

    ok, _, words, cost = best(["s", "oU", "SIL", "n", "oU", "t", "SIL"])
    assert ok and words == [WORDS["so"], WORDS["not"]]
    # start: no silence 0.8; after "so": silence 0.2; after "not": 0.2.
    assert cost == pytest.approx(-math.log(0.8 * 0.2 * 0.2), abs=1e-5)
    ok, _, words, _ = best(["SIL", "s", "oU", "n", "oU", "s"])
    assert ok and words == [WORDS["so"], WORDS["nos"]]
    ok, *_ = best(["SIL", "SIL", "s", "oU"])
    assert not ok
    L0 = make_l(LEXICON, PHONES, WORDS, silence_prob=0.0, disambig=False)
    assert graph_size(L0)[0] < graph_size(L)[0]
    with pytest.raises(ValueError, match="phone 'x' of word 'zz'"):
        make_l([("zz", ["x"])], PHONES, {"<eps>": 0, "zz": 1})
    with pytest.raises(ValueError, match="word 'zz' is not in the word table"):
        make_l([("zz", ["n"])], PHONES, WORDS)


def test_l_pronunciation_probabilities():
    lex = [("no", ["n", "oU"], 1.0), ("no", ["n", "oU", "t"], 0.25)]
    L = make_l(lex, PHONES, WORDS, silence_prob=0.0, disambig=False)
    kf.arcsort(L, sort_type="ilabel")
    ids = [PHONES[p] for p in ("n", "oU", "t")]
    ok, _, words, cost = _best(kf.compose(kf.make_linear_acceptor(ids), L))
    assert ok and words == [WORDS["no"]]
    assert cost == pytest.approx(-math.log(0.25), abs=1e-5)


# -------------------------------------------------------------- HCLG, I/O


def test_compile_hclg_and_graph_io(model, tmp_path):
    G = _word_loop(WORDS)
    graph = compile_hclg(model, LEXICON, PHONES, WORDS, G)
    assert graph.compile_seconds > 0
    assert graph.sizes["HCLG"] == graph_size(graph.hclg)
    n = model.num_transition_ids
    labels = {
        a.ilabel
        for s in range(graph.num_states)
        for a in kf.ArcIterator(graph.hclg, s)
    }
    assert max(labels) <= n  # no disambiguation symbol is left
    # HCLG maps an H-valid tid sequence of "so not" to exactly those words.
    rng = np.random.default_rng(3)
    phones = [1, 5, 3, 2, 3, 4, 1]  # SIL s oU n oU t SIL
    tids = [t for p in phones for t in _random_tids(model, p, rng)]
    A = kf.make_linear_acceptor(tids)
    ok, ins, words, _ = _best(kf.compose(A, graph.hclg))
    assert ok and ins == tids and words == [WORDS["so"], WORDS["not"]]
    for const in (False, True):
        path = tmp_path / f"HCLG.{int(const)}.fst"
        write_graph(graph.hclg, path, const=const)
        back = read_graph(path, vector=False)
        assert isinstance(back, kf.StdConstFst if const else kf.StdVectorFst)
        assert back.to_str() == graph.hclg.to_str()
        back = read_graph(path)
        assert isinstance(back, kf.StdVectorFst)
        assert back.to_str() == graph.hclg.to_str()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "HCLG.0.fst",
        "HCLG.1.fst",
    ]  # no temporary file left behind
    (tmp_path / "bad.fst").write_bytes(b"not an fst at all")
    with pytest.raises(ValueError, match="bad.fst: not an OpenFst binary FST"):
        read_graph(tmp_path / "bad.fst")


def test_compile_hclg_checks_phones(model):
    phones = {**PHONES, "x": 6}  # in the table, not in the model
    lex = LEXICON + [("nox", ["n", "x"])]
    words = {**WORDS, "nox": 6}
    with pytest.raises(ValueError, match="phone 'x' .* of word 'nox' is not"):
        compile_hclg(model, lex, phones, words, _word_loop(words))


# ------------------------------------------------- make_graph: a lang dir

# Bigram over no/know/not/so: "n oU" is "no" or "know", the LM decides.
ARPA = """
\\data\\
ngram 1=6
ngram 2=4

\\1-grams:
-99 <s> -0.5
-1.0 </s>
-0.8 no -0.3
-3.0 know -0.3
-0.9 not -0.3
-1.2 so -0.3

\\2-grams:
-0.1 <s> so
-0.3 so not
-0.2 not </s>
-0.2 no </s>

\\end\\
"""


def _lang_dir(folder, G=None):
    """A lang directory with the test tables and a word-loop G.fst."""
    folder.mkdir(parents=True, exist_ok=True)
    write_symbols(PHONES, folder / "phones.txt")
    write_symbols(WORDS, folder / "words.txt")
    (folder / "lexicon.txt").write_text(
        "".join(f"{w} {' '.join(p)}\n" for w, p in LEXICON)
    )
    write_graph(_word_loop(WORDS) if G is None else G, folder / "G.fst")
    return folder


def _decodes(hclg, model, phones, words, seed=3):
    """HCLG maps a random tid path of ``phones`` to exactly ``words``."""
    rng = np.random.default_rng(seed)
    tids = [t for p in phones for t in _random_tids(model, p, rng)]
    kf.arcsort(hclg, sort_type="ilabel")
    A = kf.make_linear_acceptor(tids)
    ok, ins, out, _ = _best(kf.compose(A, hclg))
    return ok and ins == tids and out == words


def test_make_graph_from_a_lang_dir(model, tmp_path):
    lang = _lang_dir(tmp_path / "lang")
    model.write(tmp_path / "final.mdl", binary=True)
    out = tmp_path / "graph"
    graph = make_graph(lang, tmp_path / "final.mdl", out_dir=out, const=True)
    assert sorted(p.name for p in out.iterdir()) == ["HCLG.fst", "words.txt"]
    assert read_symbols(out / "words.txt") == WORDS == graph.word_ids
    hclg = read_graph(out / "HCLG.fst", vector=False)
    assert isinstance(hclg, kf.StdConstFst)
    # The same graph as compile_hclg of the same tables.
    direct = compile_hclg(model, LEXICON, PHONES, WORDS, _word_loop(WORDS))
    assert hclg.to_str() == direct.hclg.to_str() == graph.hclg.to_str()
    phones = [1, 5, 3, 2, 3, 4, 1]  # SIL s oU n oU t SIL
    assert _decodes(graph.hclg, model, phones, [WORDS["so"], WORDS["not"]])
    # lexiconp.txt when there is no lexicon.txt.
    (lang / "lexicon.txt").unlink()
    (lang / "lexiconp.txt").write_text(
        "".join(f"{w} 1.0 {' '.join(p)}\n" for w, p in LEXICON)
    )
    again = make_graph(lang, model)
    assert again.hclg.to_str() == direct.hclg.to_str()


def test_make_graph_with_an_arpa_g(model, tmp_path):
    lang = _lang_dir(tmp_path / "lang")
    (tmp_path / "lm.arpa").write_text(ARPA)
    assert write_arpa_g(tmp_path / "lm.arpa", lang) == str(lang / "G.fst")
    words = read_symbols(lang / "words.txt")
    assert words == {**WORDS, "#0": 6, "<s>": 7, "</s>": 8}
    graph = make_graph(lang, model)
    labels = {
        a.ilabel
        for s in range(graph.num_states)
        for a in kf.ArcIterator(graph.hclg, s)
    }
    assert max(labels) <= model.num_transition_ids
    so_not = [1, 5, 3, 2, 3, 4, 1]  # SIL s oU n oU t SIL
    assert _decodes(graph.hclg, model, so_not, [words["so"], words["not"]])
    no = [1, 2, 3, 1]  # "n oU": "no" (-0.8) rather than "know" (-3.0)
    assert _decodes(graph.hclg, model, no, [words["no"]])


def test_make_graph_names_the_file(model, tmp_path):
    lang = _lang_dir(tmp_path / "lang")
    with pytest.raises(FileNotFoundError, match="nope: lang directory not"):
        make_graph(tmp_path / "nope", model)
    # G.fst: missing, not an FST, cut short, empty, labels not in words.txt.
    good = (lang / "G.fst").read_bytes()
    (lang / "G.fst").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=r"lang/G\.fst: grammar not found: a lang directory needs G\.fst",
    ):
        make_graph(lang, model)
    (lang / "G.fst").write_text("0 1 1 1\n1\n")
    with pytest.raises(ValueError, match=r"G\.fst: not an OpenFst binary FST"):
        make_graph(lang, model)
    (lang / "G.fst").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"G\.fst: could not read the FST"):
        make_graph(lang, model)
    write_graph(kf.StdVectorFst(), lang / "G.fst")
    with pytest.raises(ValueError, match=r"G\.fst: empty FST"):
        make_graph(lang, model)
    write_graph(kf.compile("0 1 3 3\n1 2 9 9\n2"), lang / "G.fst")
    with pytest.raises(
        ValueError,
        match=r"G\.fst: state 1: arc label 9 is not an id of .*lang/words\.txt",
    ):
        make_graph(lang, model)
    lang = _lang_dir(tmp_path / "lang")
    # Text tables: the file and the line.
    (lang / "words.txt").write_text("<eps> 0\nno 1\nknow\n")
    with pytest.raises(
        ValueError, match=r"words\.txt: line 3: expected 'symbol id'"
    ):
        make_graph(lang, model)
    lang = _lang_dir(tmp_path / "lang")
    with open(lang / "lexicon.txt", "a") as f:
        f.write("nose n oU s\n")
    with pytest.raises(
        ValueError,
        match=r"lexicon\.txt: words not in .*lang/words\.txt: nose$",
    ):
        make_graph(lang, model)
    (lang / "lexicon.txt").write_text("no n oU\nso\n")
    with pytest.raises(ValueError, match=r"lexicon\.txt: line 2: .*no phones"):
        make_graph(lang, model)
    (lang / "lexicon.txt").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"lexicon\.txt: lexicon not found"
    ):
        make_graph(lang, model)
    # A phone of the lexicon that the model lacks: the lang dir and model.
    lang = _lang_dir(tmp_path / "lang")
    write_symbols({**PHONES, "x": 6}, lang / "phones.txt")
    with open(lang / "lexicon.txt", "a") as f:
        f.write("nos n x\n")
    model.write(tmp_path / "final.mdl", binary=True)
    with pytest.raises(
        ValueError,
        match=r"lang \(model .*final\.mdl\): compile_hclg: phone 'x' \(id 6\) "
        "of word 'nos' is not a phone of the model",
    ):
        make_graph(lang, tmp_path / "final.mdl")
    with pytest.raises(ValueError, match=r"words\.txt: expected <Transition"):
        make_graph(lang, lang / "words.txt")


def test_make_graph_logs_words_of_g_without_pronunciation(
    model, tmp_path, caplog
):
    words = {**WORDS, "nope": 6}
    lang = _lang_dir(tmp_path / "lang", G=_word_loop(words))
    write_symbols(words, lang / "words.txt")
    with caplog.at_level("INFO", logger="sb_rectifier.decoding.hclg"):
        graph = make_graph(lang, model)
    assert "1 words of G have no pronunciation" in caplog.text
    assert "['nope']" in caplog.text and graph.num_states > 0
