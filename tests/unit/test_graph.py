"""Lang files, H, L, G and HCLG construction (sb_rectifier.decoding)."""

import math

import kaldifst as kf
import numpy as np
import pytest
from topologies import kaldi_topology

from sb_rectifier.corpus.grammar import (
    TEMPLATES,
    sample_sentences,
    template_of,
    vocabulary,
)
from sb_rectifier.decoding.graph import (
    compile_hclg,
    graph_size,
    make_g_from_grammar,
    make_h,
    make_l,
    read_graph,
    write_graph,
)
from sb_rectifier.decoding.lang import (
    add_lex_disambig,
    add_symbols,
    read_lexicon,
    read_symbols,
)
from sb_rectifier.kaldi.hmm_topology import HmmTopology
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


def _accepts(G, word_ids):
    """Best path of the linear acceptor ``word_ids`` through G."""
    A = kf.make_linear_acceptor(word_ids)
    return _best(kf.compose(A, G))


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


# ----------------------------------------------------------------------- G


@pytest.fixture(scope="module")
def grammar_g():
    word_ids = {"<eps>": 0, **{w: i for i, w in enumerate(vocabulary(), 1)}}
    return make_g_from_grammar(TEMPLATES, word_ids), word_ids


def test_g_accepts_every_sampled_sentence(grammar_g):
    G, word_ids = grammar_g
    for words in sample_sentences(0, 200):
        ok, *_ = _accepts(G, [word_ids[w] for w in words])
        assert ok, words
    # Digit strings of any length >= 1 (digit_range=None).
    for text in ("dial one", "oh", "the code is " + "nine " * 20):
        assert _accepts(G, [word_ids[w] for w in text.split()])[0], text


def test_g_rejects_ungrammatical_sentences(grammar_g):
    G, word_ids = grammar_g
    for text in (
        "",
        "turn the kitchen on",
        "please please dial one",
        "call",
        "one two call",
        "thank you very",
        "good morning alice bob",
        "my number is",
        "play some some jazz music in the kitchen",
    ):
        assert template_of(text) is None
        ok, *_ = _accepts(G, [word_ids[w] for w in text.split()])
        assert not ok, text


def test_g_language_is_the_grammar(grammar_g):
    # Random walks through G produce only grammatical sentences.
    G, word_ids = grammar_g
    id2word = {i: w for w, i in word_ids.items()}
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(400):
        state, words = G.start, []
        while len(words) < 60:
            arcs = list(kf.ArcIterator(G, state))
            stop = G.final(state).value != math.inf
            pick = int(rng.integers(len(arcs) + stop))
            if pick == len(arcs):
                break
            assert arcs[pick].ilabel == arcs[pick].olabel != 0
            words.append(id2word[arcs[pick].ilabel])
            state = arcs[pick].nextstate
        assert template_of(words) is not None, words
        seen.add(template_of(words))
    assert len(seen) > 20


def test_g_weights(grammar_g):
    G, word_ids = grammar_g
    total = sum(t.weight for t in TEMPLATES)

    def cost(text):
        ok, _, _, c = _accepts(G, [word_ids[w] for w in text.split()])
        assert ok
        return c

    assert cost("thank you very much") == pytest.approx(
        -math.log(2 / total), abs=2e-3
    )
    # order: "i would like some <adjective>? <food> please?", weight 3.
    p = 3 / total * (0.5 / 8) * (1 / 12) * 0.5
    assert cost("i would like some hot soup please") == pytest.approx(
        -math.log(p), abs=2e-3
    )
    assert cost("i would like some soup") == pytest.approx(
        -math.log(3 / total * 0.5 / 12 * 0.5), abs=2e-3
    )
    # "<digit>+": first digit 1/11, each further one 0.8/11, then stop 0.2.
    p = 15 / total * (1 / 11) * (0.8 / 11) ** 2 * 0.2
    assert cost("one two three") == pytest.approx(-math.log(p), abs=2e-3)
    unweighted = make_g_from_grammar(TEMPLATES, word_ids, weights=False)
    ok, _, _, c = _accepts(unweighted, [word_ids["oh"]])
    assert ok and c == 0.0


def test_g_missing_words(grammar_g):
    _, word_ids = grammar_g
    small = {w: i for w, i in word_ids.items() if w != "kitchen"}
    with pytest.raises(ValueError, match="'kitchen' of template 'lights'"):
        make_g_from_grammar(TEMPLATES, small)
    G = make_g_from_grammar(TEMPLATES, small, missing="skip")
    assert _accepts(G, [small[w] for w in "turn on the garage lights".split()])[
        0
    ]


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
