r"""Streaming activity statistics of one hidden layer, from exact counts.

:class:`LayerStatistics` sums over frames, so its memory grows with the
number of units ``n``, not with the frames. Every leading dimension of the
activations ``h [..., n]`` is a frame. Per batch it adds, on ``h``'s device
and without copying anything to the host:

* ``frames``: ``F`` (int64);
* ``active[d, j]``: frames on which unit ``j`` is active under rule ``d``
  (int64, exact);
* ``units_active[d, k]``: frames on which exactly ``k = 0..n`` units are
  active under rule ``d`` (int64, exact);
* on every ``value_stride``-th frame (``F_v`` of them, ``value_frames``):
  ``zero_frames[j]`` (frames with ``h == 0``, int64), ``sum[j]`` and
  ``sum_of_squares[j]`` (float64, from float32 sums over at most
  :data:`BLOCK_ELEMENTS` values);
* on every ``hist_stride``-th frame: a value histogram (int64) of
  ``hist_bins`` bins ``e_k <= h < e_{k+1}`` over ``hist_range = (lo, hi)``,
  plus ``underflow`` (``h < lo``) and ``overflow`` (``h >= hi`` or NaN).

All of these are sums, so :meth:`LayerStatistics.all_reduce` and
:meth:`LayerStatistics.merge` are exact for the counts. :meth:`result`
derives, with ``p_j = active_j / F`` and ``s_f = k_f / n``:

* activation probability ``p_j`` (the paper's Fig. 2), its mean; dead units
  (``p_j = 0``) and always-active units (``p_j = 1``);
* population sparsity: mean and std of ``s_f`` over frames, and its
  histogram (``pop_bins`` bins over [0, 1], the last one closed);
* dispersion: normalised entropy ``H(q) / ln n`` with ``q = p / sum(p)``
  and the Gini coefficient of ``p`` (:func:`normalized_entropy`,
  :func:`gini_coefficient`);
* per-unit mean ``sum / F_v``, variance ``sum_of_squares / F_v - mean^2``
  (population variance; it loses digits when ``|mean| >> std``) and
  exact-zero fraction ``zero_frames / F_v``.

On CPUs a batch is processed in blocks of at most :data:`BLOCK_ELEMENTS`
values, each comparison written into one float buffer and summed there:
sums of bools are not vectorised on CPUs, and a temporary as large as a
batch (tens of MB) is mapped fresh from the kernel at every allocation,
its page faults costing more than the arithmetic (docs/sparsity.md
measures both).

Authors
 * sb_rectifier developers 2026
"""

import math

import torch

from sb_rectifier.sparsity.definitions import resolve_definitions

__all__ = [
    "BLOCK_ELEMENTS",
    "LayerStatistics",
    "gini_coefficient",
    "normalized_entropy",
]

#: Values per block on CPUs: 2 MiB of float32, small enough to stay in the
#: cache, large enough that the per-block cost of calling torch is small.
BLOCK_ELEMENTS = 2**19


