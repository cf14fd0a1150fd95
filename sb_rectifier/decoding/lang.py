"""Kaldi ``lang`` files: symbol tables, lexicons, disambiguation symbols.

A Kaldi language directory (``data/lang``) holds the symbol tables
``phones.txt`` and ``words.txt`` (``symbol id`` per line, ``<eps>`` is 0)
and the pronunciation lexicon ``lexicon.txt`` (``word phone phone ...``,
one line per pronunciation) or ``lexiconp.txt`` (``word prob phone ...``).
This module reads them and adds the disambiguation symbols that make the
lexicon transducer L determinisable, following Kaldi's
``utils/add_lex_disambig.pl``: a pronunciation that is a proper prefix of
another one, or that several entries share (homophones), gets a symbol
``#1``, ``#2``, ... appended (numbered per pronunciation, in file order);
``#0`` is reserved for the back-off arcs of an n-gram G.

Authors
 * sb_rectifier developers 2026
"""

import math
import os

from sb_rectifier.files import iter_text_lines, write_table

__all__ = [
    "EPSILON",
    "add_lex_disambig",
    "add_symbols",
    "disambig_names",
    "is_disambig",
    "lexicon_rows",
    "pron_cost",
    "read_lexicon",
    "read_symbols",
    "symbol_table",
    "write_symbols",
]

#: The epsilon symbol, id 0 in every Kaldi symbol table.
EPSILON = "<eps>"


def read_symbols(path):
    """Reads a Kaldi symbol table (``words.txt``, ``phones.txt``).

    Each line is ``symbol id``; symbols and ids must be unique and ids
    non-negative. An id may be missing (Kaldi allows gaps).

    Arguments
    ---------
    path : str or os.PathLike
        The file.

    Returns
    -------
    dict
        Symbol -> integer id, in file order.

    Raises
    ------
    ValueError
        On a malformed line, a duplicate symbol or id, or bytes that are
        not UTF-8, naming the file and the line.

    Example
    -------
    >>> path = getfixture("tmpdir") / "words.txt"
    >>> _ = open(path, "w").write("<eps> 0\\nyes 1\\nno 2\\n")
    >>> read_symbols(path)
    {'<eps>': 0, 'yes': 1, 'no': 2}
    """
    path = os.fspath(path)
    symbols, seen_ids = {}, {}
    for number, line in iter_text_lines(path, "symbol table"):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise ValueError(
                f"{path}: line {number}: expected 'symbol id', got "
                f"{line.strip()!r}"
            )
        symbol, text = parts
        try:
            value = int(text)
        except ValueError:
            raise ValueError(
                f"{path}: line {number}: id {text!r} of {symbol!r} is "
                "not an integer"
            ) from None
        if value < 0:
            raise ValueError(
                f"{path}: line {number}: negative id {value} of {symbol!r}"
            )
        if symbol in symbols:
            raise ValueError(
                f"{path}: line {number}: duplicate symbol {symbol!r}"
            )
        if value in seen_ids:
            raise ValueError(
                f"{path}: line {number}: id {value} of {symbol!r} is "
                f"already used by {seen_ids[value]!r}"
            )
        symbols[symbol] = value
        seen_ids[value] = symbol
    if not symbols:
        raise ValueError(f"{path}: empty symbol table")
    return symbols


def write_symbols(symbols, path):
    """Writes a symbol table atomically (temporary file and rename).

    Arguments
    ---------
    symbols : dict
        Symbol -> id; written in increasing id order.
    path : str or os.PathLike
        The file.

    Example
    -------
    >>> path = getfixture("tmpdir") / "words.txt"
    >>> write_symbols({"no": 2, "<eps>": 0, "yes": 1}, path)
    >>> print(open(path).read(), end="")
    <eps> 0
    yes 1
    no 2
    """
    write_table(path, sorted(symbols.items(), key=lambda kv: kv[1]))


def is_disambig(symbol):
    """True for a disambiguation symbol name ``#0``, ``#1``, ...

    Arguments
    ---------
    symbol : str
        A symbol.

    Returns
    -------
    bool
        Whether it is ``#`` followed by digits.

    Example
    -------
    >>> is_disambig("#12"), is_disambig("a#"), is_disambig("#")
    (True, False, False)
    """
    return symbol.startswith("#") and symbol[1:].isdigit()


