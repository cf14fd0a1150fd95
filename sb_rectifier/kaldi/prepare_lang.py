"""A Kaldi ``lang`` directory from a dictionary directory (``prepare_lang.sh``).

Kaldi's ``utils/prepare_lang.sh DICT OOV TMP LANG`` without Kaldi: the
dictionary folder (``lexicon.txt`` or ``lexiconp.txt``,
``silence_phones.txt``, ``nonsilence_phones.txt``, ``optional_silence.txt``
and optionally ``extra_questions.txt``) is checked as Kaldi's
``validate_dict_dir.pl`` does (every error names the file and the line),
then the lang folder is built with Kaldi's defaults
(``--position-dependent-phones true --share-silence-phones false
--sil-prob 0.5 --num-sil-states 5 --num-nonsil-states 3``):

* ``phones.txt`` (``<eps>``, the silence phones, the non-silence phones,
  each with its word-position variants ``_B _E _I _S`` when position
  dependent (a silence phone also keeps its plain form, used for
  optional silence), then ``#0 ... #N``), ``words.txt`` (``<eps>``, the
  lexicon's words sorted, ``#0``, ``<s>``, ``</s>``), ``oov.txt``,
  ``oov.int``;
* ``topo`` (Kaldi's ``gen_topo.pl``, :func:`gen_topo`);
* ``L.fst`` and ``L_disambig.fst`` (Kaldi's ``make_lexicon_fst.py`` via
  :func:`sb_rectifier.decoding.lexicon_fst.make_l`, sorted on output
  labels; L_disambig has the ``#k`` of ``add_lex_disambig.pl``, the
  silence disambiguation symbol ``#N`` and the ``#0:#0`` self-loop of
  ``fstaddselfloops``);
* ``phones/``: ``silence``, ``nonsilence``, ``optional_silence``,
  ``disambig``, ``context_indep`` (``.txt``, ``.int``, ``.csl``),
  ``sets``, ``extra_questions``, ``roots`` (``.txt``, ``.int``),
  ``wdisambig.txt``, ``wdisambig_phones.int``, ``wdisambig_words.int``,
  ``align_lexicon`` (``.txt``, ``.int``) and, with position-dependent
  phones, ``word_boundary`` (``.txt``, ``.int``);
* ``lexiconp.txt``: the lexicon as L was built from it (position-dependent
  phones, probabilities); Kaldi keeps it in its temporary folder
  (``data/local/lang``), here it lets
  :func:`sb_rectifier.decoding.make_graph` build a graph from the folder
  once a ``G.fst`` is added.

The files are those Kaldi writes, line for line, except that
``phones/extra_questions.txt`` has no trailing space on its generated
lines. The folder is built under a temporary name and renamed into place;
an existing non-empty folder is kept if it holds exactly these files
(same settings and dictionary), and refused otherwise.

Authors
 * sb_rectifier developers 2026
"""

import filecmp
import os
import re
import shutil

import kaldifst as kf

from sb_rectifier.decoding.fst_io import graph_size, write_graph
from sb_rectifier.decoding.lang import (
    EPSILON,
    add_lex_disambig,
    disambig_names,
    is_disambig,
)
from sb_rectifier.decoding.lexicon_fst import make_l
from sb_rectifier.files import (
    atomic_folder,
    iter_text_lines,
    temp_sibling,
    write_text,
)

__all__ = [
    "DictDir",
    "POSITION_SUFFIXES",
    "format_summary",
    "gen_topo",
    "prepare_lang",
    "read_dict_dir",
]

#: Word-position suffixes, in the order Kaldi lists the variants.
POSITION_SUFFIXES = ("_B", "_E", "_I", "_S")

#: Words that a lexicon may not define (Kaldi's ``validate_dict_dir.pl``).
RESERVED_WORDS = ("<eps>", "<s>", "</s>", "#0")

_BAD_PHONE = re.compile(r"^#|_[BESI]$")


def _tokens(path, number, line):
    """Splits a line on spaces and tabs; other whitespace is an error."""
    for column, char in enumerate(line, 1):
        if char.isspace() and char not in " \t":
            raise ValueError(
                f"{path}: line {number}: disallowed whitespace character "
                f"U+{ord(char):04X} at column {column} (only spaces and "
                "tabs separate fields)"
            )
    return line.split()


