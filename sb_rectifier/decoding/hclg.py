"""Decoding graphs HCLG = H o C o L o G, built without Kaldi binaries.

The graph maps transition-id sequences (one per frame, the input labels)
to word sequences (the output labels), as Kaldi's ``utils/mkgraph.sh``
does, with kaldifst (OpenFst) for composition, determinisation and
minimisation:

* **H** (:func:`~sb_rectifier.kaldi.hmm_utils.make_h`): each phone's HMM
  from the transition model, self-loops included, with Kaldi's
  ``--transition-scale`` and ``--self-loop-scale``;
* **C** is the identity: only monophone models are supported;
* **L** (:func:`.lexicon_fst.make_l`): the lexicon with optional silence
  and disambiguation symbols;
* **G**: any grammar acceptor over the word table, e.g. a lang
  directory's ``G.fst`` (:func:`make_graph`), an ARPA model
  (:func:`.arpa.make_g_from_arpa`), or the grammar of the synthetic corpus
  (which writes its own ``G.fst``).

Disambiguation scheme (Kaldi's): the lexicon's ``#1 ... #n`` (prefix and
homophone pronunciations), a silence symbol ``#(n+1)`` and the G back-off
symbol ``#0`` are extra *phones* (ids above the real phones, or those of
``phones.txt`` if it lists them). L o G is determinised with them. H
passes each of them through on its own input label above the largest
transition-id (``num_transition_ids + 1 + k`` for the ``k``-th), so that
H o (L o G) can be determinised too; then these labels are replaced by
epsilon (by composing with a one-state relabelling transducer, since
kaldifst has no ``relabel``) and the result is minimised. The final HCLG
has only transition-ids ``1..N`` (and epsilon) as input labels.

The epsilons the disambiguation symbols leave are kept, as ``mkgraph.sh``
mostly keeps them (its ``fstrmepslocal`` removes only those it can
without growing the graph; kaldifst has no local removal). Removing them
all (``rmepsilon``) copies the arcs that an n-gram G's back-off state
leads to onto every state that reaches it: on a 2k-word, 50k-n-gram
graph, 6.0 M arcs instead of 1.1 M and twice the build time, for the same
decoding (docs/benchmarks.md, "Decoding at Switchboard scale").

Authors
 * sb_rectifier developers 2026
"""

import logging
import os
import time
from dataclasses import dataclass, field

import kaldifst as kf

from sb_rectifier.decoding.fst_io import (
    graph_size,
    read_graph,
    write_graph,
)
from sb_rectifier.decoding.lang import (
    is_disambig,
    lexicon_rows,
    read_lexicon,
    read_symbols,
    symbol_table,
    write_symbols,
)
from sb_rectifier.decoding.lexicon_fst import make_l
from sb_rectifier.kaldi.hmm_utils import make_h
from sb_rectifier.kaldi.transition_model import TransitionModel

logger = logging.getLogger(__name__)

__all__ = ["CompiledGraph", "compile_hclg", "make_graph"]


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

    ``LG = min(det(L o G))`` and ``HCLG = min(unmark(det(H o LG)))``
    in the log semiring (Kaldi's ``fstdeterminizestar --use-log=true``),
    with the disambiguation scheme of the module docstring.

    Arguments
    ---------
    model : TransitionModel or str or os.PathLike
        The (monophone) transition model or a ``final.mdl``.
    lexicon : str or os.PathLike or list of tuple
        ``lexicon.txt`` or rows (see :func:`.lexicon_fst.make_l`).
    phones : dict or str or os.PathLike
        Phone table; its ids must be the model's phone ids.
    words : dict or str or os.PathLike
        Word table of G's labels (with ``#0`` for an n-gram G, as
        :func:`.arpa.make_g_from_arpa` returns it).
    G : kaldifst.StdVectorFst
        The grammar (not modified).
    silence_phone : str or None
        Optional silence phone of L.
    silence_prob : float
        Optional silence probability of L.
    transition_scale : float
        See :func:`~sb_rectifier.kaldi.hmm_utils.make_h`.
    self_loop_scale : float
        See :func:`~sb_rectifier.kaldi.hmm_utils.make_h`.

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
    phone_ids = symbol_table(phones, "compile_hclg phones")
    word_ids = symbol_table(words, "compile_hclg words")
    for phone in model.phones:
        if phone not in phone_ids.values():
            raise ValueError(
                f"compile_hclg: phone id {phone} of the model is not in the "
                "phone table"
            )
    rows = lexicon_rows(lexicon)
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
    kf.minimize_encoded(HCLG)
    kf.arcsort(HCLG, sort_type="ilabel")
    sizes["HCLG"] = graph_size(HCLG)
    seconds = time.perf_counter() - t0
    return CompiledGraph(HCLG, word_ids, seconds, sizes)


def _read_lang_lexicon(lang_dir):
    """``lexicon.txt`` (or, without it, ``lexiconp.txt``) rows and path."""
    path = os.path.join(lang_dir, "lexicon.txt")
    if os.path.isfile(path):
        return read_lexicon(path, with_probs=True), path
    with_probs = os.path.join(lang_dir, "lexiconp.txt")
    if os.path.isfile(with_probs):
        rows = read_lexicon(with_probs, pron_probs=True, with_probs=True)
        return rows, with_probs
    raise FileNotFoundError(
        f"{path}: lexicon not found (nor lexiconp.txt): a lang directory "
        "needs phones.txt, words.txt, lexicon.txt and G.fst"
    )


