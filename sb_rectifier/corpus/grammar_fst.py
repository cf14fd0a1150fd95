"""G, the grammar FST of the synthetic corpus, and its ``data/lang/G.fst``.

:func:`make_g_from_grammar` copies the templates' automata
(:meth:`.grammar.Template.automaton`, any length for a repeated item)
into one weighted acceptor over word ids; :func:`write_grammar_g` writes
it into a corpus's ``data/lang`` (which make-corpus does), so that the
folder is a complete Kaldi lang directory (``phones.txt``, ``words.txt``,
``lexicon.txt``, ``G.fst``) that :func:`sb_rectifier.decoding.make_graph`
compiles like any other.

Authors
 * sb_rectifier developers 2026
"""

import logging
import math
import os

import kaldifst as kf

from sb_rectifier.corpus.grammar import REPEAT_PROB, TEMPLATES
from sb_rectifier.decoding.fst_io import write_graph
from sb_rectifier.decoding.lang import (
    EPSILON,
    read_lexicon,
    read_symbols,
    symbol_table,
)

logger = logging.getLogger(__name__)

__all__ = ["make_g_from_grammar", "write_grammar_g"]

_G_MAX_STATES = 1_000_000


def _cost(prob):
    """``-log(prob)``; 0.0 for probability 1."""
    return -math.log(prob) if prob < 1.0 else 0.0


def _add_template(G, start, automaton, weight_cost, ids_of, cost):
    """Copies one template's automaton into G, entered from ``start``."""
    states = [G.add_state() for _ in range(automaton.num_states)]
    G.add_arc(start, kf.StdArc(0, 0, weight_cost, states[0]))
    for state, out in enumerate(automaton.arcs):
        for arc in out:
            dest = states[arc.dest]
            if not arc.words:
                G.add_arc(states[state], kf.StdArc(0, 0, cost(arc.prob), dest))
                continue
            ids = ids_of(arc.words)
            for wid in ids:
                arc_cost = cost(arc.prob / len(ids))
                G.add_arc(states[state], kf.StdArc(wid, wid, arc_cost, dest))
    G.set_final(states[automaton.final], 0.0)


def make_g_from_grammar(
    templates,
    word_ids,
    weights=True,
    word_classes=None,
    repeat_prob=REPEAT_PROB,
    missing="error",
    optimize=True,
):
    """G for the corpus grammar (:mod:`sb_rectifier.corpus.grammar`).

    The union of the templates' automata (:meth:`.Template.automaton`
    with ``digit_range=None``), each entered with probability
    ``weight / sum of weights``; a class item is one arc per word of the
    class (uniform); an optional item can be skipped (probability 0.5,
    :data:`~sb_rectifier.corpus.grammar.OPTIONAL_PROB`); a repeated item
    (``<digit>+``) is one word then a loop that takes another word with
    probability ``repeat_prob``. The acceptor accepts exactly the word
    sequences that :func:`~sb_rectifier.corpus.grammar.template_of`
    matches with ``digit_range=None`` (the same automata).

    Arguments
    ---------
    templates : sequence of Template
        The templates, e.g. :data:`~sb_rectifier.corpus.grammar.TEMPLATES`.
    word_ids : dict or str or os.PathLike
        Word table.
    weights : bool
        Weighted (probabilities as above) or all-zero costs.
    word_classes : dict, optional
        Class name -> words; default
        :data:`~sb_rectifier.corpus.grammar.WORD_CLASSES`.
    repeat_prob : float
        Probability of one more word in a repeated item, in (0, 1).
    missing : str
        ``"error"``: a grammar word absent from ``word_ids`` raises;
        ``"skip"``: such words are left out (class probabilities are
        uniform over the remaining words; paths that cannot be completed
        are removed), e.g. for a corpus whose word list covers only the
        sampled sentences.
    optimize : bool
        Determinise (log semiring, epsilons removed) and minimise G.

    Returns
    -------
    kaldifst.StdVectorFst
        G, an acceptor, input-label sorted.

    Example
    -------
    >>> from sb_rectifier.corpus.grammar import Template
    >>> from sb_rectifier.decoding.fst_io import graph_size
    >>> t = Template("t", ("please?", "call", "<name>"))
    >>> words = {"<eps>": 0, "please": 1, "call": 2, "bob": 3, "emma": 4}
    >>> G = make_g_from_grammar(
    ...     [t], words, word_classes={"name": ("bob", "emma")}
    ... )
    >>> graph_size(G)
    (4, 5)
    """
    word_ids = symbol_table(word_ids, "make_g_from_grammar word_ids")
    if missing not in ("error", "skip"):
        raise ValueError(f"make_g_from_grammar: bad missing={missing!r}")
    if not 0.0 < repeat_prob < 1.0:
        raise ValueError(f"make_g_from_grammar: repeat_prob {repeat_prob}")
    templates = list(templates)
    if not templates:
        raise ValueError("make_g_from_grammar: no templates")
    total = sum(t.weight for t in templates)

    def cost(prob):
        return _cost(prob) if weights else 0.0

    G = kf.StdVectorFst()
    start = G.add_state()
    G.start = start
    for template in templates:
        try:
            automaton = template.automaton(None, word_classes, repeat_prob)
        except ValueError as err:
            raise ValueError(f"make_g_from_grammar: {err}") from None

        def ids_of(words, template=template):
            ids = []
            for word in words:
                wid = word_ids.get(word)
                if wid is None or wid == 0:
                    if missing == "error":
                        raise ValueError(
                            f"make_g_from_grammar: word {word!r} of template "
                            f"{template.name!r} is not in the word table"
                        )
                    continue
                ids.append(wid)
            return ids

        weight_cost = cost(template.weight / total)
        _add_template(G, start, automaton, weight_cost, ids_of, cost)
    kf.connect(G)
    if G.num_states == 0:
        raise ValueError("make_g_from_grammar: G accepts no sentence")
    if optimize:
        det = kf.StdVectorFst(G)
        stopped = kf.determinize_star(
            det, max_states=_G_MAX_STATES, use_log=True
        )
        if stopped:
            logger.warning(
                "make_g_from_grammar: G is too large to determinise; "
                "keeping it non-deterministic"
            )
            kf.rmepsilon(G)
        else:
            kf.minimize_encoded(det)
            G = det
    kf.arcsort(G, sort_type="ilabel")
    return G


