"""GMM-HMM statistics and re-estimation (``gmm-acc-stats-ali``, ``gmm-est``).

Accumulation is vectorised: the frames of all utterances are grouped by
pdf and each pdf's Gaussian posteriors come from one call of Kaldi's
``DiagGmm::LogLikelihoods`` on the whole group, so no Python runs per
frame; the sufficient statistics (occupancy, first and second moments)
are handed to Kaldi's ``AccumAmDiagGmm`` and the update is Kaldi's own
(``MleAmDiagGmmUpdate``, ``TransitionModel::MleUpdate``, ``SplitByCount``),
as in ``gmm-est``. :func:`init_mono` is ``gmm-init-mono`` and
:func:`boost_silence` ``gmm-boost-silence``.

Authors
 * sb_rectifier developers 2026
"""

import heapq

import kaldi_hmm_gmm as khg
import numpy as np

__all__ = [
    "GmmStats",
    "accumulate",
    "boost_silence",
    "init_mono",
    "split_by_count",
    "split_targets",
    "update",
]


def init_mono(topo, feats, shared_phones=None):
    """A flat-start monophone system (Kaldi's ``gmm-init-mono``).

    One Gaussian per pdf, all equal to the global mean and variance of
    ``feats``; pdfs shared by the phones of each set of ``shared_phones``
    (``phones/sets.int``, as ``train_mono.sh`` passes).

    Arguments
    ---------
    topo : kaldi_hmm_gmm.HmmTopology
        The topology.
    feats : list of numpy.ndarray
        Feature matrices (``subset-feats --n=10`` in Kaldi).
    shared_phones : list of list of int, optional
        Phone sets sharing pdfs.

    Returns
    -------
    trans_model : kaldi_hmm_gmm.TransitionModel
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
    ctx_dep : kaldi_hmm_gmm.ContextDependency

    Example
    -------
    >>> topo = khg.HmmTopology()
    >>> topo.read(
    ...     "<Topology> <TopologyEntry> <ForPhones> 1 2 </ForPhones> "
    ...     "<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 "
    ...     "</State> <State> 1 </State> </TopologyEntry> </Topology>"
    ... )
    >>> x = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    >>> tm, am, ctx = init_mono(topo, [x])
    >>> tm.num_pdfs, am.num_gauss, am.dim
    (2, 2, 3)
    """
    if not feats:
        raise ValueError("init_mono: no features to initialise from")
    stacked = np.concatenate(feats).astype(np.float64)
    mean = stacked.mean(axis=0)
    var = np.maximum(stacked.var(axis=0), 1e-10)
    if shared_phones:
        ctx = khg.monophone_context_dependency_shared(
            phone_classes=[sorted(s) for s in shared_phones],
            phone2num_pdf_classes=topo.get_phone_to_num_pdf_classes(),
        )
    else:
        ctx = khg.monophone_context_dependency(
            phones=topo.phones,
            phone2num_pdf_classes=topo.get_phone_to_num_pdf_classes(),
        )
    gmm = khg.DiagGmm(nmix=1, dim=stacked.shape[1])
    gmm.set_weights(np.ones(1, dtype=np.float32))
    gmm.set_invvars((1.0 / var)[None].astype(np.float32))
    gmm.set_means(mean[None].astype(np.float32))
    gmm.compute_gconsts()
    am = khg.AmDiagGmm()
    for _ in range(ctx.num_pdfs):
        am.add_pdf(gmm)
    tm = khg.TransitionModel(ctx_dep=ctx, hmm_topo=topo)
    return tm, am, ctx