def _read_lang_g(path, word_ids, words_path, pronounced):
    """``G.fst`` of a lang directory, its labels checked against words.txt."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path}: grammar not found: a lang directory needs G.fst next "
            "to phones.txt, words.txt and lexicon.txt (from an ARPA model: "
            "sb_rectifier.decoding.write_arpa_g, as Kaldi's format_lm.sh)"
        )
    G = read_graph(path, what="grammar")
    if G.start < 0 or G.num_states == 0:
        raise ValueError(f"{path}: empty FST (no start state)")
    known = set(word_ids.values())
    names = {i: w for w, i in word_ids.items()}
    unpronounced = set()
    for state in range(G.num_states):
        for arc in kf.ArcIterator(G, state):
            for label in (arc.ilabel, arc.olabel):
                if label not in known:
                    raise ValueError(
                        f"{path}: state {state}: arc label {label} is not "
                        f"an id of {words_path} (G.fst and words.txt do "
                        "not match)"
                    )
                word = names[label]
                if label and word not in pronounced and not is_disambig(word):
                    unpronounced.add(word)
    if unpronounced:
        shown = sorted(unpronounced)
        logger.info(
            f"{path}: {len(shown)} words of G have no pronunciation; "
            f"sentences with them are left out of HCLG: {shown[:10]}"
        )
    return G


def make_graph(
    lang_dir,
    model,
    out_dir=None,
    silence_phone="SIL",
    silence_prob=0.5,
    const=False,
    transition_scale=1.0,
    self_loop_scale=0.1,
):
    """HCLG of a Kaldi-style lang directory (Kaldi's ``utils/mkgraph.sh``).

    The lang directory holds ``phones.txt`` and ``words.txt`` (symbol
    tables), ``lexicon.txt`` (or ``lexiconp.txt``) and the grammar
    ``G.fst`` (an acceptor over the ids of ``words.txt``, with ``#0`` on
    back-off arcs if it is an n-gram model), whatever made them. Every
    label of G must be an id of ``words.txt``; words of G without a
    pronunciation are logged, and sentences with them cannot be decoded.

    Arguments
    ---------
    lang_dir : str or os.PathLike
        The lang directory.
    model : str or os.PathLike or TransitionModel
        ``final.mdl`` (e.g. ``exp/ali_train/final.mdl``) or the model.
    out_dir : str or os.PathLike, optional
        If given, ``HCLG.fst`` and ``words.txt`` are written there
        (atomically; the folder is made if needed).
    silence_phone : str or None
        Optional silence phone of L.
    silence_prob : float
        Optional silence probability of L.
    const : bool
        Write ``HCLG.fst`` in const form (as ``mkgraph.sh``).
    transition_scale : float
        See :func:`~sb_rectifier.kaldi.hmm_utils.make_h`.
    self_loop_scale : float
        See :func:`~sb_rectifier.kaldi.hmm_utils.make_h`.

    Returns
    -------
    CompiledGraph
        The graph.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file (and the line of a text file): a missing or
        malformed file of the lang directory, a label of G that is not in
        ``words.txt``, a lexicon word that is not in ``words.txt``, a
        phone that the model lacks.

    Example
    -------
    >>> from sb_rectifier.decoding.fst_io import write_graph
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> lang = getfixture("tmp_path")
    >>> _ = (lang / "phones.txt").write_text("<eps> 0\\nSIL 1\\nn 2\\noU 3\\n")
    >>> _ = (lang / "words.txt").write_text("<eps> 0\\nno 1\\noh 2\\n")
    >>> _ = (lang / "lexicon.txt").write_text("oh oU\\nno n oU\\n")
    >>> write_graph(kf.compile("0 0 1 1\\n0 0 2 2\\n0"), lang / "G.fst")
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    >>> graph = make_graph(lang, tm, out_dir=lang / "graph")
    >>> sorted(os.listdir(lang / "graph")), graph.id2word[2]
    (['HCLG.fst', 'words.txt'], 'oh')
    >>> (lang / "G.fst").unlink()
    >>> make_graph(lang, tm)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: .../G.fst: grammar not found: a lang directory needs G.fst ...
    """
    lang_dir = os.fspath(lang_dir)
    if not os.path.isdir(lang_dir):
        raise FileNotFoundError(f"{lang_dir}: lang directory not found")
    where = lang_dir
    if not isinstance(model, TransitionModel):
        where = f"{lang_dir} (model {os.fspath(model)})"
        model = TransitionModel.read(model)
    words_path = os.path.join(lang_dir, "words.txt")
    phones = read_symbols(os.path.join(lang_dir, "phones.txt"))
    words = read_symbols(words_path)
    lexicon, lexicon_path = _read_lang_lexicon(lang_dir)
    pronounced = {row[0] for row in lexicon}
    unknown = sorted(pronounced - set(words))
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ValueError(
            f"{lexicon_path}: words not in {words_path}: "
            f"{' '.join(unknown[:5])}{more}"
        )
    G = _read_lang_g(
        os.path.join(lang_dir, "G.fst"), words, words_path, pronounced
    )
    try:
        graph = compile_hclg(
            model,
            lexicon,
            phones,
            words,
            G,
            silence_phone=silence_phone,
            silence_prob=silence_prob,
            transition_scale=transition_scale,
            self_loop_scale=self_loop_scale,
        )
    except (ValueError, RuntimeError) as err:  # name the files
        raise type(err)(f"{where}: {err}") from None
    if out_dir is not None:
        out_dir = os.fspath(out_dir)
        os.makedirs(out_dir, exist_ok=True)
        write_graph(graph.hclg, os.path.join(out_dir, "HCLG.fst"), const=const)
        write_symbols(graph.word_ids, os.path.join(out_dir, "words.txt"))
    return graph
