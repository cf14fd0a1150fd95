"""Flat-start monophone training (Kaldi's ``steps/train_mono.sh``).

``gmm-init-mono`` on the first 10 utterances (pdfs shared by the phones of
each line of ``phones/sets.int``), training graphs, equal alignment, then
``num_iters`` EM passes: realignment on Kaldi's iterations (beam 6 on the
first, then 10; retry beam 40), ``--min-gaussian-occupancy=3`` on the
first update, Gaussians increased linearly to ``num_gauss`` over the first
30 iterations (``--power=0.25``), silence boosted while aligning.
Adapted in part from kaldi-hmm-gmm's ``egs/yesno/train.py`` and
``scripts/gmm_*.py`` (Apache-2.0, Fangjun Kuang).

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.gmm.em import run_em
from sb_rectifier.gmm.estimate import accumulate, init_mono, update
from sb_rectifier.gmm.graphs import compile_graphs, equal_alignment

__all__ = ["MONO_REALIGN_ITERS", "train_mono"]

MONO_REALIGN_ITERS = frozenset(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 23, 26, 29, 32, 35, 38]
)


def train_mono(
    data,
    lang,
    num_iters=40,
    num_gauss=1000,
    max_iter_inc=30,
    boost_silence=1.0,
    initial_beam=6.0,
    beam=10.0,
    retry_beam=40.0,
    power=0.25,
    jobs=1,
    log=None,
    progress=False,
):
    """Trains a monophone GMM-HMM from a flat start.

    Arguments
    ---------
    data : TrainingData
        Features and transcripts (:func:`~.data.load_training_data`).
    lang : Lang
        The lang folder.
    num_iters : int
        EM passes (``--num-iters``, 40).
    num_gauss : int
        Target number of Gaussians (``--totgauss``, 1000).
    max_iter_inc : int
        Last iteration that adds Gaussians (30).
    boost_silence : float
        Silence boost while aligning (1.0; recipes often use 1.25).
    initial_beam, beam, retry_beam : float
        Alignment beams (first realignment, later ones, retry).
    power : float
        Mixing-up power.
    jobs : int
        Worker processes.
    log : callable or None
        Receives log lines.
    progress : bool
        tqdm bars.

    Returns
    -------
    dict
        ``trans_model``, ``am_gmm``, ``ctx_dep``, ``alignments``,
        ``failed`` (utterance -> reason), ``history``.

    Example
    -------
    >>> import numpy as np
    >>> from sb_rectifier.gmm.data import TrainingData
    >>> from sb_rectifier.gmm.graphs import Lang
    >>> from sb_rectifier.kaldi.prepare_lang import prepare_lang
    >>> d = getfixture("tmp_path") / "dict"
    >>> d.mkdir()
    >>> _ = (d / "silence_phones.txt").write_text("SIL\\n")
    >>> _ = (d / "optional_silence.txt").write_text("SIL\\n")
    >>> _ = (d / "nonsilence_phones.txt").write_text("n\\noU\\n")
    >>> _ = (d / "lexicon.txt").write_text("<UNK> SIL\\nno n oU\\non oU n\\n")
    >>> _ = prepare_lang(d, d.parent / "lang")
    >>> lang = Lang(d.parent / "lang")
    >>> rng = np.random.default_rng(0)
    >>> sizes = [("a", 200), ("b", 200), ("c", 2)]
    >>> feats = {u: rng.standard_normal((n, 2), np.float32) for u, n in sizes}
    >>> w = lang.word_ids
    >>> texts = {"a": [w["no"]], "b": [w["on"]], "c": [w["no"]]}
    >>> data = TrainingData(feats, texts, None, {})
    >>> out = train_mono(data, lang, num_iters=4, num_gauss=20, max_iter_inc=2)
    >>> [(h["iter"], h["num_gauss"]) for h in out["history"]]
    [(0, 11), (1, 11), (2, 15), (3, 19)]
    >>> sorted(out["alignments"]), out["failed"]
    (['a', 'b'], {'c': 'too few frames (2) for its phones'})
    """
    log = log or (lambda line: None)
    utts = sorted(data.transcripts)
    if not utts:
        raise ValueError(
            "train_mono: no utterance with features and a transcript"
        )
    init_utts = utts[:10]
    trans_model, am_gmm, ctx_dep = init_mono(
        lang.topo, [data.feats[u] for u in init_utts], shared_phones=lang.sets
    )
    log(
        f"init: {trans_model.num_pdfs} pdfs from {len(init_utts)} utterances, "
        f"feature dim {am_gmm.dim}"
    )
    graphs, failed = compile_graphs(
        trans_model, ctx_dep, lang, {u: data.transcripts[u] for u in utts}
    )
    alignments = {}
    for utt in sorted(graphs):
        ali = equal_alignment(graphs[utt], len(data.feats[utt]), utt)
        if ali is None:
            failed[utt] = (
                f"too few frames ({len(data.feats[utt])}) for its phones"
            )
            del graphs[utt]
        else:
            alignments[utt] = ali
    log(f"equal alignment: {len(alignments)} utterances, {len(failed)} failed")
    if not alignments:
        raise ValueError("train_mono: no utterance could be equally aligned")
    start_gauss = am_gmm.num_gauss
    inc = max(0, (num_gauss - start_gauss) // max_iter_inc)
    stats = accumulate(trans_model, am_gmm, data.feats, alignments)
    update(
        trans_model,
        am_gmm,
        stats,
        mix_up=start_gauss,
        power=power,
        min_gaussian_occupancy=3.0,
    )
    history = [
        {
            "iter": 0,
            "avg_like": stats.avg_like,
            "frames": stats.num_frames,
            "num_gauss": am_gmm.num_gauss,
            "realigned": True,
            "failed": len(failed),
        }
    ]
    log(
        f"iter 0: avg log-likelihood per frame {stats.avg_like:.2f} over "
        f"{stats.num_frames} frames, {am_gmm.num_gauss} Gaussians, "
        f"equal alignment ({len(failed)} failed)"
    )

    def mixup_of(x):
        return start_gauss + inc * min(x - 1, max_iter_inc)

    first_realign = min(MONO_REALIGN_ITERS)
    align_failed = {}
    alignments, more = run_em(
        trans_model,
        am_gmm,
        graphs,
        data.feats,
        alignments,
        range(1, num_iters),
        MONO_REALIGN_ITERS,
        beam_of=lambda x: initial_beam if x == first_realign else beam,
        retry_beam=retry_beam,
        mixup_of=mixup_of,
        power=power,
        boost=boost_silence,
        silence_phones=lang.optional_silence,
        jobs=jobs,
        log=log,
        progress=progress,
        failed=align_failed,
    )
    failed.update(align_failed)
    return {
        "trans_model": trans_model,
        "am_gmm": am_gmm,
        "ctx_dep": ctx_dep,
        "alignments": alignments,
        "failed": failed,
        "history": history + more,
        "graphs": graphs,
    }
