"""Vocabulary and sentence grammar of the embedded synthetic corpus.

The synthetic telephone-speech corpus is made of short sentences drawn
from a small, fully explicit grammar: a set of word classes
(:data:`WORD_CLASSES`) and a set of sentence templates
(:data:`TEMPLATES`). The grammar is regular on purpose, so that a
decoding graph G (a finite-state acceptor over words) can be built from
it item by item.

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

Templates come in three kinds: ``"digits"`` (those with a connected digit
string, about 30 % of the sampled sentences), ``"command"`` (voice
assistant commands) and ``"phrase"`` (short conversational phrases).
Each template has a fixed sampling weight; optional items are included
with probability :data:`OPTIONAL_PROB`.

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
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "DIGIT_RANGE",
    "KINDS",
    "OPTIONAL_PROB",
    "TEMPLATES",
    "WORD_CLASSES",
    "Item",
    "Template",
    "get_template",
    "kind_probabilities",
    "parse_item",
    "sample_sentence",
    "sample_sentences",
    "sample_template",
    "template_of",
    "vocabulary",
]

#: Default range (inclusive) of the length of a connected digit string.
DIGIT_RANGE = (3, 9)

#: Probability that an optional item (``"word?"``, ``"<class>?"``) is used.
OPTIONAL_PROB = 0.5

#: The template kinds.
KINDS = ("digits", "command", "phrase")

_ONES = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: Word classes: class name -> its words. Classes may share words.
WORD_CLASSES: dict[str, tuple[str, ...]] = {
    # Numbers.
    "digit": ("zero", *_ONES, "oh"),
    "ones": _ONES,
    "teen": (
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ),
    "tens": (
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
    ),
    "hour": (*_ONES, "ten", "eleven", "twelve"),
    "minute_word": ("ten", "fifteen", "twenty", "thirty", "forty", "fifty"),
    "ordinal": (
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
    ),
    # Calendar.
    "weekday": (
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ),
    "month": (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    "part_of_day": ("morning", "afternoon", "evening", "night"),
    # Home.
    "room": (
        "kitchen",
        "bedroom",
        "bathroom",
        "garage",
        "hallway",
        "office",
        "basement",
        "garden",
        "attic",
        "nursery",
    ),
    "device": (
        "lamp",
        "fan",
        "heater",
        "radio",
        "television",
        "oven",
        "kettle",
        "dishwasher",
        "computer",
        "speaker",
    ),
    "verb_device": ("start", "stop", "pause", "restart", "reset", "check"),
    "switch": ("on", "off"),
    "direction": ("up", "down"),
    "lock_verb": ("open", "shut", "lock", "unlock"),
    "opening": ("door", "window", "curtains", "blinds"),
    "color": (
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "purple",
        "pink",
        "white",
    ),
    # People and places.
    "name": (
        "alice",
        "bob",
        "david",
        "emma",
        "frank",
        "grace",
        "henry",
        "jack",
        "karen",
        "laura",
        "michael",
        "oliver",
        "peter",
        "rachel",
        "sarah",
        "thomas",
    ),
    "relative": (
        "mother",
        "father",
        "sister",
        "brother",
        "aunt",
        "uncle",
        "cousin",
        "friend",
        "boss",
        "neighbor",
    ),
    "city": (
        "london",
        "paris",
        "berlin",
        "boston",
        "chicago",
        "denver",
        "madrid",
        "rome",
        "tokyo",
        "sydney",
        "toronto",
        "seattle",
    ),
    "place": (
        "pharmacy",
        "bakery",
        "library",
        "hospital",
        "station",
        "airport",
        "restaurant",
        "bank",
        "park",
        "school",
    ),
    "vehicle": ("taxi", "train", "flight", "bus", "ferry"),
    # Food and drink.
    "adjective": (
        "large",
        "small",
        "hot",
        "cold",
        "fresh",
        "sweet",
        "spicy",
        "warm",
    ),
    "food": (
        "soup",
        "pasta",
        "rice",
        "bread",
        "cheese",
        "noodles",
        "pancakes",
        "apples",
        "salad",
        "chicken",
        "fish",
        "eggs",
    ),
    "drink": (
        "coffee",
        "tea",
        "water",
        "juice",
        "milk",
        "lemonade",
        "cocoa",
        "soda",
    ),
    # Leisure.
    "genre": (
        "jazz",
        "rock",
        "classical",
        "country",
        "blues",
        "folk",
        "pop",
        "soul",
    ),
    "activity": (
        "exercise",
        "study",
        "cook",
        "swim",
        "jog",
        "write",
        "practice",
        "relax",
    ),
    # Conversation.
    "feeling": (
        "tired",
        "happy",
        "hungry",
        "great",
        "fine",
        "sick",
        "sad",
        "bored",
    ),
    "pleasant": ("nice", "lovely", "wonderful", "good"),
    "occasion": ("day", "weekend", "evening", "trip", "holiday"),
    "weather": ("rain", "snow", "sunshine", "fog"),
}

_WORD_RE = re.compile(r"[a-z]+")
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


def _check_range(digit_range, what="digit_range"):
    """Validates an inclusive (low, high) length range; returns it."""
    low, high = (int(v) for v in digit_range)
    if not 1 <= low <= high:
        raise ValueError(f"{what} must satisfy 1 <= low <= high: {digit_range}")
    return low, high


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
        classes = WORD_CLASSES if word_classes is None else word_classes
        words = set()
        for it in self.parsed():
            if it.is_class:
                words.update(classes[it.symbol])
            else:
                words.add(it.symbol)
        return words

    def expand(self, rng, digit_range=DIGIT_RANGE, word_classes=None):
        """Draws one sentence from the template.

        Each optional item is kept with probability :data:`OPTIONAL_PROB`;
        a class reference draws one of its words uniformly; a repeated
        item draws a length uniformly in ``digit_range`` and then that
        many words.

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
        low, high = _check_range(digit_range)
        classes = WORD_CLASSES if word_classes is None else word_classes
        words = []
        for it in self.parsed():
            if it.optional and not rng.random() < OPTIONAL_PROB:
                continue
            if not it.is_class:
                words.append(it.symbol)
                continue
            members = classes[it.symbol]
            count = int(rng.integers(low, high + 1)) if it.repeat else 1
            picks = rng.integers(len(members), size=count)
            words.extend(members[int(i)] for i in picks)
        return words

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
        if isinstance(words, str):
            words = words.split()
        words = tuple(words)
        if digit_range is None:
            low, high = 1, max(len(words), 1)
        else:
            low, high = _check_range(digit_range)
        classes = WORD_CLASSES if word_classes is None else word_classes
        items = self.parsed()
        sets = {
            it.symbol: frozenset(classes[it.symbol])
            for it in items
            if it.is_class
        }

        def accepts(it, word):
            return word in sets[it.symbol] if it.is_class else word == it.symbol

        @functools.cache
        def match(i, j):
            # Can items[i:] produce exactly words[j:]?
            if i == len(items):
                return j == len(words)
            it = items[i]
            if it.optional and match(i + 1, j):
                return True
            if it.repeat:
                n = 0
                while (
                    j + n < len(words)
                    and n < high
                    and accepts(it, words[j + n])
                ):
                    n += 1
                    if n >= low and match(i + 1, j + n):
                        return True
                return False
            return (
                j < len(words) and accepts(it, words[j]) and match(i + 1, j + 1)
            )

        return match(0, 0)


