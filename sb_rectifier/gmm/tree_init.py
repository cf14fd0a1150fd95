"""Kaldi's ``gmm-init-model`` and ``convert-ali`` for a new decision tree.

* :func:`init_gmm_from_tree`: one Gaussian per tree leaf from the pooled
  tree statistics of the events that reach it (``InitAmGmm``);
* :func:`convert_alignment` / :func:`convert_alignments`: Kaldi's
  ``ConvertAlignment``: the old alignment's phone and HMM-state
  segmentation kept frame for frame, each frame's transition-id taken
  from the new model, whose pdfs come from the new tree and the phone
  context.

Authors
 * sb_rectifier developers 2026
"""

import numpy as np

from sb_rectifier.gmm.tree import (
    _map_rows,
    _StatsTable,
    _TidInfo,
    context_dependency_to_tree,
)


def init_gmm_from_tree(ctx_dep, stats, topo, var_floor=0.01):
    """Kaldi's ``gmm-init-model``: a single-Gaussian model per tree leaf.

    Each pdf's Gaussian has the mean and variance of the pooled stats of
    the events mapped to it by the tree, variances floored at
    ``var_floor`` (Kaldi's ``--var-floor``, 0.01); a pdf without stats gets
    the pooled stats of all events (as Kaldi, which warns).

    Arguments
    ---------
    ctx_dep : kaldi_hmm_gmm.ContextDependency
        The tree (e.g. from :func:`sb_rectifier.gmm.tree.build_tree`).
    stats : dict
        Tree stats (:func:`sb_rectifier.gmm.tree.accumulate_tree_stats`).
    topo : kaldi_hmm_gmm.HmmTopology
        The topology.
    var_floor : float
        Variance floor.

    Returns
    -------
    tuple
        ``(trans_model, am_gmm)`` (per-pdf occupancies, Kaldi's
        ``--write-occs``: :func:`leaf_occupancies`).

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> from sb_rectifier.gmm.tree import GaussStats, _TOPO_1STATE
    >>> topo = khg.HmmTopology()
    >>> topo.read(_TOPO_1STATE.format(phones="1 2"))
    >>> ctx = khg.monophone_context_dependency([1, 2], [0, 1, 1])
    >>> stats = {
    ...     ((-1, 0), (0, 1)): GaussStats(2.0, np.array([2.0]), np.array([4.0]))
    ... }
    >>> tm, am = init_gmm_from_tree(ctx, stats, topo)
    >>> am.num_pdfs, am.get_gaussian_mean(0, 0), am.get_gaussian_variance(0, 0)
    (2, array([1.], dtype=float32), array([1.], dtype=float32))
    """
    import kaldi_hmm_gmm as khg

    occs, sums = _leaf_stats(ctx_dep, stats)
    count, x, x2 = sums
    trans_model = khg.TransitionModel(ctx_dep, topo)
    num_pdfs = trans_model.num_pdfs
    if len(count) > num_pdfs:
        raise ValueError(
            f"tree maps stats to pdf {len(count) - 1} but has {num_pdfs} pdfs"
        )
    tot_c, tot_x, tot_x2 = count.sum(), x.sum(0), x2.sum(0)
    if tot_c <= 0:
        raise ValueError("init_gmm_from_tree: no stats")
    am = khg.AmDiagGmm()
    for pdf in range(num_pdfs):
        if pdf < len(count) and count[pdf] > 0:
            c, sx, sx2 = count[pdf], x[pdf], x2[pdf]
        else:
            c, sx, sx2 = tot_c, tot_x, tot_x2
        mean = sx / c
        var = np.maximum(sx2 / c - mean * mean, var_floor)
        gmm = khg.DiagGmm(1, len(mean))
        gmm.set_invvars_and_means(
            (1.0 / var)[None, :].astype(np.float32),
            mean[None, :].astype(np.float32),
        )
        gmm.set_weights(np.ones(1, dtype=np.float32))
        gmm.compute_gconsts()
        am.add_pdf(gmm)
    return trans_model, am


def _leaf_stats(ctx_dep, stats):
    table = _StatsTable(stats)
    tree, _, _ = context_dependency_to_tree(ctx_dep)
    rows = np.arange(len(table.events))
    leaf = _map_rows(tree, table, rows)
    if np.any(leaf < 0):
        bad = table.events[int(np.nonzero(leaf < 0)[0][0])]
        raise ValueError(f"the tree cannot map the stats event {bad}")
    n = int(leaf.max()) + 1
    count = np.bincount(leaf, weights=table.count, minlength=n)
    x = np.zeros((n, table.dim))
    x2 = np.zeros((n, table.dim))
    np.add.at(x, leaf, table.x)
    np.add.at(x2, leaf, table.x2)
    return count, (count, x, x2)


