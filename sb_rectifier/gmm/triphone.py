"""Decision-tree triphone training (Kaldi's ``steps/train_deltas.sh``).

From the alignments of a previous system: tree statistics
(``acc-tree-stats``, silence phones context-independent), questions
(``cluster-phones`` on ``sets.int`` plus ``extra_questions.int``), the
tree (``build-tree`` to ``num_leaves``), one Gaussian per leaf
(``gmm-init-model``), the alignments converted to the new tree
(``convert-ali``), new training graphs, then ``num_iters - 1`` EM passes
with realignment at 10, 20, 30 (beam 10, retry 40) and Gaussians increased
linearly to ``num_gauss`` over the first 25. The tree code is
:mod:`sb_rectifier.gmm.tree` and :mod:`sb_rectifier.gmm.tree_init`.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.gmm.em import run_em
from sb_rectifier.gmm.graphs import compile_graphs

__all__ = ["TRI_REALIGN_ITERS", "train_triphone"]

TRI_REALIGN_ITERS = frozenset([10, 20, 30])


def train_triphone(
    data,
    lang,
    prev_model,
    prev_alignments,
    num_leaves=2000,
    num_gauss=10000,
    num_iters=35,
    max_iter_inc=25,
    realign_iters=TRI_REALIGN_ITERS,
    boost_silence=1.0,
    beam=10.0,
    retry_beam=40.0,
    power=0.25,
    cluster_thresh=-1.0,
    jobs=1,
    log=None,
    progress=False,
):
    """Trains a triphone system on the alignments of a previous one.

    Arguments
    ---------
    data : TrainingData
        Features and transcripts.
    lang : Lang
        The lang folder.
    prev_model : kaldi_hmm_gmm.TransitionModel
        The model of ``prev_alignments``.
    prev_alignments : dict
        Utterance -> transition-ids.
    num_leaves : int
        Tree leaves (``numleaves``, 2000).
    num_gauss : int
        Target Gaussians (``totgauss``, 10000).
    num_iters : int
        Kaldi's ``num_iters`` (35: passes 1..34).
    max_iter_inc : int
        Last iteration adding Gaussians (25).
    realign_iters : set of int
        Realignment iterations (10, 20, 30).
    boost_silence, beam, retry_beam, power, cluster_thresh
        As Kaldi's options.
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
        ``failed``, ``history``, ``tree_info``.

    Example
    -------
    >>> import numpy as np
    >>> from sb_rectifier.gmm.data import TrainingData
    >>> from sb_rectifier.gmm.graphs import Lang
    >>> from sb_rectifier.gmm.mono import train_mono
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
    >>> mono = train_mono(data, lang, num_iters=4, num_gauss=20)
    >>> tm, alis = mono["trans_model"], mono["alignments"]
    >>> opts = dict(num_leaves=6, num_gauss=12, num_iters=4, max_iter_inc=2)
    >>> tri = train_triphone(data, lang, tm, alis, **opts)
    >>> tri["ctx_dep"].context_width, tri["tree_info"]["num_leaves"]
    (3, 3)
    >>> [(h["iter"], h["num_gauss"]) for h in tri["history"]]
    [(1, 3), (2, 7), (3, 11)]
    >>> sorted(tri["alignments"]), tri["failed"]
    (['a', 'b'], {})
    """
    from sb_rectifier.gmm.tree import (
        accumulate_tree_stats,
        build_tree,
        make_questions,
    )
    from sb_rectifier.gmm.tree_init import (
        convert_alignments,
        init_gmm_from_tree,
    )

    log = log or (lambda line: None)
    alis = {u: a for u, a in prev_alignments.items() if u in data.transcripts}
    if not alis:
        raise ValueError("train_triphone: no aligned utterance to train on")
    stats = accumulate_tree_stats(
        data.feats, alis, prev_model, ci_phones=lang.context_indep
    )
    questions = make_questions(stats, lang.sets, lang.extra_questions)
    roots = [(phones, shared, split) for shared, split, phones in lang.roots]
    ctx_dep, tree_info = build_tree(
        stats,
        roots,
        questions,
        lang.topo,
        num_leaves,
        cluster_thresh=cluster_thresh,
    )
    trans_model, am_gmm = init_gmm_from_tree(ctx_dep, stats, lang.topo)
    log(
        f"tree: {ctx_dep.num_pdfs} leaves from {len(stats)} events, "
        f"{len(questions)} questions"
    )
    alignments = convert_alignments(alis, prev_model, trans_model, ctx_dep)
    graphs, failed = compile_graphs(
        trans_model, ctx_dep, lang, {u: data.transcripts[u] for u in alignments}
    )
    alignments = {u: a for u, a in alignments.items() if u in graphs}
    start_gauss = am_gmm.num_gauss
    inc = max(0, (num_gauss - start_gauss) // max_iter_inc)

    def mixup_of(x):
        return start_gauss + inc * min(x - 1, max_iter_inc)

    align_failed = {}
    alignments, history = run_em(
        trans_model,
        am_gmm,
        graphs,
        data.feats,
        alignments,
        range(1, num_iters),
        set(realign_iters),
        beam_of=lambda x: beam,
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
    info = {k: v for k, v in tree_info.items() if k != "tree"}
    return {
        "trans_model": trans_model,
        "am_gmm": am_gmm,
        "ctx_dep": ctx_dep,
        "alignments": alignments,
        "failed": failed,
        "history": history,
        "tree_info": info,
        "graphs": graphs,
    }
