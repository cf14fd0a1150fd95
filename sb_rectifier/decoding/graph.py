"""Decoding graphs HCLG = H o C o L o G, built without Kaldi binaries.

The graph maps transition-id sequences (one per frame, the input labels)
to word sequences (the output labels), as Kaldi's ``utils/mkgraph.sh``
does, with kaldifst (OpenFst) for composition, determinisation and
minimisation:

* **H** (:func:`make_h`): each phone's HMM from the transition model,
  following the phone's own topology (any Kaldi topology, not only the
  3-state left-to-right one); arcs carry transition-ids and the phone is
  emitted on the entry arc. HMM self-loops are part of H (Kaldi adds them
  after determinisation with ``add-self-loops``; here they are included
  from the start, which makes the graph slightly larger but keeps Kaldi's
  non-reordered topology: a state's self-loops come before its forward
  transition, as in :meth:`TransitionModel.alignment_from_durations`).
  Transition weights follow Kaldi's ``--transition-scale`` and
  ``--self-loop-scale`` (defaults 1.0 and 0.1, as ``mkgraph.sh``).
* **C** is the identity: only monophone models are supported.
* **L** (:func:`make_l`): the lexicon with optional silence between words
  and at both ends (Kaldi's ``make_lexicon_fst.py``), with disambiguation
  symbols (Kaldi's ``add_lex_disambig.pl``, see :mod:`.lang`).
* **G** (:func:`make_g_from_grammar`, :func:`make_g_from_arpa`): the
  embedded corpus grammar, or an ARPA n-gram model through ``kaldilm``.

Disambiguation scheme (Kaldi's): the lexicon's ``#1 ... #n`` (prefix and
homophone pronunciations), a silence symbol ``#(n+1)`` and the G back-off
symbol ``#0`` are extra *phones* (ids above the real phones, or those of
``phones.txt`` if it lists them). L o G is determinised with them. H
passes each of them through on its own input label above the largest
transition-id (``num_transition_ids + 1 + k`` for the ``k``-th), so that
H o (L o G) can be determinised too; then these labels are replaced by
epsilon (by composing with a one-state relabelling transducer, since
kaldifst has no ``relabel``), epsilons are removed and the result is
minimised. The final HCLG has only transition-ids ``1..N`` as input
labels.

Authors
 * sb_rectifier developers 2026
"""

import logging
import math
import os
import struct
import tempfile
import time
from dataclasses import dataclass, field

import kaldifst as kf

from sb_rectifier.corpus.grammar import TEMPLATES, WORD_CLASSES, parse_item
from sb_rectifier.decoding.lang import (
    EPSILON,
    add_lex_disambig,
    add_symbols,
    disambig_names,
    pron_cost,
    read_lexicon,
    read_symbols,
    write_symbols,
)
from sb_rectifier.kaldi.hmm_topology import NO_PDF
from sb_rectifier.kaldi.transition_model import TransitionModel

logger = logging.getLogger(__name__)

__all__ = [
    "CompiledGraph",
    "build_corpus_graph",
    "compile_hclg",
    "graph_size",
    "make_g_from_arpa",
    "make_g_from_grammar",
    "make_h",
    "make_l",
    "read_graph",
    "write_graph",
]

_FST_MAGIC = 2125659606
_G_MAX_STATES = 1_000_000


def _cost(prob):
    """``-log(prob)``; 0.0 for probability 1."""
    return -math.log(prob) if prob < 1.0 else 0.0


def graph_size(fst):
    """Number of states and arcs of an FST.

    Arguments
    ---------
    fst : kaldifst.StdVectorFst or kaldifst.StdConstFst
        The FST.

    Returns
    -------
    tuple of int
        ``(num_states, num_arcs)``.

    Example
    -------
    >>> fst = kf.compile("0 1 1 1\\n1 0 2 2\\n1")
    >>> graph_size(fst)
    (2, 2)
    """
    states = fst.num_states
    return states, sum(fst.num_arcs(s) for s in range(states))


