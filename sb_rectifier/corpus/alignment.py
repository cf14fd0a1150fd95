"""Frame-level phone and HMM-state alignments from eSpeak phoneme events.

eSpeak reports the start of every phoneme it synthesises, so the phone
segmentation of the synthetic audio is known exactly. This module turns
those times into Kaldi frames (10 ms shift, 25 ms window; frame ``t`` is
centred at ``10 t + 12.5`` ms and belongs to the phone containing its
centre), under the constraint of a 3-state left-to-right HMM: every phone
needs at least 3 frames. eSpeak makes some phones shorter than 30 ms, so
phone boundaries are moved by a small dynamic programme: each boundary
stays within ``max_shift`` frames (default 1, i.e. within 20 ms of the
eSpeak event, counting the frame grid) of its ideal frame, and the total
shift is minimal. When no such segmentation exists the utterance is
rejected (:class:`AlignmentError`) and the caller synthesises it again,
more slowly.

Inside a phone of ``n`` frames the 3 states get ``n // 3`` frames each,
the remainder going to the middle state first, then the first.

Authors
 * sb_rectifier developers 2026
"""

import math

import numpy as np

FRAME_SHIFT_MS = 10.0
FRAME_LENGTH_MS = 25.0
SILENCE = "SIL"


class AlignmentError(ValueError):
    """No segmentation satisfies the minimum-duration constraint."""


def phone_name(mnemonic):
    """Maps an eSpeak phoneme mnemonic to our phone name.

    Stress marks (``'`` primary, ``,`` secondary) are dropped; every pause
    (``_``, ``_:``, ``_!`` ...) is silence.

    Arguments
    ---------
    mnemonic : str
        eSpeak's phoneme mnemonic.

    Returns
    -------
    str
        The phone name.

    Example
    -------
    >>> [phone_name(p) for p in ["'aI", ",E", "_:", "n", "@2"]]
    ['aI', 'E', 'SIL', 'n', '@2']
    """
    if mnemonic.startswith("_") or not mnemonic.strip("',"):
        return SILENCE
    return mnemonic.lstrip("',")


def num_frames(num_samples, sample_rate):
    """Frames Kaldi makes from a signal (``snip-edges=true``).

    Arguments
    ---------
    num_samples : int
        Signal length.
    sample_rate : int
        Samples per second.

    Returns
    -------
    int
        ``1 + (N - window) // shift``, or 0 for a signal shorter than a window.

    Example
    -------
    >>> num_frames(8000, 8000)
    98
    """
    window = int(sample_rate * FRAME_LENGTH_MS / 1000)
    shift = int(sample_rate * FRAME_SHIFT_MS / 1000)
    if num_samples < window:
        return 0
    return 1 + (num_samples - window) // shift


def phone_segments_ms(phonemes, end_ms):
    """Phone segments in ms from phoneme start times.

    Zero-length phonemes are dropped and consecutive silences merged.

    Arguments
    ---------
    phonemes : list of tuple
        ``(mnemonic, start_ms)`` in time order.
    end_ms : float
        End of the last phoneme.

    Returns
    -------
    list of tuple
        ``(phone, start_ms, end_ms)``.

    Example
    -------
    >>> phone_segments_ms(
    ...     [("_", 0), ("n", 50), ("'aI", 90), ("_:", 200), ("_", 200)], 260
    ... )
    [('SIL', 0, 50), ('n', 50, 90), ('aI', 90, 200), ('SIL', 200, 260)]
    """
    segments = []
    for i, (mnemonic, start) in enumerate(phonemes):
        end = phonemes[i + 1][1] if i + 1 < len(phonemes) else end_ms
        if end <= start:
            continue
        name = phone_name(mnemonic)
        if segments and name == SILENCE and segments[-1][0] == SILENCE:
            segments[-1] = (SILENCE, segments[-1][1], end)
        else:
            segments.append((name, start, end))
    return segments


def ideal_start_frame(start_ms):
    """First frame whose centre is at or after ``start_ms``.

    Arguments
    ---------
    start_ms : float
        A phone's start time.

    Returns
    -------
    int
        The frame index.

    Example
    -------
    >>> ideal_start_frame(0), ideal_start_frame(12.5), ideal_start_frame(13)
    (0, 0, 1)
    """
    return max(0, math.ceil((start_ms - FRAME_LENGTH_MS / 2) / FRAME_SHIFT_MS))


def boundary_ms(frame):
    """Time of the boundary before ``frame``: halfway between frame centres.

    Arguments
    ---------
    frame : int
        A phone's first frame.

    Returns
    -------
    float
        ``10 frame + 7.5`` ms.

    Example
    -------
    >>> boundary_ms(3)
    37.5
    """
    return frame * FRAME_SHIFT_MS + FRAME_LENGTH_MS / 2 - FRAME_SHIFT_MS / 2


