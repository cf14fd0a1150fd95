"""Hub5 GLM (global mapping file) rules and hesitation filtering.

NIST scores Switchboard / CallHome (Hub5'00) with ``hubscr.pl``, which runs
``csrfilt.sh`` with a GLM such as ``en20000405_hub5.glm`` over both the
reference (STM) and the hypothesis (CTM) before ``sclite`` aligns them.
Kaldi's ``egs/swbd/s5c/local/score_sclite.sh`` additionally removes from
the hypothesis everything the reference marks as optionally deletable.
This module reproduces the word-level part of that pipeline for Kaldi
``text`` files, so that :func:`sb_rectifier.scoring.wer.score` can report a
WER comparable to (but not identical with) the published Hub5'00 numbers.

GLM file format read by :meth:`Glm.read`
----------------------------------------
* ``;;`` starts a comment (anywhere on a line); blank lines are skipped.
* ``* name "..."``, ``* case_sensitive = 'F'``... : header lines, kept in
  :attr:`Glm.header` and otherwise ignored.
* ``;; INPUT_DEPENDENT_APPLICATION = "ctm"``: the rules that follow apply
  only to the inputs whose format (``stm`` for the reference, ``ctm`` for
  the hypothesis) matches the regular expression; this is how the NIST GLMs
  apply contraction expansions to the system output only.
* Rules ``LHS => RHS`` or ``LHS => RHS / LEFT __ RIGHT``; each of the four
  fields may be bounded by ``[...]`` or ``'...'``.

Implemented (word level)
------------------------
* Word and phrase mappings: ``I'M => I AM``, ``DOWN SYNDROME => DOWN'S
  SYNDROME`` (multi-word left-hand sides are matched on consecutive words).
* Alternations ``{ A / B C / @ }`` in the right-hand side, also within a
  phrase (``X => THE {A / B}``). An alternation becomes a *slot*: when the
  reference and the hypothesis are aligned, every slot (on either side)
  takes the alternative that gives the fewest errors, so a hypothesis word
  matching any alternative counts as correct. Exhaustive over all
  combinations when an utterance has at most 256 of them, otherwise a local
  optimum found by coordinate descent (see
  :func:`sb_rectifier.scoring.wer.resolve_alternatives`).
* ``@`` (the empty word): ``X => @`` deletes ``X``.
* Left/right contexts made of whole words (``FALKNER => FAULKNER /
  [WILLIAM ] __``); ``[ ]`` (a word boundary) is no constraint.
* Rules are applied in one left-to-right pass, the first rule of the file
  that matches at a word wins and its output is not rewritten again, as
  ``rfilter1`` does.
* Matching is case-insensitive: every word is upper-cased first (Hub5
  references are upper case, our hypotheses may be lower case).

Filtering (Kaldi s5c ``score_sclite.sh`` + hubscr)
--------------------------------------------------
Applied by :func:`normalize`, i.e. whenever a :class:`Glm` (even an empty
``Glm()``) is given to the scorer:

* Words mapped to ``%HESITATION`` (``UH => %HESITATION``) and the word
  ``%HESITATION`` itself are removed from reference *and* hypothesis.
  Hub5'00 references write hesitations in parentheses, ``(%HESITATION)``,
  which makes them optionally deletable, and Kaldi deletes hesitations
  from the hypothesis, so a hesitation never changes the error count;
  removing them on both sides gives the same errors. It gives fewer
  reference words than sclite, which counts an optional reference word
  the hypothesis omits as a correct word, and it forgives a *bare*
  reference hesitation that sclite requires (docs/decoding.md, "Agreement
  with NIST's sclite").
* Hypothesis only, as ``score_sclite.sh``: ``UH UM EH MM HM AH HUH HA ER
  OOF HEE ACH EEE EW`` (:data:`KALDI_HYP_HESITATIONS`) and partial words
  ending in ``-``.
* Both sides: non-speech tokens written ``[...]`` or ``<...>``
  (``[noise]``, ``[laughter]``, ``[vocalized-noise]``, ``<unk>``).
* Reference only: a word written in parentheses, ``(WORD)`` or
  ``(FRAG-)``, is optionally deletable (a slot with the alternatives
  ``WORD`` and nothing), as in hubscr.

Not implemented (so the result is an approximation of hubscr)
-------------------------------------------------------------
* ``rfilter1`` rewrites *character strings*: a rule without ``[ ] __ [ ]``
  context also rewrites inside words (``FUNDRAIS => FUND RAIS`` turns
  ``FUNDRAISING`` into ``FUND RAISING``). Here every rule matches whole
  words only, and contexts made of partial words are treated as word
  boundaries.
* No time information: sclite aligns CTM words to STM segments by time;
  we align Kaldi ``text`` utterances by id.
* sclite's alignment costs (ins/del 3, sub 4) and its handling of
  alternations inside the dynamic programme: we choose alternatives first,
  then count errors with Kaldi's Levenshtein distance (all costs 1), so
  the split into ins/del/sub, and occasionally the total, can differ from
  sclite's.
* Kaldi's acronym mapping (``map_acronyms_ctm.py``), multi-word optional
  groups ``(YOU KNOW)`` spread over several tokens, nested alternations,
  ``case_sensitive = 'T'`` (matching is always case-insensitive), and
  rules that rewrite white space only (``[  ] => [ ]``), which are skipped.

Authors
 * sb_rectifier developers 2026
"""

