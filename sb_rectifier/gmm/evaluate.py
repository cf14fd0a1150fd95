"""How close one set of alignments is to another: phone boundary accuracy.

The measure forced aligners are judged by (e.g. the Montreal Forced
Aligner's papers): the share of reference phone boundaries that the
hypothesis puts within 10, 20 or 40 ms of the truth. Each utterance's
phone segments are read from its transition-ids (a new phone starts where
the phone changes or its HMM state goes back to an earlier one); silence
segments are left out and word-position suffixes (``_B``, ``_E``, ``_I``,
``_S``, from ``prepare_lang``'s position-dependent phones) are removed, so
alignments made with different phone sets compare. The two non-silence
phone sequences are aligned by edit distance (:mod:`kaldialign`); each
reference phone has two boundaries, its start and its end, and a
boundary counts as within ``t`` ms when the matched hypothesis phone's
boundary is; a reference phone without a match (another pronunciation
chosen, an utterance the hypothesis lacks) counts as two misses, so the
figures are never flattered by what could not be compared.

Authors
 * sb_rectifier developers 2026
"""

import re

import kaldialign
import numpy as np

__all__ = ["base_phone", "boundary_accuracy", "phone_segments"]

_POSITION = re.compile(r"_[BEIS]$")
_EPS = "<eps>"


def base_phone(name):
    """A phone's name without its word-position suffix.

    Arguments
    ---------
    name : str
        A phone name from ``phones.txt``.

    Returns
    -------
    str
        The name with a trailing ``_B``, ``_E``, ``_I`` or ``_S`` removed.

    Example
    -------
    >>> base_phone("AH_B"), base_phone("SIL"), base_phone("a_S")
    ('AH', 'SIL', 'a')
    """
    return _POSITION.sub("", name)