def _lines(path, what, allow_empty_file=False):
    """``(number, tokens)`` of each line; an empty line is an error."""
    rows = []
    for number, line in iter_text_lines(path, what):
        tokens = _tokens(path, number, line)
        if not tokens:
            raise ValueError(f"{path}: line {number}: empty line")
        rows.append((number, tokens))
    if not rows and not allow_empty_file:
        raise ValueError(f"{path}: empty file (expected the {what})")
    return rows


class DictDir:
    """A checked Kaldi dictionary folder (``data/local/dict``).

    Arguments
    ---------
    silence : list of list of str
        ``silence_phones.txt``: one list per line (phones sharing a root).
    nonsilence : list of list of str
        ``nonsilence_phones.txt``, likewise.
    optional_silence : str
        The phone of ``optional_silence.txt``.
    extra_questions : list of list of str
        ``extra_questions.txt`` (empty if absent).
    lexicon : list of tuple
        ``(word, prob_text, phones)`` per entry, in file order;
        ``prob_text`` is the probability as written (``"1.0"`` for
        ``lexicon.txt``).
    lexicon_path : str
        The lexicon file read.

    Example
    -------
    >>> d = DictDir([["SIL"]], [["a"]], "SIL", [], [("a", "1.0", ["a"])], "x")
    >>> d.phones
    ['SIL', 'a']
    """

    def __init__(
        self,
        silence,
        nonsilence,
        optional_silence,
        extra_questions,
        lexicon,
        lexicon_path,
    ):
        self.silence = silence
        self.nonsilence = nonsilence
        self.optional_silence = optional_silence
        self.extra_questions = extra_questions
        self.lexicon = lexicon
        self.lexicon_path = lexicon_path

    @property
    def phones(self):
        """The base phones: silence phones, then non-silence phones."""
        return [p for line in self.silence + self.nonsilence for p in line]

    @property
    def words(self):
        """The lexicon's words, sorted (byte order, as ``LC_ALL=C sort``)."""
        return sorted({row[0] for row in self.lexicon})


def _read_phone_lists(dict_dir):
    """``silence_phones.txt`` and ``nonsilence_phones.txt``, checked."""
    lists, where = {}, {}
    for name in ("silence_phones.txt", "nonsilence_phones.txt"):
        path = os.path.join(dict_dir, name)
        what = name[: -len(".txt")].replace("_", " ")
        lines = []
        for number, tokens in _lines(path, f"list of {what}"):
            for phone in tokens:
                if phone == EPSILON or _BAD_PHONE.search(phone):
                    raise ValueError(
                        f"{path}: line {number}: phone {phone!r} has a "
                        "disallowed form (<eps>, starting with '#' or "
                        "ending in _B, _E, _I or _S)"
                    )
                if phone in where:
                    other, other_line = where[phone]
                    if other == path:
                        raise ValueError(
                            f"{path}: line {number}: duplicate phone "
                            f"{phone!r} (already on line {other_line})"
                        )
                    raise ValueError(
                        f"{path}: line {number}: phone {phone!r} is also a "
                        f"silence phone ({other}, line {other_line}); the "
                        "silence and non-silence lists must be disjoint"
                    )
                where[phone] = (path, number)
            lines.append(tokens)
        lists[name] = lines
    return lists["silence_phones.txt"], lists["nonsilence_phones.txt"], where


def _read_optional_silence(dict_dir, silence):
    path = os.path.join(dict_dir, "optional_silence.txt")
    rows = _lines(path, "optional silence phone")
    number, tokens = rows[0]
    if len(rows) != 1 or len(tokens) != 1:
        raise ValueError(
            f"{path}: expected exactly one phone on one line, got "
            f"{sum(len(t) for _, t in rows)} on {len(rows)} line(s)"
        )
    phone = tokens[0]
    if phone not in {p for line in silence for p in line}:
        raise ValueError(
            f"{path}: line {number}: optional silence phone {phone!r} is "
            "not in silence_phones.txt"
        )
    return phone


