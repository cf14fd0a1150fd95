"""Word times of 1-best decodings, written as a CTM (Kaldi's scoring CTM).

Kaldi's ``local/score_sclite.sh`` makes the CTM that sclite scores with::

    lattice-1best | lattice-align-words phones/word_boundary.int final.mdl \\
      | nbest-to-ctm | utils/int2sym.pl -f 5 words.txt \\
      | utils/convert_ctm.pl data/segments data/reco2file_and_channel

The same steps on the best path of the decoder (its transition-ids, one
per frame):

* :func:`split_to_phones` (Kaldi's ``SplitToPhones``): the phones of an
  alignment, self-loops before (Kaldi's aligner, this project's H) or
  after (``--reorder=true`` graphs) the forward transition of a state;
* :func:`read_word_boundary` and :func:`align_words`
  (``lattice-align-words``): ``phones/word_boundary.int`` gives each phone
  a class (``begin``, ``internal``, ``end``, ``singleton``, ``nonword``);
  a word runs from a ``begin`` phone to the next ``end`` phone, or is one
  ``singleton`` phone; ``nonword`` phones (silence) belong to no word. The
  path's words are given to these phone groups in order;
* :func:`ctm_lines` (``nbest-to-ctm``): ``<utt> 1 <start> <duration>
  <word>``, 10 ms frames, 2 decimals, no confidence column;
* :func:`convert_ctm` (``utils/convert_ctm.pl``): with ``segments``, times
  are made relative to the recording, the file and channel fields coming
  from ``reco2file_and_channel`` (without it: the recording id and
  channel ``1``);
* :func:`write_ctm` does all of it for a dict of decoding results, and
  :func:`ctm_writer` makes the writer of train.py's decode stage.

Authors
 * sb_rectifier developers 2026
"""

import logging
import os

from sb_rectifier.files import iter_text_lines, write_text

logger = logging.getLogger(__name__)

__all__ = [
    "WORD_BOUNDARY_CLASSES",
    "align_words",
    "convert_ctm",
    "ctm_lines",
    "ctm_writer",
    "read_reco2file_and_channel",
    "read_segments",
    "read_word_boundary",
    "split_to_phones",
    "write_ctm",
]

WORD_BOUNDARY_CLASSES = ("nonword", "begin", "end", "internal", "singleton")
FRAME_SHIFT = 0.01


def read_word_boundary(path):
    """Reads ``phones/word_boundary.int``: ``<phone-id> <class>`` a line.

    Arguments
    ---------
    path : str or os.PathLike
        The file.

    Returns
    -------
    dict
        Phone id (int) -> class (one of :data:`WORD_BOUNDARY_CLASSES`).

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the line: a missing file, a line that is not
        ``<phone-id> <class>``, an unknown class, a phone listed twice.

    Example
    -------
    >>> path = getfixture("tmp_path") / "word_boundary.int"
    >>> _ = path.write_text("1 nonword\\n2 begin\\n3 end\\n")
    >>> read_word_boundary(path)
    {1: 'nonword', 2: 'begin', 3: 'end'}
    >>> _ = path.write_text("1 nonword\\n2 start\\n")
    >>> read_word_boundary(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../word_boundary.int: line 2: unknown word-boundary class 'start' (expected one of nonword, begin, end, internal, singleton)
    """
    path = os.fspath(path)
    table = {}
    for number, line in iter_text_lines(path, "word-boundary file"):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}: line {number}"
        if len(fields) != 2 or not fields[0].isdigit():
            raise ValueError(
                f"{where}: expected '<phone-id> <class>', got {line.strip()!r}"
            )
        phone, kind = int(fields[0]), fields[1]
        if kind not in WORD_BOUNDARY_CLASSES:
            raise ValueError(
                f"{where}: unknown word-boundary class {kind!r} (expected "
                f"one of {', '.join(WORD_BOUNDARY_CLASSES)})"
            )
        if phone in table:
            raise ValueError(f"{where}: phone {phone} is listed twice")
        table[phone] = kind
    if not table:
        raise ValueError(f"{path}: no phones (empty word-boundary file)")
    return table


