"""Beam search that keeps a lattice: Kaldi's ``LatticeFasterDecoder``.

Dev tuning needs, for every (LM weight, insertion penalty) pair, the best
path of each dev utterance. Kaldi decodes once into lattices
(``latgen-faster-mapped``) and rescores them (``lattice-scale``,
``lattice-add-penalty``, ``lattice-best-path``). The decoders of the
pinned stack cannot do that at one pass's cost: kaldi-decoder 0.2.11's
``LatticeSimpleDecoder`` has no max-active pruning (4 to 5 times the
time of its ``FasterDecoder`` on the embedded graph, unbounded on a large
one), and kaldi-hmm-gmm 1.1.4 binds ``LatticeFasterDecoder`` without its
lattice. So the search is written here, compiled with numba, after
Kaldi's ``lattice-faster-decoder.cc``:

* tokens per frame, one per active graph state, with the best cost;
* a link per arc followed within the beam (emitting arcs between frames,
  epsilon arcs inside a frame), carrying the graph cost and the
  *unscaled* acoustic cost, so the lattice can be rescored at any scale;
* the beam, ``max_active`` and ``min_active`` cut-offs and the adaptive
  beam of Kaldi's ``GetCutoff``, and the next frame's cut-off estimated
  from the best token, as ``ProcessEmitting`` does;
* at the end, links outside the lattice beam (forward cost + link +
  backward cost more than ``lattice_beam`` above the best path) dropped,
  as Kaldi's ``PruneForwardLinks`` leaves them.

The lattice is Kaldi's raw state-level lattice (not determinised): every
path within the lattice beam is kept, so the best path at another scale
is exact for the paths the beam let through. The graph is read as arrays
(:func:`~.fst_io.read_graph_arrays`).

Authors
 * sb_rectifier developers 2026
"""

import numba as nb
import numpy as np

__all__ = ["search_lattice", "vector_fst_body"]

_INF = np.inf


@nb.njit(cache=True)
def vector_fst_body(words, floats, num_states, num_arcs):
    """Arrays of an OpenFst ``vector`` body (compiled walk over states).

    Arguments
    ---------
    words : numpy.ndarray
        The body as int32 words.
    floats : numpy.ndarray
        The same memory as float32.
    num_states, num_arcs : int
        Counts (the arcs from the body's size).

    Returns
    -------
    tuple
        ``(first, count, arcs, final, num_eps, error)``: ``num_eps`` the
        number of input-epsilon arcs per state; ``error`` is -1, or the
        state whose arcs run past the end or point to no state.

    Example
    -------
    State 0 (final cost 0.5, one arc 5:7/0 to state 1), state 1 (not
    final, no arc):

    >>> w = np.array([0, 1, 0, 5, 7, 0, 1, 0, 0, 0], np.int32)
    >>> w[0] = np.float32(0.5).view(np.int32)
    >>> w[7] = np.float32(np.inf).view(np.int32)
    >>> first, count, arcs, final, eps, err = vector_fst_body(
    ...     w, w.view(np.float32), 2, 1
    ... )
    >>> count.tolist(), arcs.tolist(), final.tolist(), eps.tolist(), err
    ([1, 0], [[5, 7, 0, 1]], [0.5, inf], [0, 0], -1)
    """
    first = np.empty(num_states, np.int64)
    count = np.empty(num_states, np.int64)
    final = np.empty(num_states, np.float32)
    num_eps = np.zeros(num_states, np.int32)
    arcs = np.empty((num_arcs, 4), np.int32)
    pos = 0
    arc = 0
    n = words.shape[0]
    for s in range(num_states):
        if pos + 3 > n:
            return first, count, arcs, final, num_eps, s
        final[s] = floats[pos]
        k = np.int64(words[pos + 1]) & 0xFFFFFFFF
        k |= np.int64(words[pos + 2]) << 32
        pos += 3
        if k < 0 or arc + k > num_arcs or pos + 4 * k > n:
            return first, count, arcs, final, num_eps, s
        first[s] = arc
        count[s] = k
        for _ in range(k):
            for c in range(4):
                arcs[arc, c] = words[pos + c]
            if arcs[arc, 3] < 0 or arcs[arc, 3] >= num_states:
                return first, count, arcs, final, num_eps, s
            if arcs[arc, 0] == 0:
                num_eps[s] += 1
            pos += 4
            arc += 1
    return first, count, arcs, final, num_eps, -1