def _read_extra_questions(dict_dir, where, nonsilence):
    path = os.path.join(dict_dir, "extra_questions.txt")
    if not os.path.exists(path):
        return []
    questions = []
    for number, tokens in _lines(path, "extra questions", True):
        for phone in tokens:
            if phone not in where:
                raise ValueError(
                    f"{path}: line {number}: phone {phone!r} is not in "
                    "silence_phones.txt or nonsilence_phones.txt"
                )
        questions.append(tokens)
    # validate_dict_dir.pl: phones that share a root (one line of
    # nonsilence_phones.txt) must be told apart by some extra question.
    for line in nonsilence:
        for i, p1 in enumerate(line):
            for p2 in line[i + 1 :]:
                if not any((p1 in q) != (p2 in q) for q in map(set, questions)):
                    line_no = where[p1][1]
                    raise ValueError(
                        f"{os.path.join(dict_dir, 'nonsilence_phones.txt')}: "
                        f"line {line_no}: phones {p1!r} and {p2!r} share a "
                        "tree root but no question of extra_questions.txt "
                        "tells them apart (they would be indistinguishable)"
                    )
    return questions


def _prob_ok(text):
    try:
        value = float(text)
    except ValueError:
        return False
    return 0.0 < value <= 1.0


def _read_lexicon_file(path, with_probs, where):
    """Lexicon entries ``(word, prob_text, phones, line)``, checked."""
    entries, seen_lines, seen_prons = [], {}, {}
    for number, tokens in _lines(path, "lexicon"):
        key = " ".join(tokens)
        if key in seen_lines:
            raise ValueError(
                f"{path}: line {number}: duplicate of line {seen_lines[key]}"
            )
        seen_lines[key] = number
        word = tokens[0]
        if word in RESERVED_WORDS or is_disambig(word):
            raise ValueError(
                f"{path}: line {number}: {word!r} is a reserved symbol and "
                "cannot be a word"
            )
        if with_probs:
            if len(tokens) < 2 or not _prob_ok(tokens[1]):
                raise ValueError(
                    f"{path}: line {number}: expected 'word prob phone ...' "
                    f"with 0 < prob <= 1, got {key!r}"
                )
            prob, phones = tokens[1], tokens[2:]
        else:
            prob, phones = "1.0", tokens[1:]
        if not phones:
            raise ValueError(
                f"{path}: line {number}: word {word!r} has no phones"
            )
        for phone in phones:
            if phone not in where:
                raise ValueError(
                    f"{path}: line {number}: phone {phone!r} of word "
                    f"{word!r} is not in silence_phones.txt or "
                    "nonsilence_phones.txt"
                )
        pron = (word, tuple(phones))
        if pron in seen_prons:
            raise ValueError(
                f"{path}: line {number}: pronunciation "
                f"{word} {' '.join(phones)} is already on line "
                f"{seen_prons[pron]}"
            )
        seen_prons[pron] = number
        entries.append((word, prob, phones, number))
    return entries


