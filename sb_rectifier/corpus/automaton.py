"""The template language interpreted: items compiled to an automaton.

One job: a sentence template's item strings (``"turn"``, ``"<room>"``,
``"please?"``, ``"<digit>+"``, see :mod:`sb_rectifier.corpus.grammar`)
are parsed (:func:`parse_item`) and compiled (:func:`compile_items`) to a
small probabilistic automaton over words (:class:`Automaton`), which is
the only interpreter of the language: the sampler is a random walk
through it (:meth:`Automaton.walk`), the matcher runs it on a word
sequence (:meth:`Automaton.accepts`) and G
(:mod:`sb_rectifier.corpus.grammar_fst`) is its copy as an FST.

Example
-------
>>> items = [parse_item(i) for i in ("please?", "call", "<name>")]
>>> a = compile_items("t", items, {"name": ("bob", "emma")})
>>> a.accepts("please call bob"), a.accepts("call"), sorted(a.words())
(True, False, ['bob', 'call', 'emma', 'please'])

Authors
 * sb_rectifier developers 2026
"""

import functools
import re
from typing import NamedTuple

__all__ = [
    "DRAWS",
    "OPTIONAL_PROB",
    "REPEAT_PROB",
    "Arc",
    "Automaton",
    "Item",
    "compile_items",
    "parse_item",
]

#: Probability that an optional item (``"word?"``, ``"<class>?"``) is used.
OPTIONAL_PROB = 0.5

#: In the unbounded automaton (G), the probability that a repeated item
#: (``"<digit>+"``) takes one more word.
REPEAT_PROB = 0.8

_ITEM_RE = re.compile(r"(?:<(?P<cls>[a-z_]+)>|(?P<word>[a-z]+))(?P<mod>[?+]?)")


class Item(NamedTuple):
    """One parsed template item (see :func:`parse_item`).

    Arguments
    ---------
    symbol : str
        The literal word, or the class name (without angle brackets).
    is_class : bool
        True for a class reference ``<symbol>``.
    optional : bool
        True if the item may be left out (trailing ``?``).
    repeat : bool
        True if the item stands for one or more words of the class
        (trailing ``+``; class references only).

    Example
    -------
    >>> Item("digit", True, False, True).repeat
    True
    """

    symbol: str
    is_class: bool
    optional: bool
    repeat: bool


@functools.cache
def parse_item(item):
    """Parses a template item string.

    Arguments
    ---------
    item : str
        A literal word (``"turn"``), a class reference (``"<room>"``),
        either one with a trailing ``?`` (optional), or a class reference
        with a trailing ``+`` (one or more words of the class).

    Returns
    -------
    parsed : Item
        The symbol and its flags.

    Raises
    ------
    ValueError
        If the item is malformed, or a literal word carries ``+``.

    Example
    -------
    >>> parse_item("please?")
    Item(symbol='please', is_class=False, optional=True, repeat=False)
    >>> parse_item("<digit>+")
    Item(symbol='digit', is_class=True, optional=False, repeat=True)
    """
    match = _ITEM_RE.fullmatch(item) if isinstance(item, str) else None
    if match is None:
        raise ValueError(f"Malformed template item: {item!r}")
    is_class = match["cls"] is not None
    mod = match["mod"]
    if mod == "+" and not is_class:
        raise ValueError(f"Only class references may repeat: {item!r}")
    symbol = match["cls"] if is_class else match["word"]
    return Item(symbol, is_class, mod == "?", mod == "+")


class Arc(NamedTuple):
    """An arc of an :class:`Automaton`: any one of a set of words.

    Arguments
    ---------
    words : tuple of str
        The words it can read, equally likely (a literal word: one; a
        class: its words); empty for an epsilon arc.
    prob : float
        Probability of taking the arc (with any of its words) from its
        state.
    dest : int
        The state it leads to.

    Example
    -------
    >>> Arc(("on", "off"), 1.0, 2).words
    ('on', 'off')
    """

    words: tuple
    prob: float
    dest: int


