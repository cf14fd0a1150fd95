"""Forced alignment with a GMM-HMM (``gmm-align-compiled``), in parallel.

:func:`align_utterances` aligns utterances to their training graphs with
Kaldi's ``AlignUtteranceWrapper`` (beam, then the retry beam) on
``DecodableAmDiagGmmScaled`` likelihoods, in ``jobs`` worker processes
(forked: the graphs and features are shared, the model travels pickled).
An utterance that fails is never dropped silently: it comes back with its
reason. The ``sb-rectifier align`` command is built on it
(:func:`sb_rectifier.gmm.train.align_data_dir`) and :func:`write_ali_dir` writes an
alignment folder in Kaldi's layout.

Authors
 * sb_rectifier developers 2026
"""

import multiprocessing
import os
import pickle

import kaldi_hmm_gmm as khg
import numpy as np

from sb_rectifier.files import write_json, write_text
from sb_rectifier.gmm.estimate import boost_silence
from sb_rectifier.gmm.graphs import equal_alignment
from sb_rectifier.gmm.tree import write_tree
from sb_rectifier.kaldi.archives import write_int_vectors

__all__ = [
    "ACOUSTIC_SCALE",
    "AlignResult",
    "align_utterances",
    "run_parallel",
    "split_jobs",
    "write_ali_dir",
]

ACOUSTIC_SCALE = 0.1
TRANSITION_SCALE = 1.0
SELF_LOOP_SCALE = 0.1

_SHARED = {}  # Set before forking the workers (graphs, features).


def _init_worker(parent_pid, shared):
    from sb_rectifier.processes import die_with_parent

    die_with_parent(parent_pid)
    if shared is not None:  # spawn/forkserver: state comes pickled
        _SHARED.update(shared)


def run_parallel(func, tasks, jobs, shared, progress=None, sizes=None):
    """Runs ``func(task)`` for every task, in ``jobs`` forked processes.

    Arguments
    ---------
    func : callable
        A module-level function; it reads ``shared`` through the module's
        ``_SHARED`` dictionary.
    tasks : list
        Its arguments.
    jobs : int
        Worker processes (1: in this process).
    shared : dict
        State the workers see (inherited through ``fork``).
    progress : tqdm or None
        Updated by ``sizes[i]`` when task ``i`` is done.
    sizes : list of int, optional
        Progress units per task (default 1).

    Returns
    -------
    list
        The results, in the order of ``tasks``.

    Example
    -------
    >>> run_parallel(abs, [-1, -2], 1, {})
    [1, 2]
    """
    sizes = sizes or [1] * len(tasks)
    _SHARED.clear()
    _SHARED.update(shared)
    results = [None] * len(tasks)
    try:
        if jobs <= 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                results[i] = func(task)
                if progress is not None:
                    progress.update(sizes[i])
            return results
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(
            min(jobs, len(tasks)),
            initializer=_init_worker,
            initargs=(os.getpid(), None),
        ) as pool:
            pending = pool.imap_unordered(
                _indexed, [(func, i, t) for i, t in enumerate(tasks)]
            )
            for i, result in pending:
                results[i] = result
                if progress is not None:
                    progress.update(sizes[i])
        return results
    finally:
        _SHARED.clear()


def _indexed(args):
    func, i, task = args
    return i, func(task)


def split_jobs(utts, num_jobs):
    """Splits sorted utterances into ``num_jobs`` contiguous parts.

    Arguments
    ---------
    utts : iterable of str
        Utterance ids.
    num_jobs : int
        Parts (Kaldi's ``split_data.sh`` job count).

    Returns
    -------
    list of list of str
        The parts (some may be empty when there are few utterances).

    Example
    -------
    >>> split_jobs(["c", "a", "b"], 2)
    [['a', 'b'], ['c']]
    """
    utts = sorted(utts)
    bounds = np.linspace(0, len(utts), num_jobs + 1).round().astype(int)
    return [utts[bounds[i] : bounds[i + 1]] for i in range(num_jobs)]


class AlignResult:
    """Alignments of a set of utterances, and what failed.

    Attributes
    ----------
    alignments : dict
        Utterance -> int32 transition-ids.
    failed : dict
        Utterance -> reason.
    tot_like : float
        Total (acoustically scaled back) log-likelihood of the aligned
        frames, as ``gmm-align-compiled`` reports.
    num_frames : int
        Frames aligned.
    num_retried : int
        Utterances that needed the retry beam.

    Example
    -------
    >>> result = AlignResult()
    >>> result.alignments["u"] = np.array([1, 1, 2], dtype=np.int32)
    >>> result.failed["v"] = "no features"
    >>> result.tot_like, result.num_frames = -6.0, 3
    >>> result.avg_like
    -2.0
    >>> print(result.summary().replace("; ", "\\n"))
    aligned 1 utterances (3 frames, 0 retried), 1 failed
    avg log-likelihood per frame -2.000
    """

    def __init__(self):
        self.alignments = {}
        self.failed = {}
        self.tot_like = 0.0
        self.num_frames = 0
        self.num_retried = 0

    def summary(self):
        """One line: done, retried, failed, log-likelihood per frame.

        Returns
        -------
        str
            The line.

        Example
        -------
        >>> AlignResult().summary()
        'aligned 0 utterances (0 frames, 0 retried), 0 failed'
        """
        line = (
            f"aligned {len(self.alignments)} utterances ({self.num_frames} "
            f"frames, {self.num_retried} retried), {len(self.failed)} failed"
        )
        if self.num_frames:
            line += f"; avg log-likelihood per frame {self.avg_like:.3f}"
        return line

    @property
    def avg_like(self):
        """Log-likelihood per aligned frame."""
        return self.tot_like / max(self.num_frames, 1)


