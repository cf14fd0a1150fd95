"""Decoding constructed and oracle log-likelihoods (sb_rectifier.decoding)."""

import logging
import math
import os

import kaldifst as kf
import numpy as np
import pytest
from topologies import kaldi_topology

from sb_rectifier.decoding.arpa import make_g_from_arpa
from sb_rectifier.decoding.decoder import (
    check_loglikes,
    decode_utterance,
    tid_loglikes,
)
from sb_rectifier.decoding.fst_io import read_graph, write_graph
from sb_rectifier.decoding.hclg import compile_hclg, make_graph
from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

PHONES = ["SIL", "j", "E", "s", "n", "oU", "t", "aI", "w", "V"]
PHONE_IDS = {"<eps>": 0, **{p: i for i, p in enumerate(PHONES, 1)}}
LEXICON = [
    ("yes", ["j", "E", "s"]),
    ("no", ["n", "oU"]),
    ("know", ["n", "oU"]),
    ("not", ["n", "oU", "t"]),
    ("nice", ["n", "aI", "s"]),
    ("one", ["w", "V", "n"]),
    ("one", ["w", "oU", "n"]),
    ("so", ["s", "oU"]),
]
WORDS = ["yes", "no", "know", "not", "nice", "one", "so"]
WORD_IDS = {"<eps>": 0, **{w: i for i, w in enumerate(WORDS, 1)}}
PRON = {"yes": 0, "no": 1, "not": 3, "nice": 4, "one": 6, "so": 7}
PRONS = {}
for _word, _pron in LEXICON:
    PRONS.setdefault(_word, set()).add(tuple(_pron))

# 3-state phones, Kaldi's 5-state silence (middle states fully connected)
# and a 1-state phone with separate forward / self-loop pdf classes.
ODD_TOPO = kaldi_topology(range(2, 10), silence=1, one_state=10)

BIGRAM_ARPA = """
\\data\\
ngram 1=8
ngram 2=7

\\1-grams:
-99 <s> -0.5
-1.0 </s>
-0.8 yes -0.3
-0.8 no -0.3
-3.0 know -0.3
-0.9 not -0.3
-0.9 nice -0.3
-1.2 so -0.3

\\2-grams:
-0.1 <s> yes
-0.3 yes no
-0.3 yes not
-0.2 not nice
-0.2 nice </s>
-0.2 no </s>
-0.5 <s> so

\\end\\
"""


@pytest.fixture(scope="module")
def model():
    return TransitionModel.monophone(
        HmmTopology.left_to_right(range(1, len(PHONES) + 1))
    )


def _word_loop(word_ids):
    G = kf.StdVectorFst()
    s = G.add_state()
    G.start = s
    G.set_final(s, 0.0)
    ids = [i for w, i in word_ids.items() if i and not w.startswith("#")]
    for i in ids:
        G.add_arc(s, kf.StdArc(i, i, math.log(len(ids)), s))
    return G


@pytest.fixture(scope="module")
def loop_graph(model):
    return compile_hclg(
        model, LEXICON, PHONE_IDS, WORD_IDS, _word_loop(WORD_IDS)
    )


def _assert_words(decoded, truth):
    """``decoded`` is ``truth`` up to homophones ("no" / "know").

    A word with a pronunciation of its own must come out exactly; where
    two words share the spoken pronunciation, both paths cost the same
    (the word loop gives every word the same weight), so the decoder's
    choice between them is arbitrary (kaldi-decoder 0.2.11 and 0.3.2
    break the tie differently). The decoded word must have the very
    pronunciation that was spoken.
    """
    assert len(decoded) == len(truth), (decoded, truth)
    for got, want in zip(decoded, truth, strict=True):
        spoken = tuple(LEXICON[PRON[want]][1])
        assert got == want or spoken in PRONS[got], (decoded, truth)


