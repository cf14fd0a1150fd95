"""Word error rate as Kaldi's ``compute-wer`` reports it, plus subsets.

:func:`score` counts insertions, deletions and substitutions with
``kaldialign`` (a port of Kaldi's ``LevenshteinEditDistance``, so the
counts match ``compute-wer`` exactly) and :meth:`WerResult.kaldi_lines`
prints them in ``compute-wer``'s format, including its ``--mode``
semantics and its ``-nan`` / ``inf`` for an empty reference (for
library callers; the ``compute-wer`` command refuses such input, see
:mod:`sb_rectifier.cli.compute_wer`).
:meth:`WerResult.details` writes the per-utterance alignments in the
format of Kaldi's ``utils/scoring/wer_per_utt_details.pl``.
:func:`score_subsets` scores the full set and utterance-id prefixes
(Hub5'00: ``sw_`` = Switchboard, ``en_`` = CallHome) in one pass and
:func:`subset_table` lays them out as a markdown table.

With a :class:`~sb_rectifier.scoring.glm.Glm`, both transcripts are first
normalised as :func:`sb_rectifier.scoring.glm.normalize` documents
(hesitations, non-speech tokens, GLM mappings and alternations), an
approximation of NIST's hubscr scoring.

Authors
 * sb_rectifier developers 2026
"""

import itertools
import math
import os
from dataclasses import dataclass, field

import kaldialign

from sb_rectifier.files import iter_text_lines
from sb_rectifier.kaldi.basic_io import to_float32
from sb_rectifier.scoring.glm import normalize

MODES = ("strict", "present", "all")

# Largest number of alternative combinations tried exhaustively per
# utterance; beyond it, coordinate descent.
MAX_EXHAUSTIVE = 256

# kaldialign's gap symbol: tokens of a Kaldi text file are never empty.
_EPS = ""


def read_text(path):
    """Reads a Kaldi ``text`` file: ``utt-id word word ...`` per line.

    Arguments
    ---------
    path : str or file object
        The file (UTF-8), or an open stream (``sys.stdin``: its bytes are
        decoded here, so that an error can name the line). A line holding
        only an utterance id is an empty transcript; blank lines are
        skipped.

    Returns
    -------
    dict
        Utterance id -> list of words, in file order.

    Raises
    ------
    ValueError
        When an utterance id occurs twice, or on bytes that are not UTF-8
        (``<file>: line N: not valid UTF-8 (byte 0x.. at column ..)``).
    FileNotFoundError
        When the file does not exist.

    Example
    -------
    >>> import io
    >>> read_text(io.StringIO("u1 hello world\\nu2\\n"))
    {'u1': ['hello', 'world'], 'u2': []}
    >>> path = getfixture("tmp_path") / "hyp.txt"
    >>> _ = path.write_bytes(b"u1 ok\\nu2 caf\\xe9\\n")
    >>> read_text(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../hyp.txt: line 2: not valid UTF-8 (byte 0xe9 at column 7)
    """
    if hasattr(path, "read"):
        name = str(getattr(path, "name", "<stream>"))
        return _parse_text(_stream_lines(path, name), name)
    return _parse_text(iter_text_lines(path, "text file"), os.fspath(path))


