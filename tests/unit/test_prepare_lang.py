"""prepare_lang (Kaldi's utils/prepare_lang.sh) and transcript word ids.

The expected files are worked out by hand from Kaldi's scripts
(utils/prepare_lang.sh, add_lex_disambig.pl, gen_topo.pl,
make_lexicon_fst.py) for a tiny dictionary with homophones (ab, ab1), a
word whose pronunciation is a prefix of others (a) and two phones
sharing a root (a, a1).
"""

import math
import os

import kaldifst as kf
import pytest

from sb_rectifier.cli.main import main
from sb_rectifier.decoding.fst_io import read_graph
from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.files import is_temp_name
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.prepare_lang import gen_topo, prepare_lang
from sb_rectifier.kaldi.transcripts import OovReport, read_transcript_ids

DICT = {
    "silence_phones.txt": "SIL\nSPN\n",
    "optional_silence.txt": "SIL\n",
    "nonsilence_phones.txt": "a a1\nb\n",
    "extra_questions.txt": "a b\na1\n",
    "lexicon.txt": ("<UNK> SPN\nab a b\nba b a\nab1 a b\na a\naab a a1 b\n"),
}

PHONES_PD = """<eps> 0
SIL 1
SIL_B 2
SIL_E 3
SIL_I 4
SIL_S 5
SPN 6
SPN_B 7
SPN_E 8
SPN_I 9
SPN_S 10
a_B 11
a_E 12
a_I 13
a_S 14
a1_B 15
a1_E 16
a1_I 17
a1_S 18
b_B 19
b_E 20
b_I 21
b_S 22
#0 23
#1 24
#2 25
#3 26
"""

WORDS = """<eps> 0
<UNK> 1
a 2
aab 3
ab 4
ab1 5
ba 6
#0 7
<s> 8
</s> 9
"""

SETS_PD = """SIL SIL_B SIL_E SIL_I SIL_S
SPN SPN_B SPN_E SPN_I SPN_S
a_B a_E a_I a_S a1_B a1_E a1_I a1_S
b_B b_E b_I b_S
"""

EXTRA_QUESTIONS_PD = """a_B a_E a_I a_S b_B b_E b_I b_S
a1_B a1_E a1_I a1_S
a_B a1_B b_B
a_E a1_E b_E
a_I a1_I b_I
a_S a1_S b_S
SIL SPN
SIL_B SPN_B
SIL_E SPN_E
SIL_I SPN_I
SIL_S SPN_S
"""

ALIGN_LEXICON_PD = """<UNK> <UNK> SPN_S
<eps> <eps> SIL
a a a_S
aab aab a_B a1_I b_E
ab ab a_B b_E
ab1 ab1 a_B b_E
ba ba b_B a_E
"""

TOPO_5_SIL = """<Topology>
<TopologyEntry>
<ForPhones>
3 4
</ForPhones>
<State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25 </State>
<State> 1 <PdfClass> 1 <Transition> 1 0.75 <Transition> 2 0.25 </State>
<State> 2 <PdfClass> 2 <Transition> 2 0.75 <Transition> 3 0.25 </State>
<State> 3 </State>
</TopologyEntry>
<TopologyEntry>
<ForPhones>
1 2
</ForPhones>
<State> 0 <PdfClass> 0 <Transition> 0 0.25 <Transition> 1 0.25 \
<Transition> 2 0.25 <Transition> 3 0.25 </State>
<State> 1 <PdfClass> 1 <Transition> 1 0.25 <Transition> 2 0.25 \
<Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 2 <PdfClass> 2 <Transition> 1 0.25 <Transition> 2 0.25 \
<Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 3 <PdfClass> 3 <Transition> 1 0.25 <Transition> 2 0.25 \
<Transition> 3 0.25 <Transition> 4 0.25 </State>
<State> 4 <PdfClass> 4 <Transition> 4 0.75 <Transition> 5 0.25 </State>
<State> 5 </State>
</TopologyEntry>
</Topology>
"""


def _make_dict(folder, **changes):
    folder.mkdir(parents=True, exist_ok=True)
    files = {**DICT, **changes}
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def _read(lang, name):
    return (lang / name).read_text(encoding="utf-8")


