"""Sentence templates of the embedded synthetic corpus, and their sampler.

The synthetic telephone-speech corpus is made of short sentences drawn
from a small, fully explicit grammar: a set of word classes
(:data:`WORD_CLASSES`) and a set of sentence templates
(:data:`TEMPLATES`), both read once from the data file ``grammar.txt``
(:data:`GRAMMAR_FILE`, :func:`read_grammar`; the file format is
:mod:`sb_rectifier.corpus.grammar_file`). The grammar is regular on
purpose, so that a decoding graph G (a finite-state acceptor over words)
can be built from it (:mod:`sb_rectifier.corpus.grammar_fst`).

This module's one job is the templates: what they are
(:class:`Template`), drawing sentences from them (:func:`sample_sentence`,
:func:`sample_sentences`) and telling which one produced a sentence
(:func:`template_of`).

A :class:`Template` is a sequence of *items*. Each item is one of

* a literal word, e.g. ``"turn"``;
* a class reference ``"<class>"``: any one word of ``WORD_CLASSES[class]``;
* either of the above followed by ``?``: the item is optional
  (``"please?"``, ``"<name>?"``);
* a class reference followed by ``+``: one or more words of the class,
  e.g. ``"<digit>+"`` for a connected digit string. The sampler draws the
  length uniformly in a configurable range (``digit_range``, by default
  :data:`DIGIT_RANGE`); as a grammar (for the matcher and for G) the
  item means "one or more".

The template language is interpreted in one place,
:mod:`sb_rectifier.corpus.automaton`: a template compiles to a small
automaton (:class:`~sb_rectifier.corpus.automaton.Automaton`,
:meth:`Template.automaton`) whose arcs carry words and probabilities.
The sampler is a random walk through it (:meth:`Template.expand`), the
matcher runs it on a word sequence (:meth:`Template.matches`), and G is
its copy as an FST.

Templates come in three kinds (:data:`KINDS`): ``"digits"`` (those with a
connected digit string, about 30 % of the sampled sentences),
``"command"`` (voice assistant commands) and ``"phrase"`` (short
conversational phrases). Each template has a fixed sampling weight;
optional items are included with probability :data:`OPTIONAL_PROB`.

All words are lowercase ASCII letters, ordinary English words that a
text-to-speech engine (eSpeak NG) pronounces sensibly. Heteronyms whose
pronunciation depends on context (``read``, ``live``, ``close``,
``minute``, ``wind``, ...) are avoided, so that each word
has a single pronunciation in the lexicon.

Example
-------
>>> words = sample_sentence(np.random.default_rng(0))
>>> template_of(words) is not None
True
>>> template_of("turn on the kitchen lights")
'lights'
>>> template_of("turn the kitchen on") is None
True

Authors
 * sb_rectifier developers 2026
"""

import functools
import os
from dataclasses import dataclass

import numpy as np

from sb_rectifier.corpus.automaton import (
    OPTIONAL_PROB,
    REPEAT_PROB,
    Arc,
    Automaton,
    Item,
    compile_items,
    parse_item,
)
from sb_rectifier.corpus.grammar_file import (
    GRAMMAR_FILE,
    KINDS,
    read_grammar_file,
)

__all__ = [
    "DIGIT_RANGE",
    "GRAMMAR_FILE",
    "KINDS",
    "OPTIONAL_PROB",
    "REPEAT_PROB",
    "TEMPLATES",
    "WORD_CLASSES",
    "Arc",
    "Automaton",
    "Item",
    "Template",
    "get_template",
    "kind_probabilities",
    "parse_item",
    "read_grammar",
    "sample_sentence",
    "sample_sentences",
    "sample_template",
    "template_of",
    "vocabulary",
]

#: Default range (inclusive) of the length of a connected digit string.
DIGIT_RANGE = (3, 9)


def _check_range(digit_range, what="digit_range"):
    """Validates an inclusive (low, high) length range; returns it."""
    low, high = (int(v) for v in digit_range)
    if not 1 <= low <= high:
        raise ValueError(f"{what} must satisfy 1 <= low <= high: {digit_range}")
    return low, high


