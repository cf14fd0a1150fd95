"""Kaldi data directory + alignments -> checked, cached frame store.

For each utterance of a Kaldi data directory (``feats.scp``, optional
per-speaker ``cmvn.scp``) the features are joined with their pdf
alignment and appended to a :class:`~sb_rectifier.data.FrameStore`.

Checks, per utterance:

* no frames (an empty feature matrix): skipped (counted);
* no alignment for the utterance: skipped (counted);
* frames and labels differ by more than ``length_tolerance``: skipped
  (counted); within the tolerance both are cut to the shorter length;
* features unreadable, NaN/Inf or of the wrong dimension: skipped
  (counted, with the reader's message); the expected dimension is that of
  most of the first utterances for train, and train's for dev and test (a
  split whose features all have another dimension is an error, before any
  training);
* a pdf id outside ``[0, num_pdfs)``: an error naming the utterance and
  the alignment directory (a wrong model, not a bad utterance).

Skips are logged, written to a JSON report, and an error is raised when
more than ``max_skip_fraction`` of a split is skipped: nothing is dropped
silently. Stores are cached (one folder per split, data directory,
alignment directory and options) and rebuilt when any file they were built
from changes: the data directory's files, every archive its ``feats.scp``
and ``cmvn.scp`` point to (wherever they live), and the alignment
directory's files and archives. A cache entry is built by one process at a
time (others wait and then reuse it) and renamed into place when complete.

Authors
 * sb_rectifier developers 2026
"""

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from sb_rectifier.data.frame_store import (
    FrameStore,
    FrameStoreWriter,
    read_store_meta,
)
from sb_rectifier.files import (
    clean_stale_temps,
    iter_text_lines,
    read_json,
    write_json,
)
from sb_rectifier.locks import RunLock

logger = logging.getLogger(__name__)

SKIP_NO_FRAMES = "no frames"
SKIP_MISSING_ALIGNMENT = "missing alignment"
SKIP_LENGTH_MISMATCH = "frame/label length mismatch"
SKIP_BAD_FEATURES = "unreadable or non-finite features"
MAX_LISTED = 50


def _file_signature(paths):
    """(path, size, mtime, inode) of existing files, for cache fingerprints."""
    rows = []
    for path in sorted({os.path.abspath(p) for p in paths}):
        if os.path.isfile(path):
            stat = os.stat(path)
            rows.append([path, stat.st_size, stat.st_mtime_ns, stat.st_ino])
    return rows


_OFFSET_RE = re.compile(r"^(.*):\d+(\[[^\]]*\])?$")


def _ark_files(scp_path):
    """Archive files referenced by a Kaldi scp file (pipes excluded)."""
    arks = set()
    for _, line in iter_text_lines(scp_path, "scp file"):
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or parts[1].rstrip().endswith("|"):
            continue
        target = parts[1].strip()
        match = _OFFSET_RE.match(target)
        arks.add(match.group(1) if match else target)
    return arks


def source_files(data_dir, ali_dir, apply_cmvn=True):
    """Every file a split's frame store is built from.

    The files of the data and alignment directories, and the archives
    that their ``feats.scp``, ``cmvn.scp`` and pdf scp files point to,
    wherever those live (Kaldi keeps them in ``mfcc/``, ``fbank/``, ...).

    Arguments
    ---------
    data_dir : str
        Kaldi data directory.
    ali_dir : str or None
        Alignment directory.
    apply_cmvn : bool
        Whether ``cmvn.scp`` is read.

    Returns
    -------
    list of str
        The files (absolute paths).

    Example
    -------
    >>> tmp = getfixture("tmp_path")
    >>> (tmp / "data").mkdir()
    >>> _ = (tmp / "data" / "cmvn.scp").write_text("spk1 /cmvn/a.ark:9\\n")
    >>> sorted(source_files(tmp / "data", None))[0]
    '/cmvn/a.ark'
    """
    files = []
    for folder in filter(None, [data_dir, ali_dir]):
        if os.path.isdir(folder):
            files += [
                os.path.join(folder, f)
                for f in os.listdir(folder)
                if not f.startswith(".")
            ]
    scps = [os.path.join(data_dir, "feats.scp")]
    if apply_cmvn:
        scps.append(os.path.join(data_dir, "cmvn.scp"))
    if ali_dir is not None:
        scps += [os.path.join(ali_dir, n) for n in ("ali_pdf.scp", "pdf.scp")]
    for scp in scps:
        if os.path.isfile(scp):
            files += list(_ark_files(scp))
    return sorted({os.path.abspath(f) for f in files})