def make_h(
    model, disambig_phones=(), transition_scale=1.0, self_loop_scale=0.1
):
    """The HMM transducer H: transition-ids in, phones out.

    One start (and final) state; for every phone, an ``<eps>:phone`` arc
    enters a copy of the phone's HMM whose arcs are its transition-ids
    (self-loops included); arcs into the HMM's final state return to the
    start. A non-emitting, non-final HMM state contributes epsilon arcs
    (rare in Kaldi topologies, but legal). Weights are Kaldi's: a
    self-loop costs ``-self_loop_scale * log p(loop)``, any other
    transition ``-(transition_scale * log(p / (1 - p(loop))) +
    self_loop_scale * log(1 - p(loop)))``, with the model's trained
    log-probabilities.

    Arguments
    ---------
    model : TransitionModel
        A monophone transition model (one transition state per phone and
        HMM state, i.e. C is the identity).
    disambig_phones : sequence of int
        Phone-side disambiguation symbol ids; the ``k``-th gets a
        self-loop ``(num_transition_ids + 1 + k):disambig_phones[k]`` on
        the start state.
    transition_scale : float
        Scale of the non-self-loop transition log-probabilities.
    self_loop_scale : float
        Scale of the self-loop log-probabilities.

    Returns
    -------
    kaldifst.StdVectorFst
        H.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> H = make_h(tm, disambig_phones=[3])
    >>> graph_size(H)
    (7, 15)
    >>> sorted(a.ilabel for a in kf.ArcIterator(H, H.start))
    [0, 0, 13]
    """
    tstates = {}
    for tstate, (phone, hmm_state, _fwd, _loop) in enumerate(model.tuples, 1):
        tstates.setdefault((phone, hmm_state), []).append(tstate)
    H = kf.StdVectorFst()
    start = H.add_state()
    H.start = start
    H.set_final(start, 0.0)
    for phone in model.phones:
        entry = model.topology.topology_for_phone(phone)
        final_index = len(entry) - 1
        states = [H.add_state() for _ in range(final_index)]

        def target(dest, states=states, final_index=final_index):
            return start if dest == final_index else states[dest]

        H.add_arc(start, kf.StdArc(0, phone, 0.0, target(0)))
        for index in range(final_index):
            hmm_state = entry[index]
            if hmm_state.forward_pdf_class == NO_PDF:
                for dest, prob in hmm_state.transitions:
                    cost = -transition_scale * math.log(prob)
                    H.add_arc(
                        states[index], kf.StdArc(0, 0, cost, target(dest))
                    )
                continue
            found = tstates.get((phone, index), [])
            if len(found) != 1:
                raise ValueError(
                    f"make_h: phone {phone}, HMM state {index} has "
                    f"{len(found)} transition states in the model; only "
                    "monophone models (one per phone and state) are supported"
                )
            tstate = found[0]
            first = int(model.tstate2first_tid[tstate])
            end = int(model.tstate2first_tid[tstate + 1])
            loop_tid = model.self_loop_of(tstate)
            non_loop = 0.0
            if loop_tid:
                p_loop = math.exp(float(model.log_probs[loop_tid]))
                if p_loop >= 1.0:
                    raise ValueError(
                        f"make_h: self-loop transition-id {loop_tid} has "
                        "probability 1"
                    )
                non_loop = math.log1p(-p_loop)
            for tid in range(first, end):
                log_prob = float(model.log_probs[tid])
                if tid == loop_tid:
                    cost = -self_loop_scale * log_prob
                else:
                    cost = -(
                        transition_scale * (log_prob - non_loop)
                        + self_loop_scale * non_loop
                    )
                dest = int(model.tid2dest[tid])
                H.add_arc(states[index], kf.StdArc(tid, 0, cost, target(dest)))
    first_disambig = model.num_transition_ids + 1
    for k, phone in enumerate(disambig_phones):
        H.add_arc(start, kf.StdArc(first_disambig + k, int(phone), 0.0, start))
    return H


def _lexicon_rows(lexicon):
    """Lexicon rows as ``(word, phones, prob)`` from a path or rows."""
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


def _table(symbols, what):
    """A symbol table from a dict or a file path."""
    if isinstance(symbols, (str, os.PathLike)):
        return read_symbols(symbols)
    if not isinstance(symbols, dict):
        raise TypeError(f"{what}: expected a dict or a path, got {symbols!r}")
    return dict(symbols)