class LayerStatistics:
    """Exact activity counts and moments of one hidden layer.

    Arguments
    ---------
    num_units : int
        Number of units ``n`` (the last dimension of the activations).
    definitions : list of str or ActiveDefinition, optional
        Activity rules (default ``["positive"]``, ``h > 0``).
    hist_bins : int
        Bins of the value histogram; 0 switches it off.
    hist_range : tuple of float
        ``(lo, hi)`` of the value histogram.
    value_stride : int
        Zeros and moments use every ``value_stride``-th frame of a batch.
    hist_stride : int
        The histogram uses every ``hist_stride``-th frame of a batch.
    pop_bins : int
        Bins of the population-sparsity histogram.
    device : str or torch.device
        Where the accumulators live (inputs are moved there).

    Example
    -------
    >>> stats = LayerStatistics(3, hist_bins=4, hist_range=(-2, 2))
    >>> stats.update(torch.tensor([[0.0, 1.0, 2.0], [0.0, -1.0, 3.0]]))
    >>> r = stats.result()
    >>> r["frames"], r["definitions"]["positive"]["active_frames"]
    (2, [0, 1, 2])
    >>> r["definitions"]["positive"]["dead_units"]
    {'count': 1, 'indices': [0]}
    >>> r["mean"], r["variance"]
    ([0.0, 0.0, 2.5], [0.0, 1.0, 0.25])
    >>> r["histogram"]["counts"], r["histogram"]["overflow"]
    ([0, 1, 2, 1], 2)
    """

    def __init__(
        self,
        num_units,
        definitions=None,
        hist_bins=100,
        hist_range=(-5.0, 5.0),
        value_stride=1,
        hist_stride=1,
        pop_bins=50,
        device="cpu",
    ):
        for value, what, low in (
            (num_units, "num_units", 1),
            (hist_bins, "hist_bins", 0),
            (value_stride, "value_stride", 1),
            (hist_stride, "hist_stride", 1),
            (pop_bins, "pop_bins", 1),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < low
            ):
                raise ValueError(
                    f"{what} must be an int >= {low}, got {value!r}"
                )
        lo, hi = (float(v) for v in hist_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(
                f"hist_range must be finite lo < hi, got {hist_range}"
            )
        self.num_units = num_units
        self.definitions = resolve_definitions(definitions or ["positive"])
        self.hist_bins, self.hist_range = hist_bins, (lo, hi)
        self.value_stride, self.hist_stride = value_stride, hist_stride
        self.pop_bins = pop_bins
        self.device = torch.device(device)
        self.reset()

    @property
    def frames(self):
        """Frames accumulated so far (copies one number to the host).

        Example
        -------
        >>> stats = LayerStatistics(2)
        >>> stats.update(torch.ones(5, 2))
        >>> stats.frames
        5
        """
        return int(self.counts["frames"])

    def reset(self):
        """Sets every accumulator to zero.

        Example
        -------
        >>> stats = LayerStatistics(2)
        >>> stats.update(torch.ones(5, 2))
        >>> stats.reset()
        >>> stats.frames
        0
        """
        n, d = self.num_units, len(self.definitions)

        def zeros(*shape, dtype=torch.int64):
            return torch.zeros(shape, dtype=dtype, device=self.device)

        #: int64 accumulators (exact).
        self.counts = {
            "frames": zeros(),
            "active": zeros(d, n),
            "units_active": zeros(d, n + 1),
            "value_frames": zeros(),
            "zero_frames": zeros(n),
            "histogram": zeros(self.hist_bins + 2),
        }
        #: float64 accumulators.
        self.moments = {
            "sum": zeros(n, dtype=torch.float64),
            "sum_of_squares": zeros(n, dtype=torch.float64),
        }

    def update(self, h):
        """Adds a batch of activations ``[..., num_units]``.

        Example
        -------
        >>> stats = LayerStatistics(2, ["tanh_neg", "tanh_both"])
        >>> stats.update(torch.tensor([[[-0.99, 0.5], [0.96, 0.0]]]))
        >>> stats.result()["definitions"]["tanh_both"]["active_frames"]
        [0, 2]
        """
        if not torch.is_tensor(h):
            raise TypeError(
                f"Activations must be a tensor, got {type(h).__name__}"
            )
        n = self.num_units
        if h.ndim == 0 or h.shape[-1] != n:
            raise ValueError(
                f"Expected activations [..., {n}], got shape {tuple(h.shape)}"
            )
        h = h.detach().to(self.device).reshape(-1, n)
        if h.dtype != torch.float64:
            h = h.float()  # bf16 / fp16 / integers
        c, m = self.counts, self.moments
        c["frames"] += len(h)
        # Per comparison (h > t, ...), block by block: the 0/1 indicator in
        # h's float type and its sums over frames (per unit) and over units
        # (per frame). Sums of at most 2^24 zeros and ones are exact floats;
        # they are much faster than sums of bools on CPUs.
        rows = BLOCK_ELEMENTS // n if h.device.type == "cpu" else 2**24
        rows = max(1, min(rows, 2**24))
        buffer = torch.empty_like(h[:rows])
        pairs = dict.fromkeys(
            p for d in self.definitions for p in d.comparisons
        )
        per_unit = {pair: [] for pair in pairs}
        per_frame = {pair: [] for pair in pairs}
        for block in h.split(rows):
            for op, t in pairs:
                a = getattr(torch, op)(block, t, out=buffer[: len(block)])
                per_unit[op, t].append(a.sum(0))
                per_frame[op, t].append(a.sum(1))
        per_unit = {
            k: torch.stack(v).long().sum(0) for k, v in per_unit.items()
        }
        per_frame = {k: torch.cat(v).long() for k, v in per_frame.items()}
        for i, d in enumerate(self.definitions):
            first, *second = d.comparisons  # active: first - second
            units, frames = per_unit[first], per_frame[first]
            if second:
                units = units - per_unit[second[0]]
                frames = frames - per_frame[second[0]]
            c["active"][i] += units
            c["units_active"][i].index_add_(
                0, frames, torch.ones_like(frames, dtype=torch.int64)
            )
        values = h[:: self.value_stride]
        c["value_frames"] += len(values)
        for block in values.split(rows):
            scratch = buffer[: len(block)]
            c["zero_frames"] += torch.eq(block, 0.0, out=scratch).sum(0).long()
            m["sum"] += block.sum(0)
            m["sum_of_squares"] += torch.mul(block, block, out=scratch).sum(0)
        if self.hist_bins:
            bins, (lo, hi) = self.hist_bins, self.hist_range
            for block in h[:: self.hist_stride].split(rows):
                pos = (
                    ((block - lo) * (bins / (hi - lo)))
                    .floor_()
                    .clamp_(-1, bins)
                )
                index = pos.nan_to_num_(nan=bins).long().view(-1) + 1
                c["histogram"].index_add_(0, index, torch.ones_like(index))

    def merge(self, other):
        """Adds the accumulators of ``other`` (same units, rules, histogram).

        Example
        -------
        >>> a, b = LayerStatistics(2), LayerStatistics(2)
        >>> a.update(torch.tensor([[1.0, 0.0]]))
        >>> b.update(torch.tensor([[1.0, 1.0]]))
        >>> a.merge(b).result()["definitions"]["positive"]["active_frames"]
        [2, 1]
        """
        mine, theirs = self._setup(), other._setup()
        if mine != theirs:
            raise ValueError(
                "Cannot merge statistics with different set-ups (num_units, "
                f"definitions, hist_bins, hist_range, pop_bins): {mine} vs {theirs}"
            )
        for group, others in (
            (self.counts, other.counts),
            (self.moments, other.moments),
        ):
            for key, tensor in group.items():
                tensor += others[key].to(tensor.device)
        return self

    def _setup(self):
        return (
            self.num_units,
            [d.to_dict() for d in self.definitions],
            self.hist_bins,
            self.hist_range,
            self.pop_bins,
        )

    def all_reduce(self):
        """Sums the accumulators over the ``torch.distributed`` processes.

        A collective (every rank calls it); a no-op without a process group.

        Example
        -------
        >>> stats = LayerStatistics(2)
        >>> stats.all_reduce() is stats
        True
        """
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()):
            return self
        for group in (self.counts, self.moments):
            tensors = list(group.values())
            flat = torch.cat([t.reshape(-1) for t in tensors])
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            parts = flat.split([t.numel() for t in tensors])
            for t, part in zip(tensors, parts, strict=True):
                t.copy_(part.view_as(t))
        return self

    def result(self):
        """Returns the counts and the figures derived from them.

        Returns
        -------
        result : dict
            ``num_units``, ``frames``; ``definitions``: per rule name,
            ``definition`` (the rule), ``active_frames`` (counts per unit),
            ``activation_probability`` (per unit),
            ``mean_activation_probability``, ``population_sparsity_mean``,
            ``population_sparsity_std``, ``population_sparsity_histogram``
            (``edges``, ``counts``), ``active_units_per_frame`` (frames with
            ``k = 0..n`` active units), ``dead_units`` and
            ``always_active_units`` (``count``, ``indices``), ``dispersion``
            (``entropy``, ``gini``); ``value_frames``, ``value_stride``,
            ``zero_frames``, ``sum``, ``sum_of_squares``, ``mean``,
            ``variance``, ``exact_zero_fraction_per_unit`` (per unit),
            ``exact_zero_fraction``; ``histogram``
            (``edges``, ``counts``, ``underflow``, ``overflow``, ``values``,
            ``frame_stride``; None if ``hist_bins`` is 0).

        Example
        -------
        >>> stats = LayerStatistics(4)
        >>> stats.update(torch.tensor([[0.0, 1.0, 0.0, 2.0]]))
        >>> d = stats.result()["definitions"]["positive"]
        >>> d["population_sparsity_mean"], d["dispersion"]["gini"]
        (0.5, 0.5)
        """
        c = {k: v.cpu() for k, v in self.counts.items()}
        m = {k: v.cpu() for k, v in self.moments.items()}
        n, frames = self.num_units, int(c["frames"])
        if frames == 0:
            raise ValueError(
                "No frames accumulated: call update() (or run the model with "
                "the monitor attached) before result()"
            )
        f64 = torch.float64
        share = torch.arange(n + 1, dtype=f64) / n  # of units active
        pop_bin = torch.arange(n + 1) * self.pop_bins // n
        pop_bin = pop_bin.clamp(max=self.pop_bins - 1)
        definitions = {}
        for i, d in enumerate(self.definitions):
            active, per_frame = c["active"][i], c["units_active"][i]
            prob = active.double() / frames
            pop_mean = float((per_frame * share).sum() / frames)
            pop_var = float((per_frame * share**2).sum() / frames) - pop_mean**2
            pop_hist = torch.zeros(self.pop_bins, dtype=torch.int64)
            pop_hist.index_add_(0, pop_bin, per_frame)
            dead = (active == 0).nonzero().flatten().tolist()
            always = (active == frames).nonzero().flatten().tolist()
            definitions[d.name] = {
                "definition": d.to_dict(),
                "active_frames": active.tolist(),
                "activation_probability": prob.tolist(),
                "mean_activation_probability": float(prob.mean()),
                "population_sparsity_mean": pop_mean,
                "population_sparsity_std": math.sqrt(max(pop_var, 0.0)),
                "population_sparsity_histogram": {
                    "edges": torch.linspace(
                        0, 1, self.pop_bins + 1, dtype=f64
                    ).tolist(),
                    "counts": pop_hist.tolist(),
                },
                "active_units_per_frame": per_frame.tolist(),
                "dead_units": {"count": len(dead), "indices": dead},
                "always_active_units": {
                    "count": len(always),
                    "indices": always,
                },
                "dispersion": {
                    "entropy": normalized_entropy(prob),
                    "gini": gini_coefficient(prob),
                },
            }
        vframes = int(c["value_frames"])  # >= 1 frame per batch
        mean = m["sum"] / vframes
        variance = m["sum_of_squares"] / vframes - mean**2
        zeros = c["zero_frames"]
        result = {
            "num_units": n,
            "frames": frames,
            "definitions": definitions,
            "value_frames": vframes,
            "value_stride": self.value_stride,
            "zero_frames": zeros.tolist(),
            "sum": m["sum"].tolist(),
            "sum_of_squares": m["sum_of_squares"].tolist(),
            "mean": mean.tolist(),
            "variance": variance.clamp(min=0.0).tolist(),
            "exact_zero_fraction_per_unit": (zeros.double() / vframes).tolist(),
            "exact_zero_fraction": float(zeros.sum()) / (vframes * n),
            "histogram": None,
        }
        if self.hist_bins:
            hist, (lo, hi) = c["histogram"], self.hist_range
            edges = torch.linspace(lo, hi, self.hist_bins + 1, dtype=f64)
            result["histogram"] = {
                "edges": edges.tolist(),
                "counts": hist[1:-1].tolist(),
                "underflow": int(hist[0]),
                "overflow": int(hist[-1]),
                "values": int(hist.sum()),
                "frame_stride": self.hist_stride,
            }
        return result