def _stream_lines(stream, name):
    """Numbered lines of a stream; its bytes (if any) decoded with care."""
    for lineno, raw in enumerate(getattr(stream, "buffer", stream), start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(
                    f"{name}: line {lineno}: not valid UTF-8 (byte "
                    f"0x{raw[err.start]:02x} at column {err.start + 1})"
                ) from None
        yield lineno, raw


def _parse_text(lines, name):
    texts = {}
    for lineno, line in lines:
        fields = line.split()
        if not fields:
            continue
        utt = fields[0]
        if utt in texts:
            raise ValueError(f"{name}:{lineno}: duplicate utterance id '{utt}'")
        texts[utt] = fields[1:]
    return texts


def kaldi_percent(numerator, denominator):
    """A percentage formatted as Kaldi's ``compute-wer`` prints it.

    ``compute-wer`` computes ``100.0 * num / den`` into a ``float`` and
    prints it with ``std::fixed`` and precision 2, so ``0 / 0`` prints
    ``-nan`` (x86-64 / glibc) and ``n / 0`` prints ``inf``.

    Arguments
    ---------
    numerator, denominator : int
        Errors and words (or sentences).

    Returns
    -------
    str
        E.g. ``"12.30"``, ``"-nan"`` or ``"inf"``.

    Example
    -------
    >>> kaldi_percent(1, 3), kaldi_percent(0, 0), kaldi_percent(2, 0)
    ('33.33', '-nan', 'inf')
    """
    if denominator == 0:
        return "-nan" if numerator == 0 else "inf"
    return f"{to_float32(100.0 * numerator / denominator):.2f}"


def _flatten(slots, choice):
    words = []
    for slot, k in zip(slots, choice, strict=True):
        words.extend(slot[k])
    return words


def resolve_alternatives(ref_slots, hyp_slots):
    """Chooses one alternative per slot so that the edit distance is least.

    Exhaustive (ties: the earliest alternatives win) when there are at most
    :data:`MAX_EXHAUSTIVE` combinations, otherwise coordinate descent from
    the first alternatives (a local optimum).

    Arguments
    ---------
    ref_slots, hyp_slots : list of tuple
        Slots from :func:`sb_rectifier.scoring.glm.normalize`: tuples of
        alternatives, each a tuple of words.

    Returns
    -------
    tuple of list of str
        The reference and hypothesis words.

    Example
    -------
    >>> ref = [(("OK",), ("OKAY",)), (("YES",), ())]
    >>> resolve_alternatives(ref, [(("OKAY",),)])
    (['OKAY'], ['OKAY'])
    """
    slots = list(ref_slots) + list(hyp_slots)
    n_ref = len(ref_slots)
    free = [i for i, slot in enumerate(slots) if len(slot) > 1]
    choice = [0] * len(slots)

    def split(choice):
        return (
            _flatten(slots[:n_ref], choice[:n_ref]),
            _flatten(slots[n_ref:], choice[n_ref:]),
        )

    def cost(choice):
        return kaldialign.edit_distance(*split(choice))["total"]

    if not free:
        return split(choice)
    combinations = math.prod(len(slots[i]) for i in free)
    if combinations <= MAX_EXHAUSTIVE:
        best, best_cost = None, None
        for ks in itertools.product(*(range(len(slots[i])) for i in free)):
            for i, k in zip(free, ks, strict=True):
                choice[i] = k
            c = cost(choice)
            if best_cost is None or c < best_cost:
                best, best_cost = list(choice), c
        return split(best)
    best_cost = cost(choice)
    improved = True
    while improved and best_cost > 0:
        improved = False
        for i in free:
            current = choice[i]
            for k in range(len(slots[i])):
                if k == current:
                    continue
                choice[i] = k
                c = cost(choice)
                if c < best_cost:
                    best_cost, current, improved = c, k, True
            choice[i] = current
    return split(choice)


@dataclass
class UtteranceAlignment:
    """The scored words and alignment of one utterance.

    Arguments
    ---------
    utt : str
        Utterance id.
    ref, hyp : list of str
        The words that were aligned (after GLM normalisation, if any).
    alignment : list of tuple
        ``(ref_word, hyp_word)`` pairs; ``None`` marks the gap of an
        insertion (ref side) or deletion (hyp side).
    ins, dels, subs : int
        Error counts (Kaldi's ``LevenshteinEditDistance``).
    missing : bool
        True when the hypothesis lacked the utterance (``--mode=all``).

    Example
    -------
    >>> u = align_utterance("u1", ["a", "b"], ["a", "c", "d"])
    >>> u.alignment, u.errors, u.words
    ([('a', 'a'), ('b', 'c'), (None, 'd')], 2, 2)
    """

    utt: str
    ref: list
    hyp: list
    alignment: list
    ins: int
    dels: int
    subs: int
    missing: bool = False

    @property
    def errors(self):
        """Insertions + deletions + substitutions."""
        return self.ins + self.dels + self.subs

    @property
    def words(self):
        """Number of reference words."""
        return len(self.ref)

    def details(self, eps="***"):
        """This utterance in ``wer_per_utt_details.pl``'s format.

        Arguments
        ---------
        eps : str
            Shown for the gap of an insertion or deletion (Kaldi's scoring
            scripts pass ``***``).

        Returns
        -------
        str
            Four lines: ``utt ref``, ``utt hyp``, ``utt op`` (C/S/I/D, in
            centred columns) and ``utt #csid C S I D``.

        Example
        -------
        >>> u = align_utterance("u1", ["a", "bb"], ["a", "c", "d"])
        >>> print(u.details(), end="")
        u1 ref  a  bb  ***
        u1 hyp  a   c   d
        u1 op   C   S   I
        u1 #csid 1 1 1 0
        """
        refs, hyps, ops = [], [], []
        counts = {"C": 0, "S": 0, "I": 0, "D": 0}
        for ref_word, hyp_word in self.alignment:
            if hyp_word is None:
                op = "D"
            elif ref_word is None:
                op = "I"
            elif ref_word != hyp_word:
                op = "S"
            else:
                op = "C"
            counts[op] += 1
            ref_word = eps if ref_word is None else ref_word
            hyp_word = eps if hyp_word is None else hyp_word
            width = max(len(ref_word), len(hyp_word), len(op))
            refs.append(_centre(ref_word, width))
            hyps.append(_centre(hyp_word, width))
            ops.append(_centre(op, width))
        u = self.utt
        return (
            f"{u} ref  " + "  ".join(refs) + "\n"
            f"{u} hyp  " + "  ".join(hyps) + "\n"
            f"{u} op   " + "  ".join(ops) + "\n"
            f"{u} #csid {counts['C']} {counts['S']} {counts['I']} "
            f"{counts['D']}\n"
        )


def _centre(text, width):
    """``cjustify`` of wer_per_utt_details.pl: odd padding goes left."""
    right = (width - len(text)) // 2
    left = width - len(text) - right
    return " " * left + text + " " * right


def align_utterance(utt, ref, hyp, glm=None, ignore_case=False, missing=False):
    """Scores one utterance.

    Arguments
    ---------
    utt : str
        Utterance id.
    ref, hyp : list of str
        Reference and hypothesis words.
    glm : Glm, optional
        When given, both are normalised by
        :func:`sb_rectifier.scoring.glm.normalize` (case, hesitations,
        mappings, alternations).
    ignore_case : bool
        Upper-case both transcripts (implied by ``glm``).
    missing : bool
        Recorded in the result (hypothesis absent, scored as empty).

    Returns
    -------
    UtteranceAlignment
        Counts and alignment.

    Example
    -------
    >>> u = align_utterance("u1", ["A", "B"], ["a", "b"], ignore_case=True)
    >>> u.errors, u.hyp
    (0, ['A', 'B'])
    """
    if glm is not None:
        ref, hyp = resolve_alternatives(
            normalize(ref, glm, "ref"), normalize(hyp, glm, "hyp")
        )
    elif ignore_case:
        ref = [word.upper() for word in ref]
        hyp = [word.upper() for word in hyp]
    else:
        ref, hyp = list(ref), list(hyp)
    counts = kaldialign.edit_distance(ref, hyp)
    alignment = [
        (None if r == _EPS else r, None if h == _EPS else h)
        for r, h in kaldialign.align(ref, hyp, _EPS)
    ]
    return UtteranceAlignment(
        utt=utt,
        ref=ref,
        hyp=hyp,
        alignment=alignment,
        ins=counts["ins"],
        dels=counts["del"],
        subs=counts["sub"],
        missing=missing,
    )


@dataclass
class WerResult:
    """Totals of a scored set, as Kaldi's ``compute-wer`` reports them.

    Arguments
    ---------
    words : int
        Reference words of the scored utterances.
    ins, dels, subs : int
        Insertions, deletions, substitutions.
    sentences : int
        Scored utterances.
    sentence_errors : int
        Scored utterances with at least one error.
    missing : int
        Reference utterances absent from the hypothesis (scored as empty
        in ``--mode=all``, skipped in ``--mode=present``).
    utterances : list of UtteranceAlignment
        The scored utterances, in reference order.

    Example
    -------
    >>> r = score(
    ...     {"u1": ["a", "b"], "u2": ["c"]}, {"u1": ["a", "x"], "u2": ["c"]}
    ... )
    >>> r.errors, r.words, round(r.wer, 2), r.ser
    (1, 3, 33.33, 50.0)
    """

    words: int = 0
    ins: int = 0
    dels: int = 0
    subs: int = 0
    sentences: int = 0
    sentence_errors: int = 0
    missing: int = 0
    utterances: list = field(default_factory=list, repr=False)

    @classmethod
    def from_utterances(cls, utterances, missing=0):
        """Sums scored utterances.

        Arguments
        ---------
        utterances : list of UtteranceAlignment
            The scored utterances.
        missing : int
            Reference utterances absent from the hypothesis.

        Returns
        -------
        WerResult
            The totals.

        Example
        -------
        >>> u = align_utterance("u1", ["a"], [])
        >>> print(
        ...     WerResult.from_utterances([u], missing=1).kaldi_lines(), end=""
        ... )
        %WER 100.00 [ 1 / 1, 0 ins, 1 del, 0 sub ] [PARTIAL]
        %SER 100.00 [ 1 / 1 ]
        Scored 1 sentences, 1 not present in hyp.
        """
        utterances = list(utterances)
        return cls(
            words=sum(u.words for u in utterances),
            ins=sum(u.ins for u in utterances),
            dels=sum(u.dels for u in utterances),
            subs=sum(u.subs for u in utterances),
            sentences=len(utterances),
            sentence_errors=sum(1 for u in utterances if u.errors > 0),
            missing=missing,
            utterances=utterances,
        )

    @property
    def errors(self):
        """Insertions + deletions + substitutions."""
        return self.ins + self.dels + self.subs

    @property
    def wer(self):
        """Word error rate in % (nan for 0/0, inf for n/0)."""
        if self.words == 0:
            return math.nan if self.errors == 0 else math.inf
        return 100.0 * self.errors / self.words

    @property
    def ser(self):
        """Sentence error rate in % (nan when no sentence was scored)."""
        if self.sentences == 0:
            return math.nan
        return 100.0 * self.sentence_errors / self.sentences

    def kaldi_lines(self):
        """The three summary lines of Kaldi's ``compute-wer``.

        Returns
        -------
        str
            ``%WER``, ``%SER`` and ``Scored ...`` lines, each ending in a
            newline; ``[PARTIAL]`` when utterances were missing.

        Example
        -------
        >>> r = WerResult(
        ...     words=1000,
        ...     ins=10,
        ...     dels=20,
        ...     subs=93,
        ...     sentences=100,
        ...     sentence_errors=45,
        ... )
        >>> print(r.kaldi_lines(), end="")
        %WER 12.30 [ 123 / 1000, 10 ins, 20 del, 93 sub ]
        %SER 45.00 [ 45 / 100 ]
        Scored 100 sentences, 0 not present in hyp.
        """
        partial = " [PARTIAL]" if self.missing else ""
        return (
            f"%WER {kaldi_percent(self.errors, self.words)} "
            f"[ {self.errors} / {self.words}, {self.ins} ins, "
            f"{self.dels} del, {self.subs} sub ]{partial}\n"
            f"%SER {kaldi_percent(self.sentence_errors, self.sentences)} "
            f"[ {self.sentence_errors} / {self.sentences} ]\n"
            f"Scored {self.sentences} sentences, "
            f"{self.missing} not present in hyp.\n"
        )

    def details(self, eps="***"):
        """Per-utterance alignments in ``wer_per_utt_details.pl``'s format.

        Arguments
        ---------
        eps : str
            Gap symbol.

        Returns
        -------
        str
            Four lines per scored utterance, in reference order.

        Example
        -------
        >>> r = score({"u1": ["a", "b"]}, {"u1": ["b"]})
        >>> print(r.details(), end="")
        u1 ref   a   b
        u1 hyp  ***  b
        u1 op    D   C
        u1 #csid 1 0 0 1
        """
        return "".join(u.details(eps) for u in self.utterances)

    def to_dict(self):
        """All numbers, JSON-ready (``wer``/``ser``: None when undefined).

        Returns
        -------
        dict
            words, ins, del, sub, errors, sentences, sentence_errors,
            missing, wer, ser.

        Example
        -------
        >>> score({"u1": ["a"]}, {"u1": ["b"]}).to_dict()["wer"]
        100.0
        """

        def finite(x):
            return x if math.isfinite(x) else None

        return {
            "words": self.words,
            "ins": self.ins,
            "del": self.dels,
            "sub": self.subs,
            "errors": self.errors,
            "sentences": self.sentences,
            "sentence_errors": self.sentence_errors,
            "missing": self.missing,
            "wer": finite(self.wer),
            "ser": finite(self.ser),
        }


def read_csid(path):
    """The ``#csid`` counts of a ``wer_per_utt_details.pl`` file.

    Arguments
    ---------
    path : str
        A file written by :meth:`WerResult.details` (``per_utt.txt``) or by
        Kaldi's ``wer_per_utt_details.pl``.

    Returns
    -------
    dict
        Utterance id -> ``(C, S, I, D)``, in file order; errors are
        ``S + I + D``, reference words ``C + S + D``.

    Raises
    ------
    ValueError
        Naming the file and line of a malformed or repeated ``#csid`` line,
        or a file without any.

    Example
    -------
    >>> path = getfixture("tmp_path") / "per_utt.txt"
    >>> _ = path.write_text(score({"u1": ["a", "b"]}, {"u1": ["b"]}).details())
    >>> read_csid(path)
    {'u1': (1, 0, 0, 1)}
    """
    counts = {}
    with open(path, encoding="utf-8") as fin:
        for number, line in enumerate(fin, 1):
            fields = line.split()
            if len(fields) < 2 or fields[1] != "#csid":
                continue
            where = f"{path}, line {number}"
            if len(fields) != 6 or not all(f.isdigit() for f in fields[2:]):
                raise ValueError(
                    f"{where}: expected 'utt #csid C S I D', got {line.strip()!r}"
                )
            if fields[0] in counts:
                raise ValueError(f"{where}: utterance {fields[0]!r} repeated")
            counts[fields[0]] = tuple(int(f) for f in fields[2:])
    if not counts:
        raise ValueError(f"{path}: no '#csid' lines (not a per_utt file)")
    return counts


def _score_utterances(refs, hyps, mode, glm, ignore_case):
    """Scored utterances and the ids missing from ``hyps``, in ref order."""
    if mode not in MODES:
        raise ValueError(
            '--mode option invalid: expected "present"|"all"|"strict", '
            f"got {mode}"
        )
    scored, missing = [], []
    for utt, ref in refs.items():
        hyp = hyps.get(utt)
        if hyp is None:
            if mode == "strict":
                raise ValueError(
                    f"No hypothesis for key {utt} and strict mode specifier."
                )
            missing.append(utt)
            if mode == "present":
                continue
        scored.append(
            align_utterance(
                utt, ref, hyp or [], glm, ignore_case, missing=hyp is None
            )
        )
    return scored, missing


def score(refs, hyps, mode="strict", glm=None, ignore_case=False):
    """Scores hypotheses against references, as Kaldi's ``compute-wer``.

    Arguments
    ---------
    refs, hyps : dict
        Utterance id -> list of words (see :func:`read_text`). Hypotheses
        of utterances absent from ``refs`` are ignored.
    mode : str
        What to do with reference utterances absent from ``hyps``, as
        Kaldi: ``"strict"`` (default) raises ``ValueError``,
        ``"present"`` skips them, ``"all"`` scores them as empty; both
        count them as missing (``[PARTIAL]``).
    glm : Glm, optional
        Hub5 normalisation (see :mod:`sb_rectifier.scoring.glm`).
    ignore_case : bool
        Upper-case everything (always done with a ``glm``).

    Returns
    -------
    WerResult
        Totals and per-utterance alignments.

    Example
    -------
    >>> refs = {"u1": ["the", "cat", "sat"], "u2": ["hello"]}
    >>> r = score(refs, {"u1": ["the", "bat", "sat", "down"]}, mode="all")
    >>> print(r.kaldi_lines(), end="")
    %WER 75.00 [ 3 / 4, 1 ins, 1 del, 1 sub ] [PARTIAL]
    %SER 100.00 [ 2 / 2 ]
    Scored 2 sentences, 1 not present in hyp.
    """
    scored, missing = _score_utterances(refs, hyps, mode, glm, ignore_case)
    return WerResult.from_utterances(scored, missing=len(missing))


def score_subsets(
    refs, hyps, subsets, mode="strict", glm=None, ignore_case=False
):
    """Scores the full set and subsets chosen by utterance-id prefix.

    Every utterance is aligned once; a subset sums the utterances (and
    missing ones) whose id starts with its prefix.

    Arguments
    ---------
    refs, hyps : dict
        Utterance id -> list of words.
    subsets : dict
        Subset name -> utterance-id prefix, e.g.
        ``{"SWBD": "sw_", "CallHome": "en_"}``.
    mode, glm, ignore_case
        As for :func:`score`.

    Returns
    -------
    dict
        ``"all"`` (the full set) then each subset, in the given order ->
        WerResult.

    Example
    -------
    >>> refs = {"sw_1": ["a", "b"], "en_1": ["c", "d"]}
    >>> hyps = {"sw_1": ["a", "b"], "en_1": ["c"]}
    >>> res = score_subsets(refs, hyps, {"SWBD": "sw_", "CH": "en_"})
    >>> [(name, r.errors, r.words) for name, r in res.items()]
    [('all', 1, 4), ('SWBD', 0, 2), ('CH', 1, 2)]
    """
    if "all" in subsets:
        raise ValueError("'all' is reserved for the full set")
    scored, missing = _score_utterances(refs, hyps, mode, glm, ignore_case)
    results = {"all": WerResult.from_utterances(scored, missing=len(missing))}
    for name, prefix in subsets.items():
        results[name] = WerResult.from_utterances(
            [u for u in scored if u.utt.startswith(prefix)],
            missing=sum(1 for utt in missing if utt.startswith(prefix)),
        )
    return results


def subset_table(results):
    """A markdown table of scored sets.

    Arguments
    ---------
    results : dict
        Set name -> WerResult (e.g. from :func:`score_subsets`).

    Returns
    -------
    str
        Header, separator and one row per set (WER and SER with two
        decimals as Kaldi rounds them; ``n/a`` when a set has no
        reference word / no sentence), each line ending in a newline.

    Example
    -------
    >>> r = WerResult(
    ...     words=8, ins=1, dels=0, subs=1, sentences=2, sentence_errors=1
    ... )
    >>> print(subset_table({"all": r}), end="")
    | set | sentences | words | WER % | ins | del | sub | SER % |
    |---|---|---|---|---|---|---|---|
    | all | 2 | 8 | 25.00 | 1 | 0 | 1 | 50.00 |
    """
    lines = [
        "| set | sentences | words | WER % | ins | del | sub | SER % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        wer = kaldi_percent(r.errors, r.words) if r.words else "n/a"
        ser = (
            kaldi_percent(r.sentence_errors, r.sentences)
            if r.sentences
            else "n/a"
        )
        lines.append(
            f"| {name} | {r.sentences} | {r.words} | {wer} | {r.ins} "
            f"| {r.dels} | {r.subs} | {ser} |"
        )
    return "\n".join(lines) + "\n"