#: How a random walk chooses among the arcs of a state: ``"index"`` draws
#: the arc's position uniformly (``rng.integers(len(arcs))``, the arcs are
#: equally likely); ``"threshold"`` draws ``u = rng.random()`` and takes
#: the first arc whose cumulative probability exceeds it. Then a word of
#: the arc is drawn with ``rng.integers(len(words))``. One arc, or one
#: word, draws nothing.
DRAWS = ("index", "threshold")


class Automaton:
    """A template compiled: a probabilistic automaton over words.

    State 0 is the start; ``final`` is the single final state, which has
    no arcs. The probabilities of a state's arcs sum to 1; an arc reads
    one of its words (:class:`Arc`). Each state also says how a random
    walk draws its arc (see :data:`DRAWS`), so that the walk draws from
    the generator exactly as the sampler always has (a corpus depends on
    it).

    Arguments
    ---------
    arcs : sequence of sequence of Arc
        The arcs of each state.
    draws : sequence of str
        How each state draws its arc.
    final : int
        The final state.

    Example
    -------
    >>> a = Automaton(
    ...     [[Arc((), 0.5, 1), Arc((), 0.5, 2)], [Arc(("hi",), 1.0, 2)], []],
    ...     ["threshold", "index", "index"],
    ...     final=2,
    ... )
    >>> a.num_states, a.accepts("hi"), a.accepts(""), a.accepts("hi hi")
    (3, True, True, False)
    """

    def __init__(self, arcs, draws, final):
        self.arcs = tuple(tuple(Arc(*arc) for arc in out) for out in arcs)
        self.draws = tuple(draws)
        self.final = int(final)
        if len(self.draws) != len(self.arcs):
            raise ValueError("Automaton: one draw per state")
        if self.arcs[self.final]:
            raise ValueError("Automaton: the final state has arcs")
        self._by_word = []
        epsilon = []
        for out in self.arcs:
            by_word = {}
            for arc in out:
                for word in arc.words:
                    by_word.setdefault(word, []).append(arc.dest)
            self._by_word.append(by_word)
            epsilon.append([arc.dest for arc in out if not arc.words])
        self._closure = []
        for state in range(len(self.arcs)):
            seen, todo = {state}, [state]
            while todo:
                for dest in epsilon[todo.pop()]:
                    if dest not in seen:
                        seen.add(dest)
                        todo.append(dest)
            self._closure.append(frozenset(seen))

    @property
    def num_states(self):
        """Number of states."""
        return len(self.arcs)

    def words(self):
        """The words on the arcs.

        Returns
        -------
        set of str
            Every word the automaton can read.

        Example
        -------
        >>> a = Automaton([[Arc(("on", "off"), 1.0, 1)], []], ["index"] * 2, 1)
        >>> sorted(a.words())
        ['off', 'on']
        """
        return {w for by_word in self._by_word for w in by_word}

    def accepts(self, words):
        """Whether some path reads exactly ``words`` from start to final.

        Arguments
        ---------
        words : sequence of str or str
            The sentence (a string is split on whitespace).

        Returns
        -------
        bool
            True if accepted.

        Example
        -------
        >>> a = compile_items("t", [parse_item("a?"), parse_item("b")], {})
        >>> a.accepts(["a", "b"]), a.accepts("b"), a.accepts("a")
        (True, True, False)
        """
        if isinstance(words, str):
            words = words.split()
        current = self._closure[0]
        for word in words:
            reached = set()
            for state in current:
                for dest in self._by_word[state].get(word, ()):
                    reached |= self._closure[dest]
            if not reached:
                return False
            current = reached
        return self.final in current

    def walk(self, rng):
        """A random path from start to final: the words it reads.

        Arguments
        ---------
        rng : numpy.random.Generator
            Source of randomness (the result is a function of its state).

        Returns
        -------
        list of str
            The words.

        Example
        -------
        >>> import numpy as np
        >>> items = [parse_item("dial"), parse_item("<digit>+")]
        >>> a = compile_items("t", items, {"digit": ("one", "two")}, (2, 2))
        >>> len(a.walk(np.random.default_rng(0)))
        3
        """
        words, state = [], 0
        while state != self.final:
            out = self.arcs[state]
            if len(out) == 1:
                arc = out[0]
            elif self.draws[state] == "index":
                arc = out[int(rng.integers(len(out)))]
            else:
                u, total, arc = rng.random(), 0.0, out[-1]
                for candidate in out:
                    total += candidate.prob
                    if u < total:
                        arc = candidate
                        break
            if len(arc.words) == 1:
                words.append(arc.words[0])
            elif arc.words:
                words.append(arc.words[int(rng.integers(len(arc.words)))])
            state = arc.dest
        return words