def normalized_entropy(prob):
    """``H(q) / ln n`` with ``q = p / sum(p)``: 1 = activity spread evenly.

    Returns None when every ``p_j`` is 0, and 1.0 for a single unit.

    Example
    -------
    >>> (
    ...     normalized_entropy([0.5, 0.5, 0.5, 0.5]),
    ...     normalized_entropy([0, 0, 1, 0]),
    ... )
    (1.0, 0.0)
    >>> round(normalized_entropy([0.0, 0.5, 0.0, 1.0]), 6)  # H(1/3, 2/3)/ln 4
    0.459148
    """
    p = torch.as_tensor(prob, dtype=torch.float64).flatten()
    total = float(p.sum())
    if p.numel() == 0 or total <= 0.0:
        return None
    if p.numel() == 1:
        return 1.0
    q = p[p > 0] / total
    return min(1.0, max(0.0, float(-(q * q.log()).sum() / math.log(p.numel()))))


def gini_coefficient(prob):
    """Gini coefficient ``sum_i (2i - n - 1) p_(i) / (n sum p)``, ``p``
    sorted ascending: 0 = even; None when every ``p_j`` is 0.

    Example
    -------
    >>> gini_coefficient([0.3, 0.3, 0.3]), gini_coefficient([0, 0, 0, 1])
    (0.0, 0.75)
    """
    p = torch.as_tensor(prob, dtype=torch.float64).flatten()
    total, n = float(p.sum()), p.numel()
    if n == 0 or total <= 0.0:
        return None
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float(((2 * ranks - n - 1) * p.sort().values).sum() / (n * total))