def make_l(
    lexicon,
    phone_ids,
    word_ids,
    silence_phone="SIL",
    silence_prob=0.5,
    disambig=True,
    return_disambig=False,
):
    """The lexicon transducer L: phones in, words out.

    Kaldi's ``make_lexicon_fst.py`` with ``--sil-prob``: words leave and
    enter a loop state; after each word (and at the start) an optional
    silence phone is taken with probability ``silence_prob``. The word
    label is on a pronunciation's first arc; pronunciation probabilities
    (``lexiconp``) become costs. With ``disambig``, prefix and homophone
    pronunciations get ``#1 ... #n`` appended (:func:`.add_lex_disambig`),
    the silence arc is followed by ``#(n+1)`` (Kaldi's
    ``--sil-disambig``), and if ``word_ids`` has ``#0`` (G with back-off)
    the loop state gets the self-loop ``#0:#0`` (Kaldi's
    ``fstaddselfloops``).

    Arguments
    ---------
    lexicon : str or os.PathLike or list of tuple
        ``lexicon.txt``/``lexiconp.txt``, or ``(word, phones)`` /
        ``(word, phones, prob)`` rows.
    phone_ids : dict or str or os.PathLike
        Phone table (``phones.txt``). Disambiguation symbols ``#k`` that
        it lacks get ids above its largest id.
    word_ids : dict or str or os.PathLike
        Word table (``words.txt``).
    silence_phone : str or None
        The optional silence phone; None for no silence.
    silence_prob : float
        Probability of silence after a word and at the start, in [0, 1);
        0 means no optional silence.
    disambig : bool
        Add disambiguation symbols (needed to determinise L o G).
    return_disambig : bool
        Also return the ids of the phone-side disambiguation symbols.

    Returns
    -------
    L : kaldifst.StdVectorFst
        L, not sorted.
    disambig_phones : list of int
        Only if ``return_disambig``: ids of ``#0 ... #(n+1)``, what
        :func:`make_h` must pass through (empty without ``disambig``).

    Example
    -------
    >>> phones = {"<eps>": 0, "SIL": 1, "n": 2, "oU": 3}
    >>> words = {"<eps>": 0, "no": 1, "know": 2}
    >>> L, dis = make_l(
    ...     [("no", ["n", "oU"]), ("know", ["n", "oU"])],
    ...     phones,
    ...     words,
    ...     return_disambig=True,
    ... )
    >>> dis  # #0, #1, #2 (homophones), #3 (silence)
    [4, 5, 6, 7]
    >>> graph_size(L)
    (8, 12)
    """
    rows = _lexicon_rows(lexicon)
    phone_ids = _table(phone_ids, "make_l phone_ids")
    word_ids = _table(word_ids, "make_l word_ids")
    use_silence = silence_phone is not None and silence_prob > 0.0
    if not 0.0 <= silence_prob < 1.0:
        raise ValueError(f"make_l: silence_prob {silence_prob} not in [0, 1)")
    num_disambig = 0
    if disambig:
        rows, num_disambig = add_lex_disambig(rows)
        names = disambig_names(num_disambig + 1 + int(use_silence))
        phone_ids, disambig_phones = add_symbols(phone_ids, names)
    else:
        disambig_phones = []

    def phone_id(phone, word):
        pid = phone_ids.get(phone)
        if pid is None or pid == 0:
            raise ValueError(
                f"make_l: phone {phone!r} of word {word!r} is not in the "
                "phone table"
            )
        return pid

    def word_id(word):
        wid = word_ids.get(word)
        if wid is None or wid == 0:
            raise ValueError(f"make_l: word {word!r} is not in the word table")
        return wid

    L = kf.StdVectorFst()
    start = L.add_state()
    L.start = start
    if use_silence:
        loop = L.add_state()
        sil_state = L.add_state()
        no_sil_cost = _cost(1.0 - silence_prob)
        sil_cost = _cost(silence_prob)
        silence = phone_id(silence_phone, "<silence>")
        L.add_arc(start, kf.StdArc(0, 0, no_sil_cost, loop))
        L.add_arc(start, kf.StdArc(0, 0, sil_cost, sil_state))
        if disambig:
            after_sil = L.add_state()
            L.add_arc(sil_state, kf.StdArc(silence, 0, 0.0, after_sil))
            L.add_arc(after_sil, kf.StdArc(disambig_phones[-1], 0, 0.0, loop))
        else:
            L.add_arc(sil_state, kf.StdArc(silence, 0, 0.0, loop))
        ends = [(loop, no_sil_cost), (sil_state, sil_cost)]
    else:
        loop = start
        ends = [(loop, 0.0)]
    L.set_final(loop, 0.0)
    for word, phones, prob in rows:
        wid = word_id(word)
        ids = [phone_id(p, word) for p in phones]
        first_cost = pron_cost(prob)
        state = loop
        for i, pid in enumerate(ids[:-1]):
            nxt = L.add_state()
            olabel, cost = (wid, first_cost) if i == 0 else (0, 0.0)
            L.add_arc(state, kf.StdArc(pid, olabel, cost, nxt))
            state = nxt
        single = len(ids) == 1
        for dest, cost in ends:
            L.add_arc(
                state,
                kf.StdArc(
                    ids[-1],
                    wid if single else 0,
                    cost + (first_cost if single else 0.0),
                    dest,
                ),
            )
    if disambig and "#0" in word_ids:
        L.add_arc(
            loop, kf.StdArc(disambig_phones[0], word_ids["#0"], 0.0, loop)
        )
    if return_disambig:
        return L, disambig_phones
    return L


