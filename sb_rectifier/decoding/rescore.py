"""Dev tuning by rescoring lattices: one decoding pass for the whole grid.

Kaldi's scoring scripts decode once into lattices, at one acoustic scale
and with a lattice beam, and then, for each LM weight ``lmwt`` and word
insertion penalty ``wip``, take the best path of the lattice with the
acoustic costs scaled by ``1 / lmwt`` (graph costs unscaled) plus ``wip``
per word (``lattice-scale --inv-acoustic-scale=LMWT | lattice-add-penalty
--word-ins-penalty=WIP | lattice-best-path``). This module does the
second half: :func:`grid_best_paths` finds the best path of every grid
point at once, one dynamic programme over the lattice in topological
order with a cost per point (no lattice copy per point), compiled with
numba. The lattices come from :func:`.lattice_search.search_lattice`.

The lattice is state-level and not determinised, so each point's best
path is the exact Viterbi path of the lattice at that point, not an
approximation by an N-best list.

Authors
 * sb_rectifier developers 2026
"""

from dataclasses import dataclass

import numba as nb
import numpy as np

__all__ = [
    "GridPath",
    "LatticeArrays",
    "grid_best_paths",
]


@dataclass
class LatticeArrays:
    """A state-level lattice as arrays (one entry per arc).

    Arguments
    ---------
    num_states : int
        Number of states.
    start : int
        The start state.
    src, dst, word : numpy.ndarray
        int64 source state, destination state and output word (0: none).
    graph, acoustic : numpy.ndarray
        float64 graph cost and (unscaled) acoustic cost of each arc.
    final_states : numpy.ndarray
        int64 final states.
    final_graph, final_acoustic : numpy.ndarray
        Their final costs.
    tid : numpy.ndarray, optional
        int64 transition-id of each arc (0: an epsilon arc, no frame);
        needed for alignments.
    """

    num_states: int
    start: int
    src: np.ndarray
    dst: np.ndarray
    word: np.ndarray
    graph: np.ndarray
    acoustic: np.ndarray
    final_states: np.ndarray
    final_graph: np.ndarray
    final_acoustic: np.ndarray
    tid: np.ndarray = None


@dataclass
class GridPath:
    """The best path of a lattice at one grid point.

    Arguments
    ---------
    words : list of int
        Word ids.
    graph_cost : float
        Graph cost of the path (without the insertion penalty).
    acoustic_cost : float
        Unscaled acoustic cost of the path.
    alignment : numpy.ndarray, optional
        int32 transition-ids, one per frame (``alignments=True``).
    """

    words: list
    graph_cost: float
    acoustic_cost: float
    alignment: np.ndarray = None


def _grid(lm_weights, penalties):
    points = [(float(w), float(p)) for w in lm_weights for p in penalties]
    inv = np.array([1.0 / w for w, _ in points])
    pen = np.array([p for _, p in points])
    return points, inv, pen


def grid_best_paths(
    arrays, lm_weights, penalties, where="lattice", alignments=False
):
    """Best path of a lattice for every (LM weight, penalty) pair.

    The cost of a path at point ``(lmwt, wip)`` is ``graph + acoustic /
    lmwt + wip * words`` (Kaldi's ``lattice-scale --inv-acoustic-scale``,
    ``lattice-add-penalty``, ``lattice-best-path``). One Viterbi pass over
    the states in topological order handles all points at once.

    Arguments
    ---------
    arrays : LatticeArrays
        The lattice (:func:`.lattice_search.search_lattice`).
    lm_weights : list of float
        LM weights (positive).
    penalties : list of float
        Word insertion penalties.
    where : str
        The utterance, named in errors.
    alignments : bool
        Also give each path's transition-ids (the lattice's ``tid``).

    Returns
    -------
    list of GridPath
        One per point, LM weight major (``[(w, p) for w in lm_weights for
        p in penalties]``).

    Raises
    ------
    ValueError
        If the lattice has a cycle or no final state is reachable.

    Example
    -------
    Two paths: word 5 (graph 1, acoustic 10) or words 6 6 (graph 3,
    acoustic 2). A small LM weight favours the acoustics, a big one the
    graph; a big penalty the single word.

    >>> a = LatticeArrays(
    ...     3, 0,
    ...     np.array([0, 0, 1]), np.array([2, 1, 2]), np.array([5, 6, 6]),
    ...     np.array([1.0, 1.5, 1.5]), np.array([10.0, 1.0, 1.0]),
    ...     np.array([2]), np.array([0.0]), np.array([0.0]),
    ... )  # fmt: skip
    >>> [p.words for p in grid_best_paths(a, [1.0, 10.0], [0.0, 10.0])]
    [[6, 6], [5], [5], [5]]
    """
    points, inv, pen = _grid(lm_weights, penalties)
    if alignments and arrays.tid is None:
        raise ValueError(f"{where}: the lattice has no transition-ids")
    tid = arrays.tid if alignments else np.zeros(0, np.int64)
    error, words, offsets, graph, acoustic, ali, ali_offsets = _grid_dp(
        int(arrays.num_states),
        int(arrays.start),
        np.ascontiguousarray(arrays.src, np.int64),
        np.ascontiguousarray(arrays.dst, np.int64),
        np.ascontiguousarray(arrays.word, np.int64),
        np.ascontiguousarray(arrays.graph, np.float64),
        np.ascontiguousarray(arrays.acoustic, np.float64),
        np.ascontiguousarray(arrays.final_states, np.int64),
        np.ascontiguousarray(arrays.final_graph, np.float64),
        np.ascontiguousarray(arrays.final_acoustic, np.float64),
        inv,
        pen,
        np.ascontiguousarray(tid, np.int64),
    )
    if error == 1:
        raise ValueError(f"{where}: the lattice has a cycle")
    if error == 2:
        raise ValueError(f"{where}: no final state is reachable")
    return [
        GridPath(
            words[offsets[k] : offsets[k + 1]].tolist(),
            float(graph[k]),
            float(acoustic[k]),
            ali[ali_offsets[k] : ali_offsets[k + 1]].astype(np.int32)
            if alignments
            else None,
        )
        for k in range(len(points))
    ]


