"""Kaldi's triphone decision-tree building, ported to Python.

kaldi-hmm-gmm ("khg") has Kaldi's ``ContextDependency`` (the ``tree``),
but not the programs that build one.  This module ports them:

* :func:`accumulate_tree_stats` is ``acc-tree-stats`` (``tree-accu.cc``):
  one Gaussian's statistics per phone-in-context event;
* :func:`make_questions` is ``cluster-phones`` (top-down clustering of the
  phone sets, ``AutomaticallyObtainQuestions``) plus the extra questions;
* :func:`build_tree` is ``compile-questions`` + ``build-tree``
  (``BuildTree``: stub map from the roots, greedy likelihood splits,
  bottom-up merging of leaves within each root, rounding of the number of
  leaves to a multiple of 8, renumbering);
* :func:`write_tree` / :func:`read_tree` write and read Kaldi's ``tree``
  file (binary or text) byte for byte as Kaldi does.

Events are tuples of ``(key, value)`` pairs sorted by key, as Kaldi's
``EventType``: key ``-1`` is the pdf-class, keys ``0 .. N-1`` the phones of
the context window (``0`` = no phone, at utterance edges).  Trees are held
as nested lists (``["CE", leaf]``, ``["TE", key, [child or None, ...]]``,
``["SE", key, yes_values, yes_child, no_child]``), Kaldi's
``ConstantEventMap`` / ``TableEventMap`` / ``SplitEventMap``, and become a
``khg.ContextDependency`` through its pickle state (Kaldi's binary form).

Differences from Kaldi, all deliberate: a question whose "yes" or "no"
side has no data (or less than ``min_count`` frames) is never chosen
(Kaldi could pick one on round-off); ``cluster-phones``' k-means uses a
seeded NumPy generator instead of Kaldi's ``Rand()``; question refinement
(``compile-questions --num-iters-refine``, 0 by default) is not ported.

Authors
 * sb_rectifier developers 2026
"""

import heapq
import math
import os
import struct
from collections import namedtuple

import numpy as np

from sb_rectifier.files import atomic_write

PDF_CLASS = -1
_LOG_2PI = math.log(2.0 * math.pi)

GaussStats = namedtuple("GaussStats", ["count", "x", "x2"])
GaussStats.__doc__ = """Gaussian sufficient statistics of one event.

Arguments
---------
count : float
    Number of frames.
x : numpy.ndarray
    Sum of the feature vectors (float64, ``(D,)``).
x2 : numpy.ndarray
    Sum of their squares (float64, ``(D,)``).
"""


# ---------------------------------------------------------------------------
# Transition-model helpers (khg exposes per-id lookups, not the tuples)
# ---------------------------------------------------------------------------


def transition_tuples(trans_model):
    """The ``(phone, hmm_state, forward_pdf, self_loop_pdf)`` tuples of a model.

    Read from Kaldi's text form of the khg ``TransitionModel``
    (``<Triples>`` or ``<Tuples>``), in transition-state order (state
    ``s`` is ``tuples[s - 1]``).

    Arguments
    ---------
    trans_model : kaldi_hmm_gmm.TransitionModel
        The model.

    Returns
    -------
    list of tuple
        One 4-tuple per transition state.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> topo = khg.HmmTopology()
    >>> topo.read(_TOPO_3STATE.format(phones="1 2"))
    >>> ctx = khg.monophone_context_dependency([1, 2], [0, 3, 3])
    >>> transition_tuples(khg.TransitionModel(ctx, topo))[:2]
    [(1, 0, 0, 0), (1, 1, 1, 1)]
    """
    tokens = str(trans_model).split()
    for name, width in (("<Triples>", 3), ("<Tuples>", 4)):
        if name in tokens:
            i = tokens.index(name)
            n = int(tokens[i + 1])
            vals = [int(t) for t in tokens[i + 2 : i + 2 + width * n]]
            rows = [tuple(vals[k * width : (k + 1) * width]) for k in range(n)]
            if width == 3:
                rows = [(p, h, f, f) for p, h, f in rows]
            return rows
    raise ValueError("transition model has neither <Triples> nor <Tuples>")


class _TidInfo:
    """Per-transition-id lookup arrays of a khg ``TransitionModel``."""

    def __init__(self, trans_model):
        self.model = trans_model
        self.tuples = transition_tuples(trans_model)
        n = trans_model.num_transition_ids
        self.num_tids = n
        self.tid2tstate = np.asarray(trans_model.id2state, dtype=np.int64)
        self.tstate2first = np.asarray(trans_model.state2id, dtype=np.int64)
        tup = np.asarray([(0, 0, -1, -1)] + self.tuples, dtype=np.int64)
        ts = self.tid2tstate
        self.tid2phone = tup[ts, 0]
        self.tid2hmm_state = tup[ts, 1]
        self.tid_is_self_loop = np.zeros(n + 1, dtype=bool)
        self.tid_is_final = np.zeros(n + 1, dtype=bool)
        self.tid2trans_index = np.zeros(n + 1, dtype=np.int64)
        self.tid2pdf_class = np.full(n + 1, -1, dtype=np.int64)
        self.tid2fwd_class = np.full(n + 1, -1, dtype=np.int64)
        self.tid2loop_class = np.full(n + 1, -1, dtype=np.int64)
        topo = trans_model.topo
        entries = {}
        for tid in range(1, n + 1):
            self.tid_is_self_loop[tid] = trans_model.is_self_loop(tid)
            self.tid_is_final[tid] = trans_model.is_final(tid)
            self.tid2trans_index[tid] = tid - self.tstate2first[ts[tid]]
            phone = int(self.tid2phone[tid])
            if phone not in entries:
                entries[phone] = topo.topology_for_phone(phone)
            state = entries[phone][int(self.tid2hmm_state[tid])]
            self.tid2fwd_class[tid] = state.forward_pdf_class
            self.tid2loop_class[tid] = state.self_loop_pdf_class
            self.tid2pdf_class[tid] = (
                state.self_loop_pdf_class
                if self.tid_is_self_loop[tid]
                else state.forward_pdf_class
            )

    def check(self, tids, utt):
        tids = np.asarray(tids)
        if tids.ndim != 1:
            raise ValueError(f"utterance {utt}: alignment is not a 1-D vector")
        if tids.size and (tids.min() < 1 or tids.max() > self.num_tids):
            raise ValueError(
                f"utterance {utt}: transition-id out of range 1..{self.num_tids}"
            )
        return tids.astype(np.int64)

    def split_to_phones(self, tids, utt):
        """Kaldi's ``SplitToPhones``: (start, end) frames of each phone."""
        tids = self.check(tids, utt)
        n = len(tids)
        if n == 0:
            return np.zeros((0, 2), dtype=np.int64)
        ts = self.tid2tstate[tids]
        loop = self.tid_is_self_loop[tids]
        change = np.nonzero(ts[1:] != ts[:-1])[0]
        # Kaldi's IsReordered: decided at the first change of transition
        # state that involves a self-loop (a change between two forward
        # transitions, as in a phone of one frame per state, says nothing)
        before, after = loop[change], loop[change + 1]
        if np.any(before & after):
            raise ValueError(
                f"utterance {utt}: invalid alignment (two self-loops of "
                "different transition states follow each other)"
            )
        decisive = np.nonzero(before | after)[0]
        if len(decisive):
            reordered = bool(before[decisive[0]])
        else:
            reordered = bool(loop[-1]) and not bool(loop[0])
        final = self.tid_is_final[tids]
        ends = np.nonzero(final)[0]
        if reordered and len(ends):
            # a phone ends after the self-loops that follow its final tid
            nxt = np.ones(n, dtype=bool)
            nxt[:-1] = ~(loop[1:] & (ts[1:] == ts[:-1]))
            stop = np.nonzero(nxt)[0]
            ends = stop[np.searchsorted(stop, ends)]
            ends = np.unique(ends)
        ends = ends + 1
        if len(ends) == 0 or ends[-1] != n:
            raise ValueError(
                f"utterance {utt}: alignment does not end at the end of a phone"
            )
        starts = np.concatenate([[0], ends[:-1]])
        phones = self.tid2phone[tids]
        # every frame of a phone must belong to the same phone
        seg = np.repeat(np.arange(len(starts)), ends - starts)
        if np.any(phones != phones[starts][seg]):
            raise ValueError(
                f"utterance {utt}: phone changes inside a phone's HMM "
                "(bad alignment)"
            )
        # a phone must start in its HMM's first state, not in a self-loop
        if np.any(self.tid2hmm_state[tids[starts]] != 0):
            raise ValueError(
                f"utterance {utt}: a phone does not start in HMM state 0"
            )
        return np.stack([starts, ends], axis=1)


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------


