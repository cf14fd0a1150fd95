"""Kaldi data directory + alignments -> checked, cached frame store.

For each utterance of a Kaldi data directory (``feats.scp``, optional
per-speaker ``cmvn.scp``) the features are joined with their pdf
alignment and appended to a :class:`~sb_rectifier.data.FrameStore`.

Checks, per utterance:

* no alignment for the utterance: skipped (counted);
* frames and labels differ by more than ``length_tolerance``: skipped
  (counted); within the tolerance both are cut to the shorter length;
* features unreadable, NaN/Inf or of the wrong dimension: skipped
  (counted, with the reader's message);
* a pdf id outside ``[0, num_pdfs)``: an error naming the utterance and
  the alignment directory (a wrong model, not a bad utterance).

Skips are logged, written to a JSON report, and an error is raised when
more than ``max_skip_fraction`` of a split is skipped: nothing is dropped
silently. Stores are cached in the experiment folder and rebuilt only
when a source file or an option changes.

Authors
 * sb_rectifier developers 2026
"""

import hashlib
import json
import logging
import os

import numpy as np
from tqdm import tqdm

from sb_rectifier.data.frame_store import (
    FrameStore,
    FrameStoreWriter,
    read_store_meta,
)

logger = logging.getLogger(__name__)

SKIP_MISSING_ALIGNMENT = "missing alignment"
SKIP_LENGTH_MISMATCH = "frame/label length mismatch"
SKIP_BAD_FEATURES = "unreadable or non-finite features"
MAX_LISTED = 50


def _file_signature(paths):
    """(path, size, mtime) of existing files, for cache fingerprints."""
    rows = []
    for path in sorted(set(paths)):
        if os.path.isfile(path):
            stat = os.stat(path)
            rows.append([os.path.abspath(path), stat.st_size, stat.st_mtime_ns])
    return rows


def _ark_files(scp_path):
    """Archive files referenced by a Kaldi scp file."""
    arks = set()
    with open(scp_path, encoding="utf-8") as fin:
        for line in fin:
            parts = line.split(maxsplit=1)
            if len(parts) == 2 and not parts[1].rstrip().endswith("|"):
                arks.add(parts[1].strip().rsplit(":", 1)[0])
    return arks


def source_fingerprint(data_dir, ali_dir, options):
    """A hash of the input files (sizes, mtimes) and the options.

    Arguments
    ---------
    data_dir : str
        Kaldi data directory.
    ali_dir : str or None
        Alignment directory.
    options : dict
        Options that change the store's content.

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
    files = []
    for folder in filter(None, [data_dir, ali_dir]):
        if os.path.isdir(folder):
            files += [os.path.join(folder, f) for f in os.listdir(folder)]
    scp = os.path.join(data_dir, "feats.scp")
    if os.path.isfile(scp):
        files += list(_ark_files(scp))
    payload = json.dumps(
        {"files": _file_signature(files), "options": options}, sort_keys=True
    )
    return hashlib.sha1(payload.encode()).hexdigest()


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
    return {
        "split": split,
        "data_dir": os.path.abspath(data.path),
        "alignments": ali_source,
        "utterances": len(data.utt_ids),
        "kept": len(data.utt_ids) - sum(len(v) for v in skipped.values()),
        "frames": kept_frames,
        "trimmed_within_tolerance": trimmed,
        "alignments_without_features": extra,
        "skipped": {k: len(v) for k, v in skipped.items()},
        "skipped_utterances": {k: v[:MAX_LISTED] for k, v in skipped.items()},
    }


def prepare_split(
    split,
    data_dir,
    ali_dir,
    num_pdfs,
    store_folder,
    report_file,
    length_tolerance=0,
    max_skip_fraction=0.05,
    apply_cmvn=True,
    norm_vars=False,
    progress=True,
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
    store_folder : str
        Where the store is cached.
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

    Returns
    -------
    tuple
        ``(FrameStore folder, report dict)``.
    """
    from sb_rectifier.kaldi import KaldiDataDir, load_alignment_dir

    options = {
        "split": split,
        "num_pdfs": num_pdfs,
        "length_tolerance": length_tolerance,
        "apply_cmvn": apply_cmvn,
        "norm_vars": norm_vars,
    }
    fingerprint = source_fingerprint(data_dir, ali_dir, options)
    if os.path.isdir(store_folder):
        try:
            meta = read_store_meta(store_folder)
        except (OSError, ValueError):
            meta = {}
        if meta.get("fingerprint") == fingerprint:
            logger.info(f"Reusing the {split} frame store in {store_folder}")
            report = meta["report"]
            _update_report(report_file, split, report)
            _check_skips(report, max_skip_fraction, report_file)
            return store_folder, report

    data = KaldiDataDir(data_dir, apply_cmvn=apply_cmvn, norm_vars=norm_vars)
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
        store_folder,
        length_tolerance=length_tolerance,
        ali_source=ali_source,
        progress=progress,
    )
    _update_report(report_file, split, report)
    _log_report(report, report_file)
    # Fingerprint and report go in last: an interrupted run rebuilds.
    meta_path = os.path.join(store_folder, "meta.json")
    meta = read_store_meta(store_folder)
    meta.update(fingerprint=fingerprint, report=report)
    _write_json(meta_path, meta)
    _check_skips(report, max_skip_fraction, report_file)
    return store_folder, report


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


def _write_json(path, obj):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fout:
        json.dump(obj, fout, indent=2, sort_keys=True)
    os.replace(tmp, path)


def _update_report(report_file, split, report):
    reports = {}
    if os.path.isfile(report_file):
        with open(report_file, encoding="utf-8") as fin:
            reports = json.load(fin)
    reports[split] = report
    os.makedirs(os.path.dirname(os.path.abspath(report_file)), exist_ok=True)
    _write_json(report_file, reports)


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