@pytest.fixture
def lang_pd(tmp_path):
    lang = tmp_path / "lang"
    summary = prepare_lang(_make_dict(tmp_path / "dict"), lang)
    return lang, summary


def test_files_position_dependent(lang_pd):
    lang, summary = lang_pd
    assert _read(lang, "phones.txt") == PHONES_PD
    assert _read(lang, "words.txt") == WORDS
    assert _read(lang, "oov.txt") == "<UNK>\n"
    assert _read(lang, "oov.int") == "1\n"
    assert _read(lang, "phones/sets.txt") == SETS_PD
    assert _read(lang, "phones/roots.txt") == "".join(
        f"shared split {line}\n" for line in SETS_PD.splitlines()
    )
    assert _read(lang, "phones/roots.int") == (
        "shared split 1 2 3 4 5\nshared split 6 7 8 9 10\n"
        "shared split 11 12 13 14 15 16 17 18\nshared split 19 20 21 22\n"
    )
    assert _read(lang, "phones/sets.int") == (
        "1 2 3 4 5\n6 7 8 9 10\n11 12 13 14 15 16 17 18\n19 20 21 22\n"
    )
    silence = "SIL SIL_B SIL_E SIL_I SIL_S SPN SPN_B SPN_E SPN_I SPN_S"
    assert (
        _read(lang, "phones/silence.txt") == silence.replace(" ", "\n") + "\n"
    )
    assert _read(lang, "phones/context_indep.txt") == _read(
        lang, "phones/silence.txt"
    )
    assert _read(lang, "phones/silence.csl") == "1:2:3:4:5:6:7:8:9:10\n"
    assert _read(lang, "phones/context_indep.csl") == "1:2:3:4:5:6:7:8:9:10\n"
    assert _read(lang, "phones/silence.int") == "".join(
        f"{i}\n" for i in range(1, 11)
    )
    assert (
        _read(lang, "phones/nonsilence.csl")
        == ":".join(str(i) for i in range(11, 23)) + "\n"
    )
    assert _read(lang, "phones/nonsilence.txt").split()[:5] == [
        "a_B", "a_E", "a_I", "a_S", "a1_B",
    ]  # fmt: skip
    assert _read(lang, "phones/optional_silence.txt") == "SIL\n"
    assert _read(lang, "phones/optional_silence.int") == "1\n"
    assert _read(lang, "phones/optional_silence.csl") == "1\n"
    assert _read(lang, "phones/disambig.txt") == "#0\n#1\n#2\n#3\n"
    assert _read(lang, "phones/disambig.int") == "23\n24\n25\n26\n"
    assert _read(lang, "phones/disambig.csl") == "23:24:25:26\n"
    assert _read(lang, "phones/wdisambig.txt") == "#0\n"
    assert _read(lang, "phones/wdisambig_phones.int") == "23\n"
    assert _read(lang, "phones/wdisambig_words.int") == "7\n"
    assert _read(lang, "phones/extra_questions.txt") == EXTRA_QUESTIONS_PD
    assert _read(lang, "phones/extra_questions.int").splitlines()[1] == (
        "15 16 17 18"
    )
    boundary = _read(lang, "phones/word_boundary.txt").splitlines()
    assert boundary[:6] == [
        "SIL nonword", "SIL_B begin", "SIL_E end", "SIL_I internal",
        "SIL_S singleton", "SPN nonword",
    ]  # fmt: skip
    assert boundary[-1] == "b_S singleton" and len(boundary) == 22
    assert _read(lang, "phones/word_boundary.int").splitlines()[10] == (
        "11 begin"
    )
    assert _read(lang, "phones/align_lexicon.txt") == ALIGN_LEXICON_PD
    assert _read(lang, "phones/align_lexicon.int").splitlines()[:4] == [
        "1 1 10", "0 0 1", "2 2 14", "3 3 11 17 20",
    ]  # fmt: skip
    assert _read(lang, "lexiconp.txt").splitlines()[:2] == [
        "<UNK> 1.0 SPN_S", "ab 1.0 a_B b_E",
    ]  # fmt: skip
    topo = _read(lang, "topo")
    assert topo == gen_topo(list(range(11, 23)), list(range(1, 11)))
    parsed = HmmTopology.from_text(topo)
    assert parsed.num_pdf_classes(1) == 5 and parsed.num_pdf_classes(11) == 3
    assert summary["num_phones"] == 22 and summary["num_base_phones"] == 5
    assert summary["num_disambig"] == 4 and summary["num_words"] == 6
    assert summary["num_lexicon_entries"] == 6
    assert summary["num_disambiguated_prons"] == 2  # ab #1, ab1 #2
    assert summary["oov_id"] == 1 and summary["reused"] is False