def read_dict_dir(dict_dir):
    """Reads and checks a Kaldi dictionary folder.

    The checks of Kaldi's ``validate_dict_dir.pl``: non-empty phone lists
    without empty lines, duplicates or disallowed phone names (``<eps>``,
    ``#...``, ``..._B/_E/_I/_S``); disjoint silence and non-silence
    phones; one optional silence phone, a silence phone; every lexicon
    phone in the lists; no reserved word (``<eps> <s> </s> #0``), no word
    without phones, no repeated line, probabilities in (0, 1]; phones
    sharing a root told apart by ``extra_questions.txt``. When both
    ``lexiconp.txt`` and ``lexicon.txt`` exist, ``lexiconp.txt`` is used
    (as Kaldi) and they must agree line by line.

    Arguments
    ---------
    dict_dir : str or os.PathLike
        The folder.

    Returns
    -------
    DictDir
        The checked dictionary.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the line.

    Example
    -------
    >>> d = getfixture("tmp_path")
    >>> _ = (d / "silence_phones.txt").write_text("SIL\\n")
    >>> _ = (d / "optional_silence.txt").write_text("SIL\\n")
    >>> _ = (d / "nonsilence_phones.txt").write_text("a\\nb\\n")
    >>> _ = (d / "lexicon.txt").write_text("ab a b\\nba b a\\n")
    >>> read_dict_dir(d).lexicon
    [('ab', '1.0', ['a', 'b']), ('ba', '1.0', ['b', 'a'])]
    >>> _ = (d / "lexicon.txt").write_text("ab a b\\nba b c\\n")
    >>> read_dict_dir(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../lexicon.txt: line 2: phone 'c' of word 'ba' is not in ...
    """
    dict_dir = os.fspath(dict_dir)
    if not os.path.isdir(dict_dir):
        raise FileNotFoundError(f"{dict_dir}: dictionary folder not found")
    silence, nonsilence, where = _read_phone_lists(dict_dir)
    optional = _read_optional_silence(dict_dir, silence)
    questions = _read_extra_questions(dict_dir, where, nonsilence)
    plain = os.path.join(dict_dir, "lexicon.txt")
    with_probs = os.path.join(dict_dir, "lexiconp.txt")
    if os.path.isfile(with_probs):
        entries = _read_lexicon_file(with_probs, True, where)
        path = with_probs
        if os.path.isfile(plain):
            others = _read_lexicon_file(plain, False, where)
            for (w1, _, p1, n1), (w2, _, p2, n2) in zip(
                entries, others, strict=False
            ):
                if (w1, p1) != (w2, p2):
                    raise ValueError(
                        f"{with_probs}: line {n1}: {w1} {' '.join(p1)} does "
                        f"not match {plain}: line {n2}: {w2} {' '.join(p2)}"
                    )
            if len(entries) != len(others):
                raise ValueError(
                    f"{with_probs} has {len(entries)} entries but {plain} "
                    f"has {len(others)}"
                )
    elif os.path.isfile(plain):
        entries = _read_lexicon_file(plain, False, where)
        path = plain
    else:
        raise FileNotFoundError(
            f"{plain}: lexicon not found (nor lexiconp.txt) in the "
            "dictionary folder"
        )
    lexicon = [(w, p, phones) for w, p, phones, _ in entries]
    return DictDir(silence, nonsilence, optional, questions, lexicon, path)


def gen_topo(
    nonsilence_phones, silence_phones, num_nonsil_states=3, num_sil_states=5
):
    """The HMM topology text of Kaldi's ``utils/gen_topo.pl``.

    Non-silence phones: ``num_nonsil_states`` left-to-right states, each
    with self-loop 0.75 and forward 0.25. Silence phones: with at least 3
    states, state 0 goes to states ``0 .. n-2``, states ``1 .. n-2`` go to
    states ``1 .. n-1`` (all with probability ``1/(n-1)``) and the last
    emitting state has self-loop 0.75 and exit 0.25; with 1 state, one
    state with self-loop 0.75.

    Arguments
    ---------
    nonsilence_phones : list of int
        Ids of the non-silence phones.
    silence_phones : list of int
        Ids of the silence phones.
    num_nonsil_states : int
        States of a non-silence phone, 1 to 100.
    num_sil_states : int
        States of a silence phone, 1 or 3 to 100.

    Returns
    -------
    str
        The ``topo`` file, byte for byte as ``gen_topo.pl`` prints it.

    Example
    -------
    >>> print(gen_topo([2, 3], [1], 1, 3), end="")
    <Topology>
    <TopologyEntry>
    <ForPhones>
    2 3
    </ForPhones>
    <State> 0 <PdfClass> 0 <Transition> 0 0.75 <Transition> 1 0.25 </State>
    <State> 1 </State>
    </TopologyEntry>
    <TopologyEntry>
    <ForPhones>
    1
    </ForPhones>
    <State> 0 <PdfClass> 0 <Transition> 0 0.5 <Transition> 1 0.5 </State>
    <State> 1 <PdfClass> 1 <Transition> 1 0.5 <Transition> 2 0.5 </State>
    <State> 2 <PdfClass> 2 <Transition> 2 0.75 <Transition> 3 0.25 </State>
    <State> 3 </State>
    </TopologyEntry>
    </Topology>
    """
    if not 1 <= num_nonsil_states <= 100:
        raise ValueError(
            f"gen_topo: num_nonsil_states {num_nonsil_states} not in 1..100"
        )
    if not (num_sil_states == 1 or 3 <= num_sil_states <= 100):
        raise ValueError(
            f"gen_topo: num_sil_states {num_sil_states} must be 1 or 3..100"
        )
    if not nonsilence_phones or not silence_phones:
        raise ValueError("gen_topo: needs non-silence and silence phones")
    out = ["<Topology>", "<TopologyEntry>", "<ForPhones>"]
    out.append(" ".join(str(p) for p in nonsilence_phones))
    out.append("</ForPhones>")
    for s in range(num_nonsil_states):
        out.append(
            f"<State> {s} <PdfClass> {s} <Transition> {s} 0.75 "
            f"<Transition> {s + 1} 0.25 </State>"
        )
    out += [f"<State> {num_nonsil_states} </State>", "</TopologyEntry>"]
    out += ["<TopologyEntry>", "<ForPhones>"]
    out.append(" ".join(str(p) for p in silence_phones))
    out.append("</ForPhones>")
    n = num_sil_states
    if n > 1:
        prob = f"{1.0 / (n - 1):.15g}"  # as Perl prints a number
        trans = "".join(f"<Transition> {d} {prob} " for d in range(n - 1))
        out.append(f"<State> 0 <PdfClass> 0 {trans}</State>")
        trans = "".join(f"<Transition> {d} {prob} " for d in range(1, n))
        for s in range(1, n - 1):
            out.append(f"<State> {s} <PdfClass> {s} {trans}</State>")
        out.append(
            f"<State> {n - 1} <PdfClass> {n - 1} <Transition> {n - 1} 0.75 "
            f"<Transition> {n} 0.25 </State>"
        )
    else:
        out.append(
            "<State> 0 <PdfClass> 0 <Transition> 0 0.75 "
            "<Transition> 1 0.25 </State>"
        )
    out += [f"<State> {n} </State>", "</TopologyEntry>", "</Topology>"]
    return "\n".join(out) + "\n"