def accumulate_tree_stats(
    feats,
    alignments,
    trans_model,
    context_width=3,
    central_position=1,
    ci_phones=(),
):
    """Kaldi's ``acc-tree-stats``: Gaussian stats per phone-in-context event.

    Arguments
    ---------
    feats : dict
        Utterance id -> float32 features ``(T, D)``.
    alignments : dict
        Utterance id -> transition-ids ``(T,)`` (of ``trans_model``).
        Every utterance of ``alignments`` must have features.
    trans_model : kaldi_hmm_gmm.TransitionModel
        The model of the alignments.
    context_width : int
        ``N``, the phone-context window (3: triphones).
    central_position : int
        ``P``, the central phone's position in the window.
    ci_phones : sequence of int
        Context-independent phones: their events keep only the central
        phone and the pdf-class (Kaldi's ``--ci-phones``).

    Returns
    -------
    dict
        Event tuple, e.g. ``((-1, 1), (0, 4), (1, 7), (2, 0))``, ->
        :class:`GaussStats`.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> topo = khg.HmmTopology()
    >>> topo.read(_TOPO_3STATE.format(phones="1 2"))
    >>> tm = khg.TransitionModel(
    ...     khg.monophone_context_dependency([1, 2], [0, 3, 3]), topo
    ... )
    >>> ali = np.array([1, 2, 4, 5, 6, 8, 10, 12])  # phone 1 then phone 2
    >>> x = np.arange(8, dtype=np.float32)[:, None]
    >>> stats = accumulate_tree_stats({"u": x}, {"u": ali}, tm)
    >>> stats[((-1, 2), (0, 0), (1, 1), (2, 2))]
    GaussStats(count=2.0, x=array([7.]), x2=array([25.]))
    """
    n_ctx, pos = int(context_width), int(central_position)
    if n_ctx < 1 or not 0 <= pos < n_ctx:
        raise ValueError(
            f"invalid context_width={context_width}, "
            f"central_position={central_position}"
        )
    ci = np.asarray(sorted({int(p) for p in ci_phones}), dtype=np.int64)
    if len(ci) and ci[0] <= 0:
        raise ValueError(f"invalid ci_phones {list(ci_phones)}: must be > 0")
    info = _TidInfo(trans_model)
    rows, mats = [], []
    dim = None
    for utt, tids in alignments.items():
        if utt not in feats:
            raise ValueError(f"utterance {utt}: alignment but no features")
        mat = np.asarray(feats[utt])
        if mat.ndim != 2:
            raise ValueError(f"utterance {utt}: features are not a matrix")
        if dim is None:
            dim = mat.shape[1]
        elif mat.shape[1] != dim:
            raise ValueError(
                f"utterance {utt}: feature dimension {mat.shape[1]} != {dim}"
            )
        tids = info.check(tids, utt)
        if len(tids) != len(mat):
            raise ValueError(
                f"utterance {utt}: {len(mat)} feature frames but "
                f"{len(tids)} in the alignment"
            )
        if len(tids) == 0:
            continue
        seg_bounds = info.split_to_phones(tids, utt)
        phones = info.tid2phone[tids[seg_bounds[:, 0]]]
        n_ph = len(phones)
        seg = np.repeat(np.arange(n_ph), seg_bounds[:, 1] - seg_bounds[:, 0])
        ev = np.empty((len(tids), n_ctx + 1), dtype=np.int64)
        ev[:, 0] = info.tid2pdf_class[tids]
        padded = np.concatenate(
            [np.zeros(pos, np.int64), phones, np.zeros(n_ctx - pos, np.int64)]
        )
        for j in range(n_ctx):
            ev[:, j + 1] = padded[seg + j]
        if len(ci):
            is_ci = np.isin(phones, ci)[seg]
            for j in range(n_ctx):
                if j != pos:
                    ev[is_ci, j + 1] = -1  # key absent
        rows.append(ev)
        mats.append(mat.astype(np.float64))
    if not rows:
        return {}
    ev = np.concatenate(rows)
    x = np.concatenate(mats)
    uniq, inv = np.unique(ev, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv, minlength=len(uniq))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    xs = x[order]
    sum_x = np.add.reduceat(xs, starts, axis=0)
    sum_x2 = np.add.reduceat(xs * xs, starts, axis=0)
    stats = {}
    for u in range(len(uniq)):
        row = uniq[u]
        event = ((PDF_CLASS, int(row[0])),) + tuple(
            (j, int(row[j + 1])) for j in range(n_ctx) if row[j + 1] >= 0
        )
        stats[event] = GaussStats(float(counts[u]), sum_x[u], sum_x2[u])
    return stats