def test_files_position_independent(tmp_path):
    lang = tmp_path / "lang"
    summary = prepare_lang(
        _make_dict(tmp_path / "dict"), lang, position_dependent_phones=False
    )
    assert _read(lang, "phones.txt") == (
        "<eps> 0\nSIL 1\nSPN 2\na 3\na1 4\nb 5\n#0 6\n#1 7\n#2 8\n#3 9\n"
    )
    assert _read(lang, "words.txt") == WORDS
    assert _read(lang, "phones/sets.txt") == "SIL\nSPN\na a1\nb\n"
    assert _read(lang, "phones/roots.int") == (
        "shared split 1\nshared split 2\nshared split 3 4\nshared split 5\n"
    )
    assert _read(lang, "phones/extra_questions.txt") == "a b\na1\n"
    assert _read(lang, "phones/silence.csl") == "1:2\n"
    assert not (lang / "phones" / "word_boundary.txt").exists()
    assert _read(lang, "phones/align_lexicon.txt").splitlines()[2:4] == [
        "a a a", "aab aab a a1 b",
    ]  # fmt: skip
    # a is a prefix of ab and aab now: a #1, ab #1, ab1 #2.
    assert summary["num_disambiguated_prons"] == 3
    assert summary["num_disambig"] == 4


def test_gen_topo_matches_kaldi():
    assert gen_topo([3, 4], [1, 2]) == TOPO_5_SIL
    text = gen_topo([2], [1], 3, 4)
    assert "<Transition> 0 0.333333333333333 " in text  # Perl's %.15g
    with pytest.raises(ValueError, match="num_sil_states 2"):
        gen_topo([2], [1], 3, 2)


def _paths(fst):
    """All (input labels, output labels, cost) of an acyclic FST."""
    out = []

    def walk(state, ilabels, olabels, cost):
        final = fst.final(state)
        if final.value != math.inf:
            out.append((tuple(ilabels), tuple(olabels), cost + final.value))
        for arc in kf.ArcIterator(fst, state):
            walk(
                arc.nextstate,
                ilabels + [arc.ilabel] * (arc.ilabel != 0),
                olabels + [arc.olabel] * (arc.olabel != 0),
                cost + arc.weight.value,
            )

    walk(fst.start, [], [], 0.0)
    return out


def _word_acceptor(word_ids):
    W = kf.StdVectorFst()
    state = W.add_state()
    W.start = state
    for wid in word_ids:
        nxt = W.add_state()
        W.add_arc(state, kf.StdArc(wid, wid, 0.0, nxt))
        state = nxt
    W.set_final(state, 0.0)
    return W


def _prons(lang, fst_name, words):
    """Phone sequences (as names) of a word sequence through L, with costs."""
    phones = {i: p for p, i in read_symbols(lang / "phones.txt").items()}
    word_ids = read_symbols(lang / "words.txt")
    L = read_graph(lang / fst_name)
    composed = kf.compose(L, _word_acceptor([word_ids[w] for w in words]))
    result = {}
    for ilabels, olabels, cost in _paths(composed):
        assert olabels == tuple(word_ids[w] for w in words)
        key = " ".join(phones[i] for i in ilabels)
        assert key not in result
        result[key] = cost
    return result