def _position_map(dictionary, position_dependent):
    """Base phone -> its variants (Kaldi's ``phone_map.txt``)."""
    if not position_dependent:
        return {p: [p] for p in dictionary.phones}
    mapping = {}
    for line in dictionary.silence:
        for p in line:
            mapping[p] = [p] + [p + s for s in POSITION_SUFFIXES]
    for line in dictionary.nonsilence:
        for p in line:
            mapping[p] = [p + s for s in POSITION_SUFFIXES]
    return mapping


def _position_pron(phones):
    """``_B ... _I ... _E`` markers, or ``_S`` for a one-phone word."""
    if len(phones) == 1:
        return [phones[0] + "_S"]
    middle = [p + "_I" for p in phones[1:-1]]
    return [phones[0] + "_B"] + middle + [phones[-1] + "_E"]


def _word_boundary(phone):
    for suffix, kind in (
        ("_I", "internal"),
        ("_B", "begin"),
        ("_S", "singleton"),
        ("_E", "end"),
    ):
        if phone.endswith(suffix):
            return kind
    return "nonword"


def _check_settings(oov_word, sil_prob, num_sil_states, num_nonsil_states):
    if not 0.0 <= sil_prob < 1.0:
        raise ValueError(f"prepare_lang: sil_prob {sil_prob} not in [0, 1)")
    if not 1 <= num_nonsil_states <= 100:
        raise ValueError(
            f"prepare_lang: num_nonsil_states {num_nonsil_states} not in 1..100"
        )
    if not (num_sil_states == 1 or 3 <= num_sil_states <= 100):
        raise ValueError(
            f"prepare_lang: num_sil_states {num_sil_states} must be 1 or 3..100"
        )
    if not oov_word or oov_word.split() != [oov_word]:
        raise ValueError(f"prepare_lang: bad OOV word {oov_word!r}")


def _write_files(folder, files):
    """Writes ``{relative path: text or FST}`` under ``folder``."""
    os.makedirs(os.path.join(folder, "phones"), exist_ok=True)
    for name, content in files.items():
        path = os.path.join(folder, name)
        if isinstance(content, str):
            write_text(path, content)
        else:
            write_graph(content, path)


def _lines_text(rows):
    return "".join(" ".join(str(x) for x in row) + "\n" for row in rows)


