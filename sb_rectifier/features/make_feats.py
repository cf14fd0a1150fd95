"""Features of a Kaldi data directory from its audio, cached and atomic.

:func:`make_feats` is Kaldi's ``make_fbank.sh`` / ``make_mfcc.sh`` plus
``compute_cmvn_stats.sh``: it reads every utterance's audio
(:mod:`~sb_rectifier.features.audio`: ``wav.scp``, pipes, ``segments``,
resampling), computes its features (:mod:`~sb_rectifier.features.compute`)
in ``num_jobs`` processes, and writes

* ``feats.scp`` + a Kaldi archive ``raw_<kind>_<name>.<hash>.ark``;
* ``cmvn.scp`` + ``cmvn_<kind>_<name>.<hash>.ark``: per-speaker CMVN
  statistics (:func:`~sb_rectifier.kaldi.data_dir.compute_cmvn_stats`, in
  ``spk2utt`` order, as ``compute-cmvn-stats --spk2utt``);
* ``utt2num_frames``;
* ``make_feats_<kind>.json``: what they were made from (content hashes of
  ``wav.scp``, ``segments``, ``utt2spk``, ``spk2utt``, and the options)
  and the summary.

``kind="fbank"`` (the hybrid's input) writes the tables into the data
directory (archives in ``out_dir``, default ``<data_dir>/data``, as in
Kaldi); ``kind="mfcc"`` (the GMM's input) writes everything into
``out_dir`` (tables there, archives in ``<out_dir>/data``, with copies of
``utt2spk``/``spk2utt``), so the data directory keeps its fbank
``feats.scp``. A second call with the same inputs and options does
nothing; a changed input is recomputed, saying what changed.

Nothing is half-written: the archives are written under temporary names
and renamed when complete; then ``feats.scp`` is removed, the other tables
written, ``feats.scp`` written last and the JSON after it, so a killed
run leaves either the complete old or new set, or no ``feats.scp`` (the
next run recomputes). Utterances shorter than one frame get no features,
as with Kaldi's ``compute-fbank-feats``; they are counted and listed.

:func:`gmm_features` gives the GMM trainer's input: MFCC, per-speaker
mean normalisation (``apply-cmvn``'s default) and deltas + delta-deltas.

Authors
 * sb_rectifier developers 2026
"""

import concurrent.futures
import hashlib
import json
import logging
import multiprocessing
import os
import time

from sb_rectifier.features.audio import (
    AudioReport,
    first_sample_rate,
    group_by_recording,
    load_group,
    read_audio_items,
)
from sb_rectifier.features.compute import (
    KINDS,
    compute_features,
    feature_options,
    num_frames,
)
from sb_rectifier.features.deltas import add_deltas
from sb_rectifier.files import (
    atomic_path,
    atomic_write,
    clean_stale_temps,
    read_json,
    read_table,
    write_json,
    write_table,
)
from sb_rectifier.kaldi.data_dir import KaldiDataDir, compute_cmvn_stats
from sb_rectifier.locks import RunLock

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
INPUT_FILES = ("wav.scp", "segments", "utt2spk", "spk2utt")
MAX_LISTED = 20
OUTPUT_TABLES = ("feats.scp", "cmvn.scp", "utt2num_frames")


def manifest_name(kind):
    """``make_feats_<kind>.json``: the record of a computation.

    Arguments
    ---------
    kind : str
        ``"fbank"`` or ``"mfcc"``.

    Returns
    -------
    str
        The file name (in the folder of ``feats.scp``).

    Example
    -------
    >>> manifest_name("mfcc")
    'make_feats_mfcc.json'
    """
    return f"make_feats_{kind}.json"


def output_folders(data_dir, kind="fbank", out_dir=None):
    """Where the tables and the archives of a computation go.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory.
    kind : str
        ``"fbank"`` or ``"mfcc"``.
    out_dir : str or os.PathLike or None
        See :func:`make_feats`.

    Returns
    -------
    tuple
        ``(table_dir, ark_dir)``.

    Example
    -------
    >>> output_folders("data/train")
    ('data/train', 'data/train/data')
    >>> output_folders("data/train", "mfcc", "mfcc/train")
    ('mfcc/train', 'mfcc/train/data')
    """
    data_dir = os.fspath(data_dir)
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r} (choose from {KINDS})")
    if kind == "fbank":
        ark_dir = (
            os.fspath(out_dir) if out_dir else os.path.join(data_dir, "data")
        )
        return data_dir, ark_dir
    if not out_dir:
        raise ValueError(
            f"{data_dir}: kind='mfcc' needs an out_dir (the data directory "
            "keeps its fbank feats.scp)"
        )
    out_dir = os.fspath(out_dir)
    if os.path.abspath(out_dir) == os.path.abspath(data_dir):
        raise ValueError(
            f"{out_dir}: the MFCC out_dir must not be the data directory "
            "(its feats.scp is the hybrid's fbank)"
        )
    return out_dir, os.path.join(out_dir, "data")