def test_only_no_and_know_are_homophones():
    # _assert_words allows nothing else to differ.
    shared = {}
    for word, prons in PRONS.items():
        for pron in prons:
            shared.setdefault(pron, set()).add(word)
    homophones = {p: w for p, w in shared.items() if len(w) > 1}
    assert homophones == {("n", "oU"): {"no", "know"}}
    _assert_words(["know", "yes"], ["no", "yes"])
    with pytest.raises(AssertionError):
        _assert_words(["not", "yes"], ["no", "yes"])
    with pytest.raises(AssertionError):
        _assert_words(["no"], ["no", "yes"])


def _phone_sequence(words, rng, silence=0.5):
    """SIL, then the words' prons with optional SIL between, then SIL."""
    phones = ["SIL"]
    for i, word in enumerate(words):
        phones += LEXICON[PRON[word]][1]
        if i + 1 < len(words) and rng.random() < silence:
            phones.append("SIL")
    return phones + ["SIL"]


def _constructed(model, phones, rng, odd=False):
    """Transition-ids of ``phones`` and pdf log-likelihoods peaked on them.

    Each state lasts 1-4 frames (``odd``: a random walk through each
    phone's topology). The true pdf gets about -1, the others about -12,
    with Gaussian noise (sd 1).
    """
    ids = [PHONE_IDS[p] for p in phones]
    if odd:
        tids = []
        for phone in ids:
            final = len(model.topology.topology_for_phone(phone)) - 1
            state = 0
            while state != final:
                options = np.flatnonzero(
                    (model.tid2phone == phone) & (model.tid2hmm_state == state)
                )
                tid = int(rng.choice(options))
                tids.append(tid)
                state = int(model.tid2dest[tid])
        tids = np.array(tids, dtype=np.int32)
    else:
        segments = [(p, rng.integers(1, 5, size=3).tolist()) for p in ids]
        tids = model.alignment_from_durations(segments)
    pdfs = model.ali_to_pdf(tids)
    loglik = rng.normal(-12.0, 1.0, size=(len(tids), model.num_pdfs))
    loglik[np.arange(len(tids)), pdfs] = rng.normal(-1.0, 1.0, len(tids))
    return loglik.astype(np.float32), tids


def test_tid_loglikes_maps_columns():
    loglik = np.arange(6, dtype=np.float32).reshape(2, 3)
    tid2pdf = np.array([-1, 2, 0, 0, 1])
    out = tid_loglikes(loglik, tid2pdf, acoustic_scale=0.5)
    assert out.flags["C_CONTIGUOUS"] and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.5 * loglik[:, [2, 0, 0, 1]])


def test_decodes_constructed_likelihoods(model, loop_graph):
    rng = np.random.default_rng(0)
    for _ in range(5):
        words = [
            str(w) for w in rng.choice(list(PRON), size=rng.integers(1, 7))
        ]
        loglik, tids = _constructed(model, _phone_sequence(words, rng), rng)
        r = decode_utterance(loop_graph.hclg, loglik, model.tid2pdf)
        assert r.reached_final
        _assert_words([loop_graph.id2word[w] for w in r.words], words)
        np.testing.assert_array_equal(r.alignment, tids)
        true_ll = loglik[np.arange(len(tids)), model.ali_to_pdf(tids)]
        assert r.acoustic_cost == pytest.approx(-true_ll.sum(), rel=1e-4)
        assert r.graph_cost > 0 and r.num_frames == len(tids)


def test_const_graph_from_disk_decodes_identically(model, loop_graph, tmp_path):
    rng = np.random.default_rng(1)
    words = ["yes", "not", "nice", "one", "so"]
    loglik, tids = _constructed(model, _phone_sequence(words, rng), rng)
    path = tmp_path / "HCLG.fst"
    write_graph(loop_graph.hclg, path, const=True)
    graph = read_graph(path, vector=False)
    assert isinstance(graph, kf.StdConstFst)
    a = decode_utterance(loop_graph.hclg, loglik, model.tid2pdf)
    b = decode_utterance(graph, loglik, model.tid2pdf)
    assert a.words == b.words == [WORD_IDS[w] for w in words]
    np.testing.assert_array_equal(a.alignment, tids)
    np.testing.assert_array_equal(b.alignment, tids)
    assert (a.graph_cost, a.acoustic_cost) == (b.graph_cost, b.acoustic_cost)
    c = decode_utterance(graph, loglik, model.tid2pdf, lattice=True)
    assert c.words == a.words and c.lattice.num_states >= len(tids)
    np.testing.assert_array_equal(c.alignment, tids)