@functools.lru_cache(maxsize=512)
def _default_automaton(template, digit_range, repeat_prob):
    """:meth:`Template.automaton` with :data:`WORD_CLASSES`, cached."""
    return compile_items(
        template.name, template.parsed(), WORD_CLASSES, digit_range, repeat_prob
    )


@dataclass(frozen=True)
class Template:
    """A sentence template: a named sequence of items.

    Arguments
    ---------
    name : str
        Unique name of the template.
    items : tuple of str
        The items (see :func:`parse_item` and the module docstring).
    weight : float
        Relative sampling weight (positive).
    kind : str
        One of :data:`KINDS`: ``"digits"``, ``"command"`` or ``"phrase"``.

    Example
    -------
    >>> t = Template(
    ...     "greet", ("good", "<part_of_day>", "<name>?"), kind="phrase"
    ... )
    >>> t.classes()
    ('name', 'part_of_day')
    >>> t.matches(["good", "night"]), t.matches(["good", "night", "bob"])
    (True, True)
    >>> t.matches(["good", "bob"])
    False
    """

    name: str
    items: tuple[str, ...]
    weight: float = 1.0
    kind: str = "command"

    def __post_init__(self):
        """Validates the fields (items are parsed, weight is positive)."""
        if not isinstance(self.items, tuple) or not self.items:
            raise ValueError(f"{self.name}: items must be a non-empty tuple")
        for item in self.items:
            parse_item(item)
        if not self.weight > 0:
            raise ValueError(f"{self.name}: weight must be positive")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}")

    def parsed(self):
        """Returns the parsed items.

        Returns
        -------
        items : tuple of Item
            One :class:`Item` per item string.

        Example
        -------
        >>> Template("t", ("hello", "<name>?")).parsed()[1].optional
        True
        """
        return tuple(parse_item(item) for item in self.items)

    def classes(self):
        """Returns the names of the classes the template refers to.

        Returns
        -------
        names : tuple of str
            Sorted, distinct class names.

        Example
        -------
        >>> Template("t", ("call", "<name>", "at", "<digit>+")).classes()
        ('digit', 'name')
        """
        return tuple(sorted({it.symbol for it in self.parsed() if it.is_class}))

    @property
    def has_digit_string(self):
        """True if the template contains a repeated item (``<digit>+``).

        Example
        -------
        >>> Template("t", ("dial", "<digit>+")).has_digit_string
        True
        """
        return any(it.repeat for it in self.parsed())

    def automaton(
        self, digit_range=None, word_classes=None, repeat_prob=REPEAT_PROB
    ):
        """The template compiled to an :class:`Automaton`
        (:func:`~sb_rectifier.corpus.automaton.compile_items`).

        Item by item: a literal word is one arc, a class one arc per word
        (equally likely); an optional item is a coin (used with
        probability :data:`OPTIONAL_PROB`) before the item, skipped by an
        epsilon arc; a repeated item is, with ``digit_range=None``, one
        word then a loop that takes one more with probability
        ``repeat_prob`` (the grammar of G: any length >= 1), and with a
        ``digit_range`` a uniform choice of the length, then that many
        words (the sampler's distribution).

        Arguments
        ---------
        digit_range : tuple of int, optional
            Inclusive (low, high) length of repeated items; None: any
            length >= 1.
        word_classes : dict, optional
            Class name -> words; default :data:`WORD_CLASSES` (then the
            automaton is cached).
        repeat_prob : float
            See above, in (0, 1).

        Returns
        -------
        Automaton
            The automaton.

        Example
        -------
        >>> t = Template("t", ("dial", "<digit>+"))
        >>> t.automaton().accepts("dial " + "one " * 20)
        True
        >>> t.automaton((3, 4)).accepts("dial one one")
        False
        """
        if digit_range is not None:
            digit_range = _check_range(digit_range)
        if not 0.0 < repeat_prob < 1.0:
            raise ValueError(f"repeat_prob {repeat_prob} not in (0, 1)")
        if word_classes is None:
            return _default_automaton(self, digit_range, float(repeat_prob))
        return compile_items(
            self.name, self.parsed(), word_classes, digit_range, repeat_prob
        )

    def words(self, word_classes=None):
        """Returns the words the template can produce.

        Arguments
        ---------
        word_classes : dict, optional
            Class name -> words; default :data:`WORD_CLASSES`.

        Returns
        -------
        words : set of str
            Literal words and all words of the referenced classes.

        Example
        -------
        >>> sorted(Template("t", ("turn", "<switch>")).words())
        ['off', 'on', 'turn']
        """
        return self.automaton(word_classes=word_classes).words()

    def expand(self, rng, digit_range=DIGIT_RANGE, word_classes=None):
        """Draws one sentence from the template.

        Each optional item is kept with probability :data:`OPTIONAL_PROB`;
        a class reference draws one of its words uniformly; a repeated
        item draws a length uniformly in ``digit_range`` and then that
        many words: a random walk through :meth:`automaton`.

        Arguments
        ---------
        rng : numpy.random.Generator
            Source of randomness (the result is a function of its state).
        digit_range : tuple of int
            Inclusive (low, high) length of repeated items.
        word_classes : dict, optional
            Class name -> words; default :data:`WORD_CLASSES`.

        Returns
        -------
        words : list of str
            The sentence.

        Example
        -------
        >>> t = Template("t", ("dial", "<digit>+"))
        >>> words = t.expand(np.random.default_rng(0), digit_range=(4, 4))
        >>> len(words), words[0], t.matches(words)
        (5, 'dial', True)
        """
        return self.automaton(digit_range, word_classes).walk(rng)

    def matches(self, words, digit_range=None, word_classes=None):
        """Tells whether the template can produce a word sequence.

        Arguments
        ---------
        words : sequence of str or str
            The sentence (a string is split on whitespace).
        digit_range : tuple of int, optional
            If given, a repeated item must match a number of words in
            this inclusive range; by default any number >= 1 (the grammar
            that G encodes).
        word_classes : dict, optional
            Class name -> words; default :data:`WORD_CLASSES`.

        Returns
        -------
        match : bool
            True if some choice of the items yields exactly ``words``.

        Example
        -------
        >>> t = Template("t", ("please?", "dial", "<digit>+"))
        >>> t.matches("dial one two"), t.matches("please dial oh")
        (True, True)
        >>> t.matches("dial one two", digit_range=(3, 9))
        False
        """
        return self.automaton(digit_range, word_classes).accepts(words)