def make_g_from_grammar(
    templates,
    word_ids,
    weights=True,
    word_classes=None,
    repeat_prob=0.8,
    missing="error",
    optimize=True,
):
    """G for the embedded corpus grammar (:mod:`sb_rectifier.corpus.grammar`).

    The union of the templates, each entered with probability
    ``weight / sum of weights``; a class item is one arc per word of the
    class (uniform); an optional item can be skipped (probability 0.5,
    :data:`~sb_rectifier.corpus.grammar.OPTIONAL_PROB`); a repeated item
    (``<digit>+``) is one word then a loop that takes another word with
    probability ``repeat_prob``. The acceptor accepts exactly the word
    sequences that :func:`~sb_rectifier.corpus.grammar.template_of`
    matches with ``digit_range=None``.

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
    >>> t = Template("t", ("please?", "call", "<name>"))
    >>> words = {"<eps>": 0, "please": 1, "call": 2, "bob": 3, "emma": 4}
    >>> G = make_g_from_grammar(
    ...     [t], words, word_classes={"name": ("bob", "emma")}
    ... )
    >>> graph_size(G)
    (4, 5)
    """
    word_ids = _table(word_ids, "make_g_from_grammar word_ids")
    classes = WORD_CLASSES if word_classes is None else word_classes
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

    def ids_of(words, template):
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

    G = kf.StdVectorFst()
    start = G.add_state()
    G.start = start
    for template in templates:
        state = G.add_state()
        G.add_arc(start, kf.StdArc(0, 0, cost(template.weight / total), state))
        for item in (parse_item(i) for i in template.items):
            if item.is_class:
                if item.symbol not in classes:
                    raise ValueError(
                        f"make_g_from_grammar: template {template.name!r} "
                        f"uses unknown class <{item.symbol}>"
                    )
                ids = ids_of(classes[item.symbol], template)
            else:
                ids = ids_of([item.symbol], template)
            take = 0.5 if item.optional else 1.0
            nxt = G.add_state()
            if item.repeat:
                inner = G.add_state()
                for wid in ids:
                    first = cost(take / len(ids))
                    again = cost(repeat_prob / len(ids))
                    G.add_arc(state, kf.StdArc(wid, wid, first, inner))
                    G.add_arc(inner, kf.StdArc(wid, wid, again, inner))
                G.add_arc(inner, kf.StdArc(0, 0, cost(1.0 - repeat_prob), nxt))
            else:
                for wid in ids:
                    G.add_arc(
                        state, kf.StdArc(wid, wid, cost(take / len(ids)), nxt)
                    )
            if item.optional:
                G.add_arc(state, kf.StdArc(0, 0, cost(0.5), nxt))
            state = nxt
        G.set_final(state, 0.0)
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