import re
from dataclasses import dataclass

HESITATION = "%HESITATION"

# egs/swbd/s5c/local/score_sclite.sh removes these from the hypothesis.
KALDI_HYP_HESITATIONS = frozenset(
    "UH UM EH MM HM AH HUH HA ER OOF HEE ACH EEE EW".split()
)

_FORMAT_OF_SIDE = {"ref": "stm", "hyp": "ctm"}
_INPUT_DEPENDENT = re.compile(
    r"INPUT_DEPENDENT_APPLICATION\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE
)
_HEADER = re.compile(r"^\*\s*([^\s=:]+)\s*[=:]?\s*([\"'])(.*)\2\s*$")
_RHS_TOKEN = re.compile(r"[{}/]|[^\s{}/]+")


def is_non_speech(word):
    """Whether a token is a non-speech marker (``[noise]``, ``<unk>``...).

    Arguments
    ---------
    word : str
        One token of a transcript.

    Returns
    -------
    bool
        True for tokens written ``[...]`` or ``<...>``.

    Example
    -------
    >>> [is_non_speech(w) for w in ["[laughter]", "<unk>", "yes", "[x"]]
    [True, True, False, False]
    """
    return len(word) >= 2 and (
        (word[0] == "[" and word[-1] == "]")
        or (word[0] == "<" and word[-1] == ">")
    )


@dataclass(frozen=True)
class GlmRule:
    """One rule ``LHS => RHS / LEFT __ RIGHT`` of a GLM file.

    Arguments
    ---------
    lhs : tuple of str
        The (upper-case) words the rule rewrites.
    rhs : tuple of tuple of tuple of str
        What they become, as slots: each slot is a tuple of alternatives,
        each alternative a tuple of words (empty: nothing). A plain word
        ``W`` is the slot ``(("W",),)``.
    left, right : tuple of str
        Words that must precede / follow the left-hand side (empty: any).
    sides : frozenset of str
        ``"ref"`` and/or ``"hyp"``: the transcripts the rule applies to.
    line : int
        Line number in the GLM file (for messages).

    Example
    -------
    >>> rule = GlmRule(lhs=("I'M",), rhs=((("I",),), (("AM",),)))
    >>> rule.lhs, len(rule.rhs), sorted(rule.sides)
    (("I'M",), 2, ['hyp', 'ref'])
    """

    lhs: tuple
    rhs: tuple
    left: tuple = ()
    right: tuple = ()
    sides: frozenset = frozenset(("ref", "hyp"))
    line: int = 0


def _unbracket(text):
    text = text.strip()
    if len(text) >= 2 and (
        (text[0] == "[" and text[-1] == "]")
        or (text[0] == "'" and text[-1] == "'")
    ):
        text = text[1:-1]
    return text


def _split_context(rest):
    """Splits ``RHS / LEFT __ RIGHT`` at the first ``/`` outside braces."""
    depth = 0
    for i, char in enumerate(rest):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "/" and depth == 0:
            return rest[:i], rest[i + 1 :]
    return rest, None


def _word_slot(word):
    """The slot of one right-hand-side word (``@``: none; ``(W)``: optional)."""
    if word == "@":
        return None
    if len(word) > 2 and word[0] == "(" and word[-1] == ")":
        return ((word[1:-1],), ())
    return ((word,),)