@nb.njit(cache=True)
def _grid_dp(
    num_states,
    start,
    src,
    dst,
    word,
    graph,
    acoustic,
    final_states,
    final_graph,
    final_acoustic,
    inv,
    pen,
    tid,
):
    """Best path per grid point.

    Returns ``(error, words, offsets, graph, acoustic, ali, ali_offsets)``;
    ``error``: 0, 1 (a cycle) or 2 (no final state reachable); ``ali``
    only when ``tid`` is not empty.
    """
    num_points = inv.shape[0]
    num_arcs = src.shape[0]
    # Arcs by source state (CSR) and Kahn's topological order.
    ptr = np.zeros(num_states + 1, np.int64)
    indeg = np.zeros(num_states, np.int64)
    for a in range(num_arcs):
        ptr[src[a] + 1] += 1
        indeg[dst[a]] += 1
    for s in range(num_states):
        ptr[s + 1] += ptr[s]
    fill = ptr[:-1].copy()
    out = np.empty(num_arcs, np.int64)
    for a in range(num_arcs):
        out[fill[src[a]]] = a
        fill[src[a]] += 1
    order = np.empty(num_states, np.int64)
    head = 0
    tail = 0
    for s in range(num_states):
        if indeg[s] == 0:
            order[tail] = s
            tail += 1
    best = np.full((num_states, num_points), np.inf)
    back = np.full((num_states, num_points), -1, np.int64)
    best[start, :] = 0.0
    while head < tail:
        u = order[head]
        head += 1
        for i in range(ptr[u], ptr[u + 1]):
            a = out[i]
            v = dst[a]
            indeg[v] -= 1
            if indeg[v] == 0:
                order[tail] = v
                tail += 1
            g = graph[a]
            ac = acoustic[a]
            has_word = word[a] != 0
            for k in range(num_points):
                c = best[u, k] + g + ac * inv[k]
                if has_word:
                    c += pen[k]
                if c < best[v, k]:
                    best[v, k] = c
                    back[v, k] = a
    empty_i = np.zeros(0, np.int64)
    empty_f = np.zeros(0)
    if tail < num_states:
        return 1, empty_i, empty_i, empty_f, empty_f, empty_i, empty_i
    end = np.full(num_points, -1, np.int64)
    g_cost = np.zeros(num_points)
    a_cost = np.zeros(num_points)
    for k in range(num_points):
        low = np.inf
        for j in range(final_states.shape[0]):
            f = final_states[j]
            c = best[f, k] + final_graph[j] + final_acoustic[j] * inv[k]
            if c < low:
                low = c
                end[k] = j
        if end[k] < 0:
            return 2, empty_i, empty_i, empty_f, empty_f, empty_i, empty_i
        g_cost[k] = final_graph[end[k]]
        a_cost[k] = final_acoustic[end[k]]
    # Backtrace: count the words (and frames), then fill them in order.
    with_ali = tid.shape[0] > 0
    offsets = np.zeros(num_points + 1, np.int64)
    ali_offsets = np.zeros(num_points + 1, np.int64)
    for k in range(num_points):
        s = final_states[end[k]]
        n = 0
        frames = 0
        while back[s, k] >= 0:
            a = back[s, k]
            if word[a] != 0:
                n += 1
            if with_ali and tid[a] != 0:
                frames += 1
            g_cost[k] += graph[a]
            a_cost[k] += acoustic[a]
            s = src[a]
        offsets[k + 1] = offsets[k] + n
        ali_offsets[k + 1] = ali_offsets[k] + frames
    words = np.empty(offsets[num_points], np.int64)
    ali = np.empty(ali_offsets[num_points], np.int64)
    for k in range(num_points):
        s = final_states[end[k]]
        i = offsets[k + 1]
        j = ali_offsets[k + 1]
        while back[s, k] >= 0:
            a = back[s, k]
            if word[a] != 0:
                i -= 1
                words[i] = word[a]
            if with_ali and tid[a] != 0:
                j -= 1
                ali[j] = tid[a]
            s = src[a]
    return 0, words, offsets, g_cost, a_cost, ali, ali_offsets
