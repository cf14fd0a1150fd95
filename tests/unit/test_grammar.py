"""Unit tests for the synthetic corpus grammar (sb_rectifier.corpus.grammar)
and its G (sb_rectifier.corpus.grammar_fst).

Authors
 * sb_rectifier developers 2026
"""

import hashlib
import math
import os
import re
from collections import Counter

import kaldifst as kf
import numpy as np
import pytest

import sb_rectifier.corpus.grammar as grammar_module
from sb_rectifier.corpus.grammar import (
    DIGIT_RANGE,
    GRAMMAR_FILE,
    KINDS,
    OPTIONAL_PROB,
    TEMPLATES,
    WORD_CLASSES,
    Template,
    get_template,
    kind_probabilities,
    parse_item,
    read_grammar,
    sample_sentence,
    sample_sentences,
    sample_template,
    template_of,
    vocabulary,
)
from sb_rectifier.corpus.grammar_fst import (
    make_g_from_grammar,
    write_grammar_g,
)
from sb_rectifier.decoding.fst_io import read_graph
from sb_rectifier.files import TMP_MARK

DIGITS = ("zero", "one", "two", "three", "four", "five")
DIGITS += ("six", "seven", "eight", "nine", "oh")
N_SAMPLES = 5000


@pytest.fixture(scope="module")
def samples():
    """5000 (template, sentence) pairs drawn with seed 0."""
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(N_SAMPLES):
        template = sample_template(rng)
        pairs.append((template, template.expand(rng, DIGIT_RANGE)))
    return pairs


def _longest_digit_run(words):
    """Length of the longest run of digit-class words."""
    digits = set(WORD_CLASSES["digit"])
    best = run = 0
    for word in words:
        run = run + 1 if word in digits else 0
        best = max(best, run)
    return best


# ---------------------------------------------------------------- vocabulary


def test_vocabulary_size_and_digits():
    words = vocabulary()
    assert len(words) >= 220
    assert len(set(words)) == len(words)
    assert words == sorted(words)
    for digit in DIGITS:
        assert digit in words
    assert set(WORD_CLASSES["digit"]) == set(DIGITS)


def test_words_are_lowercase_ascii_letters():
    for word in vocabulary():
        assert re.fullmatch(r"[a-z]+", word), word
    for members in WORD_CLASSES.values():
        for word in members:
            assert re.fullmatch(r"[a-z]+", word), word


def test_vocabulary_is_exactly_the_reachable_words():
    reachable = set()
    for t in TEMPLATES:
        for item in t.parsed():
            if item.is_class:
                reachable.update(WORD_CLASSES[item.symbol])
            else:
                reachable.add(item.symbol)
    assert set(vocabulary()) == reachable
    # Every word of every class is reachable.
    for members in WORD_CLASSES.values():
        assert set(members) <= reachable


def test_every_class_is_used():
    used = {c for t in TEMPLATES for c in t.classes()}
    assert used == set(WORD_CLASSES)


def test_every_word_is_sampled():
    counts = Counter(w for s in sample_sentences(0, 20000) for w in s)
    missing = [w for w in vocabulary() if counts[w] == 0]
    assert not missing
    assert set(counts) <= set(vocabulary())


# ----------------------------------------------------------------- templates


def test_template_inventory():
    names = [t.name for t in TEMPLATES]
    assert len(set(names)) == len(names)
    by_kind = Counter(t.kind for t in TEMPLATES)
    assert by_kind["command"] >= 12
    assert by_kind["phrase"] >= 8
    assert by_kind["digits"] >= 1
    assert set(by_kind) <= set(KINDS)
    # The digits kind is exactly the templates with a digit string.
    for t in TEMPLATES:
        assert t.has_digit_string == (t.kind == "digits"), t.name
    assert get_template("digits").items == ("<digit>+",)
    assert get_template("call_at").items == ("call", "<name>", "at", "<digit>+")
    with pytest.raises(KeyError):
        get_template("no_such_template")


def test_parse_item():
    assert parse_item("turn") == ("turn", False, False, False)
    assert parse_item("please?") == ("please", False, True, False)
    assert parse_item("<room>") == ("room", True, False, False)
    assert parse_item("<adjective>?") == ("adjective", True, True, False)
    assert parse_item("<digit>+") == ("digit", True, False, True)
    for bad in ("Turn", "don't", "<room", "word+", "<digit>?+", "", "a b"):
        with pytest.raises(ValueError):
            parse_item(bad)


