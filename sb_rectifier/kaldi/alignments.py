"""Loading Kaldi alignments as per-frame pdf ids (the DNN training targets).

A Kaldi alignment directory (``exp/tri3_ali``) holds ``final.mdl``,
``num_jobs`` and one gzip'd archive of transition-id sequences per job
(``ali.1.gz`` ... ``ali.N.gz``). :func:`load_alignment_dir` reads all
archives and maps the transition-ids to pdf ids with the directory's
transition model, like ``ali-to-pdf``; it also accepts directories that
already hold pdf ids.

Authors
 * sb_rectifier developers 2026
"""

import os
import re

from sb_rectifier.kaldi.archives import read_int_vectors
from sb_rectifier.kaldi.transition_model import TransitionModel


def _job_archives(ali_dir, prefix):
    """Sorted ``[(job, path)]`` of ``<prefix>.<job>.gz`` in ``ali_dir``."""
    pattern = re.compile(rf"{re.escape(prefix)}\.(\d+)\.gz")
    found = []
    for name in os.listdir(ali_dir):
        if not (name.startswith(prefix + ".") and name.endswith(".gz")):
            continue
        match = pattern.fullmatch(name)
        if match is None:
            raise ValueError(
                f"{ali_dir}: unexpected archive name '{name}' (expected "
                f"{prefix}.<job-number>.gz)"
            )
        found.append((int(match.group(1)), os.path.join(ali_dir, name)))
    found.sort()
    return found


def _check_num_jobs(ali_dir, archives, prefix):
    """Checks the archives against ``num_jobs`` when that file exists."""
    path = os.path.join(ali_dir, "num_jobs")
    if not archives or not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        content = f.read().strip()
    try:
        num_jobs = int(content)
    except ValueError:
        raise ValueError(
            f"{path}: expected one integer, got {content[:40]!r}"
        ) from None
    jobs = [job for job, _ in archives]
    expected = list(range(1, num_jobs + 1))
    if jobs != expected:
        missing = sorted(set(expected) - set(jobs))
        extra = sorted(set(jobs) - set(expected))
        details = []
        if missing:
            details.append(
                "missing " + ", ".join(f"{prefix}.{j}.gz" for j in missing)
            )
        if extra:
            details.append(
                "unexpected " + ", ".join(f"{prefix}.{j}.gz" for j in extra)
            )
        raise ValueError(
            f"{ali_dir}: num_jobs says {num_jobs} but the archives do not "
            f"match ({'; '.join(details)})"
        )


def _resolve_model(model, ali_dir):
    if isinstance(model, TransitionModel):
        return model
    if model is None:
        path = os.path.join(ali_dir, "final.mdl")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: transition model not found; it is needed to map the "
                "transition-ids of the alignments to pdf ids (pass model=...)"
            )
        return TransitionModel.read(path)
    return TransitionModel.read(model)


def _collect(sources, convert):
    """Reads (rspecifier, label) sources into one dict; no duplicate utts."""
    result, origin = {}, {}
    for spec, label in sources:
        for utt, values in read_int_vectors(spec):
            if utt in origin:
                where = (
                    f"twice in {label}"
                    if origin[utt] == label
                    else f"in both {origin[utt]} and {label}"
                )
                raise ValueError(f"utterance '{utt}' appears {where}")
            origin[utt] = label
            result[utt] = convert(values, label, utt)
    return result


def _pdf_checker(num_pdfs):
    def check(values, label, utt):
        if values.size:
            low, high = int(values.min()), int(values.max())
            if low < 0 or (num_pdfs is not None and high >= num_pdfs):
                bad = low if low < 0 else high
                limit = f"0..{num_pdfs - 1}" if num_pdfs is not None else ">= 0"
                raise ValueError(
                    f"{label}: utterance '{utt}': pdf id {bad} out of range "
                    f"{limit}"
                )
        return values

    return check


