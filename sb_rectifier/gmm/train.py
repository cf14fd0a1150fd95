"""The GMM-HMM recipe: monophone, alignment, triphone, alignment.

:func:`train_gmm` runs Kaldi's ``train_mono.sh`` -> ``align_si.sh`` ->
``train_deltas.sh`` -> ``align_si.sh`` in-process, each stage into its own
folder of ``exp_dir`` (``mono``, ``mono_ali``, ``tri1``, ``tri1_ali``) in
Kaldi's layout (``final.mdl`` binary, ``tree``, ``ali.N.gz``,
``num_jobs``, ``phones.txt``, ``log/``, ``summary.json``). A stage folder
is built under a temporary name and renamed into place when complete, so
a rerun skips finished stages; each records its options
(``options.json``) and a rerun with other options is refused, naming them.
:func:`align_data_dir` is ``sb-rectifier align`` (``align_si.sh``).

Authors
 * sb_rectifier developers 2026
"""

import os
import time

from sb_rectifier.files import atomic_folder, read_json, write_json, write_text
from sb_rectifier.gmm.align import align_utterances, write_ali_dir
from sb_rectifier.gmm.data import load_training_data
from sb_rectifier.gmm.graphs import Lang, compile_graphs
from sb_rectifier.gmm.model import read_model
from sb_rectifier.gmm.tree import read_tree
from sb_rectifier.kaldi.archives import read_int_vectors

__all__ = ["STAGES", "align_data_dir", "load_ali_dir", "train_gmm"]

STAGES = ("mono", "mono_ali", "tri1", "tri1_ali")
OPTIONS_FILE = "options.json"


def _feats_dir(exp_dir, data_dir):
    name = os.path.basename(os.path.normpath(os.fspath(data_dir)))
    return os.path.join(os.fspath(exp_dir), "mfcc", name)


def _check_options(folder, options):
    """True when ``folder`` is a finished stage made with ``options``."""
    path = os.path.join(folder, OPTIONS_FILE)
    if not os.path.isdir(folder):
        return False
    if not os.path.isfile(path) or not os.path.isfile(
        os.path.join(folder, "final.mdl")
    ):
        raise ValueError(
            f"{folder}: exists but is not a finished stage (no "
            f"{OPTIONS_FILE}/final.mdl); remove it to retrain"
        )
    old = read_json(path, "stage options")
    diff = sorted(
        k for k in set(old) | set(options) if old.get(k) != options.get(k)
    )
    if diff:
        detail = ", ".join(
            f"{k}: {old.get(k)!r} there, {options.get(k)!r} now" for k in diff
        )
        raise ValueError(
            f"{folder}: finished with other options ({detail}); remove the "
            "folder (and the stages after it) to retrain, or use its options"
        )
    return True


def load_ali_dir(ali_dir):
    """Model and alignments of an alignment (or training) folder.

    Arguments
    ---------
    ali_dir : str or os.PathLike
        Folder with ``final.mdl``, ``num_jobs`` and ``ali.N.gz``.

    Returns
    -------
    tuple
        ``(trans_model, am_gmm, alignments)``.

    Example
    -------
    >>> load_ali_dir(getfixture("tmp_path"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: .../final.mdl: GMM model file not found
    """
    ali_dir = os.fspath(ali_dir)
    trans_model, am_gmm = read_model(os.path.join(ali_dir, "final.mdl"))
    num_jobs_path = os.path.join(ali_dir, "num_jobs")
    try:
        with open(num_jobs_path) as f:
            num_jobs = int(f.read().strip())
    except (OSError, ValueError) as err:
        raise ValueError(
            f"{num_jobs_path}: cannot read the job count ({err})"
        ) from None
    alignments = {}
    for job in range(1, num_jobs + 1):
        path = os.path.join(ali_dir, f"ali.{job}.gz")
        for utt, ali in read_int_vectors(path):
            alignments[utt] = ali
    return trans_model, am_gmm, alignments


def _stage_logger(lines, verbose):
    def log(line):
        lines.append(line)
        if verbose:
            from tqdm import tqdm

            tqdm.write(line)

    return log


def _write_stage(tmp, result, lang, num_jobs, lines, summary, options):
    write_ali_dir(
        tmp,
        result["alignments"],
        num_jobs,
        result["trans_model"],
        result["am_gmm"],
        result["ctx_dep"],
        phones_txt=os.path.join(lang.path, "phones.txt"),
        failed=result.get("failed"),
        extra=summary,
    )
    os.makedirs(os.path.join(tmp, "log"))
    write_text(
        os.path.join(tmp, "log", "train.log"), "".join(f"{x}\n" for x in lines)
    )
    write_json(os.path.join(tmp, OPTIONS_FILE), options)