def test_l_phone_sequences_with_optional_silence(lang_pd):
    lang, _ = lang_pd
    prons = _prons(lang, "L.fst", ["ab", "ba"])
    expected = {
        f"{s0}a_B b_E {s1}b_B a_E{s2}"
        for s0 in ("", "SIL ")
        for s1 in ("", "SIL ")
        for s2 in ("", " SIL")
    }
    assert set(prons) == expected
    for cost in prons.values():  # 3 silence choices of probability 0.5
        assert cost == pytest.approx(3 * math.log(2), abs=1e-5)
    assert set(_prons(lang, "L.fst", ["aab"])) == {
        "a_B a1_I b_E", "SIL a_B a1_I b_E", "a_B a1_I b_E SIL",
        "SIL a_B a1_I b_E SIL",
    }  # fmt: skip


def test_l_without_optional_silence(tmp_path):
    lang = tmp_path / "lang"
    prepare_lang(_make_dict(tmp_path / "dict"), lang, sil_prob=0.0)
    assert _prons(lang, "L.fst", ["ab", "a", "<UNK>"]) == {
        "a_B b_E a_S SPN_S": 0.0
    }
    # phones.txt keeps the silence disambiguation symbol, as Kaldi's.
    assert _read(lang, "phones/disambig.txt") == "#0\n#1\n#2\n#3\n"
    assert _prons(lang, "L_disambig.fst", ["ab1", "a"]) == {
        "a_B b_E #2 a_S": 0.0
    }


def test_l_disambig_phone_sequences(lang_pd):
    lang, _ = lang_pd
    prons = _prons(lang, "L_disambig.fst", ["ab"])
    assert set(prons) == {
        "a_B b_E #1", "SIL #3 a_B b_E #1", "a_B b_E #1 SIL #3",
        "SIL #3 a_B b_E #1 SIL #3",
    }  # fmt: skip
    assert set(_prons(lang, "L_disambig.fst", ["ab1"])) == {
        p.replace("#1", "#2") for p in prons
    }
    assert "ba" not in set(_prons(lang, "L_disambig.fst", ["ba"]))
    assert "b_B a_E" in set(_prons(lang, "L_disambig.fst", ["ba"]))
    # The #0:#0 self-loop (fstaddselfloops) sits on the loop state only.
    L = read_graph(lang / "L_disambig.fst")
    loops = [
        (s, a.olabel)
        for s in range(L.num_states)
        for a in kf.ArcIterator(L, s)
        if a.ilabel == 23
    ]
    assert loops == [(1, 7)]
    # Sorted on output labels, as fstarcsort --sort_type=olabel leaves it.
    for s in range(L.num_states):
        labels = [a.olabel for a in kf.ArcIterator(L, s)]
        assert labels == sorted(labels)


def _word_loop(lang):
    G = kf.StdVectorFst()
    s = G.add_state()
    G.start = s
    G.set_final(s, 0.0)
    for word, wid in read_symbols(lang / "words.txt").items():
        if wid and not word.startswith(("#", "<s>", "</s>")):
            G.add_arc(s, kf.StdArc(wid, wid, 0.0, s))
    kf.arcsort(G, sort_type="ilabel")
    return G


def test_l_disambig_determinisable_with_word_loop(lang_pd):
    lang, _ = lang_pd
    G = _word_loop(lang)
    LG = kf.compose(read_graph(lang / "L_disambig.fst"), G)
    assert kf.determinize_star(LG, max_states=5000, use_log=True) is False
    for s in range(LG.num_states):
        labels = [a.ilabel for a in kf.ArcIterator(LG, s)]
        assert len(labels) == len(set(labels)) and 0 not in labels
    # Without disambiguation symbols the homophones make it fail.
    plain = kf.compose(read_graph(lang / "L.fst"), G)
    with pytest.raises(RuntimeError):
        kf.determinize_star(plain, max_states=5000, use_log=True)


def test_lexiconp_probabilities(tmp_path):
    lexp = "<UNK> 1.0 SPN\nab 0.5 a b\nab 0.5 a a1 b\nba 1.0 b a\n"
    folder = _make_dict(tmp_path / "dict", **{"lexiconp.txt": lexp})
    (folder / "lexicon.txt").unlink()
    lang = tmp_path / "lang"
    prepare_lang(folder, lang, sil_prob=0.0)
    assert _prons(lang, "L.fst", ["ab"]) == pytest.approx(
        {"a_B b_E": math.log(2), "a_B a1_I b_E": math.log(2)}, abs=1e-5
    )
    assert _read(lang, "lexiconp.txt").splitlines()[1] == "ab 0.5 a_B b_E"