def leaf_occupancies(ctx_dep, stats):
    """Frames per pdf (Kaldi's ``gmm-init-model --write-occs``).

    Arguments
    ---------
    ctx_dep : kaldi_hmm_gmm.ContextDependency
        The tree.
    stats : dict
        Tree stats.

    Returns
    -------
    numpy.ndarray
        float64 ``(num_pdfs,)``.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> from sb_rectifier.gmm.tree import GaussStats
    >>> ctx = khg.monophone_context_dependency([1, 2], [0, 1, 1])
    >>> st = {((-1, 0), (0, 2)): GaussStats(3.0, np.zeros(1), np.zeros(1))}
    >>> leaf_occupancies(ctx, st)
    array([0., 3.])
    """
    occs, _ = _leaf_stats(ctx_dep, stats)
    out = np.zeros(ctx_dep.num_pdfs)
    out[: len(occs)] = occs
    return out


class _Converter:
    """Caches of ConvertAlignment between two models."""

    def __init__(self, old_model, new_model, new_ctx_dep):
        self.old = _TidInfo(old_model)
        self.new = _TidInfo(new_model)
        self.ctx = new_ctx_dep
        self.n = new_ctx_dep.context_width
        self.p = new_ctx_dep.central_position
        self.tuple2state = {t: s + 1 for s, t in enumerate(self.new.tuples)}
        self.pdf_cache = {}
        self.entries = {}

    def pdf(self, window, pdf_class):
        key = (window, pdf_class)
        if key not in self.pdf_cache:
            ok, pdf = self.ctx.compute(list(window), pdf_class)
            if not ok:
                raise ValueError(
                    f"the tree cannot convert phone window {list(window)} "
                    f"(pdf-class {pdf_class})"
                )
            self.pdf_cache[key] = pdf
        return self.pdf_cache[key]

    def convert(self, tids, utt):
        old = self.old
        bounds = old.split_to_phones(tids, utt)
        tids = old.check(tids, utt)
        phones = old.tid2phone[tids[bounds[:, 0]]]
        padded = np.concatenate(
            [
                np.zeros(self.p, np.int64),
                phones,
                np.zeros(self.n - self.p, np.int64),
            ]
        )
        out = np.empty(len(tids), dtype=np.int32)
        for k, (start, end) in enumerate(bounds):
            window = tuple(int(v) for v in padded[k : k + self.n])
            phone = window[self.p]
            seg = tids[start:end]
            hmm = old.tid2hmm_state[seg]
            fwd = old.tid2fwd_class[seg]
            loop = old.tid2loop_class[seg]
            tidx = old.tid2trans_index[seg]
            for f in range(end - start):
                key = (
                    phone,
                    int(hmm[f]),
                    self.pdf(window, int(fwd[f])),
                    self.pdf(window, int(loop[f])),
                )
                state = self.tuple2state.get(key)
                if state is None:
                    raise ValueError(
                        f"utterance {utt}: the new model has no transition "
                        f"state for (phone, hmm-state, pdfs) {key}"
                    )
                out[start + f] = self.new.tstate2first[state] + tidx[f]
        return out


def convert_alignment(tids, old_model, new_model, new_ctx_dep, utt="<utt>"):
    """Kaldi's ``ConvertAlignment`` for one utterance (same topology).

    Arguments
    ---------
    tids : array-like of int
        Transition-ids of ``old_model``.
    old_model, new_model : kaldi_hmm_gmm.TransitionModel
        Old and new transition models (same HMM topology per phone).
    new_ctx_dep : kaldi_hmm_gmm.ContextDependency
        The new tree.
    utt : str
        Utterance id, for error messages.

    Returns
    -------
    numpy.ndarray
        int32 transition-ids of ``new_model``, same length, phones and HMM
        states frame for frame.

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> from sb_rectifier.gmm.tree import _TOPO_1STATE
    >>> topo = khg.HmmTopology()
    >>> topo.read(_TOPO_1STATE.format(phones="1 2"))
    >>> ctx = khg.monophone_context_dependency([1, 2], [0, 1, 1])
    >>> tm = khg.TransitionModel(ctx, topo)
    >>> convert_alignment([1, 2, 4], tm, tm, ctx)
    array([1, 2, 4], dtype=int32)
    """
    return _Converter(old_model, new_model, new_ctx_dep).convert(tids, utt)


def convert_alignments(alignments, old_model, new_model, new_ctx_dep):
    """:func:`convert_alignment` for many utterances.

    Arguments
    ---------
    alignments : dict
        Utterance id -> old transition-ids.
    old_model, new_model : kaldi_hmm_gmm.TransitionModel
        Old and new transition models.
    new_ctx_dep : kaldi_hmm_gmm.ContextDependency
        The new tree.

    Returns
    -------
    dict
        Utterance id -> int32 new transition-ids (errors name the
        utterance).

    Example
    -------
    >>> import kaldi_hmm_gmm as khg
    >>> from sb_rectifier.gmm.tree import _TOPO_1STATE
    >>> topo = khg.HmmTopology()
    >>> topo.read(_TOPO_1STATE.format(phones="1 2"))
    >>> ctx = khg.monophone_context_dependency([1, 2], [0, 1, 1])
    >>> tm = khg.TransitionModel(ctx, topo)
    >>> convert_alignments({"a": [3, 4]}, tm, tm, ctx)
    {'a': array([3, 4], dtype=int32)}
    """
    conv = _Converter(old_model, new_model, new_ctx_dep)
    return {utt: conv.convert(tids, utt) for utt, tids in alignments.items()}