def test_template_validation():
    with pytest.raises(ValueError):
        Template("t", ())
    with pytest.raises(ValueError):
        Template("t", ["a", "list"])
    with pytest.raises(ValueError):
        Template("t", ("hello",), weight=0.0)
    with pytest.raises(ValueError):
        Template("t", ("hello",), kind="question")
    with pytest.raises(ValueError):
        Template("t", ("two-words",))


# ------------------------------------------------------------------ matcher


def test_matcher_accepts_and_rejects():
    assert template_of("turn on the kitchen lights") == "lights"
    assert template_of(
        ["please", "turn", "off", "the", "garage", "lights"]
    ) == ("lights")
    assert template_of("set the alarm for seven") == "alarm"
    assert template_of("set the alarm for seven thirty") == "alarm"
    assert template_of("call alice at five five five one two one two") == (
        "call_at"
    )
    assert template_of("thank you very much") == "thanks"
    # Out-of-grammar sentences.
    assert template_of("") is None
    assert template_of("turn on the lights") is None
    assert template_of("thank you very much indeed") is None
    assert template_of("call alice at") is None
    assert template_of("set the alarm for seven thirty thirty") is None


def test_matcher_digit_strings():
    seven = "one two three four five six seven"
    assert template_of(seven) == "digits"
    assert template_of("oh") == "digits"
    assert template_of("oh", digit_range=(3, 9)) is None
    assert template_of(seven, digit_range=(3, 9)) == "digits"
    assert template_of(seven, digit_range=(8, 9)) is None
    dial = get_template("dial")
    assert dial.matches("dial one two three", digit_range=(3, 3))
    assert dial.matches("please dial one two three", digit_range=(3, 3))
    assert not dial.matches("please dial one two three", digit_range=(4, 9))
    assert not dial.matches("please please dial one")
    with pytest.raises(ValueError):
        dial.matches("dial one", digit_range=(0, 3))


def test_optional_items_in_matcher():
    t = Template("t", ("a?", "<switch>?", "b", "<switch>?"))
    for text in ("b", "a b", "on b", "a off b on", "b off"):
        assert t.matches(text), text
    for text in ("", "a", "b a", "on on b", "b on off"):
        assert not t.matches(text), text


# ------------------------------------------------------------------ sampler


def test_samples_are_in_grammar(samples):
    vocab = set(vocabulary())
    for template, words in samples:
        assert set(words) <= vocab, words
        assert template.matches(words, DIGIT_RANGE), (template.name, words)
        assert template_of(words) is not None, words
    # sample_sentence draws the same way as sample_template + expand.
    assert sample_sentences(0, N_SAMPLES) == [w for _, w in samples]


def test_every_template_is_sampled(samples):
    assert {t.name for t, _ in samples} == {t.name for t in TEMPLATES}


def test_sampling_is_deterministic():
    first = sample_sentences(0, 200)
    assert first == sample_sentences(0, 200)
    assert first != sample_sentences(1, 200)
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(50):
        assert sample_sentence(rng_a) == sample_sentence(rng_b)


def test_digit_string_lengths(samples):
    low, high = DIGIT_RANGE
    lengths = set()
    for template, words in samples:
        if template.has_digit_string:
            n = _longest_digit_run(words)
            assert low <= n <= high, words
            lengths.add(n)
    assert lengths == set(range(low, high + 1))


@pytest.mark.parametrize("digit_range", [(1, 1), (4, 4), (2, 12)])
def test_digit_range_is_configurable(digit_range):
    low, high = digit_range
    rng = np.random.default_rng(3)
    lengths = set()
    for _ in range(1000):
        template = sample_template(rng)
        words = template.expand(rng, digit_range)
        assert template.matches(words, digit_range)
        if template.has_digit_string:
            lengths.add(_longest_digit_run(words))
    assert lengths == set(range(low, high + 1))
    sentences = sample_sentences(5, 300, digit_range=digit_range)
    for words in sentences:
        assert template_of(words, digit_range) is not None


def test_bad_digit_range():
    rng = np.random.default_rng(0)
    for bad in [(0, 3), (5, 4)]:
        with pytest.raises(ValueError):
            get_template("digits").expand(rng, bad)