def _align_stage(data, lang, trans_model, am_gmm, ctx_dep, opts, log):
    graphs, failed = compile_graphs(
        trans_model, ctx_dep, lang, data.transcripts
    )
    result = align_utterances(
        trans_model,
        am_gmm,
        graphs,
        data.feats,
        beam=opts["beam"],
        retry_beam=opts["retry_beam"],
        jobs=opts["jobs"],
        boost=opts["boost_silence"],
        silence_phones=lang.optional_silence,
        progress=opts["progress"],
    )
    failed.update(data.failed)
    failed.update(result.failed)
    log(result.summary())
    return {
        "trans_model": trans_model,
        "am_gmm": am_gmm,
        "ctx_dep": ctx_dep,
        "alignments": result.alignments,
        "failed": failed,
        "avg_like": result.avg_like,
    }


def train_gmm(
    data_dir,
    lang_dir,
    exp_dir,
    jobs=1,
    mono_gauss=1000,
    mono_iters=40,
    num_leaves=2000,
    num_gauss=10000,
    tri_iters=35,
    boost_silence=1.0,
    until="tri1_ali",
    progress=True,
    verbose=True,
):
    """Trains mono and triphone GMM-HMMs; resumable by stage.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Training data folder (``wav.scp``, ``utt2spk``, ``text``).
    lang_dir : str or os.PathLike
        Kaldi lang folder (``prepare-lang``).
    exp_dir : str or os.PathLike
        Output folder: ``mfcc/``, ``mono/``, ``mono_ali/``, ``tri1/``,
        ``tri1_ali/``.
    jobs : int
        Worker processes (alignment) and ``ali.N.gz`` archives.
    mono_gauss, mono_iters : int
        Monophone target Gaussians (1000) and iterations (40).
    num_leaves, num_gauss, tri_iters : int
        Triphone tree leaves (2000), target Gaussians (10000) and
        iterations (35).
    boost_silence : float
        Silence boost while aligning (Kaldi's default 1.0).
    until : str
        Last stage to run: one of :data:`STAGES` (``"mono"`` trains only
        the monophone system and its alignments, as ``mono_ali``).
    progress : bool
        tqdm bars.
    verbose : bool
        Print the log lines.

    Returns
    -------
    dict
        Stage -> its ``summary.json`` content (``skipped`` True when it was
        already done).

    Example
    -------
    >>> train_gmm("data", "lang", "exp", until="tri2")
    Traceback (most recent call last):
     ...
    ValueError: train_gmm: until='tri2' is not one of mono, mono_ali, tri1, tri1_ali
    """
    if until not in STAGES:
        raise ValueError(
            f"train_gmm: until={until!r} is not one of {', '.join(STAGES)}"
        )
    if jobs < 1:
        raise ValueError(f"train_gmm: jobs must be >= 1, got {jobs}")
    exp_dir = os.fspath(exp_dir)
    last = STAGES.index(until)
    wanted = STAGES[: last + 1]
    stage_opts = {
        "mono": {
            "data_dir": os.path.abspath(os.fspath(data_dir)),
            "lang_dir": os.path.abspath(os.fspath(lang_dir)),
            "num_jobs": jobs,
            "mono_gauss": mono_gauss,
            "mono_iters": mono_iters,
            "boost_silence": boost_silence,
        }
    }
    stage_opts["mono_ali"] = dict(
        stage_opts["mono"], beam=10.0, retry_beam=40.0
    )
    stage_opts["tri1"] = dict(
        stage_opts["mono_ali"],
        num_leaves=num_leaves,
        num_gauss=num_gauss,
        tri_iters=tri_iters,
    )
    stage_opts["tri1_ali"] = dict(stage_opts["tri1"])
    todo = [
        s
        for s in wanted
        if not _check_options(os.path.join(exp_dir, s), stage_opts[s])
    ]
    summaries = {}
    for s in wanted:
        if s not in todo:
            summaries[s] = dict(
                read_json(os.path.join(exp_dir, s, "summary.json"), "summary"),
                skipped=True,
            )
            if verbose:
                print(
                    f"{s}: already done ({os.path.join(exp_dir, s)}), skipped"
                )
    if not todo:
        return summaries
    lang = Lang(lang_dir)
    data = load_training_data(
        data_dir,
        lang,
        _feats_dir(exp_dir, data_dir),
        num_jobs=jobs,
        progress=progress,
    )
    if verbose:
        print(f"data: {data.summary()}")
    run = {
        "jobs": jobs,
        "progress": progress,
        "boost_silence": boost_silence,
        "beam": 10.0,
        "retry_beam": 40.0,
    }
    for s in todo:
        start = time.time()
        lines = []
        log = _stage_logger(lines, verbose)
        log(f"{s}: {data.summary()}")
        if s == "mono":
            from sb_rectifier.gmm.mono import train_mono

            result = train_mono(
                data,
                lang,
                num_iters=mono_iters,
                num_gauss=mono_gauss,
                boost_silence=boost_silence,
                jobs=jobs,
                log=log,
                progress=progress,
            )
            result["failed"].update(data.failed)
        elif s in ("mono_ali", "tri1_ali"):
            src = os.path.join(exp_dir, "mono" if s == "mono_ali" else "tri1")
            trans_model, am_gmm, _ = load_ali_dir(src)
            ctx_dep = read_tree(os.path.join(src, "tree"))
            result = _align_stage(
                data, lang, trans_model, am_gmm, ctx_dep, run, log
            )
        else:
            from sb_rectifier.gmm.triphone import train_triphone

            prev_tm, _, prev_alis = load_ali_dir(
                os.path.join(exp_dir, "mono_ali")
            )
            result = train_triphone(
                data,
                lang,
                prev_tm,
                prev_alis,
                num_leaves=num_leaves,
                num_gauss=num_gauss,
                num_iters=tri_iters,
                boost_silence=boost_silence,
                jobs=jobs,
                log=log,
                progress=progress,
            )
            result["failed"].update(data.failed)
        seconds = time.time() - start
        history = result.get("history", [])
        summary = {
            "stage": s,
            "seconds": round(seconds, 2),
            "frames": int(sum(len(data.feats[u]) for u in data.transcripts)),
            "failed_utterances": len(result["failed"]),
            "oov": data.oov_report.summary() if data.oov_report else None,
            "history": history,
            "final_avg_like": history[-1]["avg_like"]
            if history
            else result.get("avg_like"),
        }
        if "tree_info" in result:
            summary["tree"] = {
                k: v
                for k, v in result["tree_info"].items()
                if isinstance(v, (int, float, str))
            }
        log(f"{s}: done in {seconds:.1f} s")
        with atomic_folder(os.path.join(exp_dir, s)) as tmp:
            _write_stage(tmp, result, lang, jobs, lines, summary, stage_opts[s])
        summaries[s] = dict(
            read_json(os.path.join(exp_dir, s, "summary.json"), "summary"),
            skipped=False,
        )
    return summaries