def _build(
    dictionary,
    oov_word,
    position_dependent,
    sil_prob,
    sil_states,
    nonsil_states,
):
    """The lang folder's files ``{relative path: str or FST}`` and summary."""
    mapping = _position_map(dictionary, position_dependent)

    def mapped(line):
        return [v for p in line for v in mapping[p]]

    silence = [v for line in dictionary.silence for v in mapped(line)]
    nonsilence = [v for line in dictionary.nonsilence for v in mapped(line)]
    sets = [mapped(line) for line in dictionary.silence + dictionary.nonsilence]
    questions = [mapped(q) for q in dictionary.extra_questions]
    if position_dependent:
        base_nonsil = [p for line in dictionary.nonsilence for p in line]
        base_sil = [p for line in dictionary.silence for p in line]
        for suffix in POSITION_SUFFIXES:
            questions.append([p + suffix for p in base_nonsil])
        for suffix in ("",) + POSITION_SUFFIXES:
            questions.append([p + suffix for p in base_sil])
    lexicon = [
        (w, prob, _position_pron(ph) if position_dependent else list(ph))
        for w, prob, ph in dictionary.lexicon
    ]
    rows = [(w, ph, float(prob)) for w, prob, ph in lexicon]
    disambig_rows, max_disambig = add_lex_disambig(rows)
    num_disambig = max_disambig + 2  # #0 ... #(max + 1), as Kaldi
    disambig = disambig_names(num_disambig)
    phone_list = [EPSILON] + silence + nonsilence + disambig
    phone_ids = {p: i for i, p in enumerate(phone_list)}
    words = dictionary.words
    if oov_word not in set(words):
        raise ValueError(
            f"{dictionary.lexicon_path}: the OOV word {oov_word!r} has no "
            f"entry (add e.g. '{oov_word} SPN' with a silence phone SPN)"
        )
    word_list = [EPSILON] + words + ["#0", "<s>", "</s>"]
    word_ids = {w: i for i, w in enumerate(word_list)}
    optional = dictionary.optional_silence

    def ints(symbols):
        return [phone_ids[p] for p in symbols]

    files = {
        "phones.txt": _lines_text((p, i) for i, p in enumerate(phone_list)),
        "words.txt": _lines_text((w, i) for i, w in enumerate(word_list)),
        "oov.txt": f"{oov_word}\n",
        "oov.int": f"{word_ids[oov_word]}\n",
        "lexiconp.txt": _lines_text((w, p, *ph) for w, p, ph in lexicon),
    }
    lists = {
        "silence": silence,
        "nonsilence": nonsilence,
        "optional_silence": [optional],
        "disambig": disambig,
        "context_indep": silence,
    }
    for name, symbols in lists.items():
        files[f"phones/{name}.txt"] = _lines_text([p] for p in symbols)
        files[f"phones/{name}.int"] = _lines_text([i] for i in ints(symbols))
        files[f"phones/{name}.csl"] = ":".join(map(str, ints(symbols))) + "\n"
    for name, table in (("sets", sets), ("extra_questions", questions)):
        files[f"phones/{name}.txt"] = _lines_text(table)
        files[f"phones/{name}.int"] = _lines_text(ints(s) for s in table)
    files["phones/roots.txt"] = _lines_text(
        ["shared", "split", *s] for s in sets
    )
    files["phones/roots.int"] = _lines_text(
        ["shared", "split", *ints(s)] for s in sets
    )
    if position_dependent:
        boundary = [(p, _word_boundary(p)) for p in silence + nonsilence]
        files["phones/word_boundary.txt"] = _lines_text(boundary)
        files["phones/word_boundary.int"] = _lines_text(
            (phone_ids[p], kind) for p, kind in boundary
        )
    align = sorted(
        {" ".join([w, w, *ph]) for w, _, ph in lexicon}
        | {f"{EPSILON} {EPSILON} {optional}"}
    )
    files["phones/align_lexicon.txt"] = "".join(f"{a}\n" for a in align)
    align_int = []
    for line in align:
        w, _, *ph = line.split()
        align_int.append([word_ids[w], word_ids[w], *ints(ph)])
    files["phones/align_lexicon.int"] = _lines_text(align_int)
    files["phones/wdisambig.txt"] = "#0\n"
    files["phones/wdisambig_phones.int"] = f"{phone_ids['#0']}\n"
    files["phones/wdisambig_words.int"] = f"{word_ids['#0']}\n"
    files["topo"] = gen_topo(
        ints(nonsilence), ints(silence), nonsil_states, sil_states
    )
    L = make_l(rows, phone_ids, word_ids, optional, sil_prob, disambig=False)
    L_disambig = make_l(rows, phone_ids, word_ids, optional, sil_prob)
    kf.arcsort(L, sort_type="olabel")
    kf.arcsort(L_disambig, sort_type="olabel")
    files["L.fst"] = L
    files["L_disambig.fst"] = L_disambig
    summary = {
        "num_base_phones": len(dictionary.phones),
        "num_phones": len(silence) + len(nonsilence),
        "num_silence_phones": len(silence),
        "num_nonsilence_phones": len(nonsilence),
        "num_disambig": num_disambig,
        "num_words": len(words),
        "num_lexicon_entries": len(lexicon),
        "num_disambiguated_prons": sum(
            1 for row in disambig_rows if is_disambig(row[1][-1])
        ),
        "oov_word": oov_word,
        "oov_id": word_ids[oov_word],
        "optional_silence": optional,
        "L_size": list(graph_size(L)),
        "L_disambig_size": list(graph_size(L_disambig)),
    }
    return files, summary


