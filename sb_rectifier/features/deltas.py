"""Delta features as Kaldi's ``add-deltas`` computes them.

Kaldi's ``DeltaFeatures`` builds, for each order ``i``, a filter by
convolving the order ``i - 1`` filter with ``[-w, ..., w] / sum(j^2)``
and applies it to the frames around each frame, with frame indices
clamped to ``[0, T - 1]`` at the edges (the first and last frames are
repeated). ``torchaudio.functional.compute_deltas`` pads by replication
too but applies each order to the previous order's output, which differs
near the edges; :func:`add_deltas` follows Kaldi (float32 arithmetic,
the same summation order), vectorised over frames.

Authors
 * sb_rectifier developers 2026
"""

import numpy as np


def delta_scales(order=2, window=2):
    """Kaldi's delta filters (``DeltaFeatures::scales_``), float32.

    Arguments
    ---------
    order : int
        Highest order (2: deltas and delta-deltas).
    window : int
        Half-width of each order's regression window.

    Returns
    -------
    list of numpy.ndarray
        ``order + 1`` filters; filter ``i`` has ``2 * i * window + 1`` taps.

    Example
    -------
    >>> [s.tolist() for s in delta_scales(1, 1)]
    [[1.0], [-0.5, 0.0, 0.5]]
    """
    if order < 0 or window < 1:
        raise ValueError(
            f"add_deltas: order must be >= 0 and window >= 1, got order={order}"
            f", window={window}"
        )
    scales = [np.ones(1, dtype=np.float32)]
    for _ in range(order):
        prev = scales[-1]
        prev_offset = (len(prev) - 1) // 2
        cur_offset = prev_offset + window
        cur = np.zeros(len(prev) + 2 * window, dtype=np.float32)
        normalizer = np.float32(0.0)
        for j in range(-window, window + 1):
            normalizer += np.float32(j * j)
            for k in range(-prev_offset, prev_offset + 1):
                cur[j + k + cur_offset] += np.float32(j) * prev[k + prev_offset]
        cur *= np.float32(1.0 / float(normalizer))
        scales.append(cur)
    return scales


def add_deltas(feats, order=2, window=2):
    """Appends delta (and higher order) features, as Kaldi's ``add-deltas``.

    Arguments
    ---------
    feats : array-like
        Features ``[T, D]``.
    order : int
        Highest order (Kaldi's ``--delta-order``, default 2).
    window : int
        Kaldi's ``--delta-window`` (default 2).

    Returns
    -------
    numpy.ndarray
        float32 ``[T, D * (order + 1)]``: the features, their deltas, ...

    Example
    -------
    >>> feats = np.array([[0.0], [1.0], [4.0]], np.float32)
    >>> add_deltas(feats, order=1, window=1).tolist()
    [[0.0, 0.5], [1.0, 2.0], [4.0, 1.5]]
    """
    feats = np.asarray(feats, dtype=np.float32)
    if feats.ndim != 2:
        raise ValueError(
            f"add_deltas: expected features [frames, dim], got shape "
            f"{feats.shape}"
        )
    frames, dim = feats.shape
    scales = delta_scales(order, window)
    out = np.zeros((frames, dim * (order + 1)), dtype=np.float32)
    if frames == 0:
        return out
    index = np.arange(frames)
    for i, filt in enumerate(scales):
        part = out[:, i * dim : (i + 1) * dim]
        max_offset = (len(filt) - 1) // 2
        for j in range(-max_offset, max_offset + 1):
            scale = filt[j + max_offset]
            if scale != 0.0:
                rows = np.clip(index + j, 0, frames - 1)
                part += scale * feats[rows]
    return out