class _StatsTable:
    """Stats as arrays: event values per key, counts, sums, sums of squares."""

    def __init__(self, stats):
        if not stats:
            raise ValueError("no tree statistics (empty stats)")
        self.events = list(stats.keys())
        keys = sorted({k for ev in self.events for k, _ in ev})
        self.keys = keys
        self.col = {k: i for i, k in enumerate(keys)}
        n = len(self.events)
        self.values = np.full((n, len(keys)), -1, dtype=np.int64)
        first = next(iter(stats.values()))
        dim = len(np.asarray(first.x))
        self.count = np.empty(n)
        self.x = np.empty((n, dim))
        self.x2 = np.empty((n, dim))
        for i, (ev, st) in enumerate(stats.items()):
            for k, v in ev:
                if v < 0:
                    raise ValueError(f"event {ev}: negative value")
                self.values[i, self.col[k]] = v
            x, x2 = np.asarray(st.x), np.asarray(st.x2)
            if x.shape != (dim,) or x2.shape != (dim,):
                raise ValueError(f"event {ev}: stats dimension != {dim}")
            self.count[i] = st.count
            self.x[i] = x
            self.x2[i] = x2
        self.dim = dim

    def column(self, key, rows=None):
        """Values of ``key`` (``-1`` where absent)."""
        if key not in self.col:
            n = len(self.events) if rows is None else len(rows)
            return np.full(n, -1, dtype=np.int64)
        c = self.values[:, self.col[key]]
        return c if rows is None else c[rows]


