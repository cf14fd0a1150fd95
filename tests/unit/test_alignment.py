"""Frame alignment of eSpeak phoneme events: constraints and optimality."""

import itertools

import numpy as np
import pytest

from sb_rectifier.corpus.alignment import (
    AlignmentError,
    align_phonemes,
    boundary_ms,
    ideal_start_frame,
    phone_segments_ms,
    segment_frames,
    state_durations,
)


def _random_segments(rng, n):
    durations = rng.uniform(12, 150, size=n)  # some shorter than 3 frames
    starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    return [
        (f"p{i}", float(s), float(s + d))
        for i, (s, d) in enumerate(zip(starts, durations, strict=True))
    ], float(starts[-1] + durations[-1])


def test_constraints_hold_on_random_utterances():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(300):
        segments, end = _random_segments(rng, int(rng.integers(2, 30)))
        total = int(end // 10) - 1
        try:
            starts = segment_frames(segments, total)
        except AlignmentError:
            continue
        checked += 1
        lengths = np.diff(starts + [total])
        assert starts[0] == 0 and (lengths >= 3).all()
        for (_, start_ms, _), b in zip(segments[1:], starts[1:], strict=True):
            assert abs(b - ideal_start_frame(start_ms)) <= 1
            assert abs(boundary_ms(b) - start_ms) <= 20.0
    assert checked > 100


def test_dynamic_programme_minimises_total_shift():
    rng = np.random.default_rng(1)
    for _ in range(60):
        segments, end = _random_segments(rng, int(rng.integers(2, 7)))
        total = int(end // 10) - 1
        ideal = [0] + [ideal_start_frame(s) for _, s, _ in segments[1:]]
        best = None
        for shifts in itertools.product((-1, 0, 1), repeat=len(ideal) - 1):
            starts = [0] + [
                i + s for i, s in zip(ideal[1:], shifts, strict=True)
            ]
            if all(
                b - a >= 3
                for a, b in zip(starts, starts[1:] + [total], strict=True)
            ):
                cost = sum(abs(s) for s in shifts)
                best = cost if best is None else min(best, cost)
        if best is None:
            with pytest.raises(AlignmentError):
                segment_frames(segments, total)
        else:
            starts = segment_frames(segments, total)
            assert (
                sum(abs(b - i) for b, i in zip(starts, ideal, strict=True))
                == best
            )


def test_too_fast_speech_is_rejected():
    segments = [
        ("SIL", 0, 30),
        ("a", 30, 40),
        ("b", 40, 50),
        ("c", 50, 60),
        ("SIL", 60, 120),
    ]
    # Enough frames in all, but a, b, c (10 ms each) cannot get 3 frames
    # each without moving a boundary by more than one frame.
    with pytest.raises(AlignmentError, match="cannot get 3 frames"):
        segment_frames(segments, 20)
    with pytest.raises(AlignmentError, match="cannot fit"):
        segment_frames(segments, 11)


def test_pauses_merge_and_stress_marks_drop():
    segs = phone_segments_ms(
        [("_", 0), ("_:", 40), ("'E", 80), (",n", 80), ("d", 130)], 200
    )
    assert segs == [("SIL", 0, 80), ("n", 80, 130), ("d", 130, 200)]


def test_state_durations_sum_and_order():
    for n in range(3, 40):
        d = state_durations(n)
        assert sum(d) == n and min(d) >= 1 and max(d) - min(d) <= 1


def test_align_covers_every_frame():
    phonemes = [
        ("_", 0),
        ("k", 52),
        ("'O:", 102),
        ("l", 302),
        ("T", 315),
        ("_", 403),
    ]
    out = align_phonemes(phonemes, 520, 49)
    assert [p for p, *_ in out] == ["SIL", "k", "O:", "l", "T", "SIL"]
    assert (
        sum(n for _, _, n, _ in out) == 49 and min(n for _, _, n, _ in out) >= 3
    )
    assert [b for _, b, _, _ in out] == list(
        np.cumsum([0] + [n for _, _, n, _ in out[:-1]])
    )