def read_grammar(path):
    """Reads a grammar file: its word classes and templates.

    The format, and the checks (each error names the file and the line),
    are :func:`~sb_rectifier.corpus.grammar_file.read_grammar_file`'s.

    Arguments
    ---------
    path : str or os.PathLike
        The file (the format of :data:`GRAMMAR_FILE`).

    Returns
    -------
    word_classes : dict
        Class name -> tuple of words, in file order.
    templates : tuple of Template
        The templates, in file order.

    Example
    -------
    >>> classes, templates = read_grammar(GRAMMAR_FILE)
    >>> templates == TEMPLATES and classes == WORD_CLASSES
    True
    """
    classes, entries = read_grammar_file(os.fspath(path))
    return classes, tuple(Template(*entry) for entry in entries)


_CLASSES, _TEMPLATES = read_grammar(GRAMMAR_FILE)

#: Word classes: class name -> its words. Classes may share words.
WORD_CLASSES: dict[str, tuple[str, ...]] = _CLASSES

#: The sentence templates. Weights are percentages of sampled sentences:
#: the ``digits`` kind sums to 30, ``command`` to 46, ``phrase`` to 24.
TEMPLATES: tuple[Template, ...] = _TEMPLATES

_BY_NAME = {t.name: t for t in TEMPLATES}