def _parse_rhs(text, where):
    slots = []
    tokens = _RHS_TOKEN.findall(_unbracket(text).upper())
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "{":
            alternatives, current = [], []
            i += 1
            while i < len(tokens) and tokens[i] != "}":
                if tokens[i] == "{":
                    raise ValueError(f"{where}: nested alternations")
                if tokens[i] == "/":
                    alternatives.append(tuple(current))
                    current = []
                elif tokens[i] != "@":
                    current.append(tokens[i])
                i += 1
            if i == len(tokens):
                raise ValueError(f"{where}: '{{' without '}}'")
            alternatives.append(tuple(current))
            slots.append(tuple(dict.fromkeys(alternatives)))
        elif token in ("}", "/"):
            raise ValueError(f"{where}: unexpected '{token}'")
        else:
            slot = _word_slot(token)
            if slot is not None:
                slots.append(slot)
        i += 1
    return tuple(slots)


class Glm:
    """A set of GLM rules (see the module docstring for the format).

    Arguments
    ---------
    rules : iterable of GlmRule
        In file order (the first rule that matches wins).
    header : dict, optional
        The ``* key "value"`` lines of the file (keys lower case).
    source : str, optional
        Where the rules come from (for messages).

    Example
    -------
    >>> glm = Glm.parse('''
    ... ;; a tiny GLM
    ... * name "tiny.glm"
    ... I'M    => I AM           / [ ] __ [ ]
    ... UH     => %HESITATION    / [ ] __ [ ]
    ... OK     => { OK / OKAY }  / [ ] __ [ ]
    ... ''')
    >>> len(glm), glm.header["name"]
    (3, 'tiny.glm')
    >>> glm.rewrite(["I'M", "OK"], "ref")
    [(('I',),), (('AM',),), (('OK',), ('OKAY',))]
    """

    def __init__(self, rules=(), header=None, source=None):
        self.rules = list(rules)
        self.header = dict(header or {})
        self.source = source
        self._index = {}
        for rule in self.rules:
            self._index.setdefault(rule.lhs[0], []).append(rule)

    def __len__(self):
        return len(self.rules)

    def __repr__(self):
        return f"Glm({len(self.rules)} rules, source={self.source!r})"

    @classmethod
    def parse(cls, text, source="<string>"):
        """Reads rules from the text of a GLM file.

        Arguments
        ---------
        text : str
            The file contents.
        source : str
            Name used in error messages.

        Returns
        -------
        Glm
            The rules, in file order.

        Example
        -------
        >>> glm = Glm.parse("[I'D] => [{I HAD / I WOULD}] / [ ] __ [ ]")
        >>> glm.rules[0].rhs
        ((('I', 'HAD'), ('I', 'WOULD')),)
        """
        rules, header = [], {}
        sides = frozenset(("ref", "hyp"))
        for lineno, raw in enumerate(text.splitlines(), start=1):
            where = f"{source}:{lineno}"
            stripped = raw.strip()
            if stripped.startswith(";;"):
                match = _INPUT_DEPENDENT.search(stripped)
                if match:
                    pattern = re.compile(match.group(1), re.IGNORECASE)
                    sides = frozenset(
                        side
                        for side, fmt in _FORMAT_OF_SIDE.items()
                        if pattern.search(fmt)
                    )
                continue
            if stripped.startswith("*"):
                match = _HEADER.match(stripped)
                if match:
                    header[match.group(1).lower()] = match.group(3)
                continue
            line = stripped.split(";;", 1)[0].strip()
            if not line:
                continue
            if "=>" not in line:
                raise ValueError(f"{where}: not a GLM rule: {raw.strip()!r}")
            lhs_text, rest = line.split("=>", 1)
            lhs = tuple(_unbracket(lhs_text).upper().split())
            if not lhs:
                # A rewrite of white space ("[  ] => [ ]"): no word to map.
                continue
            rhs_text, context = _split_context(rest)
            left = right = ()
            if context is not None:
                if "__" not in context:
                    raise ValueError(f"{where}: context without '__'")
                left_text, right_text = context.split("__", 1)
                left = tuple(_unbracket(left_text).upper().split())
                right = tuple(_unbracket(right_text).upper().split())
            rules.append(
                GlmRule(
                    lhs=lhs,
                    rhs=_parse_rhs(rhs_text, where),
                    left=left,
                    right=right,
                    sides=sides,
                    line=lineno,
                )
            )
        return cls(rules, header=header, source=source)

    @classmethod
    def read(cls, path):
        """Reads a GLM file such as ``en20000405_hub5.glm``.

        Arguments
        ---------
        path : str
            The GLM file (UTF-8).

        Returns
        -------
        Glm
            Its rules.

        Raises
        ------
        ValueError
            Naming the file and the line: a malformed rule, or bytes that
            are not UTF-8.
        FileNotFoundError
            When the file does not exist.

        Example
        -------
        >>> tmp = getfixture("tmp_path")
        >>> _ = (tmp / "x.glm").write_text("UM => %HESITATION / [ ] __ [ ]\\n")
        >>> Glm.read(tmp / "x.glm").rules[0].lhs
        ('UM',)
        """
        from sb_rectifier.files import iter_text_lines

        lines = [line for _, line in iter_text_lines(path, "GLM file")]
        return cls.parse("\n".join(lines), source=str(path))

    def _matches(self, rule, words, i):
        n = len(rule.lhs)
        if tuple(words[i : i + n]) != rule.lhs:
            return False
        if rule.left and (
            i < len(rule.left)
            or tuple(words[i - len(rule.left) : i]) != rule.left
        ):
            return False
        return not rule.right or (
            tuple(words[i + n : i + n + len(rule.right)]) == rule.right
        )

    def rewrite(self, words, side):
        """Applies the rules to upper-case words, in one left-to-right pass.

        Arguments
        ---------
        words : list of str
            Upper-case words.
        side : str
            ``"ref"`` or ``"hyp"`` (selects input-dependent rules).

        Returns
        -------
        list of tuple
            Slots: tuples of alternatives, each a tuple of words.

        Example
        -------
        >>> glm = Glm.parse("FALKNER => FAULKNER / [WILLIAM ] __")
        >>> glm.rewrite(["WILLIAM", "FALKNER", "FALKNER"], "hyp")
        [(('WILLIAM',),), (('FAULKNER',),), (('FALKNER',),)]
        """
        out, i = [], 0
        while i < len(words):
            for rule in self._index.get(words[i], ()):
                if side in rule.sides and self._matches(rule, words, i):
                    out.extend(rule.rhs)
                    i += len(rule.lhs)
                    break
            else:
                out.append(((words[i],),))
                i += 1
        return out


