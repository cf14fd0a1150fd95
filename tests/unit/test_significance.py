"""The paired bootstrap of WER differences (sb_rectifier.scoring.significance)."""

import numpy as np
import pytest

from sb_rectifier.scoring import score
from sb_rectifier.scoring.significance import (
    paired_bootstrap,
    per_utterance_errors,
)


def test_equal_systems_are_rarely_called_different():
    """Under the null (same error rate, independent errors), p < 0.05 in
    about 5 % of test sets; allow sampling noise, not a broken test."""
    rng = np.random.default_rng(0)
    words = rng.integers(3, 15, 300)
    hits = 0
    for seed in range(60):
        a = rng.binomial(words, 0.15)
        b = rng.binomial(words, 0.15)
        hits += paired_bootstrap(a, b, words, 2000, seed).significant()
    assert hits <= 9  # expected 3 of 60


def test_a_real_difference_is_found_and_its_interval_holds_it():
    rng = np.random.default_rng(1)
    words = rng.integers(3, 15, 300)
    a = rng.binomial(words, 0.20)
    b = rng.binomial(words, 0.10)
    r = paired_bootstrap(a, b, words)
    assert r.p_value < 0.001 and r.prob_b_better > 0.999
    assert r.ci_low < r.delta < r.ci_high
    assert r.ci_low > 0
    assert r.delta == pytest.approx(r.wer_a - r.wer_b)
    assert r.wer_a == pytest.approx(100 * a.sum() / words.sum())


def test_pairing_finds_a_small_consistent_improvement():
    """b fixes one error in 10 % of the utterances and changes nothing
    else: a 0.7-point gain that the pairing makes certain."""
    rng = np.random.default_rng(2)
    words = np.full(400, 10)
    a = rng.binomial(words, 0.3)
    b = a.copy()
    fixed = rng.choice(np.flatnonzero(a > 0), 40, replace=False)
    b[fixed] -= 1
    r = paired_bootstrap(a, b, words)
    assert r.delta == pytest.approx(1.0)
    assert r.p_value < 0.001


def test_same_seed_same_result_and_identical_systems():
    rng = np.random.default_rng(3)
    words = rng.integers(1, 9, 50)
    a = rng.binomial(words, 0.3)
    b = rng.binomial(words, 0.3)
    assert paired_bootstrap(a, b, words, seed=5) == paired_bootstrap(
        a, b, words, seed=5
    )
    same = paired_bootstrap(a, a, words)
    assert same.delta == 0 and same.p_value == 1.0


def test_per_utterance_errors_need_the_same_utterances():
    refs = {"u1": ["a", "b"], "u2": ["c"]}
    a = score(refs, {"u1": ["a"], "u2": ["c"]})
    b = score(refs, {"u1": ["a", "b"], "u2": ["d", "e"]})
    errors_a, errors_b, words = per_utterance_errors(a, b)
    assert errors_a.tolist() == [1, 0] and errors_b.tolist() == [0, 2]
    assert words.tolist() == [2, 1]
    other = score({"u1": ["a", "b"]}, {"u1": ["a"]})
    with pytest.raises(ValueError, match="scored on 1 and 2 utterances"):
        per_utterance_errors(other, a)
    with pytest.raises(ValueError, match="'u2': not scored against"):
        per_utterance_errors(
            a, score({"u1": ["a", "b"], "u2": ["x"]}, {}, mode="all")
        )
    with pytest.raises(ValueError, match="one value per utterance"):
        paired_bootstrap([1, 2], [1], [3, 3])


def test_two_utterances_by_hand():
    """a errs once in u1, b never; each utterance has one word. The four
    equally likely resamples (u1 u1, u1 u2, u2 u1, u2 u2) give WER
    differences of 100, 50, 50 and 0 points: the difference is <= 0 in a
    quarter of them, so p = 2 x 1/4 = 0.5, P(b better) = 3/4, and the 95 %
    interval is [0, 100]."""
    r = paired_bootstrap([1, 0], [0, 0], [1, 1], num_samples=20000)
    assert r.wer_a == 50.0 and r.wer_b == 0.0 and r.delta == 50.0
    assert r.p_value == pytest.approx(0.5, abs=0.03)
    assert r.prob_b_better == pytest.approx(0.75, abs=0.015)
    assert (r.ci_low, r.ci_high) == (0.0, 100.0)


def test_unequal_lengths_by_hand():
    """Words per utterance weight the resampled WER: a = [2, 0], b = [0, 1]
    errors over [2, 2] words. Resamples u1 u1: (4 - 0) / 4 = +100; u2 u2:
    (0 - 2) / 4 = -50; mixed: (2 - 1) / 4 = +25 (half the draws). Observed
    +25; the difference is <= 0 only for u2 u2 (1/4): p = 0.5."""
    r = paired_bootstrap([2, 0], [0, 1], [2, 2], num_samples=20000)
    assert r.delta == 25.0
    assert r.p_value == pytest.approx(0.5, abs=0.03)
    assert (r.ci_low, r.ci_high) == (-50.0, 100.0)