def load_alignment_dir(ali_dir, model=None, pdf=None):
    """Loads a Kaldi alignment directory as ``{utt: int32 pdf ids}``.

    Sources, in order of precedence when ``pdf`` is None:

    1. ``ali.<job>.gz`` (transition-ids, sorted by the integer job number:
       ``ali.2.gz`` before ``ali.10.gz``), mapped to pdf ids with ``model``
       or ``<ali_dir>/final.mdl``;
    2. ``pdf.<job>.gz`` (already pdf ids);
    3. ``ali_pdf.scp``, then ``pdf.scp`` (already pdf ids).

    When the directory has a ``num_jobs`` file, the job archives must be
    exactly ``1..num_jobs``. Pdf-id sources are checked against the model's
    number of pdfs when a model is given or ``final.mdl`` exists.

    Arguments
    ---------
    ali_dir : str or os.PathLike
        The alignment directory.
    model : str, os.PathLike or TransitionModel, optional
        The transition model (default: ``<ali_dir>/final.mdl``).
    pdf : bool, optional
        None: choose by the precedence above. False: require ``ali.*.gz``.
        True: read only the pdf-id sources (2, 3), ignoring ``ali.*.gz``.

    Returns
    -------
    dict
        Utterance id -> int32 array of pdf ids, one per frame.

    Example
    -------
    >>> from sb_rectifier.kaldi.archives import write_int_vectors
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> from sb_rectifier.kaldi.transition_model import TransitionModel
    >>> tmp = getfixture("tmpdir")
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> tm.write(tmp / "final.mdl")
    >>> _ = write_int_vectors(str(tmp / "ali.1.gz"), [("u1", [1, 2, 4, 6])])
    >>> _ = write_int_vectors(str(tmp / "ali.2.gz"), [("u2", [7, 8, 9])])
    >>> ali = load_alignment_dir(tmp)
    >>> {utt: pdfs.tolist() for utt, pdfs in ali.items()}
    {'u1': [0, 0, 1, 2], 'u2': [3, 3, 4]}
    """
    ali_dir = os.fspath(ali_dir)
    if not os.path.isdir(ali_dir):
        raise FileNotFoundError(f"{ali_dir}: alignment directory not found")
    ali_archives = _job_archives(ali_dir, "ali")
    use_pdf = (not ali_archives) if pdf is None else bool(pdf)
    if not use_pdf:
        if not ali_archives:
            raise FileNotFoundError(
                f"{ali_dir}: no ali.<job>.gz alignment archives found"
            )
        _check_num_jobs(ali_dir, ali_archives, "ali")
        tm = _resolve_model(model, ali_dir)

        def convert(values, label, utt):
            return tm.ali_to_pdf(values, context=f"{label}: utterance '{utt}'")

        return _collect([(p, p) for _, p in ali_archives], convert)

    pdf_archives = _job_archives(ali_dir, "pdf")
    if pdf_archives:
        _check_num_jobs(ali_dir, pdf_archives, "pdf")
        sources = [(p, p) for _, p in pdf_archives]
    else:
        sources = []
        for name in ("ali_pdf.scp", "pdf.scp"):
            path = os.path.join(ali_dir, name)
            if os.path.isfile(path):
                sources = [("scp:" + path, path)]
                break
        if not sources:
            raise FileNotFoundError(
                f"{ali_dir}: no alignments found (looked for "
                + ("" if pdf else "ali.<job>.gz, ")
                + "pdf.<job>.gz, ali_pdf.scp, pdf.scp)"
            )
    num_pdfs = None
    if model is not None or os.path.isfile(os.path.join(ali_dir, "final.mdl")):
        num_pdfs = _resolve_model(model, ali_dir).num_pdfs
    return _collect(sources, _pdf_checker(num_pdfs))


def load_transition_ids(ali_dir, model=None):
    """Loads the transition-id alignments of a Kaldi alignment directory.

    Reads ``ali.1.gz`` ... ``ali.<num_jobs>.gz`` as they are, without
    mapping them to pdf ids (phone boundaries need the transition-ids),
    and checks every id against the directory's transition model.

    Arguments
    ---------
    ali_dir : str or os.PathLike
        The alignment directory.
    model : str, os.PathLike or TransitionModel, optional
        The transition model (default: ``<ali_dir>/final.mdl``).

    Returns
    -------
    tuple
        ``(alignments, model)``: utterance id -> int32 transition-ids, and
        the :class:`TransitionModel` they belong to.

    Example
    -------
    >>> from sb_rectifier.kaldi.archives import write_int_vectors
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tmp = getfixture("tmpdir")
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> tm.write(tmp / "final.mdl")
    >>> _ = write_int_vectors(str(tmp / "ali.1.gz"), [("u1", [1, 2, 4, 6])])
    >>> ali, model = load_transition_ids(tmp)
    >>> ali["u1"].tolist(), model.num_pdfs
    ([1, 2, 4, 6], 6)
    """
    ali_dir = os.fspath(ali_dir)
    if not os.path.isdir(ali_dir):
        raise FileNotFoundError(f"{ali_dir}: alignment directory not found")
    archives = _job_archives(ali_dir, "ali")
    if not archives:
        raise FileNotFoundError(
            f"{ali_dir}: no ali.<job>.gz alignment archives found"
        )
    _check_num_jobs(ali_dir, archives, "ali")
    tm = _resolve_model(model, ali_dir)

    def check(values, label, utt):
        tm.ali_to_pdf(values, context=f"{label}: utterance '{utt}'")
        return values.astype("int32", copy=False)

    return _collect([(p, p) for _, p in archives], check), tm


def load_pdf_alignments(rspecifier, num_pdfs=None):
    """Loads already converted pdf-id alignments as ``{utt: int32 array}``.

    Arguments
    ---------
    rspecifier : str or os.PathLike
        Any source :func:`~sb_rectifier.kaldi.archives.read_int_vectors`
        accepts (``ark:...``, ``scp:...``, a plain or gzip'd archive path).
    num_pdfs : int, optional
        When given, pdf ids must be below it.

    Returns
    -------
    dict
        Utterance id -> int32 array of pdf ids.

    Example
    -------
    >>> path = getfixture("tmpdir") / "pdf.txt"
    >>> _ = open(path, "w").write("u1 0 0 5 \\nu2 3 \\n")
    >>> {u: p.tolist() for u, p in load_pdf_alignments(f"ark,t:{path}").items()}
    {'u1': [0, 0, 5], 'u2': [3]}
    """
    spec = os.fspath(rspecifier)
    return _collect([(spec, spec)], _pdf_checker(num_pdfs))
