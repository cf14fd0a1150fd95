"""Reading a corpus grammar file (the format of ``grammar.txt``).

One job: the text of a grammar file, checked, to word classes and
template entries (:func:`read_grammar_file`, which describes the format),
every error naming the file and the line.

The entries become :class:`~sb_rectifier.corpus.grammar.Template` objects
in :func:`sb_rectifier.corpus.grammar.read_grammar`, which reads the
embedded grammar (:data:`GRAMMAR_FILE`) once; the items' language is
:mod:`sb_rectifier.corpus.automaton`.

Authors
 * sb_rectifier developers 2026
"""

import importlib.resources
import os
import re
from typing import NamedTuple

from sb_rectifier.corpus.automaton import parse_item
from sb_rectifier.files import iter_text_lines

__all__ = ["GRAMMAR_FILE", "KINDS", "TemplateEntry", "read_grammar_file"]

#: The embedded grammar's data file: word classes and templates.
GRAMMAR_FILE = str(
    importlib.resources.files("sb_rectifier.corpus").joinpath("grammar.txt")
)

#: The template kinds (the ``KIND`` of a template entry).
KINDS = ("digits", "command", "phrase")

_WORD_RE = re.compile(r"[a-z]+")
_NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")


class TemplateEntry(NamedTuple):
    """A checked ``template NAME WEIGHT KIND: ITEM ...`` entry.

    Arguments
    ---------
    name : str
        The template's name.
    items : tuple of str
        Its items (each one parses with
        :func:`~sb_rectifier.corpus.automaton.parse_item`).
    weight : float
        Its sampling weight (positive, finite).
    kind : str
        One of :data:`KINDS`.

    Example
    -------
    >>> TemplateEntry("call", ("call", "<name>"), 2.0, "command").weight
    2.0
    """

    name: str
    items: tuple
    weight: float
    kind: str


def _grammar_entries(path):
    """``(line_number, text)`` of each entry, continuation lines joined."""
    entries = []
    for number, line in iter_text_lines(path, "grammar file"):
        text = line.split("#", 1)[0]
        if not text.strip():
            continue
        if text[0].isspace():
            if not entries:
                raise ValueError(
                    f"{path}: line {number}: a continuation line (it "
                    "starts with white space) with no entry above it"
                )
            entries[-1][1] += " " + text.strip()
        else:
            entries.append([number, text.strip()])
    return entries


def _word_class(where, fields, words, classes):
    """Checks a ``class NAME: WORD ...`` entry; returns (name, words)."""
    if len(fields) != 1 or not _NAME_RE.fullmatch(fields[0]):
        raise ValueError(f"{where}: expected 'class NAME: WORD WORD ...'")
    name = fields[0]
    if name in classes:
        raise ValueError(f"{where}: class {name!r} is defined twice")
    if not words:
        raise ValueError(f"{where}: class {name!r} has no words")
    for word in words:
        if not _WORD_RE.fullmatch(word):
            raise ValueError(
                f"{where}: class {name!r}: bad word {word!r} (lowercase "
                "ASCII letters only)"
            )
    repeated = sorted({w for w in words if words.count(w) > 1})
    if repeated:
        raise ValueError(f"{where}: class {name!r} lists {repeated} twice")
    return name, tuple(words)


def _template(where, fields, items, classes):
    """Checks a ``template NAME WEIGHT KIND: ITEM ...`` entry."""
    if len(fields) != 3 or not _NAME_RE.fullmatch(fields[0]):
        raise ValueError(
            f"{where}: expected 'template NAME WEIGHT KIND: ITEM ITEM ...'"
        )
    name, weight, kind = fields
    try:
        weight = float(weight)
    except ValueError:
        weight = float("nan")
    if not 0.0 < weight < float("inf"):
        raise ValueError(
            f"{where}: template {name!r}: weight {fields[1]!r} is not a "
            "positive number"
        )
    if kind not in KINDS:
        raise ValueError(
            f"{where}: template {name!r}: kind {kind!r} is not one of "
            f"{', '.join(KINDS)}"
        )
    if not items:
        raise ValueError(f"{where}: template {name!r} has no items")
    for item in items:
        try:
            parsed = parse_item(item)
        except ValueError as err:
            raise ValueError(f"{where}: template {name!r}: {err}") from None
        if parsed.is_class and parsed.symbol not in classes:
            raise ValueError(
                f"{where}: template {name!r} uses the class "
                f"<{parsed.symbol}>, which is not defined above it"
            )
    return TemplateEntry(name, tuple(items), weight, kind)


def read_grammar_file(path):
    """Reads a grammar file (the format of :data:`GRAMMAR_FILE`).

    One entry per line (a line that starts with white space continues the
    entry above; ``#`` starts a comment)::

        class NAME: WORD WORD ...
        template NAME WEIGHT KIND: ITEM ITEM ...

    Classes must be defined before the templates that use them.

    Arguments
    ---------
    path : str or os.PathLike
        The file.

    Returns
    -------
    word_classes : dict
        Class name -> tuple of words, in file order.
    templates : tuple of TemplateEntry
        The template entries, in file order.

    Raises
    ------
    ValueError
        Naming the file and the line: a malformed entry, a bad word, item,
        weight or kind, an unknown class, a name defined twice.

    Example
    -------
    >>> path = getfixture("tmp_path") / "grammar.txt"
    >>> _ = path.write_text(
    ...     "class name: bob emma  # two\\n"
    ...     "template call 2 command: please? call\\n    <name>\\n"
    ... )
    >>> classes, templates = read_grammar_file(path)
    >>> classes
    {'name': ('bob', 'emma')}
    >>> name, items, weight, kind = templates[0]
    >>> name, items, weight, kind
    ('call', ('please?', 'call', '<name>'), 2.0, 'command')
    >>> _ = path.write_text("class name: bob\\ntemplate t 1 command: <nme>\\n")
    >>> read_grammar_file(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../grammar.txt: line 2: template 't' uses the class <nme>, which is not defined above it
    """
    path = os.fspath(path)
    classes, templates, names = {}, [], set()
    for number, text in _grammar_entries(path):
        where = f"{path}: line {number}"
        head, colon, body = text.partition(":")
        keyword, *fields = head.split() or [""]
        if not colon or keyword not in ("class", "template"):
            raise ValueError(
                f"{where}: expected 'class NAME: WORD ...' or 'template NAME "
                f"WEIGHT KIND: ITEM ...', got {text!r}"
            )
        if keyword == "class":
            name, words = _word_class(where, fields, body.split(), classes)
            classes[name] = words
            continue
        template = _template(where, fields, body.split(), classes)
        if template.name in names:
            raise ValueError(
                f"{where}: template {template.name!r} is defined twice"
            )
        names.add(template.name)
        templates.append(template)
    if not templates:
        raise ValueError(f"{path}: no templates")
    return classes, tuple(templates)