def write_grammar_g(lang_dir, templates=TEMPLATES, overwrite=False):
    """Writes ``G.fst`` of the corpus grammar into a lang directory.

    G is :func:`make_g_from_grammar` over the words of ``words.txt`` that
    have a pronunciation in ``lexicon.txt`` (a small corpus lists only
    the words of its sampled sentences, and eSpeak may give some of them
    no pronunciation; the rest of the grammar is left out, class
    probabilities spread over the words kept). make-corpus writes it; a
    corpus made before G.fst was part of it gets it from this function.
    The file is written atomically, so processes that add it at the same
    time leave one complete file.

    Arguments
    ---------
    lang_dir : str or os.PathLike
        The corpus's ``data/lang`` (``words.txt``, ``lexicon.txt``).
    templates : sequence of Template
        The grammar.
    overwrite : bool
        Write even if ``G.fst`` exists (by default an existing one is
        kept).

    Returns
    -------
    str
        The path of ``G.fst``.

    Example
    -------
    >>> from sb_rectifier.decoding.fst_io import read_graph
    >>> lang = getfixture("tmp_path")
    >>> _ = (lang / "words.txt").write_text("<eps> 0\\nno 1\\noh 2\\nsix 3\\n")
    >>> _ = (lang / "lexicon.txt").write_text("oh oU\\nno n oU\\n")
    >>> path = write_grammar_g(lang)
    >>> G = read_graph(path)  # only "oh": "six" has no pronunciation
    >>> {a.ilabel for s in range(G.num_states) for a in kf.ArcIterator(G, s)}
    {2}
    """
    lang_dir = os.fspath(lang_dir)
    path = os.path.join(lang_dir, "G.fst")
    if os.path.isfile(path) and not overwrite:
        return path
    words = read_symbols(os.path.join(lang_dir, "words.txt"))
    lexicon = read_lexicon(os.path.join(lang_dir, "lexicon.txt"))
    pronounced = {row[0] for row in lexicon}
    usable = {w: i for w, i in words.items() if w in pronounced}
    usable[EPSILON] = 0
    without = sorted(set(words) - pronounced - {EPSILON})
    if without:
        logger.info(
            f"{lang_dir}: {len(without)} words without pronunciation are "
            f"left out of G: {without[:10]}"
        )
    G = make_g_from_grammar(templates, usable, missing="skip")
    write_graph(G, path)
    return path