class GmmStats:
    """Accumulated statistics of one pass (Kaldi's ``.acc`` files).

    Attributes
    ----------
    gmm_accs : kaldi_hmm_gmm.AccumAmDiagGmm
        Per-pdf Gaussian statistics.
    trans_accs : numpy.ndarray
        Counts per transition-id (float64, index 0 unused).
    pdf_occs : numpy.ndarray
        Frames per pdf.
    tot_like : float
        Total log-likelihood of the frames.
    num_frames : int
        Frames accumulated.

    Example
    -------
    >>> topo = khg.HmmTopology()
    >>> topo.read(
    ...     "<Topology> <TopologyEntry> <ForPhones> 1 </ForPhones> "
    ...     "<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 "
    ...     "</State> <State> 1 </State> </TopologyEntry> </Topology>"
    ... )
    >>> x = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    >>> tm, am, _ = init_mono(topo, [x])
    >>> stats = accumulate(tm, am, {"u": x}, {"u": [1] * 99 + [2]})
    >>> isinstance(stats, GmmStats), stats.num_frames, stats.pdf_occs.tolist()
    (True, 100, [100.0])
    >>> ml_like = -(1 + np.log(2 * np.pi) + np.log(x.var(0)).mean())
    >>> bool(np.isclose(stats.avg_like, ml_like))  # of the ML Gaussian
    True
    """

    def __init__(self, gmm_accs, trans_accs, pdf_occs, tot_like, num_frames):
        self.gmm_accs = gmm_accs
        self.trans_accs = trans_accs
        self.pdf_occs = pdf_occs
        self.tot_like = tot_like
        self.num_frames = num_frames

    @property
    def avg_like(self):
        """Average log-likelihood per frame."""
        return self.tot_like / max(self.num_frames, 1)


def accumulate(trans_model, am_gmm, feats, alignments):
    """Statistics of aligned frames (``gmm-acc-stats-ali``), vectorised.

    Arguments
    ---------
    trans_model : kaldi_hmm_gmm.TransitionModel
        The model (maps transition-ids to pdfs).
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        The GMMs (give the Gaussian posteriors).
    feats : dict
        Utterance -> features ``(T, D)``.
    alignments : dict
        Utterance -> transition-ids (length ``T``).

    Returns
    -------
    GmmStats
        The statistics.

    Example
    -------
    >>> topo = khg.HmmTopology()
    >>> topo.read(
    ...     "<Topology> <TopologyEntry> <ForPhones> 1 </ForPhones> "
    ...     "<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 "
    ...     "</State> <State> 1 </State> </TopologyEntry> </Topology>"
    ... )
    >>> x = np.arange(12, dtype=np.float32).reshape(4, 3)
    >>> tm, am, _ = init_mono(topo, [x])
    >>> stats = accumulate(tm, am, {"u": x}, {"u": [1, 1, 1, 2]})
    >>> stats.num_frames, stats.trans_accs.tolist()
    (4, [0.0, 3.0, 1.0])
    """
    tid2pdf = np.asarray(
        trans_model.transition_id_to_pdf_array(), dtype=np.int64
    )
    num_tids = trans_model.num_transition_ids
    utts = [u for u in alignments if u in feats]
    xs, tids = [], []
    for utt in utts:
        ali = np.asarray(alignments[utt], dtype=np.int64)
        x = feats[utt]
        if len(ali) != len(x):
            raise ValueError(
                f"accumulate: utterance {utt}: alignment has {len(ali)} "
                f"frames, features {len(x)}"
            )
        xs.append(x)
        tids.append(ali)
    dim = am_gmm.dim
    gmm_accs = khg.AccumAmDiagGmm()
    gmm_accs.init(model=am_gmm, flags=khg.GmmUpdateFlags.kGmmAll)
    num_pdfs = am_gmm.num_pdfs
    pdf_occs = np.zeros(num_pdfs)
    if not xs:
        return GmmStats(gmm_accs, np.zeros(num_tids + 1), pdf_occs, 0.0, 0)
    x_all = np.concatenate(xs).astype(np.float32, copy=False)
    tid_all = np.concatenate(tids)
    if tid_all.min() < 1 or tid_all.max() > num_tids:
        raise ValueError(
            f"accumulate: transition-id out of range 1..{num_tids} "
            "(alignments of another model?)"
        )
    trans_accs = np.bincount(tid_all, minlength=num_tids + 1).astype(np.float64)
    pdf_all = tid2pdf[tid_all]
    order = np.argsort(pdf_all, kind="stable")
    counts = np.bincount(pdf_all, minlength=num_pdfs)
    starts = np.concatenate([[0], np.cumsum(counts)])
    tot_like = 0.0
    for pdf in np.flatnonzero(counts):
        x = x_all[order[starts[pdf] : starts[pdf + 1]]]
        gmm = am_gmm.get_pdf(int(pdf))
        loglikes = np.asarray(gmm.log_likelihoods_matrix(x), dtype=np.float64)
        top = loglikes.max(axis=1, keepdims=True)
        post = np.exp(loglikes - top)
        total = post.sum(axis=1, keepdims=True)
        tot_like += float((np.log(total) + top).sum())
        post /= total
        x64 = x.astype(np.float64)
        occ = post.sum(axis=0)
        mean_stats = post.T @ x64
        var_stats = post.T @ (x64 * x64)
        _add_stats(gmm_accs, am_gmm, int(pdf), occ, mean_stats, var_stats)
        pdf_occs[pdf] = counts[pdf]
    assert x_all.shape[1] == dim
    return GmmStats(gmm_accs, trans_accs, pdf_occs, tot_like, len(tid_all))