def _float(text):
    """True if ``text`` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_arpa(path):
    """Checks an ARPA file as Kaldi's parser does; returns its 1-gram words.

    kaldilm aborts the whole process on a malformed file, so the checks
    that its parser makes are repeated here first, with a ValueError
    naming the file and the line.
    """
    counts, seen, words = {}, {}, []
    order, state = 0, "start"
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            where = f"{path}: line {number}"
            if not line:
                continue
            if state == "start":
                if line == "\\data\\":
                    state = "data"
                continue
            if line == "\\end\\":
                state = "end"
                break
            if state == "data" and line.startswith("ngram "):
                key, _, value = line[6:].partition("=")
                if not (key.strip().isdigit() and value.strip().isdigit()):
                    raise ValueError(f"{where}: bad count line {line!r}")
                counts[int(key)] = int(value)
                continue
            if line.startswith("\\") and line.endswith("-grams:"):
                order = int(line[1:-7]) if line[1:-7].isdigit() else -1
                if order != len(seen) + 1 or order not in counts:
                    raise ValueError(f"{where}: unexpected section {line!r}")
                seen[order] = 0
                state = "ngrams"
                continue
            if state != "ngrams":
                raise ValueError(f"{where}: unexpected line {line!r}")
            cols = line.split()
            top = order == max(counts)
            ok = len(cols) == order + 1 or (
                not top and len(cols) == order + 2 and _float(cols[-1])
            )
            if not ok or not _float(cols[0]):
                raise ValueError(
                    f"{where}: invalid {order}-gram line {line!r} (expected "
                    f"'logprob w1 .. w{order}'"
                    + ("" if top else " [backoff]")
                    + ")"
                )
            seen[order] += 1
            if order == 1:
                words.append(cols[1])
    if state != "end":
        raise ValueError(f"{path}: not a complete ARPA file (no \\end\\)")
    if not counts or seen != counts:
        raise ValueError(
            f"{path}: n-gram counts {seen} differ from the header {counts}"
        )
    return words


def make_g_from_arpa(
    arpa_path,
    words,
    disambig_symbol="#0",
    bos="<s>",
    eos="</s>",
    oov="error",
    max_order=-1,
):
    """G from an ARPA n-gram model, with ``kaldilm.arpa2fst``.

    As Kaldi's ``arpa2fst --disambig-symbol=#0 --read-symbol-table``:
    back-off arcs get the input label ``#0`` (output epsilon), ``<s>`` and
    ``</s>`` become epsilons and final weights. The word table is
    extended with ``#0``, ``<s>`` and ``</s>`` if it lacks them (ids above
    its largest id, as Kaldi's ``words.txt``); pass the returned table on
    to :func:`compile_hclg` so that L gets its ``#0`` self-loop.

    Arguments
    ---------
    arpa_path : str or os.PathLike
        The ARPA file.
    words : dict or str or os.PathLike
        Word table (``words.txt``).
    disambig_symbol : str
        Back-off disambiguation symbol.
    bos : str
        Sentence-start symbol of the ARPA file.
    eos : str
        Sentence-end symbol of the ARPA file.
    oov : str
        ``"error"``: raise if the ARPA file has words not in the table;
        ``"skip"``: drop their n-grams (kaldilm warns).
    max_order : int
        Use n-grams up to this order (-1: all).

    Returns
    -------
    G : kaldifst.StdVectorFst
        G, input-label sorted.
    word_ids : dict
        The (extended) word table.

    Example
    -------
    >>> path = getfixture("tmpdir") / "lm.arpa"
    >>> _ = open(path, "w").write(
    ...     "\\\\data\\\\\\nngram 1=3\\n\\n\\\\1-grams:\\n"
    ...     "-1 <s>\\n-0.5 </s>\\n-0.3 yes\\n\\n\\\\end\\\\\\n"
    ... )
    >>> G, table = make_g_from_arpa(path, {"<eps>": 0, "yes": 1})
    >>> table
    {'<eps>': 0, 'yes': 1, '#0': 2, '<s>': 3, '</s>': 4}
    >>> graph_size(G)
    (1, 1)
    """
    import kaldilm

    arpa_path = os.fspath(arpa_path)
    if not os.path.isfile(arpa_path):
        raise FileNotFoundError(f"{arpa_path}: ARPA file not found")
    table, _ = add_symbols(
        _table(words, "make_g_from_arpa words"), [disambig_symbol, bos, eos]
    )
    unknown = [w for w in _check_arpa(arpa_path) if w not in table]
    if unknown and oov == "error":
        raise ValueError(
            f"{arpa_path}: {len(unknown)} words not in the word table, e.g. "
            f"{unknown[:5]}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        symbols = os.path.join(tmp, "words.txt")
        write_symbols(table, symbols)
        text = kaldilm.arpa2fst(
            arpa_path,
            disambig_symbol=disambig_symbol,
            bos_symbol=bos,
            eos_symbol=eos,
            read_symbol_table=symbols,
            max_arpa_warnings=-1 if oov == "skip" else 30,
            max_order=max_order,
        )
    if not text.strip():
        raise ValueError(f"{arpa_path}: kaldilm produced an empty G")
    G = kf.compile(text)
    kf.arcsort(G, sort_type="ilabel")
    return G, table


def _remove_input_labels(fst, keep_max, labels):
    """Replaces the input labels ``labels`` of ``fst`` by epsilon.

    kaldifst has no ``relabel``: compose with a one-state transducer that
    copies ``1..keep_max`` and maps epsilon to each removed label.
    """
    R = kf.StdVectorFst()
    s = R.add_state()
    R.start = s
    R.set_final(s, 0.0)
    for label in range(1, keep_max + 1):
        R.add_arc(s, kf.StdArc(label, label, 0.0, s))
    for label in labels:
        R.add_arc(s, kf.StdArc(0, label, 0.0, s))
    kf.arcsort(R, sort_type="olabel")
    kf.arcsort(fst, sort_type="ilabel")
    return kf.compose(R, fst)


def _determinize(fst, what):
    """Kaldi's ``fstdeterminizestar --use-log=true``, with context on error."""
    try:
        kf.determinize_star(fst, use_log=True)
    except RuntimeError as err:
        raise RuntimeError(
            f"compile_hclg: {what} is not determinisable (missing "
            f"disambiguation symbols?): {str(err).strip().splitlines()[-1]}"
        ) from err


