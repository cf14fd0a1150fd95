"""Unit tests for the synthetic corpus grammar (sb_rectifier.corpus.grammar).

Authors
 * sb_rectifier developers 2026
"""

import re
from collections import Counter

import numpy as np
import pytest

from sb_rectifier.corpus.grammar import (
    DIGIT_RANGE,
    KINDS,
    TEMPLATES,
    WORD_CLASSES,
    Template,
    get_template,
    kind_probabilities,
    parse_item,
    sample_sentence,
    sample_sentences,
    sample_template,
    template_of,
    vocabulary,
)

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