def _add_stats(gmm_accs, am_gmm, pdf, occ, mean_stats, var_stats):
    """Adds per-Gaussian sufficient statistics to Kaldi's accumulator.

    khg hands out copies of the per-pdf accumulators, so the statistics go
    in through ``AccumulateFromPosteriors``: for Gaussian ``g`` two points
    ``mu +- sigma`` (``mu``, ``sigma**2`` the mean and variance of its
    statistics) with posterior ``occ/2`` each give exactly the same
    occupancy, first and second moments.
    """
    num_gauss = len(occ)
    for g in np.flatnonzero(occ > 0.0):
        mu = mean_stats[g] / occ[g]
        sigma = np.sqrt(np.maximum(var_stats[g] / occ[g] - mu * mu, 0.0))
        weight = np.zeros(num_gauss, dtype=np.float32)
        weight[g] = occ[g] / 2.0
        for point in (mu + sigma, mu - sigma):
            gmm_accs.accumulate_from_posteriors(
                model=am_gmm,
                data=point.astype(np.float32),
                gmm_index=pdf,
                weight=weight,
            )


def update(
    trans_model,
    am_gmm,
    stats,
    mix_up=0,
    power=0.25,
    min_count=20.0,
    perturb_factor=0.01,
    min_gaussian_occupancy=10.0,
    seed=0,
):
    """Re-estimates the model in place (Kaldi's ``gmm-est``).

    Arguments
    ---------
    trans_model : kaldi_hmm_gmm.TransitionModel
        Updated in place.
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        Updated in place.
    stats : GmmStats
        From :func:`accumulate`.
    mix_up : int
        Target total number of Gaussians (0: no mixing up).
    power, min_count, perturb_factor : float
        ``SplitByCount`` options (``--power`` etc. of ``gmm-est``).
    min_gaussian_occupancy : float
        Gaussians with less occupancy are not updated (Kaldi's default 10;
        3 on the first monophone pass).
    seed : int
        Seed of the mixing-up perturbations (:func:`split_by_count`): the
        same inputs give the same model, as Kaldi's ``gmm-est``, whose
        random numbers start afresh in every call.

    Returns
    -------
    dict
        ``gmm_impr`` and ``trans_impr`` (objective improvement per frame),
        ``num_gauss`` after the update.

    Example
    -------
    >>> topo = khg.HmmTopology()
    >>> topo.read(
    ...     "<Topology> <TopologyEntry> <ForPhones> 1 </ForPhones> "
    ...     "<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 "
    ...     "</State> <State> 1 </State> </TopologyEntry> </Topology>"
    ... )
    >>> x = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    >>> tm, am, _ = init_mono(topo, [x])
    >>> ali = [1] * 199 + [2]
    >>> info = update(tm, am, accumulate(tm, am, {"u": x}, {"u": ali}), 2)
    >>> info["num_gauss"]
    2
    """
    tcfg = khg.MleTransitionUpdateConfig()
    trans_impr, trans_count = trans_model.mle_update(stats.trans_accs, tcfg)
    opts = khg.MleDiagGmmOptions()
    opts.min_gaussian_occupancy = float(min_gaussian_occupancy)
    gmm_impr, gmm_count = khg.mle_am_diag_gmm_update(
        config=opts,
        amdiag_gmm_acc=stats.gmm_accs,
        flags=int(khg.GmmUpdateFlags.kGmmAll),
        am_gmm=am_gmm,
    )
    if mix_up and mix_up > am_gmm.num_gauss:
        split_by_count(
            am_gmm,
            stats.pdf_occs,
            int(mix_up),
            perturb_factor=perturb_factor,
            power=power,
            min_count=min_count,
            seed=seed,
        )
    return {
        "gmm_impr": gmm_impr / max(gmm_count, 1e-10),
        "trans_impr": trans_impr / max(trans_count, 1e-10),
        "num_gauss": am_gmm.num_gauss,
    }