def segment_frames(segments, total_frames, min_frames=3, max_shift=1):
    """Start frames of the phones, each phone at least ``min_frames`` long.

    A dynamic programme over the candidate start frames of every phone
    (its ideal frame +- ``max_shift``) minimising the total shift.

    Arguments
    ---------
    segments : list of tuple
        ``(phone, start_ms, end_ms)``; the first starts at 0.
    total_frames : int
        Frames of the utterance.
    min_frames : int
        Minimum frames per phone.
    max_shift : int
        Largest shift of a boundary from its ideal frame.

    Returns
    -------
    list of int
        Start frame of every phone (the first is 0).

    Example
    -------
    >>> segs = [
    ...     ("SIL", 0, 50),
    ...     ("n", 50, 63),
    ...     ("aI", 63, 200),
    ...     ("SIL", 200, 300),
    ... ]
    >>> segment_frames(segs, 29)  # 'n' is 13 ms long: one boundary moves
    [0, 3, 6, 19]
    """
    ideal = [0] + [ideal_start_frame(s) for _, s, _ in segments[1:]]
    n = len(ideal)
    if n * min_frames > total_frames:
        raise AlignmentError(f"{n} phones cannot fit in {total_frames} frames")
    # cost[i][b]: minimal total shift with phone i starting at frame b.
    cost = [{0: 0}]
    back = [{}]
    for i in range(1, n):
        cur, arg = {}, {}
        for b in range(ideal[i] - max_shift, ideal[i] + max_shift + 1):
            if b < i * min_frames or b > total_frames - (n - i) * min_frames:
                continue
            best = None
            for prev, c in cost[i - 1].items():
                if b - prev >= min_frames and (best is None or c < best[0]):
                    best = (c, prev)
            if best is not None:
                cur[b] = best[0] + abs(b - ideal[i])
                arg[b] = best[1]
        if not cur:
            raise AlignmentError(
                f"phone {i} ({segments[i][0]}) cannot get {min_frames} frames "
                f"within {max_shift} frame(s) of its eSpeak boundary"
            )
        cost.append(cur)
        back.append(arg)
    last = min(cost[-1], key=lambda b: (cost[-1][b], b))
    starts = [last]
    for i in range(n - 1, 0, -1):
        starts.append(back[i][starts[-1]])
    return starts[::-1]


def state_durations(frames, num_states=3):
    """Frames of each HMM state of a phone of ``frames`` frames.

    Arguments
    ---------
    frames : int
        Frames of the phone (>= num_states).
    num_states : int
        Emitting states.

    Returns
    -------
    list of int
        Frames per state, in order.

    Example
    -------
    >>> (
    ...     state_durations(3),
    ...     state_durations(4),
    ...     state_durations(5),
    ...     state_durations(9),
    ... )
    ([1, 1, 1], [1, 2, 1], [2, 2, 1], [3, 3, 3])
    """
    base, rem = divmod(frames, num_states)
    durations = [base] * num_states
    order = [num_states // 2] + [
        s for s in range(num_states) if s != num_states // 2
    ]
    for s in order[:rem]:
        durations[s] += 1
    return durations


def align_phonemes(phonemes, end_ms, total_frames, num_states=3, max_shift=1):
    """Frame segmentation of a synthesised utterance.

    Arguments
    ---------
    phonemes : list of tuple
        ``(mnemonic, start_ms)``, the first at 0 (a silence).
    end_ms : float
        End of the audio.
    total_frames : int
        Frames of the utterance.
    num_states : int
        HMM states per phone (minimum frames per phone).
    max_shift : int
        Largest shift of a boundary, in frames.

    Returns
    -------
    list of tuple
        ``(phone, start_frame, num_frames, event_ms)`` per phone, covering
        every frame; ``event_ms`` is eSpeak's start time of the phone.

    Example
    -------
    >>> align_phonemes([("_", 0), ("n", 50), ("'aI", 63), ("_", 200)], 300, 29)
    [('SIL', 0, 3, 0), ('n', 3, 3, 50), ('aI', 6, 13, 63), ('SIL', 19, 10, 200)]
    """
    segments = phone_segments_ms(phonemes, end_ms)
    starts = segment_frames(segments, total_frames, num_states, max_shift)
    ends = starts[1:] + [total_frames]
    return [
        (phone, b, e - b, start)
        for (phone, start, _), b, e in zip(segments, starts, ends, strict=True)
    ]


def durations_array(segments):
    """Per-frame phone index array (for tests and plots).

    Arguments
    ---------
    segments : list of tuple
        Output of :func:`align_phonemes`.

    Returns
    -------
    numpy.ndarray
        Phone position (0, 1, ...) of every frame.

    Example
    -------
    >>> durations_array([("SIL", 0, 2, 0), ("n", 2, 3, 20)]).tolist()
    [0, 0, 1, 1, 1]
    """
    return np.repeat(np.arange(len(segments)), [n for _, _, n, _ in segments])