@dataclass
class CompiledGraph:
    """A compiled HCLG and what came with it.

    Arguments
    ---------
    hclg : kaldifst.StdVectorFst
        The graph: transition-id inputs, word outputs.
    word_ids : dict
        The word table of the output labels.
    compile_seconds : float
        Wall-clock time of the compilation.
    sizes : dict
        ``name -> (states, arcs)`` of L, G, LG, H and HCLG.

    Example
    -------
    >>> CompiledGraph(kf.StdVectorFst(), {"<eps>": 0}, 0.0).num_states
    0
    """

    hclg: object
    word_ids: dict
    compile_seconds: float
    sizes: dict = field(default_factory=dict)

    @property
    def num_states(self):
        """Number of states of HCLG."""
        return self.hclg.num_states

    @property
    def num_arcs(self):
        """Number of arcs of HCLG."""
        return graph_size(self.hclg)[1]

    @property
    def id2word(self):
        """Output label -> word.

        Example
        -------
        >>> CompiledGraph(None, {"<eps>": 0, "a": 1}, 0.0).id2word
        {0: '<eps>', 1: 'a'}
        """
        return {v: k for k, v in self.word_ids.items()}


def compile_hclg(
    model,
    lexicon,
    phones,
    words,
    G,
    silence_phone="SIL",
    silence_prob=0.5,
    transition_scale=1.0,
    self_loop_scale=0.1,
):
    """Compiles HCLG: determinised, minimised, transition-id inputs.

    ``LG = min(det(L o G))`` and ``HCLG = min(rmeps(unmark(det(H o LG))))``
    in the log semiring (Kaldi's ``fstdeterminizestar --use-log=true``),
    with the disambiguation scheme of the module docstring.

    Arguments
    ---------
    model : TransitionModel or str or os.PathLike
        The (monophone) transition model or a ``final.mdl``.
    lexicon : str or os.PathLike or list of tuple
        ``lexicon.txt`` or rows (see :func:`make_l`).
    phones : dict or str or os.PathLike
        Phone table; its ids must be the model's phone ids.
    words : dict or str or os.PathLike
        Word table of G's labels (with ``#0`` for an n-gram G, as
        :func:`make_g_from_arpa` returns it).
    G : kaldifst.StdVectorFst
        The grammar (not modified).
    silence_phone : str or None
        Optional silence phone of L.
    silence_prob : float
        Optional silence probability of L.
    transition_scale : float
        See :func:`make_h`.
    self_loop_scale : float
        See :func:`make_h`.

    Returns
    -------
    CompiledGraph
        HCLG, the word table, the compile time and the sizes.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    >>> phones = {"<eps>": 0, "SIL": 1, "n": 2, "oU": 3}
    >>> words = {"<eps>": 0, "no": 1, "know": 2}
    >>> G = kf.compile("0 0 1 1\\n0 0 2 2\\n0")
    >>> lex = [("no", ["n", "oU"]), ("know", ["n", "oU"])]
    >>> graph = compile_hclg(tm, lex, phones, words, G)
    >>> graph.num_states > 0, graph.sizes["HCLG"] == graph_size(graph.hclg)
    (True, True)
    """
    t0 = time.perf_counter()
    if not isinstance(model, TransitionModel):
        model = TransitionModel.read(model)
    phone_ids = _table(phones, "compile_hclg phones")
    word_ids = _table(words, "compile_hclg words")
    for phone in model.phones:
        if phone not in phone_ids.values():
            raise ValueError(
                f"compile_hclg: phone id {phone} of the model is not in the "
                "phone table"
            )
    rows = _lexicon_rows(lexicon)
    model_phones = set(model.phones)
    for word, pron, _prob in rows:
        for phone in pron:
            if phone in phone_ids and phone_ids[phone] not in model_phones:
                raise ValueError(
                    f"compile_hclg: phone {phone!r} (id {phone_ids[phone]}) "
                    f"of word {word!r} is not a phone of the model"
                )
    sizes = {}
    L, disambig_phones = make_l(
        rows,
        phone_ids,
        word_ids,
        silence_phone=silence_phone,
        silence_prob=silence_prob,
        return_disambig=True,
    )
    sizes["L"] = graph_size(L)
    G = kf.StdVectorFst(G)
    sizes["G"] = graph_size(G)
    kf.arcsort(L, sort_type="olabel")
    kf.arcsort(G, sort_type="ilabel")
    LG = kf.compose(L, G)
    if LG.num_states == 0:
        raise ValueError(
            "compile_hclg: L o G is empty (no sentence of G has "
            "pronunciations for all its words)"
        )
    _determinize(LG, "L o G")
    kf.minimize_encoded(LG)
    kf.arcsort(LG, sort_type="ilabel")
    sizes["LG"] = graph_size(LG)
    H = make_h(model, disambig_phones, transition_scale, self_loop_scale)
    sizes["H"] = graph_size(H)
    kf.arcsort(H, sort_type="olabel")
    HLG = kf.compose(H, LG)
    _determinize(HLG, "H o L o G")
    num_tids = model.num_transition_ids
    disambig_tids = range(num_tids + 1, num_tids + 1 + len(disambig_phones))
    HCLG = _remove_input_labels(HLG, num_tids, disambig_tids)
    kf.rmepsilon(HCLG)
    kf.minimize_encoded(HCLG)
    kf.arcsort(HCLG, sort_type="ilabel")
    sizes["HCLG"] = graph_size(HCLG)
    seconds = time.perf_counter() - t0
    return CompiledGraph(HCLG, word_ids, seconds, sizes)