def _differences(built, existing, names):
    """Relative paths whose content differs (or is missing) in ``existing``."""
    differ = []
    for name in names:
        theirs = os.path.join(existing, name)
        if not os.path.isfile(theirs) or not filecmp.cmp(
            os.path.join(built, name), theirs, shallow=False
        ):
            differ.append(name)
    return differ


def prepare_lang(
    dict_dir,
    lang_dir,
    oov_word="<UNK>",
    position_dependent_phones=True,
    sil_prob=0.5,
    num_sil_states=5,
    num_nonsil_states=3,
):
    """Makes a Kaldi lang folder from a dictionary folder (``prepare_lang.sh``).

    See the module documentation for the files. The dictionary is read and
    checked first (:func:`read_dict_dir`); nothing is written if it has an
    error. The folder is built under a temporary name next to
    ``lang_dir`` and renamed into place. If ``lang_dir`` exists and is not
    empty, it is kept when it already holds exactly the files this call
    makes (``reused`` in the summary; other files in it, such as a
    ``G.fst``, are left alone) and refused otherwise.

    Arguments
    ---------
    dict_dir : str or os.PathLike
        The dictionary folder.
    lang_dir : str or os.PathLike
        The lang folder to make.
    oov_word : str
        The word that out-of-vocabulary words map to; it needs a lexicon
        entry (``oov.txt``, ``oov.int``).
    position_dependent_phones : bool
        Word-position variants ``_B _E _I _S`` of every phone.
    sil_prob : float
        Probability of optional silence between words in L, in [0, 1).
    num_sil_states : int
        HMM states of a silence phone (``topo``): 1 or 3 to 100.
    num_nonsil_states : int
        HMM states of a non-silence phone: 1 to 100.

    Returns
    -------
    dict
        Summary: ``lang_dir``, ``reused``, the numbers of base phones,
        phones (with variants; silence, non-silence), disambiguation
        symbols (``#0`` included), words, lexicon entries and entries
        given a ``#k``, the OOV word and its id, the optional silence
        phone, the sizes ``[states, arcs]`` of L and L_disambig and the
        settings.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing or bad dictionary file (naming the file and the line), a
        bad setting.
    FileExistsError
        ``lang_dir`` holds a different lang folder (naming the files that
        differ).

    Example
    -------
    >>> root = getfixture("tmp_path")
    >>> d = root / "dict"
    >>> d.mkdir()
    >>> _ = (d / "silence_phones.txt").write_text("SIL\\nSPN\\n")
    >>> _ = (d / "optional_silence.txt").write_text("SIL\\n")
    >>> _ = (d / "nonsilence_phones.txt").write_text("n\\noU\\n")
    >>> _ = (d / "lexicon.txt").write_text("<UNK> SPN\\nno n oU\\nknow n oU\\n")
    >>> summary = prepare_lang(d, root / "lang")
    >>> summary["num_phones"], summary["num_words"], summary["num_disambig"]
    (18, 3, 4)
    >>> print((root / "lang" / "words.txt").read_text(), end="")
    <eps> 0
    <UNK> 1
    know 2
    no 3
    #0 4
    <s> 5
    </s> 6
    >>> prepare_lang(d, root / "lang")["reused"]
    True
    """
    _check_settings(oov_word, sil_prob, num_sil_states, num_nonsil_states)
    lang_dir = os.path.abspath(os.fspath(lang_dir))
    dictionary = read_dict_dir(dict_dir)
    files, summary = _build(
        dictionary,
        oov_word,
        bool(position_dependent_phones),
        float(sil_prob),
        int(num_sil_states),
        int(num_nonsil_states),
    )
    summary = {
        "lang_dir": lang_dir,
        "reused": False,
        **summary,
        "position_dependent_phones": bool(position_dependent_phones),
        "sil_prob": float(sil_prob),
        "num_sil_states": int(num_sil_states),
        "num_nonsil_states": int(num_nonsil_states),
    }
    exists = os.path.exists(lang_dir)
    if exists and not (os.path.isdir(lang_dir) and os.listdir(lang_dir)):
        if not os.path.isdir(lang_dir):
            raise FileExistsError(f"{lang_dir}: exists and is not a folder")
        exists = False
    if not exists:
        with atomic_folder(lang_dir) as tmp:
            _write_files(tmp, files)
        return summary
    tmp = temp_sibling(lang_dir)
    try:
        os.mkdir(tmp)
        _write_files(tmp, files)
        differ = _differences(tmp, lang_dir, sorted(files))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if differ:
        more = f" and {len(differ) - 6} more" if len(differ) > 6 else ""
        raise FileExistsError(
            f"{lang_dir}: already exists and was made from another "
            f"dictionary or with other settings ({', '.join(differ[:6])}"
            f"{more} differ); remove it or choose another folder"
        )
    summary["reused"] = True
    return summary