def get_template(name):
    """Returns the template of a given name.

    Arguments
    ---------
    name : str
        A name from :data:`TEMPLATES`.

    Returns
    -------
    template : Template
        The template.

    Example
    -------
    >>> get_template("digits").items
    ('<digit>+',)
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"No template named {name!r}") from None


def vocabulary(templates=TEMPLATES):
    """Returns the words reachable from the templates.

    Arguments
    ---------
    templates : sequence of Template
        Default :data:`TEMPLATES`.

    Returns
    -------
    words : list of str
        Sorted distinct words.

    Example
    -------
    >>> words = vocabulary()
    >>> "oh" in words and "zero" in words and words == sorted(words)
    True
    """
    words = set()
    for t in templates:
        words.update(t.words())
    return sorted(words)


def _probabilities(templates):
    """Returns the sampling probability of each template."""
    weights = np.array([t.weight for t in templates], dtype=np.float64)
    return weights / weights.sum()


def kind_probabilities(templates=TEMPLATES):
    """Returns the probability of each template kind under the sampler.

    Arguments
    ---------
    templates : sequence of Template
        Default :data:`TEMPLATES`.

    Returns
    -------
    probs : dict
        Kind -> probability that a sampled sentence is of that kind.

    Example
    -------
    >>> {k: round(p, 2) for k, p in kind_probabilities().items()}
    {'digits': 0.3, 'command': 0.46, 'phrase': 0.24}
    """
    probs = dict.fromkeys(KINDS, 0.0)
    for t, p in zip(templates, _probabilities(templates), strict=True):
        probs[t.kind] += float(p)
    return probs


def sample_template(rng, templates=TEMPLATES):
    """Draws a template according to the template weights.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    templates : sequence of Template
        Default :data:`TEMPLATES`.

    Returns
    -------
    template : Template
        The drawn template.

    Example
    -------
    >>> sample_template(np.random.default_rng(0)) in TEMPLATES
    True
    """
    index = rng.choice(len(templates), p=_probabilities(templates))
    return templates[int(index)]


def sample_sentence(rng, digit_range=DIGIT_RANGE, templates=TEMPLATES):
    """Draws one sentence from the grammar.

    A template is drawn with :func:`sample_template` and then expanded
    with :meth:`Template.expand`.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness (the result is a function of its state).
    digit_range : tuple of int
        Inclusive (low, high) length of connected digit strings.
    templates : sequence of Template
        Default :data:`TEMPLATES`.

    Returns
    -------
    words : list of str
        The sentence.

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> words = sample_sentence(rng, digit_range=(3, 3))
    >>> isinstance(words, list) and template_of(words) is not None
    True
    """
    template = sample_template(rng, templates)
    return template.expand(rng, digit_range)


def sample_sentences(seed, n, digit_range=DIGIT_RANGE, templates=TEMPLATES):
    """Draws ``n`` sentences from a freshly seeded generator.

    Arguments
    ---------
    seed : int
        Seed of ``numpy.random.default_rng``.
    n : int
        Number of sentences.
    digit_range : tuple of int
        Inclusive (low, high) length of connected digit strings.
    templates : sequence of Template
        Default :data:`TEMPLATES`.

    Returns
    -------
    sentences : list of list of str
        The sentences; the same seed gives the same list.

    Example
    -------
    >>> for words in sample_sentences(0, 3):
    ...     print(" ".join(words))
    call my uncle
    zero zero one eight
    have a wonderful trip
    """
    rng = np.random.default_rng(seed)
    return [sample_sentence(rng, digit_range, templates) for _ in range(n)]


def template_of(words, digit_range=None, templates=TEMPLATES):
    """Returns the name of a template that can produce a word sequence.

    Arguments
    ---------
    words : sequence of str or str
        The sentence (a string is split on whitespace).
    digit_range : tuple of int, optional
        If given, connected digit strings must have a length in this
        inclusive range; by default any length >= 1.
    templates : sequence of Template
        Default :data:`TEMPLATES`.

    Returns
    -------
    name : str or None
        The name of the first matching template, or None if the sentence
        is not in the grammar.

    Example
    -------
    >>> template_of("call bob at five five five one two")
    'call_at'
    >>> template_of("good evening alice")
    'greeting'
    >>> template_of("good evening zebra") is None
    True
    """
    if isinstance(words, str):
        words = words.split()
    for t in templates:
        if t.matches(words, digit_range):
            return t.name
    return None