def source_fingerprint(data_dir, ali_dir, options):
    """A hash of the source files (sizes, mtimes, inodes) and the options.

    Arguments
    ---------
    data_dir : str
        Kaldi data directory.
    ali_dir : str or None
        Alignment directory.
    options : dict
        Options that change the store's content (``apply_cmvn`` decides
        whether ``cmvn.scp``'s archives count).

    Returns
    -------
    str
        Hex digest.

    Example
    -------
    >>> folder = getfixture("tmpdir").strpath
    >>> fp = source_fingerprint(folder, None, {"a": 1})
    >>> fp == source_fingerprint(folder, None, {"a": 2})
    False
    """
    files = source_files(data_dir, ali_dir, options.get("apply_cmvn", True))
    payload = json.dumps(
        {"files": _file_signature(files), "options": options}, sort_keys=True
    )
    return hashlib.sha1(payload.encode()).hexdigest()


def store_path(
    cache_folder,
    split,
    data_dir,
    ali_dir,
    num_pdfs,
    length_tolerance=0,
    apply_cmvn=True,
    norm_vars=False,
):
    """The cache folder of a split's store: one per data, alignments, options.

    Two experiments on other alignments of the same data directory get
    two entries, so they never rebuild each other's.

    Arguments
    ---------
    cache_folder : str
        The frame cache (``frame_cache_folder``).
    split : str
        Split name.
    data_dir : str
        Kaldi data directory.
    ali_dir : str or None
        Alignment directory.
    num_pdfs : int or None
        Number of pdfs.
    length_tolerance : int
        See :func:`prepare_split`.
    apply_cmvn : bool
        See :func:`prepare_split`.
    norm_vars : bool
        See :func:`prepare_split`.

    Returns
    -------
    str
        ``<cache_folder>/<split>-<data dir name>-<hash>``.

    Example
    -------
    >>> a = store_path("cache", "dev", "data/dev", "exp/ali_dev", 10)
    >>> b = store_path("cache", "dev", "data/dev", "exp/tri4_ali_dev", 10)
    >>> a.startswith("cache/dev-dev-"), a == b
    (True, False)
    """
    key = json.dumps(
        {
            "data_dir": os.path.abspath(data_dir),
            "ali_dir": ali_dir and os.path.abspath(ali_dir),
            "options": _store_options(
                split, num_pdfs, length_tolerance, apply_cmvn, norm_vars
            ),
        },
        sort_keys=True,
    )
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    name = os.path.basename(os.path.abspath(data_dir)) or "data"
    return os.path.join(cache_folder, f"{split}-{name}-{digest}")


def _store_options(split, num_pdfs, length_tolerance, apply_cmvn, norm_vars):
    return {
        "split": split,
        "num_pdfs": num_pdfs,
        "length_tolerance": length_tolerance,
        "apply_cmvn": apply_cmvn,
        "norm_vars": norm_vars,
        "format": 2,
    }


