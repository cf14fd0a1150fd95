"""Dev tuning by rescoring lattices: one decoding pass for the whole grid.

Kaldi's scoring scripts decode once into lattices, at one acoustic scale
and with a lattice beam, and then, for each LM weight ``lmwt`` and word
insertion penalty ``wip``, take the best path of the lattice with the
acoustic costs scaled by ``1 / lmwt`` (graph costs unscaled) plus ``wip``
per word (``lattice-scale --inv-acoustic-scale=LMWT | lattice-add-penalty
--word-ins-penalty=WIP | lattice-best-path``). This module does the same:

* :func:`decode_lattice` decodes one utterance into kaldi-decoder's raw
  state-level lattice (``LatticeSimpleDecoder``);
* :func:`lattice_arrays` turns it into numpy arrays, with the acoustic
  costs unscaled;
* :func:`grid_best_paths` finds the best path of every grid point at once:
  one dynamic programme over the lattice in topological order, vectorised
  over the grid points (no lattice copy per point).

The raw lattice keeps every alignment within the lattice beam (it is not
determinised), so each point's best path is the exact Viterbi path of the
lattice at that point, not an approximation by an N-best list.

Authors
 * sb_rectifier developers 2026
"""

import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "GridPath",
    "LatticeArrays",
    "decode_lattice",
    "grid_best_paths",
    "lattice_arrays",
]