def test_any_topology(tmp_path):
    odd = TransitionModel.monophone(HmmTopology.from_text(ODD_TOPO))
    G = _word_loop(WORD_IDS)
    graph = compile_hclg(odd, LEXICON, PHONE_IDS, WORD_IDS, G)
    rng = np.random.default_rng(2)
    for _ in range(10):
        words = [str(w) for w in rng.choice(list(PRON), size=4)]
        loglik, tids = _constructed(
            odd, _phone_sequence(words, rng), rng, odd=True
        )
        # Moving between the silence's fully connected states costs more
        # (p = 0.25) than 0.1 x the acoustic margin: scale 1 here.
        r = decode_utterance(graph.hclg, loglik, odd.tid2pdf, 1.0)
        _assert_words([graph.id2word[w] for w in r.words], words)
        np.testing.assert_array_equal(r.alignment, tids)


def test_check_loglikes_names_file_utterance_and_model(model):
    where = "ll.scp: utterance 'u1' (ll.ark:12)"
    ok = check_loglikes(np.zeros((3, model.num_pdfs)), model.num_pdfs, where)
    assert ok.dtype == np.float32 and ok.flags["C_CONTIGUOUS"]
    with pytest.raises(
        ValueError,
        match=r"^ll\.scp: utterance 'u1' \(ll\.ark:12\): the matrix has 31 "
        r"columns, but exp/final\.mdl has 30 pdfs",
    ):
        check_loglikes(np.zeros((3, 31)), 30, where, "exp/final.mdl")
    with pytest.raises(ValueError, match=r"^ll\.scp: .*got an array of shape"):
        check_loglikes(np.zeros(30), 30, where)
    with pytest.raises(ValueError, match=r"^ll\.scp: .*not a numeric matrix"):
        check_loglikes((16000, np.zeros(5)), 30, where)
    with pytest.raises(ValueError, match=r"^ll\.scp: .*has no frames"):
        check_loglikes(np.zeros((0, 30)), 30, where)
    bad = np.zeros((4, 30))
    bad[2, 5] = np.inf
    with pytest.raises(
        ValueError, match="non-finite log-likelihood at frame 2"
    ):
        check_loglikes(bad, 30, where)


def test_bad_input_is_named(model, loop_graph):
    loglik = np.zeros((5, model.num_pdfs + 1), np.float32)
    with pytest.raises(ValueError, match=r"31 columns .* 30 pdfs"):
        decode_utterance(loop_graph.hclg, loglik, model.tid2pdf)
    with pytest.raises(ValueError, match="must be \\[frames, pdfs\\]"):
        decode_utterance(loop_graph.hclg, loglik[0], model.tid2pdf)
    loglik = np.zeros((5, model.num_pdfs), np.float32)
    loglik[3, 2] = np.nan
    with pytest.raises(
        ValueError, match="non-finite log-likelihood at frame 3"
    ):
        decode_utterance(loop_graph.hclg, loglik, model.tid2pdf)


def test_partial_path_when_no_final_state(model, caplog):
    # G = "yes not nice", but the frames stop inside "not".
    G = kf.make_linear_acceptor([WORD_IDS[w] for w in ("yes", "not", "nice")])
    graph = compile_hclg(model, LEXICON, PHONE_IDS, WORD_IDS, G)
    rng = np.random.default_rng(3)
    loglik, tids = _constructed(model, ["SIL", "j", "E", "s", "n", "oU"], rng)
    with caplog.at_level(logging.DEBUG):
        r = decode_utterance(graph.hclg, loglik, model.tid2pdf)
    assert not r.reached_final
    # Counted by the callers (one summary line), never logged per utterance.
    assert caplog.records == []
    assert r.words[:1] == [WORD_IDS["yes"]] and r.num_frames == len(tids)
    # The last frame's self-loop and forward transition share a pdf.
    np.testing.assert_array_equal(
        model.ali_to_pdf(r.alignment), model.ali_to_pdf(tids)
    )