def build_split_store(
    split,
    data,
    alignments,
    num_pdfs,
    folder,
    length_tolerance=0,
    ali_source="alignments",
    progress=True,
    extra_meta=None,
):
    """Joins features and alignments into a store folder.

    Arguments
    ---------
    split : str
        Split name, used in messages.
    data : sb_rectifier.kaldi.KaldiDataDir
        The features.
    alignments : dict or None
        Utterance id -> pdf ids, or None for data without labels.
    num_pdfs : int or None
        Number of pdfs (labels are checked against it).
    folder : str
        Store folder to write.
    length_tolerance : int
        Largest accepted difference between frame and label counts.
    ali_source : str
        Where the alignments came from (for messages).
    progress : bool
        Show a progress bar.
    extra_meta : dict, optional
        Stored in the store's ``meta.json``.

    Returns
    -------
    dict
        The split's check report (counts and skipped utterances).
    """
    skipped = {}

    def skip(reason, utt, detail=None):
        skipped.setdefault(reason, []).append(
            utt if detail is None else f"{utt}: {detail}"
        )

    kept_frames = 0
    trimmed = 0
    with FrameStoreWriter(
        folder, with_labels=alignments is not None, extra_meta=extra_meta
    ) as writer:
        for utt in tqdm(
            data.utt_ids,
            desc=f"frames {split}",
            disable=not progress,
            dynamic_ncols=True,
        ):
            labels = None
            if alignments is not None:
                labels = alignments.get(utt)
                if labels is None:
                    skip(SKIP_MISSING_ALIGNMENT, utt)
                    continue
            try:
                feats = data.load_feats(utt)
            except (ValueError, OSError) as err:
                skip(SKIP_BAD_FEATURES, utt, str(err))
                continue
            if feats.shape[0] == 0:
                skip(SKIP_NO_FRAMES, utt)
                continue
            if labels is not None:
                diff = feats.shape[0] - len(labels)
                if abs(diff) > length_tolerance:
                    skip(
                        SKIP_LENGTH_MISMATCH,
                        utt,
                        f"{feats.shape[0]} frames, {len(labels)} labels",
                    )
                    continue
                if diff:
                    trimmed += 1
                    n = min(feats.shape[0], len(labels))
                    feats, labels = feats[:n], labels[:n]
                if num_pdfs is not None and (
                    labels.min() < 0 or labels.max() >= num_pdfs
                ):
                    bad = int(
                        labels.max()
                        if labels.max() >= num_pdfs
                        else labels.min()
                    )
                    raise ValueError(
                        f"{ali_source}: utterance '{utt}': pdf id {bad} is "
                        f"outside 0..{num_pdfs - 1} (the model has "
                        f"{num_pdfs} pdfs)"
                    )
            writer.add(utt, feats, labels)
            kept_frames += feats.shape[0]
        if kept_frames == 0:
            counts = {k: len(v) for k, v in skipped.items()}
            raise ValueError(
                f"{split}: no usable utterance in {data.path} "
                f"(skipped: {counts}; alignments: {ali_source})"
            )
        extra = 0
        if alignments is not None:
            feats_utts = set(data.utt_ids)
            extra = sum(1 for utt in alignments if utt not in feats_utts)
        report = {
            "split": split,
            "data_dir": os.path.abspath(data.path),
            "alignments": ali_source,
            "utterances": len(data.utt_ids),
            "kept": len(data.utt_ids) - sum(len(v) for v in skipped.values()),
            "frames": kept_frames,
            "feat_dim": data.feat_dim,
            "trimmed_within_tolerance": trimmed,
            "alignments_without_features": extra,
            "skipped": {k: len(v) for k, v in skipped.items()},
            "skipped_utterances": {
                k: v[:MAX_LISTED] for k, v in skipped.items()
            },
        }
        # The report goes in the store's meta.json, renamed into place
        # with the frames: a cache entry is complete or absent.
        writer.extra_meta["report"] = report
    return report


def prepare_split(
    split,
    data_dir,
    ali_dir,
    num_pdfs,
    cache_folder,
    report_file,
    length_tolerance=0,
    max_skip_fraction=0.05,
    apply_cmvn=True,
    norm_vars=False,
    progress=True,
    feat_dim=None,
    model=None,
):
    """Builds (or reuses) the checked frame store of one split.

    Arguments
    ---------
    split : str
        Split name (``train``, ``dev``, ``test``).
    data_dir : str
        Kaldi data directory.
    ali_dir : str or None
        Kaldi alignment directory (``ali.*.gz`` + ``final.mdl``, or pdf
        archives); None for a split without alignments.
    num_pdfs : int or None
        Number of pdfs.
    cache_folder : str
        The frame cache; the store goes in :func:`store_path`.
    report_file : str
        JSON report of the checks (one entry per split, updated).
    length_tolerance : int
        Largest accepted frame/label count difference (default exact).
    max_skip_fraction : float
        Error out when more of the split's utterances are skipped.
    apply_cmvn : bool
        Apply ``cmvn.scp`` when present.
    norm_vars : bool
        Variance normalisation in CMVN (Kaldi's ``--norm-vars``).
    progress : bool
        Show a progress bar.
    feat_dim : int, optional
        The feature dim every utterance must have (the training
        features'); a split whose features have another dim is an error.
    model : TransitionModel, optional
        The transition model the network is trained for: the alignment
        directory's ``final.mdl`` must map transition-ids to the same
        pdfs.

    Returns
    -------
    tuple
        ``(FrameStore folder, report dict)``.
    """
    from sb_rectifier.kaldi import KaldiDataDir, load_alignment_dir

    if model is not None and ali_dir is not None:
        check_same_model(ali_dir, model)
    options = _store_options(
        split, num_pdfs, length_tolerance, apply_cmvn, norm_vars
    )
    folder = store_path(
        cache_folder,
        split,
        data_dir,
        ali_dir,
        num_pdfs,
        length_tolerance=length_tolerance,
        apply_cmvn=apply_cmvn,
        norm_vars=norm_vars,
    )
    clean_stale_temps(cache_folder)
    with RunLock.for_path(folder, "frame cache entry").acquire(wait=True):
        fingerprint = source_fingerprint(data_dir, ali_dir, options)
        report = _cached_report(folder, fingerprint)
        if report is not None:
            logger.info(f"Reusing the {split} frame store in {folder}")
        else:
            data = KaldiDataDir(
                data_dir, apply_cmvn=apply_cmvn, norm_vars=norm_vars
            )
            _check_feat_dim(data, feat_dim, split)
            alignments = None
            ali_source = None
            if ali_dir is not None:
                alignments = load_alignment_dir(ali_dir)
                ali_source = os.path.abspath(ali_dir)
            report = build_split_store(
                split,
                data,
                alignments,
                num_pdfs,
                folder,
                length_tolerance=length_tolerance,
                ali_source=ali_source,
                progress=progress,
                extra_meta={"fingerprint": fingerprint},
            )
            _log_report(report, report_file)
    if feat_dim is not None and report["feat_dim"] != feat_dim:
        raise ValueError(
            _dim_message(
                report["data_dir"], split, report["feat_dim"], feat_dim
            )
        )
    _update_report(report_file, split, report)
    _check_skips(report, max_skip_fraction, report_file)
    return folder, report


