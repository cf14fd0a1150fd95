"""Is one system's WER really lower than another's? A paired bootstrap.

Two systems decoded the same utterances; the question is whether their WER
difference would survive another test set drawn the same way. The paired
bootstrap (Bisani and Ney, 2004, "Bootstrap estimates for confidence
intervals in ASR performance evaluation") resamples utterances with
replacement, the same draw for both systems, and recomputes the WER
difference on each resample. It makes no assumption about the
distribution of errors per utterance, and pairs the systems as NIST's
matched-pairs test does (both systems are scored on the same draw).

Authors
 * sb_rectifier developers 2026
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["PairedBootstrap", "paired_bootstrap", "per_utterance_errors"]


@dataclass
class PairedBootstrap:
    """The result of :func:`paired_bootstrap` (WERs in %).

    Arguments
    ---------
    wer_a, wer_b : float
        The two systems' WER on the whole test set.
    delta : float
        ``wer_a - wer_b``.
    ci_low, ci_high : float
        The 95 % confidence interval of ``delta`` (bootstrap percentiles).
    p_value : float
        Two-sided: how often the resampled difference lies on the other
        side of zero from the observed one, doubled (at most 1).
    prob_b_better : float
        Fraction of resamples where ``b`` has the lower WER (Bisani and
        Ney's "probability of improvement").
    num_samples : int
        Number of resamples.

    Example
    -------
    >>> r = PairedBootstrap(10.0, 8.0, 2.0, 0.5, 3.5, 0.01, 0.995, 1000)
    >>> r.significant()
    True
    """

    wer_a: float
    wer_b: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    prob_b_better: float
    num_samples: int

    def significant(self, level=0.05):
        """Whether the difference is significant at ``level``.

        Arguments
        ---------
        level : float
            Significance level.

        Returns
        -------
        bool
            ``p_value < level``.
        """
        return self.p_value < level


def per_utterance_errors(result_a, result_b):
    """Errors of two scorings of the same utterances, and reference words.

    Arguments
    ---------
    result_a, result_b : sb_rectifier.scoring.WerResult
        Scorings of two systems against the same references.

    Returns
    -------
    errors_a, errors_b, words : numpy.ndarray
        Per utterance, in the order of ``result_a``.

    Raises
    ------
    ValueError
        If the two were not scored on the same utterances and references.

    Example
    -------
    >>> from sb_rectifier.scoring import score
    >>> refs = {"u1": ["a", "b"], "u2": ["c"]}
    >>> a = score(refs, {"u1": ["a", "x"], "u2": ["c"]})
    >>> b = score(refs, {"u1": ["a", "b"], "u2": []})
    >>> [x.tolist() for x in per_utterance_errors(a, b)]
    [[1, 0], [0, 1], [2, 1]]
    """
    b_by_utt = {u.utt: u for u in result_b.utterances}
    errors_a, errors_b, words = [], [], []
    for utt in result_a.utterances:
        other = b_by_utt.get(utt.utt)
        if other is None or other.ref != utt.ref:
            raise ValueError(
                f"utterance {utt.utt!r}: not scored against the same "
                "reference by both systems"
            )
        errors_a.append(utt.errors)
        errors_b.append(other.errors)
        words.append(len(utt.ref))
    if len(b_by_utt) != len(errors_a):
        raise ValueError(
            f"the systems were scored on {len(errors_a)} and "
            f"{len(b_by_utt)} utterances"
        )
    return np.array(errors_a), np.array(errors_b), np.array(words)


def paired_bootstrap(errors_a, errors_b, words, num_samples=10000, seed=0):
    """Paired bootstrap of the WER difference of two systems.

    Arguments
    ---------
    errors_a, errors_b : array-like of int
        Word errors of each utterance, for system a and b.
    words : array-like of int
        Reference words of each utterance.
    num_samples : int
        Number of resamples.
    seed : int
        Seed of the resampling (the result is reproducible).

    Returns
    -------
    PairedBootstrap
        WERs, difference, 95 % interval, p-value.

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> words = np.full(200, 10)
    >>> a = rng.binomial(10, 0.2, 200)
    >>> b = rng.binomial(10, 0.1, 200)
    >>> paired_bootstrap(a, b, words).significant()
    True
    >>> paired_bootstrap(a, a, words).p_value
    1.0
    """
    errors_a = np.asarray(errors_a, dtype=np.int64)
    errors_b = np.asarray(errors_b, dtype=np.int64)
    words = np.asarray(words, dtype=np.int64)
    if not errors_a.shape == errors_b.shape == words.shape:
        raise ValueError(
            "paired_bootstrap: errors_a, errors_b and words must have one "
            f"value per utterance, got {errors_a.shape}, {errors_b.shape}, "
            f"{words.shape}"
        )
    if words.size == 0 or words.sum() == 0:
        raise ValueError("paired_bootstrap: no reference words")
    wer_a = 100.0 * errors_a.sum() / words.sum()
    wer_b = 100.0 * errors_b.sum() / words.sum()
    rng = np.random.default_rng(seed)
    n = words.size
    deltas = np.empty(num_samples)
    for start in range(0, num_samples, 1000):
        size = min(1000, num_samples - start)
        draw = rng.integers(0, n, size=(size, n))
        total = np.maximum(words[draw].sum(axis=1), 1)
        diff = (errors_a[draw] - errors_b[draw]).sum(axis=1)
        deltas[start : start + size] = 100.0 * diff / total
    delta = wer_a - wer_b
    if delta > 0:
        other_side = np.mean(deltas <= 0)
    elif delta < 0:
        other_side = np.mean(deltas >= 0)
    else:
        other_side = 0.5
    low, high = np.percentile(deltas, [2.5, 97.5])
    return PairedBootstrap(
        wer_a=float(wer_a),
        wer_b=float(wer_b),
        delta=float(delta),
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(min(1.0, 2.0 * other_side)),
        prob_b_better=float(np.mean(deltas > 0)),
        num_samples=int(num_samples),
    )