def test_arpa_bigram_g(model, tmp_path):
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(BIGRAM_ARPA)
    G, word_ids = make_g_from_arpa(arpa, WORD_IDS)
    assert word_ids["#0"] == len(WORDS) + 1
    backoff = [
        a
        for s in range(G.num_states)
        for a in kf.ArcIterator(G, s)
        if a.ilabel == word_ids["#0"]
    ]
    assert backoff and all(a.olabel == 0 for a in backoff)
    graph = compile_hclg(model, LEXICON, PHONE_IDS, word_ids, G)
    rng = np.random.default_rng(4)
    # "n oU" is "no" or "know": the bigram (and back-off) decides.
    for words in (["yes", "not", "nice"], ["yes", "no"], ["so", "no", "yes"]):
        loglik, tids = _constructed(model, _phone_sequence(words, rng), rng)
        r = decode_utterance(graph.hclg, loglik, model.tid2pdf)
        assert r.reached_final
        assert [graph.id2word[w] for w in r.words] == words
        np.testing.assert_array_equal(r.alignment, tids)
    bad = tmp_path / "bad.arpa"
    bad.write_text(BIGRAM_ARPA.replace("-0.3 yes not", "-0.3 yes not -0.1"))
    with pytest.raises(ValueError, match=r"bad.arpa: line 19: invalid 2-gram"):
        make_g_from_arpa(bad, WORD_IDS)
    with pytest.raises(ValueError, match="words not in the word table"):
        make_g_from_arpa(arpa, {"<eps>": 0, "yes": 1})


# ------------------------------------------------- embedded corpus, oracle


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus

    folder = tmp_path_factory.mktemp("corpus") / "c"
    info = make_corpus(folder, CorpusConfig(hours=0.01, seed=3), progress=False)
    return folder, info


def test_corpus_graph_decodes_oracle_likelihoods(corpus, tmp_path):
    from sb_rectifier.kaldi import read_int_vectors

    folder, info = corpus
    lang = folder / "data" / "lang"
    mdl = folder / "exp" / "ali_train" / "final.mdl"
    out = tmp_path / "graph"
    graph = make_graph(lang, mdl, out_dir=out, const=True)
    assert sorted(os.listdir(out)) == ["HCLG.fst", "words.txt"]
    assert read_symbols(out / "words.txt") == graph.word_ids
    hclg = read_graph(out / "HCLG.fst", vector=False)
    assert graph.num_states > 100 and graph.compile_seconds < 10

    model = TransitionModel.read(mdl)
    ali_dir = folder / "exp" / "ali_dev"
    alignments = {}
    for path in sorted(ali_dir.glob("ali.*.gz")):
        alignments.update(read_int_vectors(str(path)))
    texts = dict(
        line.split(maxsplit=1)
        for line in (folder / "data" / "dev" / "text").read_text().splitlines()
    )
    missing = set(info["words_without_pronunciation"])
    checked = 0
    for utt, tids in sorted(alignments.items()):
        if missing & set(texts[utt].split()):
            continue
        pdfs = model.ali_to_pdf(tids)
        loglik = np.full((len(tids), model.num_pdfs), -20.0, np.float32)
        loglik[np.arange(len(tids)), pdfs] = 0.0
        r = decode_utterance(hclg, loglik, model.tid2pdf)
        assert r.reached_final
        assert " ".join(graph.id2word[w] for w in r.words) == texts[utt], utt
        np.testing.assert_array_equal(r.alignment, tids)
        checked += 1
    assert checked >= 3