_ARC = re.compile(r"^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+),(\S+)$", re.M)
_FINAL = re.compile(r"^(\d+)(?:\s+(\S+),(\S+))?$", re.M)


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
    """

    words: list
    graph_cost: float
    acoustic_cost: float


def lattice_arrays(lattice, acoustic_scale=1.0, where="lattice"):
    """Arrays of a ``kaldifst.Lattice``, acoustic costs unscaled.

    Arguments
    ---------
    lattice : kaldifst.Lattice
        A lattice whose ``LatticeWeight`` holds (graph cost, acoustic cost
        x ``acoustic_scale``), as the decoder writes it.
    acoustic_scale : float
        The scale its acoustic costs carry (divided out).
    where : str
        The utterance or file, named in errors.

    Returns
    -------
    LatticeArrays
        Arcs and final states.

    Raises
    ------
    ValueError
        If the lattice has no start state or no final state.

    Example
    -------
    >>> import kaldifst as kf
    >>> lat = kf.Lattice()
    >>> s0, s1 = lat.add_state(), lat.add_state()
    >>> lat.start = s0
    >>> lat.add_arc(s0, kf.LatticeArc(3, 7, kf.LatticeWeight(1.0, 0.5), s1))
    >>> lat.set_final(s1, kf.LatticeWeight(0.0, 0.0))
    >>> a = lattice_arrays(lat, acoustic_scale=0.5)
    >>> a.word.tolist(), a.graph.tolist(), a.acoustic.tolist()
    ([7], [1.0], [1.0])
    """
    if lattice.num_states == 0 or lattice.start < 0:
        raise ValueError(f"{where}: empty lattice (no start state)")
    text = lattice.to_str()
    arcs = _ARC.findall(text)
    finals = _FINAL.findall(text)
    if not finals:
        raise ValueError(f"{where}: the lattice has no final state")
    if arcs:
        ints = np.array([a[:4] for a in arcs], dtype=np.int64)
        costs = np.array([a[4:] for a in arcs], dtype=np.float64)
    else:
        ints = np.zeros((0, 4), np.int64)
        costs = np.zeros((0, 2))
    fstates = np.array([int(f[0]) for f in finals], dtype=np.int64)
    fcosts = np.array(
        [(f[1] or "0", f[2] or "0") for f in finals], dtype=np.float64
    )
    scale = 1.0 / float(acoustic_scale)
    return LatticeArrays(
        num_states=int(lattice.num_states),
        start=int(lattice.start),
        src=ints[:, 0],
        dst=ints[:, 1],
        word=ints[:, 3],
        graph=costs[:, 0],
        acoustic=costs[:, 1] * scale,
        final_states=fstates,
        final_graph=fcosts[:, 0],
        final_acoustic=fcosts[:, 1] * scale,
    )


def _grid(lm_weights, penalties):
    points = [(float(w), float(p)) for w in lm_weights for p in penalties]
    inv = np.array([1.0 / w for w, _ in points])
    pen = np.array([p for _, p in points])
    return points, inv, pen


def grid_best_paths(arrays, lm_weights, penalties, where="lattice"):
    """Best path of a lattice for every (LM weight, penalty) pair.

    The cost of a path at point ``(lmwt, wip)`` is ``graph + acoustic /
    lmwt + wip * words`` (Kaldi's ``lattice-scale --inv-acoustic-scale``,
    ``lattice-add-penalty``, ``lattice-best-path``). One Viterbi pass over
    the states in topological order handles all points at once.

    Arguments
    ---------
    arrays : LatticeArrays
        The lattice (:func:`lattice_arrays`).
    lm_weights : list of float
        LM weights (positive).
    penalties : list of float
        Word insertion penalties.
    where : str
        The utterance, named in errors.

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
    num_points = len(points)
    n = arrays.num_states
    src, dst = arrays.src, arrays.dst
    cost = (
        arrays.graph[:, None]
        + arrays.acoustic[:, None] * inv[None, :]
        + (arrays.word != 0)[:, None] * pen[None, :]
    )
    best = np.full((n, num_points), np.inf)
    best[arrays.start] = 0.0
    back = np.full((n, num_points), -1, dtype=np.int64)
    # Arcs by source state (CSR), for Kahn's topological order.
    order = np.argsort(src, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    indeg = np.bincount(dst, minlength=n)
    frontier = np.flatnonzero(indeg == 0)
    done = 0
    while frontier.size:
        done += frontier.size
        starts, ends = ptr[frontier], ptr[frontier + 1]
        counts = ends - starts
        total = int(counts.sum())
        if total == 0:
            break
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
        arcs = order[offsets + np.arange(total)]
        # Relax the arcs, grouped by destination.
        arcs = arcs[np.argsort(dst[arcs], kind="stable")]
        targets = dst[arcs]
        cand = best[src[arcs]] + cost[arcs]
        first = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
        group = np.cumsum(np.r_[False, targets[1:] != targets[:-1]])
        low = np.minimum.reduceat(cand, first, axis=0)
        pick = np.where(
            cand == low[group], arcs[:, None], np.iinfo(np.int64).max
        )
        pick = np.minimum.reduceat(pick, first, axis=0)
        states = targets[first]
        better = low < best[states]
        best[states] = np.where(better, low, best[states])
        back[states] = np.where(better, pick, back[states])
        np.subtract.at(indeg, targets, 1)
        unique = states
        frontier = unique[indeg[unique] == 0]
    if done < n:
        raise ValueError(f"{where}: the lattice has a cycle")
    fin = (
        best[arrays.final_states]
        + arrays.final_graph[:, None]
        + arrays.final_acoustic[:, None] * inv[None, :]
    )
    which = np.argmin(fin, axis=0)
    if not np.all(np.isfinite(fin[which, np.arange(num_points)])):
        raise ValueError(f"{where}: no final state is reachable")
    state = arrays.final_states[which]
    graph = arrays.final_graph[which].copy()
    acoustic = arrays.final_acoustic[which].copy()
    columns = np.arange(num_points)
    steps = []
    while True:
        arc = back[state, columns]
        live = arc >= 0
        if not live.any():
            break
        arc_or_0 = np.where(live, arc, 0)
        steps.append(np.where(live, arrays.word[arc_or_0], 0))
        graph += np.where(live, arrays.graph[arc_or_0], 0.0)
        acoustic += np.where(live, arrays.acoustic[arc_or_0], 0.0)
        state = np.where(live, src[arc_or_0], state)
    words = np.array(steps[::-1]).reshape(len(steps), num_points)
    return [
        GridPath(
            [int(w) for w in words[:, k] if w],
            float(graph[k]),
            float(acoustic[k]),
        )
        for k in range(num_points)
    ]


def decode_lattice(
    graph, loglik_pdf, tid2pdf, acoustic_scale, beam=13.0, lattice_beam=6.0
):
    """Decodes one utterance into a raw state-level lattice.

    Arguments
    ---------
    graph : kaldifst.StdVectorFst or kaldifst.StdConstFst
        HCLG, transition-id inputs, word outputs.
    loglik_pdf : numpy.ndarray
        ``[frames, num_pdfs]`` pdf log-likelihoods.
    tid2pdf : numpy.ndarray
        Transition-id -> pdf (index 0 unused).
    acoustic_scale : float
        The scale of generation (Kaldi's ``--acoustic-scale``).
    beam : float
        Decoding beam.
    lattice_beam : float
        Lattice beam: paths within it of the best (at ``acoustic_scale``)
        are kept.

    Returns
    -------
    tuple of (kaldifst.Lattice, bool)
        The lattice (acoustic costs scaled by ``acoustic_scale``) and
        whether a final state was reached (if not, the lattice ends in the
        states active at the last frame).

    Example
    -------
    >>> import kaldifst as kf
    >>> graph = kf.compile("0 1 1 7\\n1 1 1 0\\n1 0 2 0\\n0")
    >>> loglik = np.log(np.array([[0.9, 0.1]] * 3 + [[0.1, 0.9]], "f"))
    >>> lat, reached = decode_lattice(graph, loglik, np.array([-1, 0, 1]), 1.0)
    >>> a = lattice_arrays(lat, 1.0)
    >>> reached, [p.words for p in grid_best_paths(a, [1.0], [0.0])]
    (True, [[7]])
    """
    import kaldi_decoder as kd

    from sb_rectifier.decoding.decoder import tid_loglikes

    matrix = tid_loglikes(loglik_pdf, tid2pdf, acoustic_scale)
    config = kd.LatticeSimpleDecoderConfig(
        beam=float(beam), lattice_beam=float(lattice_beam)
    )
    decoder = kd.LatticeSimpleDecoder(graph, config)
    decoder.decode(kd.DecodableCtc(matrix))
    reached = decoder.final_relative_cost() != float("inf")
    # decode() has finalized: use_final_probs=False is refused. With no
    # final state active, the final costs are empty and every state of
    # the last frame is final with cost 0 (Kaldi's GetRawLattice).
    ok, lattice = decoder.get_raw_lattice(use_final_probs=True)
    if not ok or lattice.num_states == 0:
        raise RuntimeError(
            "decode_lattice: the decoder found no path (is the graph empty, "
            "or the beam too small?)"
        )
    return lattice, bool(reached)