@nb.njit(cache=True)
def _grow(a, n):
    """``a``, or a copy twice its size if index ``n`` does not fit."""
    if n < a.shape[0]:
        return a
    b = np.empty(max(2 * a.shape[0], n + 1), a.dtype)
    b[: a.shape[0]] = a
    return b


@nb.njit(cache=True)
def _cutoff(costs, beam, max_active, min_active, beam_delta):
    """Kaldi's ``GetCutoff``: ``(cutoff, adaptive_beam, best)``."""
    best = costs.min()
    beam_cutoff = best + beam
    n = costs.shape[0]
    if n > max_active:
        kth = np.partition(costs, max_active)[max_active]
        if kth < beam_cutoff:
            return kth, kth - best + beam_delta, best
    min_cutoff = _INF
    if n > min_active:
        min_cutoff = np.partition(costs, min_active)[min_active]
    if min_cutoff > beam_cutoff:
        return min_cutoff, min_cutoff - best + beam_delta, best
    return beam_cutoff, beam, best


@nb.njit(cache=True)
def _search(
    first,
    count,
    num_eps,
    arcs,
    weights,
    final,
    start,
    tid2pdf,
    loglik,
    acoustic_scale,
    beam,
    max_active,
    min_active,
    beam_delta,
    state2tok,
):
    num_frames = loglik.shape[0]
    tok_state = np.empty(4096, np.int32)
    tok_cost = np.empty(4096, np.float64)
    l_src = np.empty(16384, np.int32)
    l_dst = np.empty(16384, np.int32)
    l_word = np.empty(16384, np.int32)
    l_tid = np.empty(16384, np.int32)
    l_graph = np.empty(16384, np.float32)
    l_ac = np.empty(16384, np.float32)
    queue = np.empty(4096, np.int32)
    # Frame f's tokens are [frame_tok[f], frame_tok[f + 1]); its epsilon
    # links [eps_link[f], eps_link[f + 1]) follow the emitting links into
    # it, which start at emit_link[f] (f >= 1).
    frame_tok = np.zeros(num_frames + 2, np.int64)
    eps_first = np.zeros(num_frames + 1, np.int64)
    eps_end = np.zeros(num_frames + 1, np.int64)
    ntok = 1
    nlink = 0
    tok_state[0] = start
    tok_cost[0] = 0.0
    state2tok[start] = 0
    error = 0
    for f in range(num_frames + 1):
        fs = frame_tok[f]
        # Epsilon closure of frame f (Kaldi's ProcessNonemitting).
        best = tok_cost[fs:ntok].min()
        cutoff = best + beam
        head = 0
        tail = 0
        queue = _grow(queue, ntok - fs)
        for k in range(fs, ntok):
            if num_eps[tok_state[k]] > 0:
                queue[tail] = k
                tail += 1
        pops = 0
        while head < tail:
            k = queue[head]
            head += 1
            pops += 1
            if pops > 1000 * (ntok - fs) + 100000:
                error = 1  # an epsilon cycle of negative cost
                break
            c = tok_cost[k]
            s = tok_state[k]
            if c > cutoff or num_eps[s] == 0:
                continue
            for a in range(first[s], first[s] + count[s]):
                if arcs[a, 0] != 0:
                    continue
                tot = c + weights[a, 2]
                if tot >= cutoff:
                    continue
                ns = arcs[a, 3]
                j = state2tok[ns]
                if j < 0:
                    if ntok == tok_state.shape[0]:
                        tok_state = _grow(tok_state, ntok)
                        tok_cost = _grow(tok_cost, ntok)
                    j = ntok
                    ntok += 1
                    tok_state[j] = ns
                    tok_cost[j] = tot
                    state2tok[ns] = j
                elif tot < tok_cost[j]:
                    tok_cost[j] = tot
                else:
                    continue
                if head > 0 and tail == queue.shape[0]:
                    # Reuse the consumed front of the queue.
                    queue[: tail - head] = queue[head:tail]
                    tail -= head
                    head = 0
                if tail == queue.shape[0]:
                    queue = _grow(queue, tail)
                queue[tail] = j
                tail += 1
        if error:
            break
        # Epsilon links, from the closure's final costs.
        eps_first[f] = nlink
        for k in range(fs, ntok):
            c = tok_cost[k]
            s = tok_state[k]
            if c > cutoff or num_eps[s] == 0:
                continue
            for a in range(first[s], first[s] + count[s]):
                if arcs[a, 0] != 0:
                    continue
                j = state2tok[arcs[a, 3]]
                if j < 0 or j == k or c + weights[a, 2] >= cutoff:
                    continue
                if nlink == l_src.shape[0]:
                    l_src = _grow(l_src, nlink)
                    l_dst = _grow(l_dst, nlink)
                    l_word = _grow(l_word, nlink)
                    l_tid = _grow(l_tid, nlink)
                    l_graph = _grow(l_graph, nlink)
                    l_ac = _grow(l_ac, nlink)
                i = nlink
                nlink += 1
                l_src[i] = k
                l_dst[i] = j
                l_word[i] = arcs[a, 1]
                l_tid[i] = 0
                l_graph[i] = weights[a, 2]
                l_ac[i] = 0.0
        eps_end[f] = nlink
        fe = ntok
        frame_tok[f + 1] = fe
        for k in range(fs, fe):
            state2tok[tok_state[k]] = -1
        if f == num_frames:
            break
        # Emitting arcs into frame f + 1 (Kaldi's ProcessEmitting).
        cur, adaptive, best = _cutoff(
            tok_cost[fs:fe].copy(), beam, max_active, min_active, beam_delta
        )
        frame = loglik[f]
        next_cutoff = _INF
        need = 0
        for k in range(fs, fe):
            if tok_cost[k] <= cur:
                need += count[tok_state[k]]
        tok_state = _grow(tok_state, ntok + need)
        tok_cost = _grow(tok_cost, ntok + need)
        l_src = _grow(l_src, nlink + need)
        l_dst = _grow(l_dst, nlink + need)
        l_word = _grow(l_word, nlink + need)
        l_tid = _grow(l_tid, nlink + need)
        l_graph = _grow(l_graph, nlink + need)
        l_ac = _grow(l_ac, nlink + need)
        for k in range(fs, fe):
            if tok_cost[k] == best:
                s = tok_state[k]
                for a in range(first[s], first[s] + count[s]):
                    if arcs[a, 0] == 0:
                        continue
                    ac = -frame[tid2pdf[arcs[a, 0]]]
                    tot = best + weights[a, 2] + acoustic_scale * ac
                    if tot + adaptive < next_cutoff:
                        next_cutoff = tot + adaptive
                break
        for k in range(fs, fe):
            c = tok_cost[k]
            if c > cur:
                continue
            s = tok_state[k]
            for a in range(first[s], first[s] + count[s]):
                il = arcs[a, 0]
                if il == 0:
                    continue
                ac = -frame[tid2pdf[il]]
                tot = c + weights[a, 2] + acoustic_scale * ac
                if tot >= next_cutoff:
                    continue
                if tot + adaptive < next_cutoff:
                    next_cutoff = tot + adaptive
                ns = arcs[a, 3]
                j = state2tok[ns]
                if j < 0:
                    j = ntok
                    ntok += 1
                    tok_state[j] = ns
                    tok_cost[j] = tot
                    state2tok[ns] = j
                elif tot < tok_cost[j]:
                    tok_cost[j] = tot
                i = nlink
                nlink += 1
                l_src[i] = k
                l_dst[i] = j
                l_word[i] = arcs[a, 1]
                l_tid[i] = il
                l_graph[i] = weights[a, 2]
                l_ac[i] = ac
        if ntok == fe:
            error = 2  # no token survived this frame
            break
    return (
        error,
        tok_state[:ntok],
        tok_cost[:ntok],
        frame_tok,
        eps_first,
        eps_end,
        l_src[:nlink],
        l_dst[:nlink],
        l_word[:nlink],
        l_tid[:nlink],
        l_graph[:nlink],
        l_ac[:nlink],
    )