def _is_final(model, tid):
    """Kaldi's ``IsFinal``: the transition enters the phone's final state."""
    entry = model.topology.topology_for_phone(int(model.tid2phone[tid]))
    return int(model.tid2dest[tid]) == len(entry) - 1


def _is_reordered(model, alignment):
    """Kaldi's ``IsReordered``: whether a state's self-loops come last."""
    tstate = model.tid2tstate
    loop = model.tid_is_self_loop
    for a, b in zip(alignment[:-1], alignment[1:], strict=True):
        if tstate[a] != tstate[b]:
            if loop[a]:
                return True
            if loop[b]:
                return False
    return len(alignment) > 0 and not loop[alignment[0]] and loop[alignment[-1]]


def split_to_phones(alignment, model, utt=None):
    """The phones of an alignment (Kaldi's ``SplitToPhones``).

    A phone ends with its transition into the final HMM state, followed,
    in a reordered alignment, by the self-loops of its last state.

    Arguments
    ---------
    alignment : sequence of int
        Transition-ids, one per frame.
    model : TransitionModel
        The model of the transition-ids.
    utt : str, optional
        The utterance, named in the error.

    Returns
    -------
    list of tuple
        ``(phone, start_frame, num_frames)``.

    Raises
    ------
    ValueError
        If the alignment does not end at the end of a phone, or changes
        phone without finishing one (it is not from this model).

    Example
    -------
    >>> from sb_rectifier.kaldi import TransitionModel
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2], 2))
    >>> split_to_phones([1, 2, 4, 5, 6, 8], tm)  # loop, forward; 1-2-1-1
    [(1, 0, 3), (2, 3, 3)]
    >>> split_to_phones([2, 4, 3, 6, 8, 7], tm)  # reordered: forward, loop
    [(1, 0, 3), (2, 3, 3)]
    """
    alignment = [int(t) for t in alignment]
    where = f"utterance {utt!r}: " if utt is not None else ""
    tid2phone = model.tid2phone
    loop = model.tid_is_self_loop
    if alignment and not 1 <= min(alignment) <= max(alignment) < len(tid2phone):
        raise ValueError(
            f"{where}transition-ids out of range 1..{len(tid2phone) - 1} "
            "(an alignment of another model?)"
        )
    reordered = _is_reordered(model, alignment)
    phones, start, i = [], 0, 0
    while i < len(alignment):
        tid = alignment[i]
        if _is_final(model, tid):
            if reordered:
                while i + 1 < len(alignment) and loop[alignment[i + 1]]:
                    i += 1
        elif i + 1 == len(alignment):
            raise ValueError(
                f"{where}the alignment ends inside phone "
                f"{int(tid2phone[tid])} (frame {i}): not a complete path"
            )
        elif tid2phone[tid] == tid2phone[alignment[i + 1]]:
            i += 1
            continue
        else:
            raise ValueError(
                f"{where}phone {int(tid2phone[tid])} is followed at frame "
                f"{i + 1} by phone {int(tid2phone[alignment[i + 1]])} "
                "before its final transition (an alignment of another "
                "model?)"
            )
        phones.append((int(tid2phone[alignment[start]]), start, i + 1 - start))
        start = i + 1
        i += 1
    return phones