def _align_chunk(task):
    model_bytes, utts, beam, retry_beam = task
    trans_model, am_gmm = pickle.loads(model_bytes)
    graphs, feats = _SHARED["graphs"], _SHARED["feats"]
    config = khg.AlignConfig()
    config.beam = beam
    config.retry_beam = retry_beam
    config.careful = False
    out = []
    for utt in utts:
        graph = graphs[utt].copy()
        khg.add_transition_probs(
            trans_model=trans_model,
            transition_scale=TRANSITION_SCALE,
            self_loop_scale=SELF_LOOP_SCALE,
            fst=graph,
        )
        x = feats[utt]
        decodable = khg.DecodableAmDiagGmmScaled(
            am=am_gmm, tm=trans_model, feats=x, scale=ACOUSTIC_SCALE
        )
        done, error, retried, like, frames, ali, _words = (
            khg.align_utterance_wrapper(
                config=config,
                utt=utt,
                acoustic_scale=ACOUSTIC_SCALE,
                fst=graph,
                decodable=decodable,
                num_done=0,
                num_error=0,
                num_retried=0,
                tot_like=0.0,
                frame_count=0,
            )
        )
        if done and len(ali) == len(x):
            out.append(
                (utt, np.asarray(ali, dtype=np.int32), like, retried, None)
            )
            continue
        if equal_alignment(graphs[utt], len(x), utt) is None:
            reason = (
                f"too few frames ({len(x)}) for its phones (no path of "
                "that length in its graph)"
            )
        else:
            reason = f"no alignment at retry beam {retry_beam}"
        out.append((utt, None, 0.0, retried, reason))
    return out


def align_utterances(
    trans_model,
    am_gmm,
    graphs,
    feats,
    beam=10.0,
    retry_beam=40.0,
    jobs=1,
    boost=1.0,
    silence_phones=(),
    progress=False,
    desc="align",
):
    """Aligns utterances to their graphs (``gmm-align-compiled``).

    Arguments
    ---------
    trans_model : kaldi_hmm_gmm.TransitionModel
        The model.
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        Its GMMs.
    graphs : dict
        Utterance -> training graph (:func:`~.graphs.compile_graphs`).
    feats : dict
        Utterance -> features.
    beam, retry_beam : float
        Viterbi beams (the retry beam is tried after a failure; 0: none).
    jobs : int
        Worker processes.
    boost : float
        Silence boost (``gmm-boost-silence``) for ``silence_phones``.
    silence_phones : sequence of int
        Phones boosted.
    progress : bool
        Show a tqdm bar over utterances.
    desc : str
        Its label.

    Returns
    -------
    AlignResult
        Alignments and failures (each utterance of ``graphs`` is in one).

    Example
    -------
    >>> from sb_rectifier.gmm.estimate import init_mono
    >>> from sb_rectifier.gmm.graphs import Lang, compile_graphs
    >>> from sb_rectifier.kaldi.prepare_lang import prepare_lang
    >>> d = getfixture("tmp_path") / "dict"
    >>> d.mkdir()
    >>> _ = (d / "silence_phones.txt").write_text("SIL\\n")
    >>> _ = (d / "optional_silence.txt").write_text("SIL\\n")
    >>> _ = (d / "nonsilence_phones.txt").write_text("n\\noU\\n")
    >>> _ = (d / "lexicon.txt").write_text("<UNK> SIL\\nno n oU\\non oU n\\n")
    >>> _ = prepare_lang(d, d.parent / "lang")
    >>> lang = Lang(d.parent / "lang")
    >>> x = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    >>> tm, am, ctx = init_mono(lang.topo, [x], lang.sets)
    >>> w = lang.word_ids
    >>> texts = {"a": [w["no"]], "b": [w["no"], w["on"]], "c": [w["on"]]}
    >>> graphs, _ = compile_graphs(tm, ctx, lang, texts)
    >>> result = align_utterances(tm, am, graphs, {"a": x, "b": x[:4]})
    >>> len(result.alignments["a"]), sorted(result.failed)
    (30, ['b', 'c'])
    >>> result.failed["b"], result.failed["c"]  # doctest: +ELLIPSIS
    ('too few frames (4) for its phones ...', 'no features')
    """
    result = AlignResult()
    utts = sorted(u for u in graphs if u in feats)
    for utt in sorted(set(graphs) - set(feats)):
        result.failed[utt] = "no features"
    if not utts:
        return result
    am = boost_silence(trans_model, am_gmm, list(silence_phones), boost)
    model_bytes = pickle.dumps((trans_model, am))
    num_chunks = min(len(utts), max(1, jobs) * 8)
    chunks = list(np.array_split(np.array(utts, dtype=object), num_chunks))
    tasks = [(model_bytes, list(c), beam, retry_beam) for c in chunks]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(utts), desc=desc, unit="utt", leave=False)
    try:
        outputs = run_parallel(
            _align_chunk,
            tasks,
            jobs,
            {"graphs": graphs, "feats": feats},
            progress=bar,
            sizes=[len(c) for c in chunks],
        )
    finally:
        if bar is not None:
            bar.close()
    for chunk in outputs:
        for utt, ali, like, retried, reason in chunk:
            result.num_retried += int(retried)
            if ali is None:
                result.failed[utt] = reason
            else:
                result.alignments[utt] = ali
                result.tot_like += like
                result.num_frames += len(ali)
    return result