def format_summary(summary):
    """The summary of :func:`prepare_lang` as a few lines of text.

    Arguments
    ---------
    summary : dict
        What :func:`prepare_lang` returned.

    Returns
    -------
    str
        The text, newline-terminated.

    Example
    -------
    >>> s = {"lang_dir": "data/lang", "reused": True, "num_base_phones": 3,
    ...      "num_phones": 13, "num_silence_phones": 5,
    ...      "num_nonsilence_phones": 8, "num_disambig": 3, "num_words": 2,
    ...      "num_lexicon_entries": 2, "num_disambiguated_prons": 2,
    ...      "oov_word": "<UNK>", "oov_id": 1, "optional_silence": "SIL",
    ...      "L_size": [7, 9], "L_disambig_size": [9, 13],
    ...      "position_dependent_phones": True, "sil_prob": 0.5,
    ...      "num_sil_states": 5, "num_nonsil_states": 3}  # fmt: skip
    >>> print(format_summary(s).splitlines()[0])
    data/lang: unchanged (already made from this dictionary and settings)
    """
    s = summary
    state = (
        "unchanged (already made from this dictionary and settings)"
        if s["reused"]
        else "written"
    )
    return (
        f"{s['lang_dir']}: {state}\n"
        f"phones: {s['num_phones']} ({s['num_silence_phones']} silence, "
        f"{s['num_nonsilence_phones']} non-silence; {s['num_base_phones']} "
        f"base phones, position-dependent "
        f"{str(s['position_dependent_phones']).lower()}), "
        f"{s['num_disambig']} disambiguation symbols\n"
        f"words: {s['num_words']}, lexicon entries: "
        f"{s['num_lexicon_entries']} ({s['num_disambiguated_prons']} with "
        f"a disambiguation symbol), OOV word {s['oov_word']} "
        f"(id {s['oov_id']})\n"
        f"L.fst: {s['L_size'][0]} states, {s['L_size'][1]} arcs; "
        f"L_disambig.fst: {s['L_disambig_size'][0]} states, "
        f"{s['L_disambig_size'][1]} arcs; optional silence "
        f"{s['optional_silence']} with probability {s['sil_prob']:g}\n"
        f"topo: {s['num_nonsil_states']} states per non-silence phone, "
        f"{s['num_sil_states']} per silence phone\n"
    )
