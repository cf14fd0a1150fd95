"""The EM loop shared by monophone and triphone training.

Each iteration is one pass of Kaldi's ``train_mono.sh`` /
``train_deltas.sh`` loop: realign (on the realignment iterations),
accumulate (``gmm-acc-stats-ali``), re-estimate and mix up (``gmm-est
--mix-up --power``). Every iteration logs one line::

    iter 7: avg log-likelihood per frame -61.32 over 123456 frames,
    640 Gaussians, realigned (0 failed)

Authors
 * sb_rectifier developers 2026
"""

import time

from sb_rectifier.gmm.align import align_utterances
from sb_rectifier.gmm.estimate import accumulate, update

__all__ = ["run_em"]


def run_em(
    trans_model,
    am_gmm,
    graphs,
    feats,
    alignments,
    iterations,
    realign_iters,
    beam_of,
    retry_beam,
    mixup_of,
    min_occupancy_of=lambda x: 10.0,
    power=0.25,
    boost=1.0,
    silence_phones=(),
    jobs=1,
    log=None,
    progress=False,
    failed=None,
):
    """Runs EM iterations; the model is updated in place.

    Arguments
    ---------
    trans_model, am_gmm
        The model (khg objects, updated in place).
    graphs : dict
        Utterance -> training graph.
    feats : dict
        Utterance -> features.
    alignments : dict
        Utterance -> transition-ids of ``trans_model`` (the start).
    iterations : iterable of int
        Iteration numbers (Kaldi's ``x``).
    realign_iters : set of int
        Iterations that realign first.
    beam_of : callable
        Iteration -> beam.
    retry_beam : float
        The retry beam.
    mixup_of : callable
        Iteration -> target number of Gaussians.
    min_occupancy_of : callable
        Iteration -> ``--min-gaussian-occupancy``.
    power : float
        ``--power`` of the mixing up.
    boost : float
        Silence boost while aligning.
    silence_phones : sequence of int
        The phones boosted.
    jobs : int
        Worker processes for alignment.
    log : callable or None
        Receives each log line.
    progress : bool
        tqdm bars.
    failed : dict, optional
        Filled with utterance -> reason of the last realignment's failures.

    Returns
    -------
    tuple
        ``(alignments, history)``: the last alignments and one dict per
        iteration (``iter``, ``avg_like``, ``frames``, ``num_gauss``,
        ``realigned``, ``failed``, ``seconds``).

    Example
    -------
    >>> import numpy as np
    >>> from sb_rectifier.gmm.estimate import init_mono
    >>> from sb_rectifier.gmm.graphs import Lang, compile_graphs
    >>> from sb_rectifier.gmm.graphs import equal_alignment
    >>> from sb_rectifier.kaldi.prepare_lang import prepare_lang
    >>> d = getfixture("tmp_path") / "dict"
    >>> d.mkdir()
    >>> _ = (d / "silence_phones.txt").write_text("SIL\\n")
    >>> _ = (d / "optional_silence.txt").write_text("SIL\\n")
    >>> _ = (d / "nonsilence_phones.txt").write_text("n\\noU\\n")
    >>> _ = (d / "lexicon.txt").write_text("<UNK> SIL\\nno n oU\\non oU n\\n")
    >>> _ = prepare_lang(d, d.parent / "lang")
    >>> lang = Lang(d.parent / "lang")
    >>> x = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    >>> tm, am, ctx = init_mono(lang.topo, [x], lang.sets)
    >>> graphs, _ = compile_graphs(tm, ctx, lang, {"u": [lang.word_ids["no"]]})
    >>> ali = {"u": equal_alignment(graphs["u"], len(x), "u")}
    >>> feats, beam, mix = {"u": x}, (lambda it: 10.0), (lambda it: 14)
    >>> ali, history = run_em(
    ...     tm, am, graphs, feats, ali, [1, 2, 3], {2}, beam, 40.0, mix
    ... )
    >>> [(h["iter"], h["realigned"], h["num_gauss"]) for h in history]
    [(1, False, 11), (2, True, 14), (3, False, 14)]
    >>> len(ali["u"]), history[-1]["frames"], am.num_gauss
    (200, 200, 14)
    """
    history = []
    iterations = list(iterations)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(iterations), desc="EM", unit="iter", leave=False)
    try:
        for x in iterations:
            start = time.time()
            realigned = x in realign_iters
            num_failed = 0
            if realigned:
                result = align_utterances(
                    trans_model,
                    am_gmm,
                    graphs,
                    feats,
                    beam=beam_of(x),
                    retry_beam=retry_beam,
                    jobs=jobs,
                    boost=boost,
                    silence_phones=silence_phones,
                    progress=progress,
                    desc=f"align (iter {x})",
                )
                alignments = result.alignments
                num_failed = len(result.failed)
                if failed is not None:
                    failed.clear()
                    failed.update(result.failed)
                if not alignments:
                    raise RuntimeError(
                        f"iteration {x}: no utterance could be aligned "
                        f"(e.g. {next(iter(result.failed.items()), None)})"
                    )
            stats = accumulate(trans_model, am_gmm, feats, alignments)
            info = update(
                trans_model,
                am_gmm,
                stats,
                mix_up=mixup_of(x),
                power=power,
                min_gaussian_occupancy=min_occupancy_of(x),
            )
            entry = {
                "iter": x,
                "avg_like": stats.avg_like,
                "frames": stats.num_frames,
                "num_gauss": info["num_gauss"],
                "realigned": realigned,
                "failed": num_failed,
                "seconds": round(time.time() - start, 3),
            }
            history.append(entry)
            if log is not None:
                line = (
                    f"iter {x}: avg log-likelihood per frame "
                    f"{stats.avg_like:.2f} over {stats.num_frames} frames, "
                    f"{info['num_gauss']} Gaussians"
                )
                if realigned:
                    line += f", realigned ({num_failed} failed)"
                log(line)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(like=f"{stats.avg_like:.2f}")
    finally:
        if bar is not None:
            bar.close()
    return alignments, history