def _t(name, text, weight, kind="command"):
    """Builds a template from a space-separated item string."""
    return Template(name, tuple(text.split()), float(weight), kind)


#: The sentence templates. Weights are percentages of sampled sentences:
#: the ``digits`` kind sums to 30, ``command`` to 46, ``phrase`` to 24.
TEMPLATES: tuple[Template, ...] = (
    # Connected digit strings (30 %).
    _t("digits", "<digit>+", 15, "digits"),
    _t("call_digits", "call <name>? <digit>+", 3, "digits"),
    _t("call_at", "call <name> at <digit>+", 3, "digits"),
    _t("my_number", "my number is <digit>+", 3, "digits"),
    _t("dial", "please? dial <digit>+", 3, "digits"),
    _t("code", "the code is <digit>+", 3, "digits"),
    # Commands (46 %).
    _t("lights", "please? turn <switch> the <room> lights", 3),
    _t("light_color", "change the <room>? lights to <color>", 2),
    _t("device", "please? <verb_device> the <device>", 3),
    _t("device_room", "turn <switch> the <device> in the <room>", 2),
    _t("doors", "<lock_verb> the <room> <opening>", 2),
    _t("volume", "turn the volume <direction> please?", 1),
    _t(
        "thermostat", "set the <room>? temperature to <tens> <ones>? degrees", 2
    ),
    _t("alarm", "set the alarm for <hour> <minute_word>?", 3),
    _t("timer", "set a timer for <teen> minutes", 2),
    _t("reminder", "remind me to <activity> at <hour>", 2),
    _t("meeting", "schedule a meeting with <name> on <month> <ordinal>", 3),
    _t("music", "play some? <genre> music in the <room>", 3),
    _t("weather", "what is the weather in <city> on <weekday>", 3),
    _t("time", "what time is it in <city>", 2),
    _t("call_relative", "call my <relative>", 2),
    _t("message", "send a message to <name>", 1),
    _t("navigate", "navigate to the nearest <place>", 2),
    _t("book", "book a <vehicle> to <city> on <weekday>", 2),
    _t("order", "i would like some <adjective>? <food> please?", 3),
    _t("drink", "make me a cup of <drink>", 2),
    _t("shopping", "add <food> to my shopping list", 1),
    # Short phrases (24 %).
    _t("greeting", "good <part_of_day> <name>?", 3, "phrase"),
    _t("thanks", "thank you very much", 2, "phrase"),
    _t("see_you", "see you on <weekday>", 2, "phrase"),
    _t("meet", "nice to meet you <name>?", 2, "phrase"),
    _t("how_are_you", "how are you today", 1, "phrase"),
    _t("feeling", "i feel <feeling> today", 2, "phrase"),
    _t("birthday", "happy birthday <name>?", 2, "phrase"),
    _t("wish", "have a <pleasant> <occasion>", 2, "phrase"),
    _t("forecast", "it looks like <weather> today", 2, "phrase"),
    _t("favorite", "my favorite color is <color>", 2, "phrase"),
    _t("welcome", "welcome to <city>", 2, "phrase"),
    _t("goodbye", "goodbye <name>?", 1, "phrase"),
    _t("sorry", "sorry i am late", 1, "phrase"),
)

_BY_NAME = {t.name: t for t in TEMPLATES}


def _validate():
    """Checks the grammar tables once, at import time."""
    if len(_BY_NAME) != len(TEMPLATES):
        raise ValueError("Template names must be unique")
    for cls, members in WORD_CLASSES.items():
        if not members or len(set(members)) != len(members):
            raise ValueError(f"Class {cls!r} is empty or has duplicates")
    for t in TEMPLATES:
        for cls in t.classes():
            if cls not in WORD_CLASSES:
                raise ValueError(f"{t.name}: unknown class <{cls}>")
        for word in t.words():
            if not _WORD_RE.fullmatch(word):
                raise ValueError(f"{t.name}: bad word {word!r}")


_validate()


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