def test_reuse_identical_and_refuse_different(tmp_path):
    folder = _make_dict(tmp_path / "dict")
    lang = tmp_path / "lang"
    prepare_lang(folder, lang)
    (lang / "G.fst").write_bytes(b"user's grammar")
    before = os.stat(lang / "L.fst").st_mtime_ns
    assert prepare_lang(folder, lang)["reused"] is True
    assert os.stat(lang / "L.fst").st_mtime_ns == before
    with pytest.raises(FileExistsError, match=r"L\.fst.*differ"):
        prepare_lang(folder, lang, sil_prob=0.2)
    with pytest.raises(FileExistsError, match="phones.txt"):
        prepare_lang(folder, lang, position_dependent_phones=False)
    assert (lang / "G.fst").read_bytes() == b"user's grammar"
    assert not [p for p in os.listdir(tmp_path) if is_temp_name(p)]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_lang(folder, empty)["reused"] is False


def test_cli(tmp_path, capsys):
    folder = _make_dict(tmp_path / "dict")
    lang = tmp_path / "lang"
    argv = ["prepare-lang", str(folder), str(lang), "--sil-prob", "0.3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "written" in out and "4 disambiguation symbols" in out
    assert "probability 0.3" in out
    assert main(argv) == 0
    assert "unchanged" in capsys.readouterr().out
    assert main(argv + ["--position-dependent-phones", "false"]) == 1
    assert "already exists" in capsys.readouterr().err
    other = tmp_path / "lang2"
    assert (
        main(["prepare-lang", str(folder), str(other), "--oov-word", "<SPN>"])
        == 1
    )
    err = capsys.readouterr().err
    assert "lexicon.txt" in err and "<SPN>" in err
    assert not other.exists()


ERRORS = [
    (
        {"lexicon.txt": "<UNK> SPN\nab a b\nba b x\n"},
        r"lexicon\.txt: line 3: phone 'x' of word 'ba'",
    ),
    (
        {"nonsilence_phones.txt": "a a1\nSIL\n"},
        r"nonsilence_phones\.txt: line 2: phone 'SIL' is also a silence",
    ),
    (
        {"lexicon.txt": "<UNK> SPN\nab a b\n<UNK> SPN\n"},
        r"lexicon\.txt: line 3: duplicate of line 1",
    ),
    (
        {"lexicon.txt": "<UNK> SPN\nab a b\nab  a\tb\n"},
        r"lexicon\.txt: line 3: duplicate of line 2",
    ),
    (
        {"silence_phones.txt": "SIL\nSPN SIL\n"},
        r"silence_phones\.txt: line 2: duplicate phone 'SIL'",
    ),
    (
        {"lexicon.txt": "<UNK> SPN\n<s> SIL\n"},
        r"lexicon\.txt: line 2: '<s>' is a reserved symbol",
    ),
    (
        {"lexicon.txt": "<UNK> SPN\n#0 SIL\n"},
        r"lexicon\.txt: line 2: '#0' is a reserved symbol",
    ),
    (
        {"lexicon.txt": "<UNK> SPN\n<eps> SIL\n"},
        r"lexicon\.txt: line 2: '<eps>' is a reserved symbol",
    ),
    (
        {"lexicon.txt": "<UNK> SPN\nnew\u00a0york a b\n"},
        r"lexicon\.txt: line 2: disallowed whitespace character U\+00A0",
    ),
    (
        {"lexicon.txt": "<UNK> SPN\nab\n"},
        r"lexicon\.txt: line 2: word 'ab' has no phones",
    ),
    (
        {"lexicon.txt": "ab a b\n"},
        r"lexicon\.txt: the OOV word '<UNK>' has no entry",
    ),
    ({"lexicon.txt": ""}, r"lexicon\.txt: empty file"),
    ({"silence_phones.txt": ""}, r"silence_phones\.txt: empty file"),
    ({"nonsilence_phones.txt": ""}, r"nonsilence_phones\.txt: empty file"),
    ({"optional_silence.txt": ""}, r"optional_silence\.txt: empty file"),
    (
        {"optional_silence.txt": "SIL SPN\n"},
        r"optional_silence\.txt: expected exactly one phone",
    ),
    (
        {"optional_silence.txt": "a\n"},
        r"optional_silence\.txt: line 1: .*'a' is not in silence_phones",
    ),
    (
        {"nonsilence_phones.txt": "a a1\n\nb\n"},
        r"nonsilence_phones\.txt: line 2: empty line",
    ),
    (
        {"nonsilence_phones.txt": "a a1\nb_E\n"},
        r"nonsilence_phones\.txt: line 2: phone 'b_E' has a disallowed form",
    ),
    (
        {"silence_phones.txt": "SIL\n#1\n"},
        r"silence_phones\.txt: line 2: phone '#1' has a disallowed form",
    ),
    (
        {"extra_questions.txt": "a b\na1 z\n"},
        r"extra_questions\.txt: line 2: phone 'z' is not in",
    ),
    (
        {"extra_questions.txt": "a a1 b\n"},
        r"nonsilence_phones\.txt: line 1: phones 'a' and 'a1' share a tree",
    ),
    (
        {"lexiconp.txt": "<UNK> 1.0 SPN\nab 1.5 a b\n", "lexicon.txt": None},
        r"lexiconp\.txt: line 2: expected 'word prob phone \.\.\.'",
    ),
    (
        {"lexiconp.txt": "<UNK> 1.0 SPN\nab 0.5 a b\nab 0.4 a b\n"},
        r"lexiconp\.txt: line 3: pronunciation ab a b is already on line 2",
    ),
    (
        {"lexiconp.txt": "<UNK> 1.0 SPN\nab 1.0 b a\n"},
        r"lexiconp\.txt: line 2: ab b a does not match .*lexicon\.txt: line 2",
    ),
]


@pytest.mark.parametrize("changes,message", ERRORS)
def test_dict_errors(tmp_path, changes, message):
    folder = _make_dict(tmp_path / "dict", **changes)
    lang = tmp_path / "lang"
    with pytest.raises(ValueError, match=message):
        prepare_lang(folder, lang)
    assert not lang.exists()
    assert not [p for p in os.listdir(tmp_path) if is_temp_name(p)]


def test_missing_files_and_bad_settings(tmp_path):
    folder = _make_dict(tmp_path / "dict")
    (folder / "lexicon.txt").unlink()
    with pytest.raises(FileNotFoundError, match="lexicon not found"):
        prepare_lang(folder, tmp_path / "lang")
    folder = _make_dict(tmp_path / "dict2")
    (folder / "optional_silence.txt").unlink()
    with pytest.raises(FileNotFoundError, match="optional_silence.txt"):
        prepare_lang(folder, tmp_path / "lang")
    with pytest.raises(FileNotFoundError, match="dictionary folder not found"):
        prepare_lang(tmp_path / "nowhere", tmp_path / "lang")
    folder = _make_dict(tmp_path / "dict3")
    with pytest.raises(ValueError, match="sil_prob 1.0"):
        prepare_lang(folder, tmp_path / "lang", sil_prob=1.0)
    with pytest.raises(ValueError, match="num_sil_states 2"):
        prepare_lang(folder, tmp_path / "lang", num_sil_states=2)
    assert not (tmp_path / "lang").exists()


# ---------------------------------------------------------------- transcripts


def test_transcript_ids_and_oov_counts(tmp_path):
    text = tmp_path / "text"
    text.write_text(
        "u1 ab foo ba\nu2\nu3 bar foo foo ab1\nu4 <UNK> a\n", encoding="utf-8"
    )
    words = tmp_path / "words.txt"
    words.write_text(WORDS)
    ids, report = read_transcript_ids(text, words, "<UNK>")
    assert ids == {"u1": [4, 1, 6], "u2": [], "u3": [1, 1, 1, 5], "u4": [1, 2]}
    assert isinstance(report, OovReport)
    assert report.oov_counts == {"foo": 3, "bar": 1}
    assert list(report.oov_counts) == ["foo", "bar"]
    assert report.num_oov_tokens == 4 and report.num_tokens == 9
    assert report.num_utterances == 4 and report.empty_utterances == ["u2"]
    assert report.summary() == (
        "4 of 9 word tokens (44.44 %) mapped to <UNK>: foo (3), bar (1); "
        "1 empty transcript: u2"
    )
    assert report.summary(max_words=1).endswith(
        "foo (3) and 1 more words; 1 empty transcript: u2"
    )


def test_oov_report_example_line():
    report = OovReport("text", "<UNK>", 10, 1200, {"foo": 2, "bar": 1})
    assert report.summary() == (
        "3 of 1200 word tokens (0.25 %) mapped to <UNK>: foo (2), bar (1)"
    )


@pytest.mark.parametrize(
    "content,message",
    [
        ("u1 ab\nu1 ba\n", r"text: line 2: duplicate utterance 'u1'"),
        ("u1 ab\nu2 <s> ab\n", r"text: line 2: utterance 'u2' contains '<s>'"),
        ("u1 ab #0\n", r"text: line 1: utterance 'u1' contains '#0'"),
        ("u1 ab\n\nu2 ba\n", r"text: line 2: empty line"),
        ("", r"text: empty transcript file"),
    ],
)
def test_transcript_errors(tmp_path, content, message):
    text = tmp_path / "text"
    text.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_transcript_ids(text, read_symbols_str(WORDS), "<UNK>")


def read_symbols_str(text):
    return {line.split()[0]: int(line.split()[1]) for line in text.splitlines()}


def test_transcript_oov_word_must_exist(tmp_path):
    text = tmp_path / "text"
    text.write_text("u1 ab\n")
    with pytest.raises(ValueError, match="OOV word '<SPN>' is not in"):
        read_transcript_ids(text, read_symbols_str(WORDS), "<SPN>")
    with pytest.raises(FileNotFoundError, match="transcript not found"):
        read_transcript_ids(tmp_path / "none", read_symbols_str(WORDS), "<UNK>")


# ------------------------------------------------------- the embedded corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus

    root = tmp_path_factory.mktemp("corpus") / "tiny"
    make_corpus(
        str(root), CorpusConfig(hours=0.01, seed=3), num_workers=1,
        progress=False,
    )  # fmt: skip
    return root


def test_corpus_lexicon(corpus, tmp_path):
    lang_in = corpus / "data" / "lang"
    phones = [
        p for p in read_symbols(lang_in / "phones.txt") if p not in ("<eps>",)
    ]
    assert "SIL" in phones
    folder = tmp_path / "dict"
    folder.mkdir()
    (folder / "silence_phones.txt").write_text("SIL\nSPN\n")
    (folder / "optional_silence.txt").write_text("SIL\n")
    (folder / "nonsilence_phones.txt").write_text(
        "".join(f"{p}\n" for p in phones if p != "SIL")
    )
    lexicon = (lang_in / "lexicon.txt").read_text(encoding="utf-8")
    (folder / "lexicon.txt").write_text("<UNK> SPN\n" + lexicon)
    lang = tmp_path / "lang"
    summary = prepare_lang(folder, lang)
    corpus_words = {line.split()[0] for line in lexicon.splitlines()}
    word_ids = read_symbols(lang / "words.txt")
    assert corpus_words | {"<UNK>"} == set(word_ids) - {
        "<eps>", "#0", "<s>", "</s>",
    }  # fmt: skip
    assert summary["num_lexicon_entries"] == len(lexicon.splitlines()) + 1
    assert summary["num_phones"] == 5 * 2 + 4 * (len(phones) - 1)
    HmmTopology.read(lang / "topo")
    LG = kf.compose(read_graph(lang / "L_disambig.fst"), _word_loop(lang))
    assert kf.determinize_star(LG, max_states=200000, use_log=True) is False
    text = corpus / "data" / "train" / "text"
    ids, report = read_transcript_ids(text, lang / "words.txt", "<UNK>")
    with open(text, encoding="utf-8") as f:
        tokens = [w for line in f for w in line.split()[1:]]
    assert report.num_tokens == len(tokens) > 0
    expected_oov = {}
    for w in tokens:
        if w not in word_ids:
            expected_oov[w] = expected_oov.get(w, 0) + 1
    assert report.oov_counts == expected_oov
    assert sum(len(v) for v in ids.values()) == len(tokens)