def _read_header(path):
    """``(fst_type, arc_type)`` from an OpenFst binary header."""

    def read_string(f):
        (n,) = struct.unpack("<i", f.read(4))
        if not 0 <= n < 256:
            raise ValueError
        return f.read(n).decode("ascii")

    try:
        with open(path, "rb") as f:
            (magic,) = struct.unpack("<i", f.read(4))
            if magic != _FST_MAGIC:
                raise ValueError
            return read_string(f), read_string(f)
    except (ValueError, struct.error, UnicodeDecodeError):
        raise ValueError(f"{path}: not an OpenFst binary FST") from None


def check_graph_file(path):
    """Checks that a decoding graph exists and is an FST the decoder reads.

    Reads only the OpenFst header (the graph itself may be large); a
    truncated graph is reported when it is read.

    Arguments
    ---------
    path : str or os.PathLike
        ``HCLG.fst``.

    Returns
    -------
    str
        The FST type: ``"vector"`` or ``"const"``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file: missing, not an OpenFst binary FST, not a vector
        or const FST with standard (tropical) arcs.

    Example
    -------
    >>> path = getfixture("tmp_path") / "HCLG.fst"
    >>> _ = path.write_text("<eps> 0\\n")
    >>> check_graph_file(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../HCLG.fst: not an OpenFst binary FST
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: graph not found")
    fst_type, arc_type = _read_header(path)
    if arc_type != "standard":
        raise ValueError(
            f"{path}: arc type {arc_type!r}, expected 'standard' (tropical)"
        )
    if fst_type not in ("vector", "const"):
        raise ValueError(
            f"{path}: FST type {fst_type!r} is not vector or const"
        )
    return fst_type


def read_graph(path, vector=True):
    """Reads a decoding graph (e.g. Kaldi's ``HCLG.fst``).

    Arguments
    ---------
    path : str or os.PathLike
        An OpenFst binary FST with standard (tropical) arcs, in ``vector``
        or ``const`` form (Kaldi's ``mkgraph.sh`` writes ``const``).
    vector : bool
        True (default): always return a (mutable) StdVectorFst, converting
        a const FST. False: return the file's form (a const FST is
        smaller in memory and the decoders take it as it is).

    Returns
    -------
    kaldifst.StdVectorFst or kaldifst.StdConstFst
        The graph.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "HCLG.fst")
    >>> write_graph(kf.compile("0 1 5 7\\n1"), path, const=True)
    >>> type(read_graph(path)).__name__
    'StdVectorFst'
    >>> type(read_graph(path, vector=False)).__name__
    'StdConstFst'
    """
    path = os.fspath(path)
    if check_graph_file(path) == "vector":
        fst = kf.StdVectorFst.read(path)
    else:
        fst = kf.StdConstFst.read(path)
    if fst is None:
        raise ValueError(f"{path}: could not read the FST")
    if vector and not isinstance(fst, kf.StdVectorFst):
        fst = kf.StdVectorFst(fst)
    return fst


def write_graph(fst, path, const=False):
    """Writes a graph atomically (temporary file, then rename).

    Arguments
    ---------
    fst : kaldifst.StdVectorFst or kaldifst.StdConstFst
        The graph.
    path : str or os.PathLike
        The file.
    const : bool
        Write the ``const`` form (smaller, faster to load; what Kaldi's
        ``mkgraph.sh`` writes) instead of ``vector``.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "G.fst")
    >>> write_graph(kf.compile("0 1 5 7\\n1"), path)
    >>> read_graph(path).num_states
    2
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{path}: folder {folder} does not exist")
    if const:
        out = fst if isinstance(fst, kf.StdConstFst) else kf.StdConstFst(fst)
    else:
        out = fst if isinstance(fst, kf.StdVectorFst) else kf.StdVectorFst(fst)
    fd, tmp = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder
    )
    os.close(fd)
    try:
        if not out.write(tmp):
            raise OSError(f"{path}: writing the FST failed")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def build_corpus_graph(
    lang_dir,
    model_path,
    out_dir=None,
    templates=TEMPLATES,
    silence_phone="SIL",
    silence_prob=0.5,
    const=False,
):
    """HCLG of the embedded corpus: its ``data/lang`` and its grammar.

    G is :func:`make_g_from_grammar` over the words of ``words.txt`` that
    have a pronunciation in ``lexicon.txt`` (a small corpus lists only
    the words of its sampled sentences; the rest of the grammar is left
    out).

    Arguments
    ---------
    lang_dir : str or os.PathLike
        The ``data/lang`` folder (``phones.txt``, ``words.txt``,
        ``lexicon.txt``).
    model_path : str or os.PathLike or TransitionModel
        ``final.mdl`` (e.g. ``exp/ali_train/final.mdl``) or the model.
    out_dir : str or os.PathLike, optional
        If given, ``HCLG.fst`` and ``words.txt`` are written there.
    templates : sequence of Template
        The grammar.
    silence_phone : str
        Optional silence phone.
    silence_prob : float
        Optional silence probability.
    const : bool
        Write ``HCLG.fst`` in const form.

    Returns
    -------
    CompiledGraph
        The graph.

    Example
    -------
    >>> import numpy as np
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> lang = getfixture("tmpdir")
    >>> _ = open(lang / "phones.txt", "w").write(
    ...     "<eps> 0\\nSIL 1\\nn 2\\noU 3\\n"
    ... )
    >>> _ = open(lang / "words.txt", "w").write("<eps> 0\\nno 1\\noh 2\\n")
    >>> _ = open(lang / "lexicon.txt", "w").write("oh oU\\nno n oU\\n")
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    >>> graph = build_corpus_graph(lang, tm, out_dir=lang / "graph")
    >>> sorted(os.listdir(lang / "graph")), graph.id2word[2]
    (['HCLG.fst', 'words.txt'], 'oh')
    """
    lang_dir = os.fspath(lang_dir)
    phones = read_symbols(os.path.join(lang_dir, "phones.txt"))
    words = read_symbols(os.path.join(lang_dir, "words.txt"))
    lexicon = read_lexicon(os.path.join(lang_dir, "lexicon.txt"))
    pronounced = {row[0] for row in lexicon}
    unknown = sorted(pronounced - set(words))
    if unknown:
        raise ValueError(
            f"{lang_dir}: lexicon words not in words.txt: {unknown[:5]}"
        )
    usable = {w: i for w, i in words.items() if w in pronounced}
    usable[EPSILON] = 0
    without = sorted(set(words) - pronounced - {EPSILON})
    if without:
        logger.info(
            f"{lang_dir}: {len(without)} words without pronunciation are "
            f"left out of G: {without[:10]}"
        )
    G = make_g_from_grammar(templates, usable, missing="skip")
    graph = compile_hclg(
        model_path,
        lexicon,
        phones,
        words,
        G,
        silence_phone=silence_phone,
        silence_prob=silence_prob,
    )
    if out_dir is not None:
        out_dir = os.fspath(out_dir)
        os.makedirs(out_dir, exist_ok=True)
        write_graph(graph.hclg, os.path.join(out_dir, "HCLG.fst"), const=const)
        write_symbols(graph.word_ids, os.path.join(out_dir, "words.txt"))
    return graph