def align_words(
    alignment,
    words,
    model,
    word_boundary,
    utt=None,
    word_boundary_file="word_boundary.int",
    force_out=False,
):
    """Start and length of each word of a best path (``lattice-align-words``).

    Arguments
    ---------
    alignment : sequence of int
        The path's transition-ids, one per frame.
    words : sequence
        The path's words (ids or strings), epsilons removed, in order.
    model : TransitionModel
        The model of the transition-ids.
    word_boundary : dict
        Phone id -> class, from :func:`read_word_boundary`.
    utt : str, optional
        The utterance, named in errors.
    word_boundary_file : str
        Where ``word_boundary`` comes from, named in errors.
    force_out : bool
        For a partial path (one that reached no final state): a word left
        open at the end is closed there, and words without phones get a
        length of 0 at the end, as Kaldi forces out the last arcs.

    Returns
    -------
    list of tuple
        ``(word, start_frame, num_frames)``; silence is in no word.

    Raises
    ------
    ValueError
        Naming the utterance (and ``word_boundary_file`` for a phone it
        does not list): a phone of a class that does not fit where it is
        (``internal`` outside a word, ``nonword`` inside one, ...), or not
        as many words as word phone groups.

    Example
    -------
    >>> from sb_rectifier.kaldi import TransitionModel
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3], 1))
    >>> classes = {1: "nonword", 2: "begin", 3: "end"}
    >>> ali = [1, 2, 3, 3, 4, 6, 1, 2]  # sil sil, begin x3, end, sil sil
    >>> align_words(ali, ["hi"], tm, classes)
    [('hi', 2, 4)]
    >>> align_words(ali, ["hi", "you"], tm, classes, "u1")
    Traceback (most recent call last):
    ValueError: utterance 'u1': 2 words on the best path but 1 words in its phones (by word_boundary.int)
    """
    where = f"utterance {utt!r}" if utt is not None else "the alignment"
    phones = split_to_phones(alignment, model, utt)
    groups, open_at = [], None
    for phone, start, length in phones:
        kind = word_boundary.get(phone)
        if kind is None:
            raise ValueError(
                f"{word_boundary_file}: phone {phone} (in {where}, frame "
                f"{start}) is not listed: the word-boundary file and the "
                "model do not match"
            )
        if kind in ("internal", "end") and open_at is None:
            raise ValueError(
                f"{where}: {kind} phone {phone} at frame {start} is not "
                f"inside a word (no begin phone before it; see "
                f"{word_boundary_file})"
            )
        if kind in ("begin", "singleton", "nonword") and open_at is not None:
            raise ValueError(
                f"{where}: {kind} phone {phone} at frame {start} inside the "
                f"word begun at frame {open_at} (see {word_boundary_file})"
            )
        if kind == "begin":
            open_at = start
        elif kind == "singleton":
            groups.append((start, start + length))
        elif kind == "end":
            groups.append((open_at, start + length))
            open_at = None
    end = len(alignment)
    if force_out:
        if open_at is not None:
            groups.append((open_at, end))
        groups += [(end, end)] * max(0, len(words) - len(groups))
    elif open_at is not None:
        raise ValueError(
            f"{where}: the word begun at frame {open_at} has no end phone"
        )
    if len(groups) != len(words):
        raise ValueError(
            f"{where}: {len(words)} words on the best path but "
            f"{len(groups)} words in its phones (by {word_boundary_file})"
        )
    return [
        (word, start, stop - start)
        for word, (start, stop) in zip(words, groups, strict=True)
    ]


def ctm_lines(utt, word_times, frame_shift=FRAME_SHIFT):
    """CTM lines of one utterance, as ``nbest-to-ctm`` writes them.

    Arguments
    ---------
    utt : str
        The utterance id (first field).
    word_times : list of tuple
        ``(word, start_frame, num_frames)`` from :func:`align_words`.
    frame_shift : float
        Seconds per frame.

    Returns
    -------
    list of str
        ``<utt> 1 <start> <duration> <word>`` (2 decimals), no newline.

    Example
    -------
    >>> ctm_lines("u1", [("hi", 2, 4), ("you", 6, 31)])
    ['u1 1 0.02 0.04 hi', 'u1 1 0.06 0.31 you']
    """
    return [
        f"{utt} 1 {start * frame_shift:.2f} {length * frame_shift:.2f} {word}"
        for word, start, length in word_times
    ]