def split_targets(state_occs, target_components, power=0.25, min_count=20.0):
    """Gaussians per pdf after mixing up (Kaldi's ``GetSplitTargets``).

    Starting from one Gaussian per pdf, the pdf with the largest
    ``occ ** power / num_gauss`` gets one more, until ``target_components``;
    a pdf whose ``(num_gauss + 1) * min_count`` reaches its occupancy gets no
    more. Ties go to the lower pdf index.

    Arguments
    ---------
    state_occs : array-like of float
        Occupancy (frames) per pdf.
    target_components : int
        Total Gaussians wanted.
    power, min_count : float
        Kaldi's ``--power`` and ``--min-count``.

    Returns
    -------
    numpy.ndarray
        Gaussians per pdf (at least 1).

    Example
    -------
    >>> split_targets([100.0, 400.0, 10.0], 5, power=0.5).tolist()
    [2, 2, 1]
    """
    occs = np.asarray(state_occs, dtype=np.float64)
    counts = np.ones(len(occs), dtype=np.int64)
    heap = [(-(o**power), i) for i, o in enumerate(occs)]
    heapq.heapify(heap)
    total = len(occs)
    while total < target_components and heap:
        neg, pdf = heapq.heappop(heap)
        if neg == 0:
            break
        if (counts[pdf] + 1) * min_count >= occs[pdf]:
            continue  # min-count reached: this pdf splits no more
        counts[pdf] += 1
        total += 1
        heapq.heappush(heap, (-(occs[pdf] ** power) / counts[pdf], pdf))
    return counts