def _file_hash(path):
    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_state(data_dir, kind, sample_rate, channel):
    """What a computation depends on: input hashes and options.

    Arguments
    ---------
    data_dir : str
        Kaldi data directory.
    kind : str
        Feature kind.
    sample_rate : int
        Rate of the features.
    channel : int or None
        Channel option.

    Returns
    -------
    dict
        ``{"inputs": {file: sha256 or None}, "options": {...}}``.

    Example
    -------
    >>> tmp = getfixture("tmp_path")
    >>> _ = (tmp / "wav.scp").write_text("r r.wav\\n")
    >>> state = input_state(tmp, "fbank", 8000, None)
    >>> state["inputs"]["segments"], state["options"]["num_mel_bins"]
    (None, 40)
    """
    inputs = {
        name: _file_hash(os.path.join(data_dir, name)) for name in INPUT_FILES
    }
    options = dict(
        feature_options(kind),
        kind=kind,
        sample_rate=sample_rate,
        channel=channel,
        version=FORMAT_VERSION,
    )
    return {"inputs": inputs, "options": options}


def _fingerprint(state):
    text = json.dumps(state, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _ark_of(target):
    path, _, offset = target.rpartition(":")
    return path if offset.isdigit() else target


def _why_recompute(table_dir, kind, state):
    """None when the outputs are complete and made from ``state``, else why."""
    manifest = os.path.join(table_dir, manifest_name(kind))
    for name in OUTPUT_TABLES:
        if not os.path.isfile(os.path.join(table_dir, name)):
            return f"no {name} in {table_dir}"
    if not os.path.isfile(manifest):
        return (
            f"{table_dir}/feats.scp was not made by make-feats (no {manifest})"
        )
    try:
        there = read_json(manifest, "make-feats record")
        old_inputs, old_options = there["inputs"], there["options"]
        there["summary"]
    except (ValueError, KeyError, TypeError) as err:
        return f"{manifest} is unreadable ({err})"
    changes = []
    for name in INPUT_FILES:
        old, new = old_inputs.get(name), state["inputs"][name]
        if old != new:
            verb = "changed"
            if old is None or new is None:
                verb = "added" if old is None else "removed"
            changes.append(f"{name} {verb}")
    for key in sorted(set(old_options) | set(state["options"])):
        old, new = old_options.get(key), state["options"].get(key)
        if old != new:
            changes.append(f"{key} {old} there, {new} asked")
    if changes:
        return "since the last computation: " + ", ".join(changes)
    for name in ("feats.scp", "cmvn.scp"):
        path = os.path.join(table_dir, name)
        for ark in {_ark_of(v) for v in read_table(path, name).values()}:
            if not os.path.isfile(ark):
                return f"{path}: archive {ark} is missing"
    return None


def _speakers(data_dir, utts):
    """spk2utt (ordered) of the computed utterances, and where it came from."""
    utt2spk_file = os.path.join(data_dir, "utt2spk")
    spk2utt_file = os.path.join(data_dir, "spk2utt")
    if not os.path.isfile(utt2spk_file):
        raise FileNotFoundError(
            f"{utt2spk_file}: not found; the CMVN stats are per speaker (for "
            "per-utterance CMVN, write '<utt> <utt>' lines)"
        )
    utt2spk = read_table(utt2spk_file, "utt2spk", single_token=True)
    for utt in utts:
        if utt not in utt2spk:
            raise ValueError(
                f"{utt2spk_file}: utterance '{utt}' (of wav.scp/segments) has "
                "no speaker"
            )
    wanted = set(utts)
    spk2utt = {}
    if os.path.isfile(spk2utt_file):
        table = read_table(spk2utt_file, "spk2utt")
        for spk, listed in table.items():
            for utt in listed.split():
                if utt2spk.get(utt, spk) != spk:
                    raise ValueError(
                        f"{spk2utt_file}: utterance '{utt}' listed under "
                        f"speaker '{spk}' but {utt2spk_file} says "
                        f"'{utt2spk[utt]}'"
                    )
                if utt in wanted:
                    spk2utt.setdefault(spk, []).append(utt)
        listed = {u for us in spk2utt.values() for u in us}
        missing = [u for u in utts if u not in listed]
        if missing:
            raise ValueError(
                f"{spk2utt_file}: utterance '{missing[0]}' is not listed "
                f"({len(missing)} utterance(s) missing; it disagrees with "
                f"{utt2spk_file})"
            )
        return spk2utt, "per speaker (spk2utt)"
    for utt in utts:
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return spk2utt, "per speaker (utt2spk)"


class _AudioError(Exception):
    """An error reading the audio, carried past the archive's writer (which
    would report an ``OSError`` as its own write error)."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def _audio_errors_kept(results):
    iterator = iter(results)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except OSError as err:
            raise _AudioError(err) from None
        yield item


def _init_worker():
    import torch

    torch.set_num_threads(1)


def _compute_group(task):
    """Features of one recording's utterances (runs in a worker)."""
    kind, group, sample_rate, channel = task
    report = AudioReport()
    rows = []
    for item, samples, rate in load_group(group, sample_rate, channel, report):
        if num_frames(len(samples), rate) == 0:
            rows.append((item.utt, None, len(samples)))
            continue
        rows.append(
            (item.utt, compute_features(kind, samples, rate), len(samples))
        )
    return rows, report


def _results(tasks, num_jobs):
    """Yields :func:`_compute_group` of every task, in order."""
    import torch

    if num_jobs <= 1 or len(tasks) <= 1:
        # One thread: torch's intra-op threads only slow these small
        # transforms down (and compete with other work on the machine).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield from map(_compute_group, tasks)
        finally:
            torch.set_num_threads(threads)
        return
    chunksize = max(1, min(64, len(tasks) // (num_jobs * 16)))
    # fork: no re-import of the caller's main module (scripts need no
    # __main__ guard); torch re-creates its thread pool in the child. A
    # worker that dies (killed, out of memory) is an error here, not a hang.
    with concurrent.futures.ProcessPoolExecutor(
        min(num_jobs, len(tasks)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
    ) as pool:
        try:
            yield from pool.map(_compute_group, tasks, chunksize=chunksize)
        except concurrent.futures.process.BrokenProcessPool as err:
            raise OSError(
                f"a feature worker process died ({err}); computed nothing"
            ) from None


def _remove_old_archives(old_arks, new_arks, ark_dirs):
    """Removes the archives of an earlier computation (ours only)."""
    ark_dirs = {os.path.abspath(d) for d in ark_dirs}
    for ark in old_arks - new_arks:
        base = os.path.basename(ark)
        if (
            os.path.dirname(os.path.abspath(ark)) in ark_dirs
            and base.startswith(("raw_", "cmvn_"))
            and base.endswith(".ark")
            and os.path.isfile(ark)
        ):
            os.unlink(ark)


def make_feats(
    data_dir,
    kind="fbank",
    out_dir=None,
    sample_rate=None,
    num_jobs=1,
    progress=True,
    channel=None,
):
    """Computes the features and CMVN stats of a data directory's audio.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory: ``wav.scp`` and ``utt2spk``, optional
        ``segments`` and ``spk2utt``.
    kind : str
        ``"fbank"`` (40-dim, the hybrid's input; tables written into the
        data directory) or ``"mfcc"`` (13-dim, the GMM's; written into
        ``out_dir``).
    out_dir : str or os.PathLike or None
        fbank: where the archives go (default ``<data_dir>/data``); mfcc:
        required, where everything goes (archives in ``<out_dir>/data``).
    sample_rate : int or None
        Rate of the features; recordings at another rate are resampled.
        None: the first recording's rate.
    num_jobs : int
        Worker processes (over recordings).
    progress : bool
        Show a tqdm progress bar.
    channel : int or None
        Channel of multi-channel audio (0-based); None: audio must be mono.

    Returns
    -------
    dict
        Summary: ``utterances``, ``frames``, ``feat_dim``, ``sample_rate``,
        ``hours``, ``resampled``, ``audio`` (one line),
        ``skipped_too_short``, the output paths, ``seconds``, ``cached``
        and ``reason`` (why it was computed, or that it was up to date).

    Example
    -------
    >>> import numpy as np, soundfile
    >>> tmp = getfixture("tmp_path")
    >>> rng = np.random.default_rng(0)
    >>> for rec in ("r1", "r2"):
    ...     wave = rng.normal(0, 1000, 8000).astype(np.int16)
    ...     soundfile.write(tmp / f"{rec}.wav", wave, 8000)
    >>> _ = (tmp / "wav.scp").write_text(
    ...     f"r1 {tmp}/r1.wav\\nr2 {tmp}/r2.wav\\n"
    ... )
    >>> _ = (tmp / "utt2spk").write_text("r1 s1\\nr2 s1\\n")
    >>> summary = make_feats(tmp, progress=False)
    >>> summary["utterances"], summary["frames"], summary["cached"]
    (2, 196, False)
    >>> make_feats(tmp, progress=False)["cached"]
    True
    >>> KaldiDataDir(tmp).load_feats("r1").shape
    (98, 40)
    """
    started = time.time()
    data_dir = os.fspath(data_dir)
    table_dir, ark_dir = output_folders(data_dir, kind, out_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"{data_dir}: Kaldi data directory not found")
    if sample_rate is not None and (
        int(sample_rate) != sample_rate or sample_rate <= 0
    ):
        raise ValueError(
            f"sample_rate must be a positive integer, not {sample_rate!r}"
        )
    sample_rate = None if sample_rate is None else int(sample_rate)
    if int(num_jobs) < 1:
        raise ValueError(f"num_jobs must be at least 1, not {num_jobs!r}")
    items = read_audio_items(data_dir)  # checks wav.scp and segments
    _speakers(data_dir, [item.utt for item in items])  # and utt2spk, spk2utt
    # The resolved rate is recorded: asking for the first file's rate by
    # name or by default (None) is the same computation.
    rate = sample_rate or first_sample_rate(data_dir, channel)
    state = input_state(data_dir, kind, rate, channel)
    manifest = os.path.join(table_dir, manifest_name(kind))
    os.makedirs(table_dir, exist_ok=True)
    with RunLock.for_path(manifest, f"{kind} computation").acquire(wait=True):
        reason = _why_recompute(table_dir, kind, state)
        if reason is None:
            summary = dict(read_json(manifest, "make-feats record")["summary"])
            summary.update(cached=True, reason="up to date", seconds=0.0)
            logger.info(
                f"{kind} features of {data_dir} are up to date "
                f"({summary['feats_scp']})"
            )
            return summary
        logger.info(f"Computing {kind} features of {data_dir}: {reason}")
        os.makedirs(ark_dir, exist_ok=True)
        for folder in {table_dir, ark_dir}:
            clean_stale_temps(folder)
        summary = _compute(
            data_dir, kind, items, rate, channel, table_dir, ark_dir, state,
            int(num_jobs), progress,
        )  # fmt: skip
        summary.update(
            cached=False,
            reason=reason,
            seconds=round(time.time() - started, 3),
        )
        write_json(manifest, dict(state, summary=summary))
    logger.info(
        f"{kind} features of {data_dir}: {summary['utterances']} utterances, "
        f"{summary['frames']} frames, {summary['hours']:.3f} h at "
        f"{summary['sample_rate']} Hz in {summary['seconds']:.1f} s; "
        f"{summary['audio']}"
        + (
            f"; {len(summary['skipped_too_short'])} utterance(s) shorter "
            "than one frame have no features"
            if summary["skipped_too_short"]
            else ""
        )
    )
    return summary


def _compute(
    data_dir, kind, items, rate, channel, table_dir, ark_dir, state, num_jobs,
    progress,
):  # fmt: skip
    import kaldiio
    from kaldiio.matio import write_array
    from tqdm import tqdm

    name = os.path.basename(os.path.abspath(data_dir))
    tag = _fingerprint(state)[:8]
    feats_ark = os.path.abspath(
        os.path.join(ark_dir, f"raw_{kind}_{name}.{tag}.ark")
    )
    cmvn_ark = os.path.abspath(
        os.path.join(ark_dir, f"cmvn_{kind}_{name}.{tag}.ark")
    )
    tasks = [
        (kind, group, rate, channel) for group in group_by_recording(items)
    ]
    report = AudioReport()
    targets, frames, samples, too_short = {}, {}, 0, []
    feat_dim = None
    bar = tqdm(
        total=len(items),
        desc=f"{kind} {name}",
        unit="utt",
        disable=not progress,
    )
    try:
        with bar, atomic_path(feats_ark) as tmp, open(tmp, "wb") as ark:
            for rows, part in _audio_errors_kept(_results(tasks, num_jobs)):
                report.merge(part)
                for utt, mat, count in rows:
                    samples += count
                    bar.update(1)
                    if mat is None:
                        too_short.append(utt)
                        continue
                    feat_dim = mat.shape[1]
                    ark.write(f"{utt} ".encode())
                    targets[utt] = f"{feats_ark}:{ark.tell()}"
                    write_array(ark, mat)
                    frames[utt] = mat.shape[0]
    except _AudioError as failure:
        raise failure.error from None
    if too_short:
        logger.warning(
            f"{data_dir}: {len(too_short)} utterance(s) shorter than one "
            f"frame get no features: {', '.join(too_short[:MAX_LISTED])}"
        )
    utts = [item.utt for item in items if item.utt in targets]
    if not utts:
        raise ValueError(
            f"{data_dir}: no utterance is long enough for one frame "
            f"({len(items)} utterances)"
        )
    spk2utt, cmvn_mode = _speakers(data_dir, utts)
    stats = {}
    for spk, spk_utts in spk2utt.items():
        stats[spk] = compute_cmvn_stats(
            kaldiio.load_mat(targets[u]) for u in spk_utts
        )
    cmvn_targets = {}
    with atomic_path(cmvn_ark) as tmp, open(tmp, "wb") as ark:
        for spk, value in stats.items():
            ark.write(f"{spk} ".encode())
            cmvn_targets[spk] = f"{cmvn_ark}:{ark.tell()}"
            write_array(ark, value)

    # Commit: feats.scp is removed first and written last (see module doc).
    old_arks = set()
    for table in ("feats.scp", "cmvn.scp"):
        path = os.path.join(table_dir, table)
        if os.path.isfile(path):
            try:
                old_arks |= {
                    _ark_of(v) for v in read_table(path, table).values()
                }
            except ValueError:
                pass  # unreadable: replaced anyway
    for stale in (manifest_name(kind), "feats.scp"):
        path = os.path.join(table_dir, stale)
        if os.path.isfile(path):
            os.unlink(path)
    if kind == "mfcc":  # the MFCC folder is a data directory of its own
        for table in ("utt2spk", "spk2utt", "text"):
            source = os.path.join(data_dir, table)
            if os.path.isfile(source):
                with (
                    open(source, "rb") as src,
                    atomic_write(os.path.join(table_dir, table), "wb") as dst,
                ):
                    dst.write(src.read())
    write_table(
        os.path.join(table_dir, "utt2num_frames"),
        ((u, frames[u]) for u in utts),
    )
    write_table(os.path.join(table_dir, "cmvn.scp"), cmvn_targets.items())
    write_table(
        os.path.join(table_dir, "feats.scp"), ((u, targets[u]) for u in utts)
    )
    _remove_old_archives(old_arks, {feats_ark, cmvn_ark}, [ark_dir])
    return {
        "data_dir": os.path.abspath(data_dir),
        "kind": kind,
        "feat_dim": int(feat_dim),
        "sample_rate": int(rate),
        "utterances": len(utts),
        "recordings": report.recordings,
        "speakers": len(stats),
        "cmvn": cmvn_mode,
        "frames": int(sum(frames.values())),
        "hours": round(samples / rate / 3600, 6),
        "resampled": report.resampled,
        "clamped_segments": len(report.clamped),
        "audio": report.summary(),
        "skipped_too_short": too_short,
        "feats_scp": os.path.abspath(os.path.join(table_dir, "feats.scp")),
        "cmvn_scp": os.path.abspath(os.path.join(table_dir, "cmvn.scp")),
        "ark_dir": os.path.abspath(ark_dir),
        "num_jobs": num_jobs,
    }


def gmm_features(
    data_dir,
    mfcc_dir,
    num_jobs=1,
    deltas=True,
    cmvn=True,
    sample_rate=None,
    progress=False,
):
    """The GMM trainer's input: MFCC + per-speaker CMN + deltas.

    The MFCCs are computed into ``mfcc_dir`` by :func:`make_feats` (or
    reused, when up to date); the per-speaker mean is removed as Kaldi's
    ``apply-cmvn`` does by default (no variance normalisation), then
    ``add-deltas`` appends deltas and delta-deltas.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory with ``wav.scp``.
    mfcc_dir : str or os.PathLike
        Where the MFCC tables and archives are (or go).
    num_jobs : int
        Worker processes for the MFCC computation.
    deltas : bool
        Append deltas and delta-deltas (13 -> 39 dims).
    cmvn : bool
        Remove each speaker's mean.
    sample_rate : int or None
        See :func:`make_feats`.
    progress : bool
        Progress bar while computing.

    Returns
    -------
    dict
        Utterance id -> float32 ``[T, 39]`` (``[T, 13]`` without deltas),
        in data directory order.

    Example
    -------
    >>> import numpy as np, soundfile
    >>> tmp = getfixture("tmp_path")
    >>> wave = np.random.default_rng(0).normal(0, 1000, 8000).astype(np.int16)
    >>> soundfile.write(tmp / "r1.wav", wave, 8000)
    >>> _ = (tmp / "wav.scp").write_text(f"r1 {tmp}/r1.wav\\n")
    >>> _ = (tmp / "utt2spk").write_text("r1 s1\\n")
    >>> feats = gmm_features(tmp, tmp / "mfcc")
    >>> feats["r1"].shape, feats["r1"].dtype
    ((98, 39), dtype('float32'))
    >>> bool(abs(feats["r1"][:, :13].mean(axis=0)).max() < 1e-3)
    True
    """
    make_feats(
        data_dir,
        kind="mfcc",
        out_dir=mfcc_dir,
        sample_rate=sample_rate,
        num_jobs=num_jobs,
        progress=progress,
    )
    data = KaldiDataDir(mfcc_dir, apply_cmvn=cmvn)
    out = {}
    for utt in data.utt_ids:
        feats = data.load_feats(utt)
        out[utt] = add_deltas(feats) if deltas else feats
    return out


def features_sample_rate(data_dir):
    """The rate of a data directory's features made here, or of its audio.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory.

    Returns
    -------
    int or None
        The rate recorded by :func:`make_feats` (fbank), else the first
        recording's rate (``wav.scp``), else None (also when that
        recording cannot be read: logged).

    Example
    -------
    >>> features_sample_rate(getfixture("tmp_path")) is None
    True
    """
    data_dir = os.fspath(data_dir)
    manifest = os.path.join(data_dir, manifest_name("fbank"))
    if os.path.isfile(manifest):
        try:
            return int(
                read_json(manifest, "make-feats record")["options"][
                    "sample_rate"
                ]
            )
        except (KeyError, TypeError, ValueError):
            pass  # unreadable: the audio says
    if os.path.isfile(os.path.join(data_dir, "wav.scp")):
        try:
            return first_sample_rate(data_dir)
        except (OSError, ValueError) as err:
            logger.warning(f"{data_dir}: sample rate unknown: {err}")
    return None


def needs_fbank(data_dir):
    """Whether ``train.py`` computes the fbank features of a data directory.

    True for a data directory with ``wav.scp`` and no ``feats.scp``, or
    whose ``feats.scp`` was made by :func:`make_feats` (which then brings
    it up to date, usually a no-op); False for one with another
    ``feats.scp`` (a Kaldi recipe's, the embedded corpus's) or without
    ``wav.scp``.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory.

    Returns
    -------
    bool
        Whether to call :func:`make_feats` ``(kind="fbank")``.

    Example
    -------
    >>> tmp = getfixture("tmp_path")
    >>> _ = (tmp / "wav.scp").write_text("r r.wav\\n")
    >>> needs_fbank(tmp)
    True
    >>> _ = (tmp / "feats.scp").write_text("r raw_fbank.ark:4\\n")
    >>> needs_fbank(tmp)
    False
    """
    data_dir = os.fspath(data_dir)
    if not os.path.isfile(os.path.join(data_dir, "wav.scp")):
        return False
    return not os.path.isfile(
        os.path.join(data_dir, "feats.scp")
    ) or os.path.isfile(os.path.join(data_dir, manifest_name("fbank")))