def compile_items(
    name,
    items,
    classes,
    digit_range=None,
    repeat_prob=REPEAT_PROB,
    optional_prob=OPTIONAL_PROB,
):
    """Compiles a template's parsed items to an :class:`Automaton`.

    Item by item: a literal word is one arc, a class one arc per word
    (equally likely); an optional item is a coin (used with probability
    ``optional_prob``) before the item, skipped by an epsilon arc; a
    repeated item is, with ``digit_range=None``, one word then a loop
    that takes one more with probability ``repeat_prob`` (any length
    >= 1), and with a ``digit_range`` a uniform choice of the length,
    then that many words.

    Arguments
    ---------
    name : str
        The template's name (for messages).
    items : sequence of Item
        The parsed items (:func:`parse_item`).
    classes : dict
        Class name -> words.
    digit_range : tuple of int, optional
        Inclusive (low, high) length of repeated items (validated by the
        caller); None: any length >= 1.
    repeat_prob : float
        With ``digit_range=None``, the probability that a repeated item
        takes one more word.
    optional_prob : float
        The probability that an optional item is used.

    Returns
    -------
    Automaton
        The automaton.

    Raises
    ------
    ValueError
        If an item refers to a class that ``classes`` lacks.

    Example
    -------
    >>> items = [parse_item("dial"), parse_item("<digit>+")]
    >>> a = compile_items("t", items, {"digit": ("one", "two")}, (3, 4))
    >>> a.accepts("dial one two one"), a.accepts("dial one two")
    (True, False)
    >>> compile_items("t", [parse_item("<room>")], {})
    Traceback (most recent call last):
    ValueError: template 't' uses unknown class <room>
    """
    arcs, draws = [[]], ["index"]

    def new_state(draw="index"):
        arcs.append([])
        draws.append(draw)
        return len(arcs) - 1

    state = 0
    for item in items:
        if item.is_class:
            if item.symbol not in classes:
                raise ValueError(
                    f"template {name!r} uses unknown class <{item.symbol}>"
                )
            words = tuple(classes[item.symbol])
        else:
            words = (item.symbol,)
        src = state
        if item.optional:  # a coin first, then the item's own choice
            draws[state] = "threshold"
            src = new_state()
            arcs[state].append(Arc((), optional_prob, src))
        if not item.repeat:
            nxt = new_state()
            arcs[src].append(Arc(words, 1.0, nxt))
        elif digit_range is None:  # one word, then more with repeat_prob
            loop = new_state("threshold")
            nxt = new_state()
            arcs[src].append(Arc(words, 1.0, loop))
            arcs[loop].append(Arc(words, repeat_prob, loop))
            arcs[loop].append(Arc((), 1.0 - repeat_prob, nxt))
        else:  # the length first (uniform), then that many words
            low, high = digit_range
            nxt = new_state()
            for length in range(low, high + 1):
                at = new_state()
                arcs[src].append(Arc((), 1.0 / (high - low + 1), at))
                for i in range(length):
                    dest = nxt if i == length - 1 else new_state()
                    arcs[at].append(Arc(words, 1.0, dest))
                    at = dest
        if item.optional:
            arcs[state].append(Arc((), 1.0 - optional_prob, nxt))
        state = nxt
    return Automaton(arcs, draws, state)