def test_digit_string_fraction(samples):
    frac = np.mean([t.kind == "digits" for t, _ in samples])
    assert abs(frac - 0.30) <= 0.05
    assert kind_probabilities()["digits"] == pytest.approx(0.30)
    assert sum(kind_probabilities().values()) == pytest.approx(1.0)


def test_optional_items_are_used_half_the_time():
    t = Template("t", ("hello", "please?"))
    rng = np.random.default_rng(0)
    used = np.mean([len(t.expand(rng)) == 2 for _ in range(4000)])
    assert abs(used - 0.5) < 0.05


def test_average_sentence_length(samples):
    mean = np.mean([len(words) for _, words in samples])
    assert 4 <= mean <= 9
    assert min(len(words) for _, words in samples) >= 1


# ---------------------------------------------------------------- data file


def test_grammar_is_the_data_file():
    assert os.path.isfile(GRAMMAR_FILE)
    folder = os.path.dirname(os.path.abspath(grammar_module.__file__))
    assert GRAMMAR_FILE == os.path.join(folder, "grammar.txt")
    assert read_grammar(GRAMMAR_FILE) == (WORD_CLASSES, TEMPLATES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("class a: x\n  y z\nwords: q\n", "line 3: expected 'class NAME"),
        ("  x\n", "line 1: a continuation line"),
        ("class a x\n", "line 1: expected 'class NAME"),
        ("class A: x\n", "line 1: expected 'class NAME: WORD WORD"),
        ("class a:\n", "line 1: class 'a' has no words"),
        ("class a: x\nclass a: y\n", "line 2: class 'a' is defined twice"),
        ("class a: x Y\n", "line 1: class 'a': bad word 'Y'"),
        ("class a: x y x\n", r"line 1: class 'a' lists \['x'\] twice"),
        ("template t 1: x\n", "line 1: expected 'template NAME WEIGHT KIND"),
        ("template t 0 command: x\n", "weight '0' is not a positive"),
        ("template t one command: x\n", "weight 'one' is not a positive"),
        ("template t 1 question: x\n", "kind 'question' is not one of"),
        ("template t 1 command:\n", "line 1: template 't' has no items"),
        ("template t 1 command: x+\n", "Only class references may repeat"),
        ("template t 1 command: <a>\n", "uses the class <a>, which is not"),
        (
            "template t 1 phrase: x\n\n# comment\ntemplate t 2 phrase: y\n",
            "line 4: template 't' is defined twice",
        ),
        ("class a: x\n", "no templates"),
    ],
)
def test_read_grammar_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "grammar.txt"
    path.write_text(text)
    with pytest.raises(
        ValueError, match=re.escape(str(path)) + ": .*" + message
    ):
        read_grammar(path)


def test_read_grammar_continuation_lines_and_comments(tmp_path):
    path = tmp_path / "grammar.txt"
    path.write_text(
        "# digits\nclass digit: one two  # and more\n    three\n"
        "template dial 2.5 digits: please?\n\tdial <digit>+\n"
    )
    classes, templates = read_grammar(path)
    assert classes == {"digit": ("one", "two", "three")}
    assert templates == (
        Template("dial", ("please?", "dial", "<digit>+"), 2.5, "digits"),
    )


# ---------------------------------------------------- one compiled template


def _item_expand(template, rng, digit_range):
    """The sampler as it was before templates were compiled: item by item."""
    low, high = digit_range
    words = []
    for it in template.parsed():
        if it.optional and not rng.random() < OPTIONAL_PROB:
            continue
        if not it.is_class:
            words.append(it.symbol)
            continue
        members = WORD_CLASSES[it.symbol]
        count = int(rng.integers(low, high + 1)) if it.repeat else 1
        picks = rng.integers(len(members), size=count)
        words.extend(members[int(i)] for i in picks)
    return words


@pytest.mark.parametrize("digit_range", [(3, 9), (1, 1), (4, 4), (2, 12)])
def test_expand_draws_as_the_item_by_item_sampler(digit_range):
    # A corpus is a function of its seed: the walk through the automaton
    # must draw the same numbers, in the same order, as the old sampler.
    for seed in range(3):
        ours = np.random.default_rng(seed)
        theirs = np.random.default_rng(seed)
        for _ in range(20):
            for template in TEMPLATES:
                assert template.expand(ours, digit_range) == _item_expand(
                    template, theirs, digit_range
                ), template.name
        assert ours.random() == theirs.random()