def split_by_count(
    am_gmm,
    state_occs,
    target_components,
    perturb_factor=0.01,
    power=0.25,
    min_count=20.0,
    seed=0,
):
    """Mixing up (Kaldi's ``AmDiagGmm::SplitByCount``), reproducibly.

    Each pdf reaches its :func:`split_targets` count by Kaldi's
    ``DiagGmm::Split``: the heaviest Gaussian is halved and its two halves'
    means moved apart by ``perturb_factor`` standard deviations along a
    random direction. kaldi-hmm-gmm 1.1.4's own ``split_by_count`` draws
    that direction from ``std::random_device``, so two runs on the same
    data give different models; here it comes from a generator seeded with
    ``seed``.

    Arguments
    ---------
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        Split in place.
    state_occs : array-like of float
        Occupancy per pdf.
    target_components : int
        Total Gaussians wanted.
    perturb_factor, power, min_count : float
        Kaldi's ``--perturb-factor``, ``--power``, ``--min-count``.
    seed : int
        Seed of the perturbations.

    Returns
    -------
    int
        Gaussians after the split.

    Example
    -------
    >>> from sb_rectifier.gmm.model import am_from_arrays, am_to_arrays
    >>> def two():
    ...     return am_from_arrays(
    ...         [(np.ones(1), np.zeros((1, 2)), np.ones((1, 2)))] * 2
    ...     )
    >>> a, b = two(), two()
    >>> (
    ...     split_by_count(a, [100.0, 900.0], 5),
    ...     split_by_count(b, [100.0, 900.0], 5),
    ... )
    (5, 5)
    >>> [a.num_gauss_in_pdf(i) for i in range(2)]
    [2, 3]
    >>> all(
    ...     np.array_equal(x[2], y[2])
    ...     for x, y in zip(am_to_arrays(a), am_to_arrays(b))
    ... )
    True
    """
    targets = split_targets(state_occs, target_components, power, min_count)
    rng = np.random.default_rng(seed)
    for pdf, target in enumerate(targets.tolist()):
        gmm = am_gmm.get_pdf(pdf)
        cur, dim = gmm.num_gauss, am_gmm.dim
        if cur >= target:
            continue
        weights = np.zeros(target, dtype=np.float32)
        means_invvars = np.zeros((target, dim), dtype=np.float32)
        inv_vars = np.zeros((target, dim), dtype=np.float32)
        weights[:cur] = np.asarray(gmm.weights, dtype=np.float32)
        means_invvars[:cur] = np.asarray(gmm.means_invvars, dtype=np.float32)
        inv_vars[:cur] = np.asarray(gmm.inv_vars, dtype=np.float32)
        while cur < target:
            top = int(np.argmax(weights[:cur]))  # the first of the heaviest
            weights[top] /= 2
            weights[cur] = weights[top]
            step = (
                rng.standard_normal(dim).astype(np.float32)
                * np.sqrt(inv_vars[top])
                * np.float32(perturb_factor)
            )
            inv_vars[cur] = inv_vars[top]
            means_invvars[cur] = means_invvars[top] + step
            means_invvars[top] -= step
            cur += 1
        gmm.resize(target, dim)
        gmm.set_weights(weights)
        gmm.set_invvars_and_means(inv_vars, means_invvars / inv_vars)
    am_gmm.compute_gconsts()
    return am_gmm.num_gauss


def boost_silence(trans_model, am_gmm, silence_phones, boost):
    """A copy of the GMMs with silence boosted (``gmm-boost-silence``).

    The weights of every pdf of the silence phones are multiplied by
    ``boost`` (so their likelihoods are, by ``log(boost)``).

    Arguments
    ---------
    trans_model : kaldi_hmm_gmm.TransitionModel
        The model.
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        The GMMs (not changed).
    silence_phones : list of int
        Phone ids (``phones/optional_silence.int``).
    boost : float
        The factor; 1.0 returns ``am_gmm`` itself.

    Returns
    -------
    kaldi_hmm_gmm.AmDiagGmm
        The boosted copy.

    Example
    -------
    >>> topo = khg.HmmTopology()
    >>> topo.read(
    ...     "<Topology> <TopologyEntry> <ForPhones> 1 2 </ForPhones> "
    ...     "<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 "
    ...     "</State> <State> 1 </State> </TopologyEntry> </Topology>"
    ... )
    >>> x = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    >>> tm, am, _ = init_mono(topo, [x])
    >>> boosted = boost_silence(tm, am, [1], 2.0)
    >>> d = boosted.log_likelihood(0, x[0]) - am.log_likelihood(0, x[0])
    >>> (
    ...     round(float(d), 4),
    ...     boosted.log_likelihood(1, x[0]) == am.log_likelihood(1, x[0]),
    ... )
    (0.6931, True)
    """
    if boost == 1.0 or not silence_phones:
        return am_gmm
    _, pdfs = khg.get_pdfs_for_phones(trans_model, sorted(silence_phones))
    out = khg.AmDiagGmm()
    out.copy_from_am_diag_gmm(am_gmm)
    for pdf in pdfs:
        gmm = out.get_pdf(pdf)
        gmm.set_weights(np.asarray(gmm.weights, dtype=np.float32) * boost)
        gmm.compute_gconsts()
    return out
