r"""Streaming activity statistics of one hidden layer.

:class:`LayerStatistics` accumulates, batch by batch, statistics of the
outputs ``h`` of a hidden layer with ``n`` units. Its memory grows with the
number of units, not with the number of frames: every statistic is a sum
over frames. The inputs are activations ``[..., n]``; all leading dimensions
are frames. An optional mask keeps only the valid (non-padding) frames.

Notation: frames ``f = 1..F`` (valid frames only), units ``j = 1..n``,
activation ``h_fj``, an activity rule (see
:mod:`sb_rectifier.sparsity.definitions`) with indicator
``a_fj = 1[h_fj is active]``, ``1[.]`` the indicator function.

Per unit ``j`` ("lifetime" statistics):

* activation probability ``p_j = (1/F) sum_f a_fj`` (the paper's Fig. 2
  plots the ``p_j`` of the last hidden layer, sorted);
* mean ``m_j = (1/F_v) sum_f h_fj``;
* variance ``v_j = (1/F_v) sum_f (h_fj - m_j)^2`` (population variance);
* exact-zero fraction ``z_j = (1/F_v) sum_f 1[h_fj == 0]``;
* dead units: ``{j : p_j = 0}`` (never active over the pass); always
  active units: ``{j : p_j = 1}`` (active on every frame).

Per frame ``f`` ("population" statistics): the active fraction
``s_f = (1/n) sum_j a_fj``, i.e. the share of the layer that is active on
that frame (lower = sparser code). The exact distribution of
``k_f = n s_f`` (how many units are active, ``0..n``) is kept as counts
``c_k``, from which:

* population sparsity mean ``mean_s = (1/F) sum_f s_f`` (equal to the
  mean activation probability ``(1/n) sum_j p_j``);
* population sparsity std
  ``std_s = sqrt((1/F) sum_f s_f^2 - mean_s^2)`` (population std);
* population sparsity histogram: ``pop_bins`` equal bins over ``[0, 1]``,
  bin ``b`` of ``s_f`` is ``min(floor(k_f pop_bins / n), pop_bins - 1)``
  (left-closed bins, the last also right-closed).

Dispersion (how evenly activity is spread over the units), from the
activation probabilities with ``P = sum_j p_j``:

* normalised entropy ``H(q) / log(n)`` with ``q_j = p_j / P`` and
  ``H(q) = -sum_j q_j log q_j`` (``0 log 0 = 0``): 1 when every unit is
  active equally often, towards 0 when a few units carry all activity
  (defined as 1 for ``n = 1``);
* Gini coefficient ``G = sum_i (2 i - n - 1) p_(i) / (n P)`` with
  ``p_(1) <= ... <= p_(n)`` sorted ascending (equal to
  ``sum_ij |p_i - p_j| / (2 n P)``): 0 when every unit is equally active,
  ``(n - 1) / n`` when a single unit carries all activity.

Both are ``None`` when no unit is ever active (``P = 0``).

Value statistics over the value frames ``F_v`` and all units:

* exact-zero fraction ``(1/(F_v n)) sum_fj 1[h_fj == 0]``;
* minimum and maximum of ``h``;
* value histogram: ``hist_bins`` equal bins over
  ``hist_range = (lo, hi)``; bin ``k`` counts ``e_k <= h < e_{k+1}`` with
  ``e_k = lo + k (hi - lo) / hist_bins``; values below ``lo`` are counted
  as ``underflow``, values ``>= hi`` as ``overflow``; ``values`` is the
  total (underflow + bins + overflow).

Frame sampling, to save time: the activity statistics (activation
probabilities, population sparsity, dead / always-active units, dispersion)
always use every valid frame. The mean, variance, exact zeros and extrema
use the valid frames among every ``value_stride``-th frame of each batch
(frames ``0, s, 2s, ...`` of the flattened batch; ``F_v`` of them, reported
as ``value_frames``), and the histogram those among every
``hist_stride``-th frame. Both strides default to 1 (every frame).

Numerics: the inputs are cast to float32 (float64 inputs stay float64), so
bf16 / fp16 activations work. Each batch is processed in chunks that fit in
the CPU cache (``chunk_elements``), reusing scratch buffers (a
:class:`Workspace`). Counts are exact: 0/1 indicators are summed in float32
within one batch (exact below ``2^24``; larger batches are split) and
accumulated in int64. For the mean and variance, each batch sums
``d = h - c`` and ``d^2`` in float32 with the shift ``c`` = the batch's
first valid value frame (so that a large offset does not cancel digits),
giving the batch mean ``c + sum d / F_b`` and squared deviations
``M2_b = sum d^2 - (sum d)^2 / F_b``; batches, merged statistics and
processes are combined in float64 with the pairwise update of Chan, Golub
& LeVeque (1979): ``delta = mean_b - mean_a``,
``mean = mean_a + delta F_b / (F_a + F_b)``,
``M2 = M2_a + M2_b + delta^2 F_a F_b / (F_a + F_b)``, and
``v_j = M2 / F_v``. Masked frames must hold finite values (they enter
these sums with weight 0). NaN activations count as inactive and make the
moments NaN.

Nothing is copied to the host during :meth:`LayerStatistics.update` (no
``.item()``), so on GPUs the accumulation runs asynchronously; only
:meth:`LayerStatistics.result` (and the ``frames`` property) synchronise.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import math

import torch

from sb_rectifier.sparsity.definitions import resolve_definitions

__all__ = [
    "LayerStatistics",
    "Workspace",
    "gini_coefficient",
    "normalized_entropy",
]

# Rows per update: float32 counts within one batch stay exact below 2^24.
_MAX_ROWS = 2**24
# Default elements per chunk: fits in a CPU core's L2 cache (1 MiB of
# float32); one chunk for typical batches on GPUs.
_CPU_CHUNK = 2**18
_DEVICE_CHUNK = 2**24


class Workspace:
    """Reusable scratch buffers, so that updates do not allocate per batch.

    Large fresh allocations cost page faults on CPUs; one workspace can be
    shared by the statistics of all layers of a model, since hooks run one
    after the other.

    Example
    -------
    >>> ws = Workspace()
    >>> a = ws.get("a", (4, 3), torch.float32, "cpu")
    >>> b = ws.get("a", (2, 3), torch.float32, "cpu")
    >>> a.data_ptr() == b.data_ptr()
    True
    >>> ws.ones("u", 3, torch.float32, "cpu")
    tensor([1., 1., 1.])
    """

    def __init__(self):
        self._buffers = {}

    def get(self, key, shape, dtype, device):
        """Returns an uninitialised buffer of the given shape.

        Arguments
        ---------
        key : str
            Name of the buffer; the same key reuses the same memory.
        shape : tuple of int
            Wanted shape.
        dtype : torch.dtype
            Element type.
        device : torch.device or str
            Device.

        Returns
        -------
        buffer : torch.Tensor
            A contiguous view of (a prefix of) the stored memory.
        """
        numel = math.prod(shape)
        slot = (key, dtype, str(torch.device(device)))
        buf = self._buffers.get(slot)
        if buf is None or buf.numel() < numel:
            buf = torch.empty(max(numel, 1), dtype=dtype, device=device)
            self._buffers[slot] = buf
        return buf[:numel].view(shape)

    def ones(self, key, size, dtype, device):
        """Returns a cached vector of ones.

        Arguments
        ---------
        key : str
            Name of the buffer.
        size : int
            Length.
        dtype : torch.dtype
            Element type.
        device : torch.device or str
            Device.

        Returns
        -------
        ones : torch.Tensor
            ``[size]`` tensor of ones (do not modify it).
        """
        slot = ("ones:" + key, dtype, str(torch.device(device)))
        buf = self._buffers.get(slot)
        if buf is None or buf.numel() < size:
            buf = torch.ones(max(size, 1), dtype=dtype, device=device)
            self._buffers[slot] = buf
        return buf[:size]

    def clear(self):
        """Frees all buffers.

        Example
        -------
        >>> ws = Workspace()
        >>> _ = ws.get("a", (2,), torch.float32, "cpu")
        >>> ws.clear()
        """
        self._buffers.clear()


def _no_autocast(device):
    """Context that disables autocast on the device (statistics in fp32)."""
    if device.type in ("cpu", "cuda", "xpu"):
        return torch.autocast(device.type, enabled=False)
    return contextlib.nullcontext()


def _check_positive_int(value, what, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")


class LayerStatistics:
    """Streaming activity statistics of one hidden layer.

    See the module documentation for the definition of every statistic.

    Arguments
    ---------
    num_units : int
        Number of hidden units ``n`` (the last dimension of the inputs).
    definitions : list of str or ActiveDefinition, optional
        Activity rules (default ``["positive"]``, i.e. ``h > 0``).
    hist_bins : int
        Bins of the value histogram; 0 switches the histogram off.
    hist_range : tuple of float
        ``(lo, hi)`` of the value histogram.
    device : str or torch.device
        Where the accumulators live. Put them on the activations' device to
        avoid copies (updates on another device copy small per-batch sums).
    pop_bins : int
        Bins of the population-sparsity histogram over ``[0, 1]``.
    hist_stride : int
        Only every ``hist_stride``-th frame of a batch enters the value
        histogram (1 = all frames).
    value_stride : int
        Only every ``value_stride``-th frame of a batch enters the mean,
        variance, exact zeros and extrema (1 = all frames).
    chunk_elements : int, optional
        Elements per processing chunk (default: ``2**18`` on CPU, so that
        a chunk stays in cache, ``2**24`` elsewhere).
    workspace : Workspace, optional
        Scratch buffers, shareable between layers.

    Example
    -------
    >>> stats = LayerStatistics(3, hist_bins=4, hist_range=(-2, 2))
    >>> stats.update(torch.tensor([[0.0, 1.0, 2.0], [0.0, -1.0, 3.0]]))
    >>> r = stats.result()
    >>> r["frames"], r["definitions"]["positive"]["activation_probability"]
    (2, [0.0, 0.5, 1.0])
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
        device="cpu",
        pop_bins=50,
        hist_stride=1,
        value_stride=1,
        chunk_elements=None,
        workspace=None,
    ):
        _check_positive_int(num_units, "num_units")
        _check_positive_int(hist_bins, "hist_bins", minimum=0)
        _check_positive_int(pop_bins, "pop_bins")
        _check_positive_int(hist_stride, "hist_stride")
        _check_positive_int(value_stride, "value_stride")
        lo, hi = (float(v) for v in hist_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(
                f"hist_range must be finite lo < hi, got {hist_range}"
            )
        if chunk_elements is not None:
            _check_positive_int(chunk_elements, "chunk_elements")
        self.num_units = num_units
        self.definitions = resolve_definitions(
            ["positive"] if definitions is None else definitions
        )
        self.hist_bins = hist_bins
        self.hist_range = (lo, hi)
        self.pop_bins = pop_bins
        self.hist_stride = hist_stride
        self.value_stride = value_stride
        self.chunk_elements = chunk_elements
        self.device = torch.device(device)
        self.workspace = workspace if workspace is not None else Workspace()
        self.reset()

    @property
    def definition_names(self):
        """Names of the activity rules, in order.

        Returns
        -------
        names : list of str
            ``[d.name for d in self.definitions]``.

        Example
        -------
        >>> LayerStatistics(2, ["tanh_neg", "tanh_both"]).definition_names
        ['tanh_neg', 'tanh_both']
        """
        return [d.name for d in self.definitions]

    @property
    def frames(self):
        """Number of valid frames accumulated so far (copies to the host).

        Returns
        -------
        frames : int
            ``F``.

        Example
        -------
        >>> stats = LayerStatistics(2)
        >>> stats.update(torch.ones(5, 2))
        >>> stats.frames
        5
        """
        return int(self._frames)

    def reset(self):
        """Sets all accumulators to zero.

        Example
        -------
        >>> stats = LayerStatistics(2)
        >>> stats.update(torch.ones(5, 2))
        >>> stats.reset()
        >>> stats.frames
        0
        """
        n, d, dev = self.num_units, len(self.definitions), self.device
        i64, f64 = torch.int64, torch.float64
        self._frames = torch.zeros((), dtype=i64, device=dev)
        # frames of the mean, variance, exact zeros and extrema
        self._value_frames = torch.zeros((), dtype=i64, device=dev)
        self._mean = torch.zeros(n, dtype=f64, device=dev)
        # sum of squared deviations from the mean
        self._m2 = torch.zeros(n, dtype=f64, device=dev)
        self._zeros = torch.zeros(n, dtype=i64, device=dev)
        self._active = torch.zeros(d, n, dtype=i64, device=dev)
        # _frame_counts[d, k]: frames with exactly k active units.
        self._frame_counts = torch.zeros(d, n + 1, dtype=i64, device=dev)
        # [underflow, bin 0 .. bin B-1, overflow]
        self._hist = torch.zeros(self.hist_bins + 2, dtype=i64, device=dev)
        self._min = torch.full((), math.inf, dtype=f64, device=dev)
        self._max = torch.full((), -math.inf, dtype=f64, device=dev)

    def _tensors(self):
        """The accumulators, by name."""
        return {
            "frames": self._frames,
            "value_frames": self._value_frames,
            "mean": self._mean,
            "m2": self._m2,
            "zeros": self._zeros,
            "active": self._active,
            "frame_counts": self._frame_counts,
            "hist": self._hist,
            "min": self._min,
            "max": self._max,
        }

    def update(self, h, mask=None):
        """Adds a batch of activations.

        Arguments
        ---------
        h : torch.Tensor
            Activations ``[..., num_units]``; every leading index is a frame.
            Any floating dtype (bf16 / fp16 are cast to float32).
        mask : torch.Tensor, optional
            Valid frames: bool or 0/1 numbers with one entry per frame
            (``[batch, time]`` for ``[batch, time, units]`` activations, or
            ``[frames]``); nonzero = valid. Other frames are ignored.

        Example
        -------
        >>> stats = LayerStatistics(2)
        >>> h = torch.tensor([[[1.0, 0.0], [5.0, 5.0]]])
        >>> stats.update(h, mask=torch.tensor([[True, False]]))
        >>> stats.result()["frames"], stats.result()["max"]
        (1, 1.0)
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
        frames = h.numel() // n
        valid = None
        if mask is not None:
            mask = torch.as_tensor(mask, device=h.device).detach()
            if mask.numel() != frames:
                raise ValueError(
                    f"mask has {mask.numel()} entries (shape "
                    f"{tuple(mask.shape)}) but the activations "
                    f"{tuple(h.shape)} have {frames} frames"
                )
            valid = mask.reshape(frames)
            if valid.dtype != torch.bool:
                valid = valid != 0
        if frames == 0:
            return
        h = h.detach().reshape(frames, n)
        if not h.is_floating_point():
            h = h.float()
        with torch.no_grad(), _no_autocast(h.device):
            for start in range(0, frames, _MAX_ROWS):
                stop = min(frames, start + _MAX_ROWS)
                self._update(
                    h[start:stop], None if valid is None else valid[start:stop]
                )

    def _update(self, h, valid):
        """Accumulates ``h`` ([frames, units], frames < 2^24)."""
        frames, n = h.shape
        dev = h.device
        ws = self.workspace
        defs = self.definitions
        work = torch.float64 if h.dtype == torch.float64 else torch.float32
        budget = self.chunk_elements
        if budget is None:
            budget = _CPU_CHUNK if dev.type == "cpu" else _DEVICE_CHUNK
        rows = min(frames, max(1, budget // n))

        ones_rows = ws.ones("rows", rows, work, dev)
        ones_units = ws.ones("units", n, work, dev)
        a_buf = ws.get("a", (rows, n), work, dev)
        t_buf = None
        if any(
            d.kind == "between" and d.threshold[0] != -d.threshold[1]
            for d in defs
        ):
            t_buf = ws.get("t", (rows, n), work, dev)
        x_buf = ws.get("x", (rows, n), work, dev)

        def chunks(source):
            """(index, first row, contiguous rows in work dtype) of source."""
            for c, r0 in enumerate(range(0, source.shape[0], rows)):
                x = source[r0 : r0 + rows]
                if x.dtype != work or not x.is_contiguous():
                    # one read of the (strided) rows; the statistics then
                    # read the copy from cache
                    x = x_buf[: x.shape[0]].copy_(x)
                yield c, r0, x

        # Activity: every frame.
        weights = None if valid is None else valid.to(work)
        active = ws.get("active", (len(defs), n), work, dev).zero_()
        per_frame = ws.get("per_frame", (len(defs), frames), work, dev)

        # Value statistics: every value_stride-th frame. acc rows: sum d,
        # sum d^2 (d = h - shift), number of exact zeros.
        vstride = self.value_stride
        vh = h[::vstride]
        vframes = vh.shape[0]
        vvalid = None if valid is None else valid[::vstride]
        vweights = None if weights is None else weights[::vstride]
        if vvalid is None:  # shift: the first valid frame
            shift = vh[0]
        else:
            first = torch.argmax(vvalid.to(torch.int32)).view(1)
            shift = vh.index_select(0, first)[0]
        shift = shift.to(work)
        vacc = ws.get("values", (3, n), work, dev).zero_()
        if vvalid is None:  # extrema of each chunk
            extrema = ws.get("extrema", (2, -(-vframes // rows)), work, dev)
        else:  # extrema of each frame, masked below
            extrema = ws.get("extrema", (2, vframes), work, dev)

        def values_chunk(c, r0, x):
            m = x.shape[0]
            a = a_buf[:m]
            w = ones_rows[:m] if vweights is None else vweights[r0 : r0 + m]
            torch.sub(x, shift, out=a)
            vacc[0].addmv_(a.t(), w)
            a.mul_(a)
            vacc[1].addmv_(a.t(), w)
            torch.eq(x, 0, out=a)
            vacc[2].addmv_(a.t(), w)
            if vvalid is None:
                torch.aminmax(x, out=(extrema[0, c], extrema[1, c]))
            else:
                torch.amin(x, 1, out=extrema[0, r0 : r0 + m])
                torch.amax(x, 1, out=extrema[1, r0 : r0 + m])

        # Value histogram: every hist_stride-th frame.
        bins = self.hist_bins
        hstride = self.hist_stride
        if bins:
            hist_acc = ws.get("hist", (bins + 3,), torch.float64, dev).zero_()
            u_buf = ws.get("u", (rows, n), work, dev)
            hinvalid = None if valid is None else ~valid[::hstride]

        def hist_chunk(r0, x):
            inv = None if hinvalid is None else hinvalid[r0 : r0 + x.shape[0]]
            self._histogram_chunk(x, inv, u_buf[: x.shape[0]], hist_acc)

        # Views made once per batch: the loop below is the hot path.
        active_rows = list(active.unbind(0))
        per_frame_rows = list(per_frame.unbind(0))
        a_full, a_full_t = a_buf, a_buf.t()
        for c, r0, x in chunks(h):
            m = x.shape[0]
            if m == rows:
                a, a_t = a_full, a_full_t
                tmp = t_buf
            else:
                a = a_buf[:m]
                a_t = a.t()
                tmp = None if t_buf is None else t_buf[:m]
            if weights is None:
                w = ones_rows if m == rows else ones_rows[:m]
            else:
                w = weights[r0 : r0 + m]
            for i, definition in enumerate(defs):
                definition.indicator(x, out=a, tmp=tmp)
                active_rows[i].addmv_(a_t, w)
                torch.mv(a, ones_units, out=per_frame_rows[i][r0 : r0 + m])
            # The same chunk, while it is in cache.
            if vstride == 1:
                values_chunk(c, r0, x)
            if bins and hstride == 1:
                hist_chunk(r0, x)
        if vstride > 1:
            for c, r0, x in chunks(vh):
                values_chunk(c, r0, x)
        if bins and hstride > 1:
            for _, r0, x in chunks(h[::hstride]):
                hist_chunk(r0, x)

        target = self.device
        f64 = torch.float64
        # Activity.
        if valid is None:
            self._frames += frames
        else:
            self._frames += valid.sum().to(target)
        self._active += active.to(target, f64).round().long()
        # Frames with k active units, k = 0..n; masked frames go to k = n+1.
        k = per_frame.round().long()
        if valid is not None:
            k = torch.where(valid, k, n + 1)
        k = k + torch.arange(len(defs), device=dev)[:, None] * (n + 2)
        counts = torch.zeros(len(defs) * (n + 2), dtype=torch.int64, device=dev)
        counts.scatter_add_(0, k.reshape(-1), torch.ones_like(k).reshape(-1))
        self._frame_counts += counts.view(len(defs), n + 2)[:, : n + 1].to(
            target
        )
        # Values.
        if vvalid is None:
            batch_frames = torch.full(
                (), float(vframes), dtype=f64, device=target
            )
            low = extrema[0].min()
            high = extrema[1].max()
        else:
            batch_frames = vvalid.sum().to(target, f64)
            low = torch.where(vvalid, extrema[0], math.inf).min()
            high = torch.where(vvalid, extrema[1], -math.inf).max()
        self._min = torch.minimum(self._min, low.to(target, f64))
        self._max = torch.maximum(self._max, high.to(target, f64))
        vacc = vacc.to(target, f64)
        size = batch_frames.clamp_min(1.0)
        batch_mean = shift.to(target, f64) + vacc[0] / size
        batch_m2 = (vacc[1] - vacc[0] * vacc[0] / size).clamp_min(0.0)
        self._combine_moments(
            self._value_frames, batch_frames, batch_mean, batch_m2
        )
        self._value_frames += batch_frames.round().long()
        self._zeros += vacc[2].round().long()
        if bins:
            self._hist += hist_acc[: bins + 2].round().long().to(target)

    def _histogram_chunk(self, x, invalid, u, hist_acc):
        """Adds the value histogram of ``x`` ([rows, n]) to ``hist_acc``.

        ``u = (x - lo) * bins / (hi - lo)`` is the position in bin units
        (exact for values on bin edges such as 0 when ``lo * bins / (hi -
        lo)`` is a whole number), clamped to ``[-0.5, bins + 0.5]``:
        ``hist_acc`` bin 0 is the underflow, 1..bins the range, bins+1 the
        overflow and bins+2 the masked frames (dropped).
        """
        bins = self.hist_bins
        lo, hi = self.hist_range
        scale = bins / (hi - lo)
        if x.dtype == u.dtype:
            torch.mul(x, scale, out=u)
        else:
            u.copy_(x)
            u.mul_(scale)
        u.add_(-lo * scale)
        u.clamp_(-0.5, bins + 0.5)
        if invalid is not None:
            u.masked_fill_(invalid[:, None], bins + 2)
        hist_acc.add_(_histogram(u, bins + 3))

    def _combine_moments(self, frames_a, frames_b, mean_b, m2_b):
        """Adds a group's mean / squared deviations (Chan et al., 1979).

        ``frames_a`` is the frame count of the current accumulators, before
        the group of ``frames_b`` frames is added.
        """
        frames_a = frames_a.to(torch.float64)
        total = (frames_a + frames_b).clamp_min(1.0)
        delta = mean_b - self._mean
        ratio = frames_b / total
        self._mean += delta * ratio
        self._m2 += m2_b + delta * delta * frames_a * ratio

    def _check_compatible(self, other):
        if not isinstance(other, LayerStatistics):
            raise TypeError(
                f"Can only merge LayerStatistics, got {type(other).__name__}"
            )
        mine = (
            self.num_units,
            [d.to_dict() for d in self.definitions],
            self.hist_bins,
            self.hist_range,
            self.pop_bins,
        )
        theirs = (
            other.num_units,
            [d.to_dict() for d in other.definitions],
            other.hist_bins,
            other.hist_range,
            other.pop_bins,
        )
        if mine != theirs:
            raise ValueError(
                "Cannot merge statistics with different set-ups "
                "(num_units, definitions, hist_bins, hist_range, pop_bins): "
                f"{mine} vs {theirs}"
            )

    def merge(self, other):
        """Adds the accumulators of another :class:`LayerStatistics`.

        Arguments
        ---------
        other : LayerStatistics
            Statistics with the same units, rules and histogram set-up.

        Returns
        -------
        self : LayerStatistics
            The merged statistics (``self``, modified in place).

        Example
        -------
        >>> a, b = LayerStatistics(2), LayerStatistics(2)
        >>> a.update(torch.tensor([[1.0, 0.0]]))
        >>> b.update(torch.tensor([[1.0, 1.0]]))
        >>> a.merge(b).result()["definitions"]["positive"][
        ...     "activation_probability"
        ... ]
        [1.0, 0.5]
        """
        self._check_compatible(other)
        dev = self.device
        self._combine_moments(
            self._value_frames,
            other._value_frames.to(dev, torch.float64),
            other._mean.to(dev),
            other._m2.to(dev),
        )
        self._frames += other._frames.to(dev)
        self._value_frames += other._value_frames.to(dev)
        self._zeros += other._zeros.to(dev)
        self._active += other._active.to(dev)
        self._frame_counts += other._frame_counts.to(dev)
        self._hist += other._hist.to(dev)
        self._min = torch.minimum(self._min, other._min.to(dev))
        self._max = torch.maximum(self._max, other._max.to(dev))
        return self

    def all_reduce(self):
        """Sums the statistics over all processes of ``torch.distributed``.

        A collective: every rank must call it, with the same set-up. Counts
        and sums are reduced with SUM, the extrema with MIN / MAX. Does
        nothing when ``torch.distributed`` is not initialised.

        Returns
        -------
        self : LayerStatistics
            The reduced statistics (``self``).

        Example
        -------
        >>> stats = LayerStatistics(2)
        >>> stats.all_reduce() is stats  # single process: unchanged
        True
        """
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()):
            return self
        # Means and squared deviations: gather every rank's, then combine
        # pairwise (exact, unlike summing raw sums of squares).
        n = self.num_units
        mine = torch.cat(
            [self._value_frames.to(torch.float64).view(1), self._mean, self._m2]
        )
        gathered = [
            torch.empty_like(mine) for _ in range(dist.get_world_size())
        ]
        dist.all_gather(gathered, mine)
        self._mean.zero_()
        self._m2.zero_()
        seen = torch.zeros((), dtype=torch.float64, device=mine.device)
        for part in gathered:
            self._combine_moments(seen, part[0], part[1 : n + 1], part[n + 1 :])
            seen = seen + part[0]
        ints = [
            self._frames.view(1),
            self._value_frames.view(1),
            self._zeros,
            self._active.view(-1),
            self._frame_counts.view(-1),
            self._hist,
        ]
        packed = torch.cat(ints)
        dist.all_reduce(packed, op=dist.ReduceOp.SUM)
        sizes = [t.numel() for t in ints]
        for t, part in zip(ints, packed.split(sizes), strict=True):
            t.copy_(part)
        dist.all_reduce(self._min, op=dist.ReduceOp.MIN)
        dist.all_reduce(self._max, op=dist.ReduceOp.MAX)
        return self

    def result(self):
        """Returns every statistic as plain Python numbers and lists.

        Returns
        -------
        result : dict
            ``num_units``, ``frames``; ``definitions``: for each rule name a
            dict with ``definition`` (the rule, see
            :meth:`ActiveDefinition.to_dict`), ``activation_probability``
            (list over units), ``mean_activation_probability``,
            ``population_sparsity_mean``, ``population_sparsity_std``,
            ``population_sparsity_histogram`` (``edges``, ``counts``),
            ``active_units_per_frame`` (counts of frames with ``k = 0..n``
            active units), ``dead_units`` and ``always_active_units``
            (``count``, ``indices``), ``dispersion`` (``entropy``: the
            normalised entropy, ``gini``); ``value_frames``,
            ``value_stride``, ``exact_zero_fraction``,
            ``exact_zero_fraction_per_unit``, ``mean``, ``variance`` (lists
            over units), ``min``, ``max`` (these are None, or lists of None,
            if ``value_frames`` is 0); ``histogram`` (``edges``, ``counts``,
            ``underflow``, ``overflow``, ``values``, ``frame_stride``; None
            if ``hist_bins == 0``).

        Raises
        ------
        ValueError
            If no frame has been accumulated.

        Example
        -------
        >>> stats = LayerStatistics(4)
        >>> stats.update(torch.tensor([[0.0, 1.0, 0.0, 2.0]]))
        >>> d = stats.result()["definitions"]["positive"]
        >>> d["population_sparsity_mean"], d["dispersion"]["gini"]
        (0.5, 0.5)
        """
        frames = int(self._frames)
        if frames == 0:
            raise ValueError(
                "No frames accumulated: call update() (or run the model with "
                "the monitor attached) before result()"
            )
        n = self.num_units
        cpu = {k: v.detach().cpu() for k, v in self._tensors().items()}
        vframes = int(cpu["value_frames"])

        per_definition = {}
        k = torch.arange(n + 1, dtype=torch.float64)
        pop_bin = torch.clamp(
            torch.arange(n + 1) * self.pop_bins // n, max=self.pop_bins - 1
        )
        pop_edges = torch.linspace(
            0.0, 1.0, self.pop_bins + 1, dtype=torch.float64
        )
        for i, definition in enumerate(self.definitions):
            active = cpu["active"][i]
            prob = active.double() / frames
            frame_counts = cpu["frame_counts"][i]
            share = k / n
            pop_mean = float((frame_counts * share).sum() / frames)
            pop_sq = float((frame_counts * share * share).sum() / frames)
            pop_std = math.sqrt(max(pop_sq - pop_mean * pop_mean, 0.0))
            pop_hist = torch.zeros(self.pop_bins, dtype=torch.int64)
            pop_hist.index_add_(0, pop_bin, frame_counts)
            dead = torch.nonzero(active == 0).flatten().tolist()
            always = torch.nonzero(active == frames).flatten().tolist()
            per_definition[definition.name] = {
                "definition": definition.to_dict(),
                "activation_probability": prob.tolist(),
                "mean_activation_probability": float(prob.mean()),
                "population_sparsity_mean": pop_mean,
                "population_sparsity_std": pop_std,
                "population_sparsity_histogram": {
                    "edges": pop_edges.tolist(),
                    "counts": pop_hist.tolist(),
                },
                "active_units_per_frame": frame_counts.tolist(),
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

        histogram = None
        if self.hist_bins:
            hist = cpu["hist"]
            lo, hi = self.hist_range
            histogram = {
                "edges": torch.linspace(
                    lo, hi, self.hist_bins + 1, dtype=torch.float64
                ).tolist(),
                "counts": hist[1:-1].tolist(),
                "underflow": int(hist[0]),
                "overflow": int(hist[-1]),
                "values": int(hist.sum()),
                "frame_stride": self.hist_stride,
            }
        result = {
            "num_units": n,
            "frames": frames,
            "definitions": per_definition,
            "value_frames": vframes,
            "value_stride": self.value_stride,
        }
        if vframes:
            zeros = cpu["zeros"].double()
            result.update(
                exact_zero_fraction=float(zeros.sum() / (vframes * n)),
                exact_zero_fraction_per_unit=(zeros / vframes).tolist(),
                mean=cpu["mean"].tolist(),
                variance=(cpu["m2"] / vframes).clamp_min(0.0).tolist(),
                min=float(cpu["min"]),
                max=float(cpu["max"]),
            )
        else:  # every sampled frame was masked
            result.update(
                exact_zero_fraction=None,
                exact_zero_fraction_per_unit=[None] * n,
                mean=[None] * n,
                variance=[None] * n,
                min=None,
                max=None,
            )
        result["histogram"] = histogram
        return result


def _histogram(u, bins, scatter=None):
    """Counts of ``floor(u + 1)`` in ``0..bins-1`` for ``u`` in [-1, bins-1].

    ``u`` holds bin positions shifted so that bin ``b`` covers
    ``[b - 1, b)``; ``torch.histc`` is used (fastest on CPU), or a
    scatter-add (``scatter=True``; by default on CUDA when deterministic
    algorithms are requested, as ``histc`` has no deterministic CUDA
    kernel).
    """
    if scatter is None:
        scatter = u.is_cuda and torch.are_deterministic_algorithms_enabled()
    if scatter:
        pos = torch.nan_to_num(u + 1.0, nan=float(bins - 1))  # NaN: dropped
        idx = pos.floor().long().clamp_(0, bins - 1).reshape(-1)
        counts = torch.zeros(bins, dtype=torch.float64, device=u.device)
        return counts.scatter_add_(
            0, idx, torch.ones_like(idx, dtype=torch.float64)
        )
    return torch.histc(u, bins, -1.0, bins - 1.0)


def normalized_entropy(prob):
    """Normalised entropy of activation probabilities, ``H(q) / log(n)``.

    ``q_j = p_j / sum_k p_k``; 1 = activity spread evenly over the units.

    Arguments
    ---------
    prob : torch.Tensor or sequence of float
        Activation probabilities ``p_j >= 0``.

    Returns
    -------
    entropy : float or None
        In ``[0, 1]``; 1.0 for a single unit; None if all ``p_j`` are 0.

    Example
    -------
    >>> normalized_entropy([0.5, 0.5, 0.5, 0.5])
    1.0
    >>> normalized_entropy([0.0, 0.0, 1.0, 0.0])
    0.0
    >>> round(normalized_entropy([0.0, 0.5, 0.0, 1.0]), 6)  # H(1/3, 2/3)/log 4
    0.459148
    """
    p = torch.as_tensor(prob, dtype=torch.float64).flatten()
    total = float(p.sum())
    if p.numel() == 0 or total <= 0.0:
        return None
    if p.numel() == 1:
        return 1.0
    q = p[p > 0] / total
    value = float(-(q * q.log()).sum() / math.log(p.numel()))
    return min(1.0, max(0.0, value))  # rounding; also turns -0.0 into 0.0


def gini_coefficient(prob):
    """Gini coefficient of activation probabilities (0 = perfectly even).

    ``G = sum_i (2 i - n - 1) p_(i) / (n sum_j p_j)`` with ``p_(i)`` sorted
    ascending, ``i = 1..n``.

    Arguments
    ---------
    prob : torch.Tensor or sequence of float
        Activation probabilities ``p_j >= 0``.

    Returns
    -------
    gini : float or None
        In ``[0, (n - 1) / n]``; None if all ``p_j`` are 0.

    Example
    -------
    >>> gini_coefficient([0.3, 0.3, 0.3])
    0.0
    >>> gini_coefficient([0.0, 0.0, 0.0, 1.0])
    0.75
    """
    p = torch.as_tensor(prob, dtype=torch.float64).flatten()
    total = float(p.sum())
    if p.numel() == 0 or total <= 0.0:
        return None
    n = p.numel()
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    sorted_p = torch.sort(p).values
    return float(((2 * ranks - n - 1) * sorted_p).sum() / (n * total))