def test_sampled_corpora_are_pinned():
    # The sentences of these seeds, recorded before the grammar became a
    # data file: a change to grammar.txt or to the sampler shows here.
    pinned = {
        (0, (3, 9)): "99c09bb93170638016fbc76d2798c79f"
        "4805342d3837e94e71183b73a72b6ad5",
        (1, (3, 9)): "c3cf79dc12ab8ae373a811292e5708784"
        "f4cbecf9a2fa886f6568eca62c70724",
        (4, (2, 12)): "7b493c12ff8fae682fd6e02e20131c107"
        "966f7e412719d4558f6ee9c247c85d6",
    }
    for (seed, digit_range), digest in pinned.items():
        text = "\n".join(
            " ".join(words)
            for words in sample_sentences(seed, 400, digit_range=digit_range)
        )
        assert hashlib.sha256(text.encode()).hexdigest() == digest


def test_automaton_of_the_unbounded_grammar():
    # Walks through the automaton of G (any digit string length) are
    # sentences that the matcher accepts, and nothing else is accepted.
    rng = np.random.default_rng(0)
    lengths = set()
    for template in TEMPLATES:
        automaton = template.automaton()
        assert automaton.words() == template.words()
        for _ in range(30):
            words = automaton.walk(rng)
            assert template.matches(words), (template.name, words)
            if template.has_digit_string:
                lengths.add(_longest_digit_run(words))
        assert not automaton.accepts(words + ["zebra"])
    assert min(lengths) == 1 and max(lengths) > 9  # geometric lengths


def test_automaton_probabilities_sum_to_one():
    for template in TEMPLATES:
        for digit_range in (None, (3, 9)):
            automaton = template.automaton(digit_range)
            for state, out in enumerate(automaton.arcs):
                if state != automaton.final:
                    total = sum(arc.prob for arc in out)
                    assert total == pytest.approx(1.0), (template.name, state)
    with pytest.raises(ValueError, match="unknown class <nope>"):
        Template("t", ("<nope>",)).automaton()


# ----------------------------------------------------------------------- G


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


def _lang(folder, words, lexicon):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "words.txt").write_text(
        "".join(f"{w} {i}\n" for i, w in enumerate(["<eps>", *words]))
    )
    (folder / "lexicon.txt").write_text(
        "".join(f"{w} {' '.join(p)}\n" for w, p in lexicon)
    )
    return folder


def test_write_grammar_g_over_the_pronounced_words(tmp_path, grammar_g):
    _, all_ids = grammar_g
    words = sorted(w for w in all_ids if w != "<eps>")
    lexicon = [(w, ["p"]) for w in words if w not in ("kitchen", "zero")]
    lang = _lang(tmp_path / "lang", words, lexicon)
    path = write_grammar_g(lang)
    assert path == str(lang / "G.fst")
    assert sorted(os.listdir(lang)) == ["G.fst", "lexicon.txt", "words.txt"]
    ids = {w: i for i, w in enumerate(["<eps>", *words])}
    usable = {w: i for w, i in ids.items() if w not in ("kitchen", "zero")}
    expected = make_g_from_grammar(TEMPLATES, usable, missing="skip")
    G = read_graph(path)
    assert G.to_str() == expected.to_str()
    labels = {
        a.ilabel for s in range(G.num_states) for a in kf.ArcIterator(G, s)
    }
    assert ids["kitchen"] not in labels and ids["zero"] not in labels
    assert _accepts(G, [ids[w] for w in "turn on the garage lights".split()])[0]
    # An existing G.fst is kept, unless asked.
    (lang / "G.fst").write_bytes(b"mine")
    write_grammar_g(lang)
    assert (lang / "G.fst").read_bytes() == b"mine"
    write_grammar_g(lang, overwrite=True)
    assert read_graph(path).to_str() == expected.to_str()
    assert not [n for n in os.listdir(lang) if TMP_MARK in n]


def test_write_grammar_g_names_a_missing_file(tmp_path):
    lang = _lang(tmp_path / "lang", ["oh"], [("oh", ["oU"])])
    (lang / "lexicon.txt").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"lang/lexicon.txt: lexicon not found"
    ):
        write_grammar_g(lang)
    assert not (lang / "G.fst").exists()
