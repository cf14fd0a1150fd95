"""A small trigram estimator for benchmarks: counts -> ARPA file.

Absolute discounting (one discount per order, Ney's estimate
``D = n1 / (n1 + 2 n2)`` from the counts of counts), interpolated with the
next lower order and written in back-off form as SRILM's ``-interpolate``
does: a seen n-gram gets its interpolated probability, and each history's
back-off weight is computed so that the probabilities of every history
sum to 1 over the vocabulary. The unigram level is interpolated with the
uniform distribution over the vocabulary (plus ``</s>``), so every word
of the vocabulary gets a probability, seen in the text or not.

No n-gram estimator that writes ARPA is installed with the project (KenLM's
``lmplz`` and SRILM are binaries, ``nltk.lm`` writes no ARPA), hence this.

Authors
 * sb_rectifier developers 2026
"""

import math
from collections import Counter, defaultdict

BOS, EOS = "<s>", "</s>"

__all__ = ["NgramCounts", "write_arpa"]


class NgramCounts:
    """1-, 2- and 3-gram counts of sentences (``<s>`` and ``</s>`` added).

    Example
    -------
    >>> counts = NgramCounts()
    >>> counts.add(["a", "b"])
    >>> counts.num_ngrams()
    9
    """

    def __init__(self):
        self.orders = [Counter(), Counter(), Counter()]

    def add(self, words):
        """Counts the n-grams of one sentence."""
        seq = (BOS, *words, EOS)
        uni, bi, tri = self.orders
        uni.update(seq)
        bi.update(zip(seq, seq[1:], strict=False))
        tri.update(zip(seq, seq[1:], seq[2:], strict=False))

    def num_ngrams(self):
        """Distinct n-grams of all orders (``<s>`` counted as a 1-gram)."""
        return sum(len(c) for c in self.orders)


def _discount(counts):
    """Ney's absolute discount from the counts of counts."""
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    if n1 == 0:
        return 0.5
    return n1 / (n1 + 2 * n2)


def _log10(p):
    return math.log10(p) if p > 0 else -99.0


def estimate(counts, vocab):
    """Interpolated absolute-discounting probabilities and back-off weights.

    Arguments
    ---------
    counts : NgramCounts
        The counts.
    vocab : iterable of str
        The vocabulary (words of the counts not in it are an error).

    Returns
    -------
    list of dict
        Per order, n-gram tuple -> ``(log10 prob, log10 backoff or None)``.

    Example
    -------
    >>> counts = NgramCounts()
    >>> for s in (["a", "b"], ["a", "c"], ["b"]):
    ...     counts.add(s)
    >>> probs = estimate(counts, ["a", "b", "c", "d"])
    >>> total = sum(10**p for (w,), (p, _) in probs[0].items() if w != BOS)
    >>> round(total, 6)
    1.0
    """
    uni, bi, tri = counts.orders
    vocab = sorted(set(vocab) | {EOS})
    unknown = set(uni) - set(vocab) - {BOS}
    if unknown:
        raise ValueError(f"words not in the vocabulary: {sorted(unknown)[:5]}")
    # Order 1: tokens that can be predicted (everything but <s>).
    d1 = _discount({w: c for w, c in uni.items() if w != BOS})
    total = sum(c for w, c in uni.items() if w != BOS)
    seen = sum(1 for w in uni if w != BOS)
    floor = d1 * seen / total / len(vocab)
    p1 = {w: max(uni.get(w, 0) - d1, 0) / total + floor for w in vocab}
    # Order 2 and 3: interpolated with the order below.
    d2, d3 = _discount(bi), _discount(tri)
    p2, bow1 = _interpolate(bi, d2, lambda hist, w: p1[w])
    p3, bow2 = _interpolate(tri, d3, lambda hist, w: p2.get((hist[1], w)))
    out1 = {(w,): (_log10(p), bow1.get((w,))) for w, p in p1.items()}
    out1[(BOS,)] = (-99.0, bow1.get((BOS,)))
    out2 = {g: (_log10(p), bow2.get(g)) for g, p in p2.items()}
    out3 = {g: (_log10(p), None) for g, p in p3.items()}
    return [out1, out2, out3]


def _interpolate(counts, discount, lower):
    """Seen n-gram probabilities and log10 back-off weights per history."""
    by_hist = defaultdict(list)
    for gram, c in counts.items():
        by_hist[gram[:-1]].append((gram[-1], c))
    probs, bows = {}, {}
    for hist, followers in by_hist.items():
        total = sum(c for _, c in followers)
        gamma = discount * len(followers) / total
        for w, c in followers:
            q = lower(hist, w)
            if q is None:  # the lower-order n-gram exists by construction
                raise AssertionError(f"no lower-order n-gram for {hist + (w,)}")
            probs[hist + (w,)] = (c - discount) / total + gamma * q
        # The unseen words get gamma * (1 - sum of q over the seen ones),
        # which is gamma times the lower order's mass of the unseen words:
        # the back-off weight is gamma.
        bows[hist] = math.log10(gamma) if gamma > 0 else -99.0
    return probs, bows


def write_arpa(counts, vocab, path):
    """Estimates the model and writes it as an ARPA file.

    Returns the number of n-grams of each order.

    Example
    -------
    >>> counts = NgramCounts()
    >>> counts.add(["a", "b"])
    >>> write_arpa(counts, ["a", "b"], getfixture("tmp_path") / "lm.arpa")
    [4, 3, 2]
    """
    orders = estimate(counts, vocab)
    with open(path, "w", encoding="utf-8") as out:
        out.write("\\data\\\n")
        for n, grams in enumerate(orders, 1):
            out.write(f"ngram {n}={len(grams)}\n")
        for n, grams in enumerate(orders, 1):
            out.write(f"\n\\{n}-grams:\n")
            for gram in sorted(grams):
                prob, bow = grams[gram]
                words = " ".join(gram)
                if bow is None or n == len(orders):
                    out.write(f"{prob:.6f}\t{words}\n")
                else:
                    out.write(f"{prob:.6f}\t{words}\t{bow:.6f}\n")
        out.write("\n\\end\\\n")
    return [len(g) for g in orders]