def write_ali_dir(
    folder,
    alignments,
    num_jobs,
    trans_model,
    am_gmm,
    ctx_dep,
    phones_txt=None,
    failed=None,
    extra=None,
):
    """Writes an alignment folder in Kaldi's layout, into a temporary folder.

    ``final.mdl`` (binary), ``tree``, ``ali.1.gz .. ali.N.gz``,
    ``num_jobs``, ``phones.txt`` (a copy), ``failed.txt`` (utterance and
    reason per line, when any failed) and ``summary.json``.

    Arguments
    ---------
    folder : str
        An existing (empty) folder.
    alignments : dict
        Utterance -> transition-ids.
    num_jobs : int
        Number of ``ali.N.gz`` archives.
    trans_model, am_gmm, ctx_dep
        The model (khg objects).
    phones_txt : str, optional
        ``phones.txt`` to copy.
    failed : dict, optional
        Utterance -> reason.
    extra : dict, optional
        More entries for ``summary.json``.

    Example
    -------
    >>> import json
    >>> from sb_rectifier.gmm.estimate import init_mono
    >>> from sb_rectifier.kaldi.archives import read_int_vectors
    >>> topo = khg.HmmTopology()
    >>> topo.read(
    ...     "<Topology> <TopologyEntry> <ForPhones> 1 </ForPhones> "
    ...     "<State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 "
    ...     "</State> <State> 1 </State> </TopologyEntry> </Topology>"
    ... )
    >>> x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    >>> tm, am, ctx = init_mono(topo, [x])
    >>> folder = getfixture("tmp_path")
    >>> alis = {"a": [1, 1, 2], "b": [1, 2]}
    >>> write_ali_dir(folder, alis, 2, tm, am, ctx, failed={"c": "no feats"})
    >>> sorted(os.listdir(folder))  # doctest: +NORMALIZE_WHITESPACE
    ['ali.1.gz', 'ali.2.gz', 'failed.txt', 'final.mdl', 'num_jobs',
     'summary.json', 'tree']
    >>> [(u, a.tolist()) for u, a in read_int_vectors(folder / "ali.2.gz")]
    [('b', [1, 2])]
    >>> summary = json.loads((folder / "summary.json").read_text())
    >>> summary["utterances"], summary["frames"], summary["failed"]
    (2, 5, 1)
    """
    from sb_rectifier.gmm.model import write_model

    write_model(os.path.join(folder, "final.mdl"), trans_model, am_gmm)
    write_tree(ctx_dep, os.path.join(folder, "tree"))
    for job, utts in enumerate(split_jobs(alignments, num_jobs), 1):
        write_int_vectors(
            os.path.join(folder, f"ali.{job}.gz"),
            [(u, alignments[u]) for u in utts],
        )
    write_text(os.path.join(folder, "num_jobs"), f"{num_jobs}\n")
    if phones_txt:
        with open(phones_txt) as f:
            write_text(os.path.join(folder, "phones.txt"), f.read())
    failed = failed or {}
    if failed:
        write_text(
            os.path.join(folder, "failed.txt"),
            "".join(f"{u} {r}\n" for u, r in sorted(failed.items())),
        )
    summary = {
        "utterances": len(alignments),
        "frames": int(sum(len(a) for a in alignments.values())),
        "failed": len(failed),
        "num_jobs": num_jobs,
        "num_pdfs": am_gmm.num_pdfs,
        "num_gauss": am_gmm.num_gauss,
    }
    summary.update(extra or {})
    write_json(os.path.join(folder, "summary.json"), summary)