def _is_prob(text):
    """True if ``text`` parses as a probability in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        return False
    return 0.0 < value <= 1.0


def read_lexicon(path, pron_probs=None, with_probs=False):
    """Reads a Kaldi lexicon (``lexicon.txt`` or ``lexiconp.txt``).

    Arguments
    ---------
    path : str or os.PathLike
        The file: ``word phone phone ...`` per line, or with
        ``pron_probs`` ``word prob phone phone ...``.
    pron_probs : bool, optional
        Whether the second column is a pronunciation probability. By
        default it is detected: True if every line's second field is a
        number in (0, 1] (phone names such as ``0`` or ``3`` are not).
    with_probs : bool
        Return ``(word, phones, prob)`` triples (prob 1.0 for a plain
        lexicon) instead of ``(word, phones)`` pairs.

    Returns
    -------
    list of tuple
        ``(word, [phone, ...])`` (or with ``prob``) in file order;
        several entries per word are pronunciation variants.

    Raises
    ------
    ValueError
        On a line without phones, a bad probability or a duplicate
        (word, pronunciation) entry, naming the file and the line.

    Example
    -------
    >>> path = getfixture("tmpdir") / "lexicon.txt"
    >>> _ = open(path, "w").write("no n oU\\nknow n oU\\nnot n 0 t\\n")
    >>> read_lexicon(path)[:2]
    [('no', ['n', 'oU']), ('know', ['n', 'oU'])]
    >>> _ = open(path, "w").write("no 1.0 n oU\\nno 0.5 n O\\n")
    >>> read_lexicon(path, with_probs=True)
    [('no', ['n', 'oU'], 1.0), ('no', ['n', 'O'], 0.5)]
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: lexicon not found")
    with open(path, encoding="utf-8") as f:
        lines = [
            (number, line.split())
            for number, line in enumerate(f, 1)
            if line.strip()
        ]
    if not lines:
        raise ValueError(f"{path}: empty lexicon")
    if pron_probs is None:
        pron_probs = all(len(p) >= 3 and _is_prob(p[1]) for _, p in lines)
    rows, seen = [], set()
    for number, parts in lines:
        word = parts[0]
        prob = 1.0
        phones = parts[1:]
        if pron_probs:
            if len(parts) < 2 or not _is_prob(parts[1]):
                raise ValueError(
                    f"{path}: line {number}: expected 'word prob phone ...' "
                    f"with 0 < prob <= 1, got {' '.join(parts)!r}"
                )
            prob = float(parts[1])
            phones = parts[2:]
        if not phones:
            raise ValueError(
                f"{path}: line {number}: word {word!r} has no phones"
            )
        if word == EPSILON or is_disambig(word):
            raise ValueError(
                f"{path}: line {number}: {word!r} is a reserved symbol"
            )
        for phone in phones:
            if phone == EPSILON or is_disambig(phone):
                raise ValueError(
                    f"{path}: line {number}: phone {phone!r} of {word!r} "
                    "is a reserved symbol"
                )
        key = (word, tuple(phones))
        if key in seen:
            raise ValueError(
                f"{path}: line {number}: duplicate entry "
                f"{word} {' '.join(phones)}"
            )
        seen.add(key)
        rows.append((word, phones, prob) if with_probs else (word, phones))
    return rows


def symbol_table(symbols, what):
    """A symbol table given as a dict or as a file (``words.txt``).

    Arguments
    ---------
    symbols : dict or str or os.PathLike
        Symbol -> id, or a file that :func:`read_symbols` reads.
    what : str
        What the table is, for the error on a wrong type.

    Returns
    -------
    dict
        A copy of the table.

    Example
    -------
    >>> symbol_table({"<eps>": 0, "a": 1}, "words")
    {'<eps>': 0, 'a': 1}
    >>> symbol_table(["a"], "make_l word_ids")
    Traceback (most recent call last):
    TypeError: make_l word_ids: expected a dict or a path, got ['a']
    """
    if isinstance(symbols, (str, os.PathLike)):
        return read_symbols(symbols)
    if not isinstance(symbols, dict):
        raise TypeError(f"{what}: expected a dict or a path, got {symbols!r}")
    return dict(symbols)