def phone_segments(tids, model):
    """The phone segments of one transition-id alignment.

    Arguments
    ---------
    tids : array-like of int
        Transition-ids, one per frame.
    model : sb_rectifier.kaldi.transition_model.TransitionModel
        The transition model the ids belong to.

    Returns
    -------
    list of tuple
        ``(phone_id, start_frame, end_frame)``, end exclusive, in order.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> from sb_rectifier.kaldi.transition_model import TransitionModel
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> ali = tm.alignment_from_durations([(1, [1, 1, 1]), (1, [2, 1, 1])])
    >>> phone_segments(ali, tm)
    [(1, 0, 3), (1, 3, 7)]
    """
    tids = np.asarray(tids, dtype=np.int64)
    if tids.size == 0:
        return []
    phones = model.tid2phone[tids]
    states = model.tid2hmm_state[tids]
    starts = np.flatnonzero(
        np.concatenate(
            [[True], (phones[1:] != phones[:-1]) | (states[1:] < states[:-1])]
        )
    )
    ends = np.append(starts[1:], len(tids))
    return [
        (int(phones[s]), int(s), int(e))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def _speech_segments(tids, model, names, silence):
    out = []
    for phone, start, end in phone_segments(tids, model):
        name = base_phone(names[phone])
        if name not in silence:
            out.append((name, start, end))
    return out


def boundary_accuracy(
    ref,
    ref_model,
    ref_phones,
    hyp,
    hyp_model,
    hyp_phones,
    silence=("SIL", "SPN", "NSN", "sil", "spn"),
    tolerances_ms=(10, 20, 40),
    frame_shift_ms=10.0,
    min_offset_count=50,
):
    """Share of reference phone boundaries the hypothesis matches.

    Arguments
    ---------
    ref, hyp : dict
        Utterance id -> transition-ids (the truth, the alignments tested).
    ref_model, hyp_model : TransitionModel
        Their transition models.
    ref_phones, hyp_phones : dict
        Phone id -> name (``phones.txt`` inverted) of each.
    silence : iterable of str
        Base phone names that are left out.
    tolerances_ms : iterable of float
        The tolerances reported.
    frame_shift_ms : float
        Milliseconds per frame.
    min_offset_count : int
        Least number of boundaries of a (phone, side) group for its
        median offset to be listed in ``phone_offsets``.

    Returns
    -------
    dict
        ``within`` (tolerance -> percentage of reference boundaries),
        ``boundaries``, ``utterances`` (compared), ``missing`` (reference
        utterances the hypothesis lacks), ``sequence_mismatches``
        (utterances whose phone sequences differ), ``unmatched_phones``,
        ``mean_abs_ms`` (over matched boundaries) and ``frame_mismatch``
        (utterances whose lengths differ, which are not compared).
        ``phone_offsets``: the (phone, ``start``/``end``) groups whose
        median signed deviation (hypothesis minus reference, ms) is not 0,
        largest first; ``within_without_phone_offsets``: the shares within
        each tolerance once every group's median is subtracted, i.e. what
        is left when the systematic part of the disagreement (a different
        convention for where a phone starts, e.g. a stop's closure) is
        taken out.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> from sb_rectifier.kaldi.transition_model import TransitionModel
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> names = {1: "SIL", 2: "a"}
    >>> ref = {
    ...     "u": tm.alignment_from_durations([(1, [1, 1, 1]), (2, [2, 2, 2])])
    ... }
    >>> hyp = {
    ...     "u": tm.alignment_from_durations([(1, [3, 1, 1]), (2, [1, 1, 2])])
    ... }
    >>> r = boundary_accuracy(ref, tm, names, hyp, tm, names)
    >>> r["within"][10], r["within"][20], r["boundaries"]
    (50.0, 100.0, 2)
    >>> r = boundary_accuracy(
    ...     ref, tm, names, hyp, tm, names, min_offset_count=1
    ... )
    >>> r["phone_offsets"], r["within_without_phone_offsets"][10]
    ([{'phone': 'a', 'side': 'start', 'median_ms': 20.0, 'count': 1}], 100.0)
    """
    silence = set(silence)
    tolerances = [float(t) for t in tolerances_ms]
    hits = dict.fromkeys(tolerances, 0)
    total = utterances = mismatches = unmatched = 0
    missing, frame_mismatch, deviations = [], [], []
    signed = {}  # (phone, "start" | "end") -> signed deviations (frames)
    for utt, ref_tids in ref.items():
        ref_segs = _speech_segments(ref_tids, ref_model, ref_phones, silence)
        if utt not in hyp:
            missing.append(utt)
            total += 2 * len(ref_segs)
            unmatched += len(ref_segs)
            continue
        if len(hyp[utt]) != len(ref_tids):
            frame_mismatch.append(utt)
            total += 2 * len(ref_segs)
            unmatched += len(ref_segs)
            continue
        hyp_segs = _speech_segments(hyp[utt], hyp_model, hyp_phones, silence)
        utterances += 1
        total += 2 * len(ref_segs)
        ref_names = [s[0] for s in ref_segs]
        hyp_names = [s[0] for s in hyp_segs]
        if ref_names != hyp_names:
            mismatches += 1
        pairs = _align_indices(ref_names, hyp_names)
        for i, j in pairs:
            if i is None:
                continue
            if j is None or ref_names[i] != hyp_names[j]:
                unmatched += 1
                continue
            for side, r, h in (
                ("start", ref_segs[i][1], hyp_segs[j][1]),
                ("end", ref_segs[i][2], hyp_segs[j][2]),
            ):
                signed.setdefault((ref_names[i], side), []).append(h - r)
                dev = abs(r - h) * frame_shift_ms
                deviations.append(dev)
                for t in tolerances:
                    if dev <= t:
                        hits[t] += 1
    within = {
        (int(t) if t.is_integer() else t): (
            100.0 * hits[t] / total if total else float("nan")
        )
        for t in tolerances
    }
    offsets, within_offset = _phone_offsets(
        signed, tolerances, total, frame_shift_ms, min_offset_count
    )
    return {
        "within": within,
        "within_without_phone_offsets": within_offset,
        "phone_offsets": offsets,
        "boundaries": total,
        "utterances": utterances,
        "missing": sorted(missing),
        "frame_mismatch": sorted(frame_mismatch),
        "sequence_mismatches": mismatches,
        "unmatched_phones": unmatched,
        "mean_abs_ms": float(np.mean(deviations)) if deviations else None,
    }


def _phone_offsets(signed, tolerances, total, frame_shift_ms, min_count):
    """Median signed deviation per (phone, side), and the shares within
    each tolerance once every group's median is subtracted."""
    offsets = []
    hits = dict.fromkeys(tolerances, 0)
    for (phone, side), devs in signed.items():
        devs = np.asarray(devs)
        median = float(np.round(np.median(devs)))
        rest = np.abs(devs - median) * frame_shift_ms
        for t in tolerances:
            hits[t] += int(np.sum(rest <= t))
        if len(devs) >= min_count and median != 0:
            offsets.append(
                {
                    "phone": phone,
                    "side": side,
                    "median_ms": median * frame_shift_ms,
                    "count": len(devs),
                }
            )
    offsets.sort(key=lambda o: (-abs(o["median_ms"]), -o["count"]))
    within = {
        (int(t) if t.is_integer() else t): (
            100.0 * hits[t] / total if total else float("nan")
        )
        for t in tolerances
    }
    return offsets, within


def _align_indices(ref, hyp):
    """Edit-distance pairs of indices (None for an insertion/deletion)."""
    pairs, i, j = [], 0, 0
    for r, h in kaldialign.align(ref, hyp, _EPS):
        pi = pj = None
        if r != _EPS:
            pi, i = i, i + 1
        if h != _EPS:
            pj, j = j, j + 1
        pairs.append((pi, pj))
    return pairs