@nb.njit(cache=True)
def _relax_back(beta, lo, hi, l_src, l_dst, l_graph, l_ac, scale, repeat):
    """Backward costs over links ``[lo, hi)``; epsilon blocks to a fixpoint."""
    while True:
        changed = False
        for i in range(hi - 1, lo - 1, -1):
            c = l_graph[i] + scale * l_ac[i] + beta[l_dst[i]]
            if c < beta[l_src[i]]:
                beta[l_src[i]] = c
                changed = True
        if not (repeat and changed):
            return


@nb.njit(cache=True)
def _prune(
    tok_state,
    tok_cost,
    frame_tok,
    eps_first,
    eps_end,
    l_src,
    l_dst,
    l_word,
    l_tid,
    l_graph,
    l_ac,
    final,
    acoustic_scale,
    lattice_beam,
):
    """Final costs, backward costs, links within the lattice beam.

    Returns the lattice's ``(num_states, src, dst, word, tid, graph,
    acoustic, final_states, final_costs, reached)``, tokens renumbered (the start
    token is 0).
    """
    num_frames = frame_tok.shape[0] - 2
    ntok = tok_cost.shape[0]
    fs, fe = frame_tok[num_frames], frame_tok[num_frames + 1]
    reached = False
    for k in range(fs, fe):
        if final[tok_state[k]] != _INF:
            reached = True
            break
    beta = np.full(ntok, _INF)
    for k in range(fs, fe):
        beta[k] = final[tok_state[k]] if reached else 0.0
    for f in range(num_frames, -1, -1):
        _relax_back(
            beta, eps_first[f], eps_end[f], l_src, l_dst, l_graph, l_ac,
            acoustic_scale, True,
        )  # fmt: skip
        if f > 0:
            _relax_back(
                beta, eps_end[f - 1], eps_first[f], l_src, l_dst, l_graph,
                l_ac, acoustic_scale, False,
            )  # fmt: skip
    best = beta[0]  # forward cost 0 at the start token
    limit = best + lattice_beam + 1e-3 * (1.0 + abs(best))
    # Links within the beam, their tokens renumbered (the start is 0).
    new_id = np.full(ntok, -1, np.int64)
    new_id[0] = 0
    num_states = 1
    n = l_src.shape[0]
    src = np.empty(n, np.int64)
    dst = np.empty(n, np.int64)
    word = np.empty(n, np.int64)
    tid = np.empty(n, np.int64)
    graph = np.empty(n)
    acoustic = np.empty(n)
    j = 0
    for i in range(n):
        a = l_src[i]
        b = l_dst[i]
        c = l_graph[i] + acoustic_scale * l_ac[i]
        if tok_cost[a] + c + beta[b] > limit:
            continue
        if new_id[a] < 0:
            new_id[a] = num_states
            num_states += 1
        if new_id[b] < 0:
            new_id[b] = num_states
            num_states += 1
        src[j] = new_id[a]
        dst[j] = new_id[b]
        word[j] = l_word[i]
        tid[j] = l_tid[i]
        graph[j] = l_graph[i]
        acoustic[j] = l_ac[i]
        j += 1
    num_kept = j
    num_final = 0
    for k in range(fs, fe):
        fc = final[tok_state[k]] if reached else 0.0
        if tok_cost[k] + fc <= limit:
            num_final += 1
            if new_id[k] < 0:
                new_id[k] = num_states
                num_states += 1
    fin_state = np.empty(num_final, np.int64)
    fin_cost = np.empty(num_final)
    j = 0
    for k in range(fs, fe):
        fc = final[tok_state[k]] if reached else 0.0
        if tok_cost[k] + fc <= limit:
            fin_state[j] = new_id[k]
            fin_cost[j] = fc
            j += 1
    return (
        num_states,
        src[:num_kept],
        dst[:num_kept],
        word[:num_kept],
        tid[:num_kept],
        graph[:num_kept],
        acoustic[:num_kept],
        fin_state,
        fin_cost,
        reached,
    )