def lexicon_rows(lexicon):
    """Lexicon rows ``(word, phones, prob)`` from a file or from rows.

    Arguments
    ---------
    lexicon : str or os.PathLike or list of tuple
        ``lexicon.txt``/``lexiconp.txt`` (see :func:`read_lexicon`), or
        ``(word, phones)`` / ``(word, phones, prob)`` rows.

    Returns
    -------
    list of tuple
        ``(word, [phone, ...], prob)``, prob 1.0 where none is given.

    Example
    -------
    >>> lexicon_rows([("no", ["n", "oU"]), ("oh", ["oU"], 0.5)])
    [('no', ['n', 'oU'], 1.0), ('oh', ['oU'], 0.5)]
    >>> lexicon_rows([("no", [])])
    Traceback (most recent call last):
    ValueError: lexicon: word 'no' has no phones
    """
    if isinstance(lexicon, (str, os.PathLike)):
        return read_lexicon(lexicon, with_probs=True)
    rows = []
    for row in lexicon:
        if len(row) == 2:
            rows.append((row[0], list(row[1]), 1.0))
        elif len(row) == 3:
            rows.append((row[0], list(row[1]), float(row[2])))
        else:
            raise ValueError(f"lexicon row {row!r}: expected (word, phones)")
        if not rows[-1][1]:
            raise ValueError(f"lexicon: word {row[0]!r} has no phones")
    return rows


def add_lex_disambig(lexicon):
    """Appends disambiguation symbols to prefix and homophone prons.

    Kaldi's ``utils/add_lex_disambig.pl``: a pronunciation that is a
    proper prefix of another pronunciation, or that occurs more than once
    (homophones, or one word listed twice), gets ``#k`` appended, with
    ``k`` counting 1, 2, ... separately for each such pronunciation in
    lexicon order. ``#0`` is left for the back-off arcs of G.

    Arguments
    ---------
    lexicon : list of tuple
        ``(word, phones)`` or ``(word, phones, prob)`` rows.

    Returns
    -------
    rows : list of tuple
        The rows (same form as given), ``phones`` extended where needed.
    num_disambig : int
        The largest ``k`` used (0 if no pronunciation needed one).

    Example
    -------
    >>> rows, n = add_lex_disambig(
    ...     [
    ...         ("no", ["n", "oU"]),
    ...         ("know", ["n", "oU"]),
    ...         ("not", ["n", "oU", "t"]),
    ...     ]
    ... )
    >>> rows, n
    ([('no', ['n', 'oU', '#1']), ('know', ['n', 'oU', '#2']), ('not', ['n', 'oU', 't'])], 2)
    """
    count, prefixes = {}, set()
    for row in lexicon:
        pron = tuple(row[1])
        count[pron] = count.get(pron, 0) + 1
        for i in range(len(pron)):
            prefixes.add(pron[:i])
    last, num_disambig, rows = {}, 0, []
    for row in lexicon:
        pron = tuple(row[1])
        phones = list(pron)
        if pron in prefixes or count[pron] > 1:
            k = last.get(pron, 0) + 1
            last[pron] = k
            num_disambig = max(num_disambig, k)
            phones.append(f"#{k}")
        rows.append((row[0], phones, *row[2:]))
    return rows, num_disambig


def disambig_names(count):
    """The names ``#0`` ... ``#(count - 1)``.

    Arguments
    ---------
    count : int
        How many.

    Returns
    -------
    list of str
        The names.

    Example
    -------
    >>> disambig_names(3)
    ['#0', '#1', '#2']
    """
    return [f"#{k}" for k in range(count)]


def add_symbols(symbols, names):
    """A copy of a symbol table with symbols added if missing.

    New symbols get consecutive ids above the largest id of the table
    (where Kaldi's ``prepare_lang.sh`` puts ``#0``, ``<s>``, ``</s>``);
    symbols already present keep their ids.

    Arguments
    ---------
    symbols : dict
        Symbol -> id.
    names : iterable of str
        Symbols to have.

    Returns
    -------
    table : dict
        The extended copy.
    ids : list of int
        The id of each of ``names``.

    Example
    -------
    >>> add_symbols({"<eps>": 0, "a": 1, "#0": 2}, ["#0", "#1"])
    ({'<eps>': 0, 'a': 1, '#0': 2, '#1': 3}, [2, 3])
    """
    table = dict(symbols)
    next_id = max(table.values(), default=-1) + 1
    ids = []
    for name in names:
        if name not in table:
            table[name] = next_id
            next_id += 1
        ids.append(table[name])
    return table, ids


def pron_cost(prob):
    """The cost ``-log(prob)`` of a pronunciation probability.

    Arguments
    ---------
    prob : float
        Probability in (0, 1].

    Returns
    -------
    float
        The cost (0.0 for probability 1).

    Example
    -------
    >>> round(pron_cost(0.5), 4)
    0.6931
    """
    if not 0.0 < prob <= 1.0:
        raise ValueError(f"pronunciation probability {prob} not in (0, 1]")
    return -math.log(prob) if prob < 1.0 else 0.0