def align_data_dir(
    data_dir,
    lang_dir,
    gmm_dir,
    ali_dir,
    beam=10.0,
    retry_beam=40.0,
    jobs=1,
    boost_silence=1.0,
    feats_dir=None,
    progress=True,
    verbose=True,
):
    """Aligns a data folder with a trained system (``steps/align_si.sh``).

    Utterances that cannot be aligned (no features, empty or only-OOV
    transcript, too few frames, no alignment at the retry beam) are listed
    with their reason in ``ALI_DIR/failed.txt`` and counted in the summary.

    Arguments
    ---------
    data_dir : str or os.PathLike
        The data folder.
    lang_dir : str or os.PathLike
        The lang folder the system was trained with.
    gmm_dir : str or os.PathLike
        The system (``final.mdl``, ``tree``).
    ali_dir : str or os.PathLike
        Output folder (made atomically; must not exist or be empty).
    beam, retry_beam : float
        Viterbi beams.
    jobs : int
        Worker processes and ``ali.N.gz`` archives.
    boost_silence : float
        Silence boost.
    feats_dir : str, optional
        MFCC folder (default ``<parent of ali_dir>/mfcc/<data name>``).
    progress, verbose : bool
        tqdm bar; print the summary.

    Returns
    -------
    dict
        The ``summary.json`` content.

    Example
    -------
    >>> align_data_dir(
    ...     "d", "l", getfixture("tmp_path"), "a"
    ... )  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: .../final.mdl: GMM model file not found
    """
    gmm_dir = os.fspath(gmm_dir)
    trans_model, am_gmm = read_model(os.path.join(gmm_dir, "final.mdl"))
    ctx_dep = read_tree(os.path.join(gmm_dir, "tree"))
    lang = Lang(lang_dir)
    ali_dir = os.fspath(ali_dir)
    if feats_dir is None:
        feats_dir = _feats_dir(
            os.path.dirname(os.path.abspath(ali_dir)), data_dir
        )
    data = load_training_data(
        data_dir, lang, feats_dir, num_jobs=jobs, progress=progress
    )
    lines = []
    log = _stage_logger(lines, verbose)
    log(f"data: {data.summary()}")
    start = time.time()
    opts = {
        "beam": beam,
        "retry_beam": retry_beam,
        "jobs": jobs,
        "boost_silence": boost_silence,
        "progress": progress,
    }
    result = _align_stage(data, lang, trans_model, am_gmm, ctx_dep, opts, log)
    reasons = {}
    for reason in result["failed"].values():
        key = reason.split(" (")[0]
        reasons[key] = reasons.get(key, 0) + 1
    summary = {
        "data_dir": os.path.abspath(os.fspath(data_dir)),
        "gmm_dir": os.path.abspath(gmm_dir),
        "seconds": round(time.time() - start, 2),
        "avg_like": result["avg_like"],
        "failed_by_reason": reasons,
        "oov": data.oov_report.summary() if data.oov_report else None,
    }
    if result["failed"]:
        log(
            f"{len(result['failed'])} utterances not aligned: "
            + ", ".join(f"{k} ({v})" for k, v in sorted(reasons.items()))
            + f"; listed in {os.path.join(ali_dir, 'failed.txt')}"
        )
    options = dict(
        opts, data_dir=summary["data_dir"], gmm_dir=summary["gmm_dir"]
    )
    options.pop("progress")
    with atomic_folder(ali_dir) as tmp:
        _write_stage(tmp, result, lang, jobs, lines, summary, options)
    return read_json(os.path.join(ali_dir, "summary.json"), "summary")