def _join_slots(slots):
    """All the word sequences a list of slots can produce, in order."""
    sequences = [()]
    for slot in slots:
        sequences = [seq + alt for seq in sequences for alt in slot]
    return tuple(dict.fromkeys(sequences))


def _drop_hesitations(slots):
    out = []
    for slot in slots:
        alternatives = tuple(
            dict.fromkeys(
                tuple(word for word in alt if word != HESITATION)
                for alt in slot
            )
        )
        if any(alternatives):
            out.append(alternatives)
    return out


def normalize(words, glm, side):
    """Upper-cases, filters and GLM-maps one transcript (see module doc).

    Arguments
    ---------
    words : list of str
        The transcript, as read from a Kaldi ``text`` file.
    glm : Glm
        The mapping rules (an empty ``Glm()`` only filters).
    side : str
        ``"ref"`` or ``"hyp"``.

    Returns
    -------
    list of tuple
        Slots: tuples of alternatives, each a tuple of words; a slot with
        one alternative of one word is a plain word.

    Example
    -------
    >>> glm = Glm.parse("UH => %HESITATION\\nOK => { OK / OKAY }")
    >>> normalize(["uh", "ok", "[noise]", "th-"], glm, "hyp")
    [(('OK',), ('OKAY',))]
    >>> normalize(["(UH)", "(YEAH)", "OK"], glm, "ref")
    [(('YEAH',), ()), (('OK',), ('OKAY',))]
    """
    if side not in _FORMAT_OF_SIDE:
        raise ValueError(f"side must be 'ref' or 'hyp', got {side!r}")
    slots, plain = [], []
    for word in words:
        word = word.upper()
        if is_non_speech(word):
            continue
        if side == "hyp" and (
            word in KALDI_HYP_HESITATIONS or word.endswith("-")
        ):
            continue
        if (
            side == "ref"
            and len(word) > 2
            and word[0] == "("
            and word[-1] == ")"
        ):
            slots.extend(glm.rewrite(plain, side))
            plain = []
            inner = word[1:-1]
            if is_non_speech(inner):
                continue
            alternatives = _join_slots(glm.rewrite([inner], side))
            slots.append(tuple(dict.fromkeys(alternatives + ((),))))
            continue
        plain.append(word)
    slots.extend(glm.rewrite(plain, side))
    return _drop_hesitations(slots)