def search_lattice(
    graph,
    loglik_pdf,
    tid2pdf,
    acoustic_scale,
    beam=13.0,
    max_active=7000,
    min_active=200,
    lattice_beam=6.0,
    beam_delta=0.5,
    scratch=None,
):
    """Decodes one utterance into a state-level lattice within a beam.

    Arguments
    ---------
    graph : sb_rectifier.decoding.fst_io.GraphArrays
        HCLG (:func:`~.fst_io.read_graph_arrays`).
    loglik_pdf : numpy.ndarray
        ``[frames, num_pdfs]`` pdf log-likelihoods.
    tid2pdf : numpy.ndarray
        Transition-id -> pdf (index 0 unused).
    acoustic_scale : float
        Scale of the search (Kaldi's ``--acoustic-scale``).
    beam, max_active, min_active, beam_delta : float, int, int, float
        Search pruning, as Kaldi's lattice decoders.
    lattice_beam : float
        Paths within this cost (at ``acoustic_scale``) of the best are
        kept.
    scratch : numpy.ndarray, optional
        int32 array of ``graph.num_states`` entries, all -1 (reused
        between calls, left as it was found).

    Returns
    -------
    tuple of (LatticeArrays, bool)
        The lattice (acoustic costs unscaled) and whether a final state
        of the graph was reached (if not, every state of the last frame
        is final, with cost 0, as Kaldi does).

    Raises
    ------
    ValueError
        If no path survives the beam, or the graph has a negative
        epsilon cycle.

    Example
    -------
    >>> import kaldifst as kf
    >>> from sb_rectifier.decoding.fst_io import read_graph_arrays, write_graph
    >>> from sb_rectifier.decoding.rescore import grid_best_paths
    >>> path = str(getfixture("tmpdir") / "HCLG.fst")
    >>> write_graph(kf.compile("0 1 1 7\\n1 1 1 0\\n1 0 2 0\\n0"), path)
    >>> loglik = np.log(np.array([[0.9, 0.1]] * 3 + [[0.1, 0.9]], "f"))
    >>> lat, reached = search_lattice(
    ...     read_graph_arrays(path), loglik, np.array([-1, 0, 1]), 1.0
    ... )
    >>> reached, [p.words for p in grid_best_paths(lat, [1.0], [0.0])]
    (True, [[7]])
    """
    from sb_rectifier.decoding.rescore import LatticeArrays

    loglik = np.ascontiguousarray(loglik_pdf, dtype=np.float32)
    tid2pdf = np.ascontiguousarray(tid2pdf, dtype=np.int64)
    if scratch is None:
        scratch = np.full(graph.num_states, -1, np.int32)
    if graph.start < 0:
        raise ValueError("search_lattice: the graph has no start state")
    if graph.max_ilabel >= len(tid2pdf):
        raise ValueError(
            f"search_lattice: the graph has input label {graph.max_ilabel}, "
            f"but the transition model has {len(tid2pdf) - 1} transition-ids"
        )
    (
        error,
        tok_state,
        tok_cost,
        frame_tok,
        eps_first,
        eps_end,
        l_src,
        l_dst,
        l_word,
        l_tid,
        l_graph,
        l_ac,
    ) = _search(
        graph.first,
        graph.count,
        graph.num_eps,
        graph.arcs,
        graph.weights,
        graph.final,
        int(graph.start),
        tid2pdf,
        loglik,
        float(acoustic_scale),
        float(beam),
        int(max_active),
        int(min_active),
        float(beam_delta),
        scratch,
    )
    if error:
        scratch[tok_state] = -1
        raise ValueError(
            "search_lattice: the graph has an epsilon cycle of negative cost"
            if error == 1
            else "search_lattice: no path survived the beam (is the graph "
            "empty, or the beam too small?)"
        )
    (
        num_states,
        src,
        dst,
        word,
        tid,
        graph_cost,
        acoustic,
        fin_state,
        fin_cost,
        reached,
    ) = _prune(
        tok_state,
        tok_cost,
        frame_tok,
        eps_first,
        eps_end,
        l_src,
        l_dst,
        l_word,
        l_tid,
        l_graph,
        l_ac,
        graph.final,
        float(acoustic_scale),
        float(lattice_beam),
    )
    if fin_state.size == 0:
        raise ValueError("search_lattice: no final state is reachable")
    return (
        LatticeArrays(
            num_states=int(num_states),
            start=0,
            src=src,
            dst=dst,
            word=word,
            graph=graph_cost,
            acoustic=acoustic,
            final_states=fin_state,
            final_graph=fin_cost,
            final_acoustic=np.zeros(len(fin_state)),
            tid=tid,
        ),
        bool(reached),
    )