def _cached_report(folder, fingerprint):
    """The report of a complete cache entry built from these sources."""
    if not os.path.isdir(folder):
        return None
    try:
        meta = read_store_meta(folder)
    except (OSError, ValueError):
        return None
    if meta.get("fingerprint") != fingerprint or "report" not in meta:
        return None
    return meta["report"]


def _dim_message(data_dir, split, dim, expected):
    return (
        f"{os.path.join(data_dir, 'feats.scp')}: the {split} features have "
        f"dim {dim}, but the training features have dim {expected}: every "
        "split needs the same features (same extraction, same options)"
    )


def _check_feat_dim(data, feat_dim, split):
    """Fixes the dim every utterance must have; a split-wide mismatch is
    an error before any training."""
    if feat_dim is None:
        return
    dim, _ = data.probe_feat_dim()
    if dim != feat_dim:
        raise ValueError(_dim_message(data.path, split, dim, feat_dim))
    data.expect_feat_dim(feat_dim, "the dim of the training features")


def check_same_model(ali_dir, model):
    """Checks that an alignment directory's final.mdl maps transition-ids
    to the same pdfs as the model the network is trained for.

    Arguments
    ---------
    ali_dir : str
        Alignment directory (nothing is checked without a final.mdl).
    model : TransitionModel
        The training model (its ``source`` names it in the message).

    Example
    -------
    >>> from sb_rectifier.kaldi import HmmTopology, TransitionModel
    >>> tmp = getfixture("tmp_path")
    >>> train = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> TransitionModel.monophone(HmmTopology.left_to_right([1])).write(
    ...     tmp / "final.mdl"
    ... )
    >>> check_same_model(tmp, train)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../final.mdl: this transition model differs from ...
    """
    from sb_rectifier.kaldi import TransitionModel

    path = os.path.join(ali_dir, "final.mdl")
    if not os.path.isfile(path):
        return
    other = TransitionModel.read(path)
    difference = other.pdf_mapping_difference(model)
    if difference is not None:
        source = getattr(model, "source", None) or "the training model"
        raise ValueError(
            f"{path}: this transition model differs from {source}, the one "
            f"the network is trained for ({difference}), so its alignments "
            "would be read as other pdfs; align this split with the "
            "training system's final.mdl"
        )


def _check_skips(report, max_skip_fraction, report_file):
    skipped = report["utterances"] - report["kept"]
    if (
        report["kept"] == 0
        or skipped > max_skip_fraction * report["utterances"]
    ):
        raise ValueError(
            f"{report['split']}: {skipped} of {report['utterances']} "
            f"utterances in {report['data_dir']} were skipped "
            f"({report['skipped']}), more than max_skip_fraction="
            f"{max_skip_fraction}; see {report_file}"
        )