def gauss_objf(count, x, x2, var_floor=0.01):
    """Kaldi's ``GaussClusterable::Objf`` for one or many clusters.

    Arguments
    ---------
    count : float or numpy.ndarray
        Frame counts, shape ``(...)``.
    x, x2 : numpy.ndarray
        Sums and sums of squares, shape ``(..., D)``.
    var_floor : float
        Variance floor (Kaldi's ``acc-tree-stats --var-floor``, 0.01).

    Returns
    -------
    float or numpy.ndarray
        Log-likelihood of the data under its own ML Gaussian (0 where the
        count is not positive).

    Example
    -------
    >>> round(float(gauss_objf(2.0, np.array([0.0]), np.array([2.0]))), 4)
    -2.8379
    """
    count = np.asarray(count, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    x2 = np.asarray(x2, dtype=np.float64)
    safe = np.where(count > 0, count, 1.0)
    mean = x / safe[..., None]
    var = x2 / safe[..., None] - mean * mean
    floored = np.maximum(var, var_floor)
    dim = x.shape[-1]
    per_frame = -0.5 * np.sum(var / floored, axis=-1) - 0.5 * (
        np.sum(np.log(floored), axis=-1) + _LOG_2PI * dim
    )
    out = np.where(count > 0, per_frame * count, 0.0)
    return out if out.ndim else float(out)


# ---------------------------------------------------------------------------
# Questions (cluster-phones + compile-questions)
# ---------------------------------------------------------------------------


def _kmeans2(cnt, x, x2, var_floor, rng, num_tries, num_iters):
    """ClusterKMeans with 2 clusters; returns (improvement, assignments)."""
    n = len(cnt)
    tot = gauss_objf(cnt.sum(), x.sum(0), x2.sum(0), var_floor)
    best = (-np.inf, None)
    for _ in range(num_tries):
        skip = 1 if n == 1 else 1 + int(rng.integers(0, n - 1))
        while math.gcd(skip, n) != 1:
            skip = 0 if skip == n - 1 else skip
            skip += 1
        assign = np.empty(n, dtype=np.int64)
        for count_, i in enumerate((np.arange(n) * skip) % n):
            assign[i] = count_ % 2
        for _ in range(num_iters):
            moved = False
            for i in range(n):  # RefineClusters: move point to best cluster
                c = np.array([cnt[assign == k].sum() for k in (0, 1)])
                sx = np.stack([x[assign == k].sum(0) for k in (0, 1)])
                sx2 = np.stack([x2[assign == k].sum(0) for k in (0, 1)])
                a = assign[i]
                b = 1 - a
                if np.sum(assign == a) == 1:
                    continue
                before = gauss_objf(c, sx, sx2, var_floor).sum()
                c[a] -= cnt[i]
                c[b] += cnt[i]
                sx[a] -= x[i]
                sx[b] += x[i]
                sx2[a] -= x2[i]
                sx2[b] += x2[i]
                after = gauss_objf(c, sx, sx2, var_floor).sum()
                if after > before + 1e-9 * abs(before):
                    assign[i] = b
                    moved = True
            if not moved:
                break
        c = np.array([cnt[assign == k].sum() for k in (0, 1)])
        sx = np.stack([x[assign == k].sum(0) for k in (0, 1)])
        sx2 = np.stack([x2[assign == k].sum(0) for k in (0, 1)])
        impr = gauss_objf(c, sx, sx2, var_floor).sum() - tot
        if impr > best[0]:
            best = (impr, assign.copy())
    return best


def make_questions(
    stats,
    sets,
    extra_questions=(),
    num_iters=20,
    central_position=1,
    pdf_classes=(1,),
    num_tries=10,
    var_floor=0.01,
    seed=0,
):
    """Kaldi's ``cluster-phones`` plus the extra questions.

    The phone sets are clustered top-down (binary splits by 2-means on the
    pooled stats of the central phone, always splitting the cluster with
    the best likelihood gain, as Kaldi's ``TreeCluster``); every cluster of
    that tree (top-level first, then the input sets themselves) becomes a
    question, then ``extra_questions`` are appended (as
    ``train_deltas.sh`` appends ``extra_questions.int``).

    Arguments
    ---------
    stats : dict
        From :func:`accumulate_tree_stats`.
    sets : sequence of sequence of int
        Phone sets (``phones/sets.int``: one set per base phone).
    extra_questions : sequence of sequence of int
        Appended as they are (e.g. ``extra_questions.int``).
    num_iters : int
        Refinement iterations per k-means try (Kaldi: 20).
    central_position : int
        ``P`` of the stats.
    pdf_classes : sequence of int
        Pdf-classes whose stats are used (Kaldi's ``--pdf-class-list``,
        default the central state of a 3-state HMM).
    num_tries : int
        k-means restarts per split (Kaldi's cluster-phones: 10).
    var_floor : float
        Gaussian variance floor.
    seed : int
        Seed of the k-means initialisations.

    Returns
    -------
    list of list of int
        The questions (sorted phone sets, no duplicates of the clustering's
        sets; extra questions kept as given, sorted).

    Example
    -------
    >>> g = lambda m: GaussStats(
    ...     10.0, np.array([10.0 * m]), np.array([10.0 * m * m + 10])
    ... )
    >>> stats = {
    ...     ((-1, 1), (0, 0), (1, p), (2, 0)): g(m)
    ...     for p, m in [(1, 0.0), (2, 0.1), (3, 5.0), (4, 5.2)]
    ... }
    >>> make_questions(stats, [[1], [2], [3], [4]], extra_questions=[[1, 3]])
    [[1, 2, 3, 4], [3, 4], [1, 2], [2], [4], [1], [3], [1, 3]]
    """
    phone_sets = []
    for s in sets:
        s = sorted(int(p) for p in s)
        if not s:
            raise ValueError("empty phone set in make_questions")
        if len(set(s)) != len(s):
            raise ValueError(f"phone set {s} contains duplicate phones")
        phone_sets.append(s)
    all_phones = [p for s in phone_sets for p in s]
    if not all_phones:
        raise ValueError("make_questions: no phone sets")
    if len(set(all_phones)) != len(all_phones):
        raise ValueError("make_questions: a phone is in more than one set")
    table = _StatsTable(stats)
    pc = table.column(PDF_CLASS)
    keep = np.isin(pc, np.asarray(sorted(set(pdf_classes))))
    centre = table.column(central_position)
    if np.any(centre[keep] < 0):
        raise ValueError(
            f"make_questions: stats lack key {central_position} "
            "(central_position mismatch?)"
        )
    nset = len(phone_sets)
    cnt = np.zeros(nset)
    x = np.zeros((nset, table.dim))
    x2 = np.zeros((nset, table.dim))
    phone2set = {p: i for i, s in enumerate(phone_sets) for p in s}
    for r in np.nonzero(keep)[0]:
        i = phone2set.get(int(centre[r]))
        if i is None:
            continue
        cnt[i] += table.count[r]
        x[i] += table.x[r]
        x2[i] += table.x2[r]
    rng = np.random.default_rng(seed)
    # TreeCluster: nodes are lists of set indices; leaves split best-first
    leaf_nodes = [list(range(nset))]  # leaf index -> member set indices
    nonleaf = []  # members of split nodes, in order of splitting
    heap = []

    def consider(leaf):
        members = leaf_nodes[leaf]
        if len(members) <= 1:
            return
        m = np.asarray(members)
        impr, assign = _kmeans2(
            cnt[m], x[m], x2[m], var_floor, rng, num_tries, num_iters
        )
        if impr > 0 and assign is not None and 0 < assign.sum() < len(m):
            heapq.heappush(
                heap, (-impr, leaf, [m[assign == k] for k in (0, 1)])
            )

    consider(0)
    while heap and len(leaf_nodes) < nset:
        _, leaf, (first, second) = heapq.heappop(heap)
        nonleaf.append(leaf_nodes[leaf])
        leaf_nodes[leaf] = [int(i) for i in first]
        leaf_nodes.append([int(i) for i in second])
        consider(leaf)
        consider(len(leaf_nodes) - 1)
    # Output order as Kaldi's ObtainSetsOfPhones: leaves, then non-leaves
    # numbered backwards, the whole list reversed (top-level first).
    num_leaves, num_nonleaf = len(leaf_nodes), len(nonleaf)
    raw = [None] * (num_leaves + num_nonleaf)
    for i, members in enumerate(leaf_nodes):
        raw[i] = members
    for j, members in enumerate(nonleaf):
        raw[num_leaves + num_nonleaf - 1 - j] = members
    raw_sets = [
        sorted(p for i in members for p in phone_sets[i]) for members in raw
    ]
    raw_sets = raw_sets[::-1] + phone_sets
    out, seen = [], set()
    for s in raw_sets:
        if s and tuple(s) not in seen:
            seen.add(tuple(s))
            out.append(s)
    for q in extra_questions:
        q = sorted(int(p) for p in q)
        if not q:
            raise ValueError("empty extra question")
        out.append(q)
    return out


def compile_questions(questions, topo, context_width=3):
    """Kaldi's ``compile-questions``: questions per key.

    Phone questions go to every context position ``0 .. N-1``; key ``-1``
    (pdf-class) gets ``{0}, {0,1}, ..., {0..M-2}`` with ``M`` the largest
    number of pdf-classes of a phone in ``topo``.

    Arguments
    ---------
    questions : sequence of sequence of int
        Phone sets; duplicates are removed (after sorting).
    topo : kaldi_hmm_gmm.HmmTopology
        The topology; every phone of a question must be in it.
    context_width : int
        ``N``.

    Returns
    -------
    dict
        Key -> list of sorted value lists.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> topo = khg.HmmTopology()
    >>> topo.read(_TOPO_3STATE.format(phones="1 2"))
    >>> compile_questions([[2, 1], [1]], topo, context_width=1)
    {0: [[1], [1, 2]], -1: [[0], [0, 1]]}
    """
    topo_phones = set(topo.phones)
    qs = []
    for q in questions:
        s = sorted(int(p) for p in q)
        if len(set(s)) != len(s):
            raise ValueError(f"question {s} contains duplicate phones")
        bad = [p for p in s if p not in topo_phones]
        if bad:
            raise ValueError(f"question {s}: phones {bad} not in the topology")
        qs.append(s)
    qs = [list(t) for t in sorted({tuple(q) for q in qs})]
    num_classes = topo.get_phone_to_num_pdf_classes()
    max_classes = max(num_classes[p] for p in topo.phones)
    out = {n: [list(q) for q in qs] for n in range(context_width)}
    out[PDF_CLASS] = [list(range(i + 1)) for i in range(max_classes - 1)]
    return out


# ---------------------------------------------------------------------------
# Event maps
# ---------------------------------------------------------------------------


def map_event(tree, event):
    """Evaluates an event map (Kaldi's ``EventMap::Map``) in Python.

    Arguments
    ---------
    tree : list
        Nested-list event map.
    event : sequence of (int, int)
        ``(key, value)`` pairs.

    Returns
    -------
    int or None
        The leaf, or None where the map has no answer.

    Example
    -------
    >>> tree = ["SE", 1, [3, 4], ["CE", 0], ["CE", 1]]
    >>> map_event(tree, [(-1, 0), (1, 4)]), map_event(tree, [(1, 2)])
    (0, 1)
    """
    ev = dict(event)
    node = tree
    while True:
        kind = node[0]
        if kind == "CE":
            return node[1]
        val = ev.get(node[1])
        if val is None:
            return None
        if kind == "TE":
            if val < 0 or val >= len(node[2]) or node[2][val] is None:
                return None
            node = node[2][val]
        else:
            node = node[3] if val in node[2] else node[4]


def _map_rows(tree, table, rows):
    """Leaf of each stats row (vectorised over rows)."""
    out = np.full(len(rows), -1, dtype=np.int64)

    def walk(node, idx):
        if len(idx) == 0:
            return
        if node is None:
            return
        kind = node[0]
        if kind == "CE":
            out[idx] = node[1]
            return
        vals = table.column(node[1], rows[idx])
        if kind == "TE":
            for v in np.unique(vals):
                if 0 <= v < len(node[2]):
                    walk(node[2][v], idx[vals == v])
        else:
            present = vals >= 0
            yes = np.isin(vals, np.asarray(node[2], dtype=np.int64)) & present
            walk(node[3], idx[yes])
            walk(node[4], idx[present & ~yes])

    walk(tree, np.arange(len(rows)))
    return out


def _leaves(tree):
    """All leaf nodes (the ``["CE", x]`` lists) of a tree."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if node[0] == "CE":
            out.append(node)
        elif node[0] == "TE":
            stack.extend(node[2])
        else:
            stack.extend([node[3], node[4]])
    return out


def _copy(tree):
    if tree is None:
        return None
    if tree[0] == "CE":
        return ["CE", tree[1]]
    if tree[0] == "TE":
        return ["TE", tree[1], [_copy(c) for c in tree[2]]]
    return ["SE", tree[1], list(tree[2]), _copy(tree[3]), _copy(tree[4])]


def _stub_map(pos, phone_sets, num_classes, shared, counter):
    """Kaldi's ``GetStubMap``."""
    if len(phone_sets) == 1:
        if shared[0]:
            counter[0] += 1
            return ["CE", counter[0] - 1]
        lengths = []
        for p in phone_sets[0]:
            if p >= len(num_classes) or num_classes[p] <= 0:
                raise ValueError(
                    f"phone {p} of the roots is not in the topology"
                )
            lengths.append(num_classes[p])
        table = []
        for _ in range(max(lengths)):
            table.append(["CE", counter[0]])
            counter[0] += 1
        return ["TE", PDF_CLASS, table]
    max_size = max(len(s) for s in phone_sets)
    highest = max(max(s) for s in phone_sets)
    if max_size == 1 and len(phone_sets) <= 2 * highest:
        table = [None] * (highest + 1)
        for s, sh in zip(phone_sets, shared, strict=True):
            table[s[0]] = _stub_map(pos, [s], num_classes, [sh], counter)
        return ["TE", pos, table]
    half = len(phone_sets) // 2
    first = _stub_map(
        pos, phone_sets[:half], num_classes, shared[:half], counter
    )
    second = _stub_map(
        pos, phone_sets[half:], num_classes, shared[half:], counter
    )
    yes = sorted(p for s in phone_sets[:half] for p in s)
    return ["SE", pos, yes, first, second]


# ---------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------


class _Splitter:
    """Finds the best question of a leaf (Kaldi's ``FindBestSplit``)."""

    def __init__(self, table, questions, var_floor, min_count):
        self.table = table
        self.var_floor = var_floor
        self.min_count = min_count
        self.keys = sorted(k for k in questions if questions[k])
        vmax = int(max(table.values.max(), 0)) + 1
        self.vmax = vmax
        self.qmat = {}
        self.qsets = {}
        for k in self.keys:
            m = np.zeros((len(questions[k]), vmax))
            for qi, q in enumerate(questions[k]):
                vals = [v for v in q if 0 <= v < vmax]
                m[qi, vals] = 1.0
            self.qmat[k] = m
            self.qsets[k] = [sorted(q) for q in questions[k]]

    def best(self, rows):
        """(gain, key, yes_set) of the best split of ``rows`` (gain 0: none)."""
        t = self.table
        best = (0.0, None, None)
        if len(rows) <= 1:
            return best
        cnt, x, x2 = t.count[rows], t.x[rows], t.x2[rows]
        tot_c, tot_x, tot_x2 = cnt.sum(), x.sum(0), x2.sum(0)
        unsplit = gauss_objf(tot_c, tot_x, tot_x2, self.var_floor)
        for k in self.keys:
            vals = t.column(k, rows)
            if np.any(vals < 0):
                continue  # key not always defined
            vc = np.bincount(vals, weights=cnt, minlength=self.vmax)
            vx = np.zeros((self.vmax, t.dim))
            vx2 = np.zeros((self.vmax, t.dim))
            np.add.at(vx, vals, x)
            np.add.at(vx2, vals, x2)
            q = self.qmat[k]
            yc, yx, yx2 = q @ vc, q @ vx, q @ vx2
            nc, nx, nx2 = tot_c - yc, tot_x - yx, tot_x2 - yx2
            gain = (
                gauss_objf(yc, yx, yx2, self.var_floor)
                + gauss_objf(nc, nx, nx2, self.var_floor)
                - unsplit
            )
            ok = (yc > 1e-9 * tot_c) & (nc > 1e-9 * tot_c)
            ok &= (yc >= self.min_count) & (nc >= self.min_count)
            gain = np.where(ok, gain, 0.0)
            i = int(np.argmax(gain))
            if gain[i] > best[0]:
                best = (float(gain[i]), k, self.qsets[k][i])
        return best


def _bottom_up(compartments, thresh, min_clust):
    """Kaldi's (compartmentalized) bottom-up clustering.

    ``compartments``: list of (count, x, x2) arrays.  Returns (change,
    assignments per compartment, Kaldi's cluster numbering).
    """
    var_floor = _bottom_up.var_floor
    heap = []
    state = []
    nclusters = 0
    for comp, (c, x, x2) in enumerate(compartments):
        c, x, x2 = c.copy(), x.copy(), x2.copy()
        n = len(c)
        nclusters += n
        obj = gauss_objf(c, x, x2, var_floor)
        dist = np.full((n, n), np.nan)
        for i in range(1, n):
            d = (
                obj[i]
                + obj[:i]
                - gauss_objf(
                    c[i] + c[:i], x[i] + x[:i], x2[i] + x2[:i], var_floor
                )
            )
            dist[i, :i] = d
            for j in np.nonzero(d <= thresh)[0]:
                heap.append((float(d[j]), comp, i, int(j)))
        state.append(
            {
                "c": c,
                "x": x,
                "x2": x2,
                "obj": obj,
                "dist": dist,
                "alive": np.ones(n, dtype=bool),
                "assign": np.arange(n),
            }
        )
    heapq.heapify(heap)
    change = 0.0
    while nclusters > min_clust and heap:
        d, comp, i, j = heapq.heappop(heap)
        s = state[comp]
        if not (s["alive"][i] and s["alive"][j]):
            continue
        cached = s["dist"][i, j]
        if abs(cached - d) > 1e-5 * abs(d):
            continue
        s["c"][i] += s["c"][j]
        s["x"][i] += s["x"][j]
        s["x2"][i] += s["x2"][j]
        s["alive"][j] = False
        s["assign"][j] = i
        change -= cached
        nclusters -= 1
        c, x, x2 = s["c"], s["x"], s["x2"]
        s["obj"][i] = gauss_objf(c[i], x[i], x2[i], var_floor)
        others = np.nonzero(s["alive"])[0]
        others = others[others != i]
        if len(others):
            dd = (
                s["obj"][i]
                + s["obj"][others]
                - gauss_objf(
                    c[i] + c[others],
                    x[i] + x[others],
                    x2[i] + x2[others],
                    var_floor,
                )
            )
            for k, dk in zip(others, dd, strict=True):
                a, b = (i, int(k)) if k < i else (int(k), i)
                s["dist"][a, b] = dk
                if dk < thresh:
                    heapq.heappush(heap, (float(dk), comp, a, b))
    assignments = []
    for s in state:
        n = len(s["c"])
        survivors = np.nonzero(s["alive"])[0]
        number = {int(v): k for k, v in enumerate(survivors)}
        out = np.empty(n, dtype=np.int64)
        for p in range(n):
            q = p
            while s["assign"][q] != q:
                q = s["assign"][q]
            out[p] = number[int(q)]
        assignments.append(out)
    return change, assignments


_bottom_up.var_floor = 0.01


def _leaf_sums(table, leaf_of_row, rows):
    """Sorted leaves present in ``rows`` and their summed stats."""
    leaves = leaf_of_row[rows]
    uniq, inv = np.unique(leaves, return_inverse=True)
    inv = inv.reshape(-1)
    c = np.bincount(inv, weights=table.count[rows], minlength=len(uniq))
    x = np.zeros((len(uniq), table.dim))
    x2 = np.zeros((len(uniq), table.dim))
    np.add.at(x, inv, table.x[rows])
    np.add.at(x2, inv, table.x2[rows])
    return uniq, (c, x, x2)


def _relabel(tree, mapping):
    for leaf in _leaves(tree):
        if leaf[1] in mapping:
            leaf[1] = mapping[leaf[1]]


def _objf_given_map(table, tree):
    leaf = _map_rows(tree, table, np.arange(len(table.events)))
    _, (c, x, x2) = _leaf_sums(table, leaf, np.arange(len(table.events)))
    return float(np.sum(gauss_objf(c, x, x2, _bottom_up.var_floor)))


def build_tree(
    stats,
    roots,
    questions,
    topo,
    num_leaves,
    cluster_thresh=-1.0,
    min_count=0.0,
    thresh=300.0,
    round_num_leaves=True,
    context_width=3,
    central_position=1,
    var_floor=0.01,
):
    """Kaldi's ``build-tree`` (``BuildTree``) on tree stats.

    Arguments
    ---------
    stats : dict
        From :func:`accumulate_tree_stats`.
    roots : sequence of (phones, shared, split)
        As ``roots.txt``: each entry's phones share one tree root;
        ``shared``: its pdf-classes share the root too; ``split``: the
        root may be split by questions.
    questions : sequence of sequence of int
        Phone questions (from :func:`make_questions`); compiled per key by
        :func:`compile_questions` (pdf-class questions from ``topo``).
    topo : kaldi_hmm_gmm.HmmTopology
        The HMM topology.
    num_leaves : int
        Maximum number of leaves (``--max-leaves``), > 0.
    cluster_thresh : float
        Merge leaves of the same root while the likelihood loss is below
        this; negative (default): the gain of the smallest split; 0: no
        merging.
    min_count : float
        A question is only used if both its sides have at least this many
        frames (0, default: Kaldi's behaviour).
    thresh : float
        Minimum likelihood gain of a split (Kaldi's ``--thresh``, 300).
    round_num_leaves : bool
        Merge leaves down to a multiple of 8 (Kaldi's default).
    context_width, central_position : int
        ``N`` and ``P`` of the stats.
    var_floor : float
        Gaussian variance floor.

    Returns
    -------
    tuple
        ``(ctx_dep, info)``: a ``khg.ContextDependency`` and a dict with
        ``num_leaves``, ``num_stub_leaves`` (leaves of the roots alone: when
        ``num_leaves`` is not above it, nothing is split, as in Kaldi), ``tree`` (nested-list event map),
        ``likelihood_gain`` (total gain of the splits), ``num_splits``,
        ``splits_per_key`` (key -> count), ``smallest_split``,
        ``num_removed`` (leaves merged), ``objf_change_clustering``.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> topo = khg.HmmTopology()
    >>> topo.read(_TOPO_1STATE.format(phones="1 2"))
    >>> g = lambda m: GaussStats(
    ...     100.0, np.array([100.0 * m]), np.array([100.0 * m * m + 100])
    ... )
    >>> stats = {
    ...     ((-1, 0), (0, l), (1, 1), (2, 0)): g(m)
    ...     for l, m in [(1, 0.0), (2, 8.0)]
    ... }
    >>> stats[((-1, 0), (0, 0), (1, 2), (2, 0))] = g(0.0)
    >>> ctx, info = build_tree(
    ...     stats,
    ...     [([1], False, True), ([2], False, True)],
    ...     [[1], [2]],
    ...     topo,
    ...     num_leaves=3,
    ...     thresh=1.0,
    ...     cluster_thresh=0,
    ...     round_num_leaves=False,
    ... )
    >>> info["num_leaves"], info["splits_per_key"]
    (3, {0: 1})
    """
    n_ctx, pos = int(context_width), int(central_position)
    if num_leaves is None or int(num_leaves) <= 0:
        raise ValueError(f"num_leaves must be > 0, got {num_leaves}")
    _bottom_up.var_floor = var_floor
    table = _StatsTable(stats)
    phone_sets, shared, split = [], [], []
    for i, entry in enumerate(roots):
        try:
            phones, sh, sp = entry
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"roots entry {i}: expected (phones, shared, split)"
            ) from e
        phones = sorted(int(p) for p in phones)
        if not phones or len(set(phones)) != len(phones):
            raise ValueError(f"roots entry {i}: empty or duplicate phones")
        phone_sets.append(phones)
        shared.append(bool(sh))
        split.append(bool(sp))
    all_phones = [p for s in phone_sets for p in s]
    if len(set(all_phones)) != len(all_phones):
        raise ValueError("roots: a phone is in more than one root")
    if not phone_sets:
        raise ValueError("roots: no roots")
    centre = table.column(pos)
    if np.any(centre < 0):
        raise ValueError(
            f"stats lack key {pos}: central_position does not match the stats"
        )
    unknown = sorted(set(np.unique(centre).tolist()) - set(all_phones))
    if unknown:
        raise ValueError(
            f"phones {unknown} appear in the stats but not in the roots"
        )
    qdict = compile_questions(questions, topo, context_width=n_ctx)
    num_classes = topo.get_phone_to_num_pdf_classes()
    counter = [0]
    stub = _stub_map(pos, phone_sets, num_classes, shared, counter)
    n_leaves = num_stub = counter[0]
    all_rows = np.arange(len(table.events))
    stub_leaf = _map_rows(stub, table, all_rows)
    if np.any(stub_leaf < 0):
        bad = table.events[int(np.nonzero(stub_leaf < 0)[0][0])]
        raise ValueError(
            f"event {bad} cannot be mapped by the roots (context width / "
            "central position mismatch, or a pdf-class not in the topology?)"
        )
    nonsplit = [
        p for s, sp in zip(phone_sets, split, strict=True) if not sp for p in s
    ]
    filt = all_rows[~np.isin(centre, np.asarray(nonsplit, dtype=np.int64))]

    tree = _copy(stub)
    splitter = _Splitter(table, qdict, var_floor, min_count)
    nodes = {}  # leaf id -> (node, rows)
    for leaf in _leaves(tree):
        nodes[leaf[1]] = leaf
    heap = []
    rows_of = {}
    for lid, leaf in nodes.items():
        rows = filt[stub_leaf[filt] == lid]
        gain, key, yes = splitter.best(rows)
        rows_of[lid] = rows
        heapq.heappush(heap, (-gain, lid, key, yes, leaf))
    like_impr = 0.0
    smallest = 1.0e20
    per_key = {}
    nsplit = 0
    while heap and -heap[0][0] > thresh and n_leaves < num_leaves:
        neg, lid, key, yes, leaf = heapq.heappop(heap)
        gain = -neg
        smallest = min(smallest, gain)
        like_impr += gain
        rows = rows_of.pop(lid)
        vals = table.column(key, rows)
        is_yes = np.isin(vals, np.asarray(yes, dtype=np.int64))
        yes_id, no_id = lid, n_leaves
        n_leaves += 1
        yes_leaf, no_leaf = ["CE", yes_id], ["CE", no_id]
        leaf[:] = ["SE", key, list(yes), yes_leaf, no_leaf]
        for new_id, new_leaf, r in (
            (yes_id, yes_leaf, rows[is_yes]),
            (no_id, no_leaf, rows[~is_yes]),
        ):
            rows_of[new_id] = r
            g, k, y = splitter.best(r)
            heapq.heappush(heap, (-g, new_id, k, y, new_leaf))
        per_key[key] = per_key.get(key, 0) + 1
        nsplit += 1
    if cluster_thresh < 0:
        cluster_thresh = smallest
    objf_before = _objf_given_map(table, tree)
    num_removed = 0
    if cluster_thresh != 0:
        leaf_of_row = _map_rows(tree, table, all_rows)
        mapping = {}
        for s in np.unique(stub_leaf):
            rows = all_rows[stub_leaf == s]
            ids, sums = _leaf_sums(table, leaf_of_row, rows)
            _, (assign,) = _bottom_up([sums], cluster_thresh, 0)
            for p, a in enumerate(assign):
                mapping[int(ids[p])] = int(ids[a])
            num_removed += len(ids) - (int(assign.max()) + 1)
        _relabel(tree, mapping)
    if round_num_leaves:
        required = ((n_leaves - num_removed) // 8) * 8
        leaf_of_row = _map_rows(tree, table, all_rows)
        size = int(stub_leaf.max()) + 1
        comps, ids_list = [], []
        required_nonempty = required
        for s in range(size):
            rows = all_rows[stub_leaf == s]
            if len(rows) == 0:
                required_nonempty -= 1
                continue
            ids, sums = _leaf_sums(table, leaf_of_row, rows)
            comps.append(sums)
            ids_list.append(ids)
        total = sum(len(i) for i in ids_list)
        if required >= size and 0 <= required_nonempty <= total:
            _, assigns = _bottom_up(comps, np.inf, required_nonempty)
            mapping = {}
            for ids, assign in zip(ids_list, assigns, strict=True):
                for p, a in enumerate(assign):
                    mapping[int(ids[p])] = int(ids[a])
                num_removed += len(ids) - (int(assign.max()) + 1)
            _relabel(tree, mapping)
    # RenumberEventMap
    old = sorted({leaf[1] for leaf in _leaves(tree)})
    renumber = {v: k for k, v in enumerate(old)}
    for leaf in _leaves(tree):
        leaf[1] = renumber[leaf[1]]
    objf_after = _objf_given_map(table, tree)
    ctx = tree_to_context_dependency(tree, n_ctx, pos)
    info = {
        "num_leaves": len(old),
        "num_stub_leaves": num_stub,
        "tree": tree,
        "likelihood_gain": like_impr,
        "num_splits": nsplit,
        "splits_per_key": dict(sorted(per_key.items())),
        "smallest_split": smallest,
        "cluster_thresh": cluster_thresh,
        "num_removed": num_removed,
        "objf_change_clustering": objf_after - objf_before,
        "num_stats": len(table.events),
        "num_frames": float(table.count.sum()),
    }
    return ctx, info


# ---------------------------------------------------------------------------
# Kaldi tree file
# ---------------------------------------------------------------------------


def _emap_bytes(node, out):
    if node is None:
        out.append(b"NULL ")
    elif node[0] == "CE":
        out.append(b"CE " + struct.pack("<bi", 4, node[1]))
    elif node[0] == "TE":
        out.append(
            b"TE " + struct.pack("<bibI", 4, node[1], -4, len(node[2])) + b"( "
        )
        for child in node[2]:
            _emap_bytes(child, out)
        out.append(b") ")
    else:
        yes = list(node[2])
        out.append(
            b"SE "
            + struct.pack("<bi", 4, node[1])
            + struct.pack("<bi", 4, len(yes))
            + struct.pack(f"<{len(yes)}i", *yes)
            + b"{ "
        )
        _emap_bytes(node[3], out)
        _emap_bytes(node[4], out)
        out.append(b"} ")


def _emap_text(node, out):
    if node is None:
        out.append("NULL ")
    elif node[0] == "CE":
        out.append(f"CE {node[1]} ")
    elif node[0] == "TE":
        out.append(f"TE {node[1]} {len(node[2])} ( ")
        for child in node[2]:
            _emap_text(child, out)
        out.append(") \n")
    else:
        yes = " ".join(str(v) for v in node[2])
        out.append(
            f"SE {node[1]} [ {yes} ]\n" if yes else f"SE {node[1]} [ ]\n"
        )
        out.append("{ ")
        _emap_text(node[3], out)
        _emap_text(node[4], out)
        out.append("} \n")


def tree_to_bytes(tree, context_width, central_position, binary=True):
    """Kaldi's ``ContextDependency::Write`` of a nested-list event map.

    Arguments
    ---------
    tree : list
        The ``ToPdf`` event map.
    context_width, central_position : int
        ``N`` and ``P``.
    binary : bool
        Binary (with the ``\\0B`` header) or text.

    Returns
    -------
    bytes
        The file content.

    Example
    -------
    >>> tree_to_bytes(["CE", 0], 1, 0, binary=False)
    b'ContextDependency 1 0 ToPdf CE 0 EndContextDependency '
    """
    if binary:
        out = [
            b"\x00BContextDependency "
            + struct.pack("<bibi", 4, context_width, 4, central_position)
            + b"ToPdf "
        ]
        _emap_bytes(tree, out)
        out.append(b"EndContextDependency ")
        return b"".join(out)
    out = [f"ContextDependency {context_width} {central_position} ToPdf "]
    _emap_text(tree, out)
    out.append("EndContextDependency ")
    return "".join(out).encode()


class _Reader:
    def __init__(self, data, binary, name):
        self.data, self.binary, self.name, self.pos = data, binary, name, 0
        if not binary:
            self.tokens = data.decode("utf-8", "replace").split()

    def fail(self, msg):
        raise ValueError(
            f"{self.name}: {msg} (at {'byte' if self.binary else 'token'} {self.pos})"
        )

    def token(self):
        if not self.binary:
            if self.pos >= len(self.tokens):
                self.fail("unexpected end of file")
            self.pos += 1
            return self.tokens[self.pos - 1]
        end = self.data.find(b" ", self.pos)
        if end < 0:
            self.fail("unexpected end of file")
        tok = self.data[self.pos : end].decode("latin-1")
        self.pos = end + 1
        return tok

    def expect(self, tok):
        got = self.token()
        if got != tok:
            self.fail(f"expected {tok!r}, got {got!r}")

    def peek(self):
        if not self.binary:
            return (
                self.tokens[self.pos][:1] if self.pos < len(self.tokens) else ""
            )
        return chr(self.data[self.pos]) if self.pos < len(self.data) else ""

    def int(self):
        if not self.binary:
            tok = self.token()
            try:
                return int(tok)
            except ValueError:
                self.fail(f"expected an integer, got {tok!r}")
        if self.pos + 5 > len(self.data):
            self.fail("unexpected end of file")
        size = struct.unpack_from("<b", self.data, self.pos)[0]
        if abs(size) != 4:
            self.fail(f"expected a 4-byte integer, size byte {size}")
        fmt = "<i" if size > 0 else "<I"
        val = struct.unpack_from(fmt, self.data, self.pos + 1)[0]
        self.pos += 5
        return val

    def int_vector(self):
        if not self.binary:
            self.expect("[")
            vals = []
            while True:
                tok = self.token()
                if tok == "]":
                    return vals
                try:
                    vals.append(int(tok))
                except ValueError:
                    self.fail(f"expected an integer, got {tok!r}")
        size = self.data[self.pos]
        if size != 4:
            self.fail("expected an int32 vector")
        n = struct.unpack_from("<i", self.data, self.pos + 1)[0]
        if n < 0 or self.pos + 5 + 4 * n > len(self.data):
            self.fail("bad vector size")
        vals = list(struct.unpack_from(f"<{n}i", self.data, self.pos + 5))
        self.pos += 5 + 4 * n
        return vals

    def event_map(self, depth=0):
        if depth > 10000:
            self.fail("event map too deep")
        c = self.peek()
        if c == "N":
            self.expect("NULL")
            return None
        if c == "C":
            self.expect("CE")
            return ["CE", self.int()]
        if c == "T":
            self.expect("TE")
            key, size = self.int(), self.int()
            self.expect("(")
            table = [self.event_map(depth + 1) for _ in range(size)]
            self.expect(")")
            return ["TE", key, table]
        if c == "S":
            self.expect("SE")
            key = self.int()
            yes = self.int_vector()
            self.expect("{")
            y, n = self.event_map(depth + 1), self.event_map(depth + 1)
            self.expect("}")
            if y is None or n is None:
                self.fail("SplitEventMap with a NULL child")
            return ["SE", key, yes, y, n]
        self.fail(f"unexpected character {c!r} in event map")


def parse_tree_bytes(data, name="tree"):
    """Parses Kaldi's ``tree`` file content (binary or text).

    Arguments
    ---------
    data : bytes
        File content.
    name : str
        Used in error messages.

    Returns
    -------
    tuple
        ``(tree, context_width, central_position)``.

    Example
    -------
    >>> parse_tree_bytes(
    ...     tree_to_bytes(["SE", 0, [1], ["CE", 0], ["CE", 1]], 3, 1)
    ... )
    (['SE', 0, [1], ['CE', 0], ['CE', 1]], 3, 1)
    """
    binary = data[:2] == b"\x00B"
    r = _Reader(data[2:] if binary else data, binary, name)
    r.expect("ContextDependency")
    n, p = r.int(), r.int()
    tok = r.token()
    if tok == "ToLength":  # back-compat, as Kaldi
        r.event_map()
        tok = r.token()
    if tok != "ToPdf":
        r.fail(f"expected 'ToPdf', got {tok!r}")
    tree = r.event_map()
    r.expect("EndContextDependency")
    return tree, n, p


def tree_to_context_dependency(tree, context_width, central_position):
    """A ``khg.ContextDependency`` from a nested-list event map.

    Arguments
    ---------
    tree : list
        The ``ToPdf`` map.
    context_width, central_position : int
        ``N`` and ``P``.

    Returns
    -------
    kaldi_hmm_gmm.ContextDependency
        The tree.

    Example
    -------
    >>> ctx = tree_to_context_dependency(
    ...     ["TE", -1, [["CE", 0], ["CE", 1]]], 1, 0
    ... )
    >>> ctx.compute([5], 1), ctx.num_pdfs
    ((True, 1), 2)
    """
    import kaldi_hmm_gmm as khg

    data = tree_to_bytes(tree, context_width, central_position, binary=True)[2:]
    ctx = khg.ContextDependency.__new__(khg.ContextDependency)
    ctx.__setstate__(([b if b < 128 else b - 256 for b in data],))
    return ctx


def context_dependency_to_tree(ctx_dep):
    """The nested-list event map of a ``khg.ContextDependency``.

    Arguments
    ---------
    ctx_dep : kaldi_hmm_gmm.ContextDependency
        The tree.

    Returns
    -------
    tuple
        ``(tree, context_width, central_position)``.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> context_dependency_to_tree(
    ...     khg.monophone_context_dependency([1, 2], [0, 1, 1])
    ... )
    (['TE', 0, [None, ['TE', -1, [['CE', 0]]], ['TE', -1, [['CE', 1]]]]], 1, 0)
    """
    data = b"\x00B" + bytes(b & 255 for b in ctx_dep.__getstate__()[0])
    return parse_tree_bytes(data, "ContextDependency")


def write_tree(ctx_dep, path, binary=True):
    """Writes Kaldi's ``tree`` file (atomically).

    Arguments
    ---------
    ctx_dep : kaldi_hmm_gmm.ContextDependency
        The tree.
    path : str or os.PathLike
        Output file.
    binary : bool
        Binary (Kaldi's default) or text.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> path = getfixture("tmp_path") / "tree"
    >>> write_tree(khg.monophone_context_dependency([1], [0, 1]), path)
    >>> path.read_bytes()[:19]
    b'\\x00BContextDependency'
    """
    tree, n, p = context_dependency_to_tree(ctx_dep)
    data = tree_to_bytes(tree, n, p, binary=binary)
    with atomic_write(path, "wb") as f:
        f.write(data)


def read_tree(path):
    """Reads Kaldi's ``tree`` file (binary or text) into a ``khg.ContextDependency``.

    Arguments
    ---------
    path : str or os.PathLike
        The file.

    Returns
    -------
    kaldi_hmm_gmm.ContextDependency
        The tree.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> path = getfixture("tmp_path") / "tree"
    >>> khg.monophone_context_dependency([1, 2], [0, 1, 1]).write(
    ...     False, str(path)
    ... )
    >>> read_tree(path).compute([2], 0)
    (True, 1)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: tree (ContextDependency) not found")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise OSError(f"cannot read tree file {path}: {e}") from e
    tree, n, p = parse_tree_bytes(data, path)
    if not 0 <= p < n:
        raise ValueError(
            f"{path}: bad context width {n} / central position {p}"
        )
    try:
        return tree_to_context_dependency(tree, n, p)
    except RuntimeError as err:
        last = str(err).strip().splitlines()[-1]
        raise ValueError(f"{path}: cannot read the tree: {last}") from None


_TOPO_3STATE = """<Topology>
<TopologyEntry>
<ForPhones> {phones} </ForPhones>
<State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25 </State>
<State> 1 <PdfClass> 1 <Transition> 1 0.75 <Transition> 2 0.25 </State>
<State> 2 <PdfClass> 2 <Transition> 2 0.75 <Transition> 3 0.25 </State>
<State> 3 </State>
</TopologyEntry>
</Topology>
"""

_TOPO_1STATE = """<Topology>
<TopologyEntry>
<ForPhones> {phones} </ForPhones>
<State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25 </State>
<State> 1 </State>
</TopologyEntry>
</Topology>
"""