def _table_rows(path, what, num_fields, form):
    """``(line, fields)`` of a text table with a fixed number of fields."""
    path = os.fspath(path)
    rows, seen = [], {}
    for number, line in iter_text_lines(path, what):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}: line {number}"
        if len(fields) != num_fields:
            raise ValueError(
                f"{where}: expected '{form}', got {line.strip()!r}"
            )
        if fields[0] in seen:
            raise ValueError(
                f"{where}: {fields[0]!r} is already on line {seen[fields[0]]}"
            )
        seen[fields[0]] = number
        rows.append((where, fields))
    return rows


def read_segments(path):
    """Reads a data dir's ``segments``: utterance -> (recording, start, end).

    Arguments
    ---------
    path : str or os.PathLike
        The file: ``<utterance> <recording> <start> <end>`` a line.

    Returns
    -------
    dict
        Utterance -> ``(recording, start_seconds, end_seconds)`` (end -1:
        the end of the recording).

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the line.

    Example
    -------
    >>> path = getfixture("tmp_path") / "segments"
    >>> _ = path.write_text("u1 r1 1.5 3.25\\n")
    >>> read_segments(path)
    {'u1': ('r1', 1.5, 3.25)}
    >>> _ = path.write_text("u1 r1 1.5 x\\n")
    >>> read_segments(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../segments: line 1: start and end must be numbers, got '1.5' and 'x'
    """
    table = {}
    form = "<utterance> <recording> <start> <end>"
    for where, (utt, reco, start, end) in _table_rows(
        path, "segments file", 4, form
    ):
        try:
            table[utt] = (reco, float(start), float(end))
        except ValueError:
            raise ValueError(
                f"{where}: start and end must be numbers, got {start!r} and "
                f"{end!r}"
            ) from None
    return table


def read_reco2file_and_channel(path):
    """Reads ``reco2file_and_channel``: recording -> (file, channel).

    Arguments
    ---------
    path : str or os.PathLike
        The file: ``<recording> <file> <channel>`` a line.

    Returns
    -------
    dict
        Recording -> ``(file, channel)``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the line.

    Example
    -------
    >>> path = getfixture("tmp_path") / "reco2file_and_channel"
    >>> _ = path.write_text("sw02001-A sw02001 A\\n")
    >>> read_reco2file_and_channel(path)
    {'sw02001-A': ('sw02001', 'A')}
    """
    form = "<recording> <file> <channel>"
    return {
        reco: (file, channel)
        for _, (reco, file, channel) in _table_rows(
            path, "reco2file_and_channel file", 3, form
        )
    }


def convert_ctm(
    lines,
    segments,
    reco2file_and_channel=None,
    segments_file="segments",
    reco2file_and_channel_file="reco2file_and_channel",
):
    """Utterance-relative CTM lines to recording times (``convert_ctm.pl``).

    Arguments
    ---------
    lines : iterable of str
        ``<utt> <channel> <start> <duration> <word> [<confidence>]``.
    segments : dict
        From :func:`read_segments`.
    reco2file_and_channel : dict, optional
        From :func:`read_reco2file_and_channel`; without it the file field
        is the recording id and the channel ``1``.
    segments_file, reco2file_and_channel_file : str
        Where the tables come from, named in errors.

    Returns
    -------
    list of str
        ``<file> <channel> <start> <duration> <word> [<confidence>]``,
        times with 2 decimals.

    Raises
    ------
    ValueError
        For a malformed line, an utterance not in ``segments`` or a
        recording not in ``reco2file_and_channel`` (naming the file).

    Example
    -------
    >>> segments = {"sw02001-A_000098-001156": ("sw02001-A", 0.98, 11.56)}
    >>> reco = {"sw02001-A": ("sw02001", "A")}
    >>> line = "sw02001-A_000098-001156 1 0.31 0.30 hi"
    >>> convert_ctm([line], segments, reco)
    ['sw02001 A 1.29 0.30 hi']
    >>> convert_ctm([line], segments)
    ['sw02001-A 1 1.29 0.30 hi']
    """
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) not in (5, 6):
            raise ValueError(f"unexpected CTM line {line!r}")
        utt, _, start, length, word, *conf = fields
        if utt not in segments:
            raise ValueError(
                f"{segments_file}: no utterance {utt!r} (it has a CTM line: "
                f"{line.strip()!r})"
            )
        reco, begin, _ = segments[utt]
        if reco2file_and_channel is None:
            file, channel = reco, "1"
        elif reco not in reco2file_and_channel:
            raise ValueError(
                f"{reco2file_and_channel_file}: no recording {reco!r} (of "
                f"utterance {utt!r} in {segments_file})"
            )
        else:
            file, channel = reco2file_and_channel[reco]
        start = f"{float(start) + begin:.2f}"
        out.append(
            " ".join(
                [file, channel, start, f"{float(length):.2f}", word, *conf]
            )
        )
    return out