def _log_report(report, report_file):
    split = report["split"]
    logger.info(
        f"{split}: {report['kept']}/{report['utterances']} utterances, "
        f"{report['frames']} frames"
    )
    for reason, count in report["skipped"].items():
        examples = ", ".join(report["skipped_utterances"][reason][:3])
        logger.warning(
            f"{split}: skipped {count} utterance(s), {reason} "
            f"(e.g. {examples}); full list in {report_file}"
        )
    if report["alignments_without_features"]:
        logger.info(
            f"{split}: {report['alignments_without_features']} alignment(s) "
            "have no features in the data directory (ignored)"
        )


def _update_report(report_file, split, report):
    reports = {}
    if os.path.isfile(report_file):
        reports = read_json(report_file, "data check report")
    reports[split] = report
    write_json(report_file, reports, makedirs=True, sort_keys=True)


def load_split(store_folder, mmap=False, device="cpu"):
    """Loads a prepared split's store onto ``device``.

    Arguments
    ---------
    store_folder : str
        Folder written by :func:`prepare_split`.
    mmap : bool
        Memory-map the features (CPU only).
    device : str
        ``cpu`` or ``cuda[:n]``.

    Returns
    -------
    FrameStore
        The store.
    """
    return FrameStore.load(store_folder, mmap=mmap).to(device)


def pdf_counts(store, num_pdfs):
    """Frame count of every pdf in a labelled store.

    Arguments
    ---------
    store : FrameStore
        Training store.
    num_pdfs : int
        Number of pdfs.

    Returns
    -------
    numpy.ndarray
        int64 counts, ``[num_pdfs]``.
    """
    return np.bincount(store.labels.cpu().numpy(), minlength=num_pdfs)


@dataclass(frozen=True)
class FrameCache:
    """The checked, cached frame stores of a recipe (declared in its YAML).

    One object holds the options that :func:`prepare_split`,
    :func:`store_path` and :func:`load_split` share, so the recipe names a
    split's directories and nothing else.

    Arguments
    ---------
    folder : str
        The cache folder (one entry per data, alignments and options).
    report_file : str
        ``data_checks.json``: what each split kept and skipped.
    length_tolerance : int
        Frames by which features and alignment may differ.
    max_skip_fraction : float
        Error out when a larger fraction of a split is skipped.
    apply_cmvn : bool
        Apply Kaldi's per-speaker ``cmvn.scp`` when present.
    norm_vars : bool
        Variance normalisation, as ``apply-cmvn --norm-vars``.

    Example
    -------
    >>> root = getfixture("tmp_path")
    >>> cache = FrameCache(str(root / "cache"), str(root / "checks.json"))
    >>> cache.load("dev", str(root / "data/dev"), None, 4)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: .../cache/dev-...: the dev frames (.../data/dev) are not in the frame cache; run the data stage first (stages: [data, ...])
    """

    folder: str
    report_file: str
    length_tolerance: int = 0
    max_skip_fraction: float = 0.05
    apply_cmvn: bool = True
    norm_vars: bool = False

    def path(self, split, data_dir, ali_dir, num_pdfs):
        """The cache entry of a split; see :func:`store_path`."""
        return store_path(
            self.folder,
            split,
            data_dir,
            ali_dir,
            num_pdfs,
            length_tolerance=self.length_tolerance,
            apply_cmvn=self.apply_cmvn,
            norm_vars=self.norm_vars,
        )

    def prepare(
        self,
        split,
        data_dir,
        ali_dir,
        num_pdfs,
        progress=True,
        feat_dim=None,
        model=None,
    ):
        """Builds or reuses a split's store; see :func:`prepare_split`."""
        return prepare_split(
            split,
            data_dir,
            ali_dir,
            num_pdfs,
            self.folder,
            self.report_file,
            length_tolerance=self.length_tolerance,
            max_skip_fraction=self.max_skip_fraction,
            apply_cmvn=self.apply_cmvn,
            norm_vars=self.norm_vars,
            progress=progress,
            feat_dim=feat_dim,
            model=model,
        )

    def load(self, split, data_dir, ali_dir, num_pdfs, mmap=False):
        """Loads a prepared split's store (CPU); an unprepared one is an
        error that says to run the data stage."""
        folder = self.path(split, data_dir, ali_dir, num_pdfs)
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"{folder}: the {split} frames ({data_dir}) are not in the "
                "frame cache; run the data stage first (stages: [data, ...])"
            )
        return load_split(folder, mmap=mmap)