def write_ctm(
    path,
    results,
    id2word,
    model,
    word_boundary,
    data_dir=None,
    word_boundary_file="word_boundary.int",
    frame_shift=FRAME_SHIFT,
):
    """Writes the CTM of decoded utterances (atomically), in their order.

    Arguments
    ---------
    path : str or os.PathLike
        The CTM file.
    results : dict
        Utterance id -> ``DecodingResult`` (words and alignment).
    id2word : dict
        Word id -> word.
    model : TransitionModel
        The model of the alignments.
    word_boundary : dict
        From :func:`read_word_boundary`.
    data_dir : str, optional
        The data dir of the utterances: with a ``segments`` file, times are
        converted to recording times (:func:`convert_ctm`, with its
        ``reco2file_and_channel`` when there is one).
    word_boundary_file : str
        Named in errors.
    frame_shift : float
        Seconds per frame.

    Returns
    -------
    int
        The number of lines written.

    Raises
    ------
    ValueError
        See :func:`align_words` and :func:`convert_ctm`.
    sb_rectifier.files.WriteError
        If ``path`` cannot be written.
    """
    lines = []
    for utt, result in results.items():
        words = [id2word[w] for w in result.words]
        times = align_words(
            result.alignment,
            words,
            model,
            word_boundary,
            utt,
            word_boundary_file,
            force_out=not result.reached_final,
        )
        lines += ctm_lines(utt, times, frame_shift)
    segments = os.path.join(data_dir, "segments") if data_dir else None
    if segments and os.path.isfile(segments):
        reco = os.path.join(data_dir, "reco2file_and_channel")
        has_reco = os.path.isfile(reco)
        lines = convert_ctm(
            lines,
            read_segments(segments),
            read_reco2file_and_channel(reco) if has_reco else None,
            segments,
            reco,
        )
    write_text(path, "".join(f"{line}\n" for line in lines))
    return len(lines)


def ctm_writer(lang_dir, model, id2word, data_dirs):
    """The CTM writer of a decode stage, or None without word boundaries.

    Arguments
    ---------
    lang_dir : str
        The graph (or lang) directory: its ``phones/word_boundary.int``
        gives the word boundaries; without it no CTM is written (logged
        once, not an error).
    model : str or TransitionModel
        The transition model (``final.mdl``) of the alignments.
    id2word : dict
        Word id -> word.
    data_dirs : dict
        Split -> its data dir (for ``segments``), or None.

    Returns
    -------
    callable or None
        ``writer(split, results, path)`` (see :func:`write_ctm`).

    Example
    -------
    >>> ctm_writer(str(getfixture("tmp_path")), None, {}, {}) is None
    True
    """
    wb_file = os.path.join(lang_dir, "phones", "word_boundary.int")
    if not os.path.isfile(wb_file):
        logger.info(
            f"No CTM: {wb_file} not found (word boundaries need "
            "position-dependent phones)"
        )
        return None
    from sb_rectifier.kaldi import TransitionModel

    word_boundary = read_word_boundary(wb_file)
    if not isinstance(model, TransitionModel):
        model = TransitionModel.read(model)

    def writer(split, results, path):
        return write_ctm(
            path,
            results,
            id2word,
            model,
            word_boundary,
            data_dirs.get(split),
            wb_file,
        )

    return writer
