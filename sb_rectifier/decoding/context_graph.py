"""HCLG for context-dependent models: Kaldi's ``utils/mkgraph.sh`` in-process.

The graph of a Kaldi model with a phonetic-context decision tree
(triphones, or monophones as the special case ``N = 1``), built as
``mkgraph.sh`` does, with kaldifst (OpenFst, Kaldi's FST extensions) and
kaldi-hmm-gmm (Kaldi's HMM code, "khg"):

1. ``LG = min_encoded(det_log(L_disambig o G))``;
2. ``CLG, ilabels = compose_context(disambig phones, N, P, LG)``
   (Kaldi's ``fstcomposecontext``: input labels are indexes into
   ``ilabels``, the phone windows);
3. ``Ha, disambig_tids = get_h_transducer(ilabels, tree, model)`` (Kaldi's
   ``make-h-transducer``, transition scale 1, no self-loops);
4. ``HCLGa = min_encoded(rmeps(remove disambig_tids(det_log(Ha o CLG))))``;
5. ``HCLG = add_self_loops(HCLGa, self_loop_scale, reorder=True)`` (Kaldi's
   ``add-self-loops``).

The inputs are a Kaldi lang directory (``phones.txt``, ``words.txt``,
``L_disambig.fst`` and ``phones/disambig.int``, or a ``lexicon.txt`` from
which L is made with :func:`.lexicon_fst.make_l`; ``G.fst``) and a model
directory (``final.mdl``, text or binary, GMM parameters after it are not
read; ``tree``, Kaldi's binary ``ContextDependency``; without ``tree`` the
model must be a monophone model, and its tree is made from its
transition model). G may also come from an ARPA file or be a word loop.
The output folder is Kaldi's graph directory (:func:`make_context_graph`).

Trees are read with :func:`sb_rectifier.gmm.tree.read_tree` (binary or
text, the files ``train-gmm`` writes and Kaldi's).

Authors
 * sb_rectifier developers 2026
"""

import hashlib
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass, field

import kaldi_hmm_gmm as khg
import kaldifst as kf

from sb_rectifier.decoding.arpa import make_g_from_arpa
from sb_rectifier.decoding.fst_io import graph_size, read_graph, write_graph
from sb_rectifier.decoding.hclg import (
    _determinize,
    _read_lang_g,
    _read_lang_lexicon,
    _remove_input_labels,
)
from sb_rectifier.decoding.lang import (
    add_symbols,
    disambig_names,
    is_disambig,
    read_symbols,
    write_symbols,
)
from sb_rectifier.decoding.lexicon_fst import make_l
from sb_rectifier.files import (
    atomic_folder,
    iter_text_lines,
    read_json,
    write_json,
    write_text,
)
from sb_rectifier.gmm.model import khg_transition_model
from sb_rectifier.gmm.tree import read_tree, tree_to_context_dependency
from sb_rectifier.kaldi.hmm_topology import NO_PDF
from sb_rectifier.kaldi.transition_model import TransitionModel

logger = logging.getLogger(__name__)

__all__ = [
    "ContextGraph",
    "PDF_CLASS_KEY",
    "build_context_graph",
    "check_tree",
    "compile_context_hclg",
    "make_context_graph",
    "monophone_tree",
    "word_loop_g",
]

#: The event key of the pdf class in a tree's event map (Kaldi's kPdfClass).
PDF_CLASS_KEY = -1

INFO_FILE = "make_graph.json"
GRAPH_FILES = (
    "HCLG.fst",
    "words.txt",
    "phones.txt",
    "num_pdfs",
    "disambig_tid.int",
    "phones/disambig.int",
)
# Copied from LANG_DIR/phones/ when present (Kaldi's mkgraph.sh).
PHONES_FILES = (
    "word_boundary.int",
    "word_boundary.txt",
    "align_lexicon.int",
    "align_lexicon.txt",
    "silence.csl",
    "optional_silence.csl",
    "optional_silence.int",
)


# --------------------------------------------------------------- trees


def monophone_tree(model):
    """The monophone tree (``N = 1``) of a monophone transition model.

    Each ``(phone, pdf class)`` maps to the pdf of the model's tuples, so
    models with shared pdfs (Kaldi's ``--shared-phones``) work too.

    Arguments
    ---------
    model : TransitionModel
        The model.

    Returns
    -------
    kaldi_hmm_gmm.ContextDependency
        The tree.

    Raises
    ------
    ValueError
        If a ``(phone, pdf class)`` has several pdfs: the model is context
        dependent and needs its ``tree``.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> tree = monophone_tree(tm)
    >>> tree.num_pdfs, tree.compute([2], 1)
    (6, (True, 4))
    """
    classes = _model_pdf_classes(model)
    table = {}
    for pdf, pairs in classes.items():
        for phone, pdf_class in pairs:
            if table.setdefault((phone, pdf_class), pdf) != pdf:
                raise ValueError(
                    f"phone {phone}, pdf class {pdf_class} has pdfs "
                    f"{table[(phone, pdf_class)]} and {pdf}: a "
                    "context-dependent model (its tree is needed)"
                )
    top = max(model.phones)
    phones = []
    for phone in range(top + 1):
        if phone not in model.phones:
            phones.append(None)
            continue
        n = model.topology.num_pdf_classes(phone)
        leaves = [table.get((phone, c)) for c in range(n)]
        phones.append(
            [
                "TE",
                PDF_CLASS_KEY,
                [None if pdf is None else ["CE", pdf] for pdf in leaves],
            ]
        )
    return tree_to_context_dependency(["TE", 0, phones], 1, 0)


def _model_pdf_classes(model):
    """pdf -> set of ``(phone, pdf class)`` of a transition model."""
    classes = {}
    for phone, hmm_state, fwd, loop in model.tuples:
        state = model.topology.topology_for_phone(phone)[hmm_state]
        for pdf, pdf_class in (
            (fwd, state.forward_pdf_class),
            (loop, state.self_loop_pdf_class),
        ):
            if pdf_class != NO_PDF:
                classes.setdefault(pdf, set()).add((phone, pdf_class))
    return classes


def check_tree(tree, model, tree_name="tree", model_name="final.mdl"):
    """Checks that a tree and a transition model belong together.

    As Kaldi builds a TransitionModel from a tree (``GetPdfInfo``): the
    pdfs and, for each pdf, the ``(phone, pdf class)`` pairs it serves
    must be the model's.

    Arguments
    ---------
    tree : kaldi_hmm_gmm.ContextDependency
        The tree.
    model : TransitionModel
        The model.
    tree_name : str
        The tree's file, for messages.
    model_name : str
        The model's file, for messages.

    Raises
    ------
    ValueError
        Naming both files and the first pdf that differs.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> check_tree(monophone_tree(tm), tm)
    >>> tm3 = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    >>> check_tree(monophone_tree(tm), tm3, "exp/tree", "exp/final.mdl")
    Traceback (most recent call last):
    ValueError: exp/tree has 6 pdfs, exp/final.mdl has 9 (a tree of another model?)
    """
    if tree.num_pdfs != model.num_pdfs:
        raise ValueError(
            f"{tree_name} has {tree.num_pdfs} pdfs, {model_name} has "
            f"{model.num_pdfs} (a tree of another model?)"
        )
    phones = list(model.phones)
    num_classes = [0] * (max(phones) + 1)
    for phone in phones:
        num_classes[phone] = model.topology.num_pdf_classes(phone)
    try:
        info = tree.get_pdf_info(phones, num_classes)
    except RuntimeError as err:
        last = str(err).strip().splitlines()[-1]
        raise ValueError(
            f"{tree_name} does not cover the phones of {model_name}: {last}"
        ) from None
    expected = _model_pdf_classes(model)
    for pdf in range(model.num_pdfs):
        got = set(map(tuple, info[pdf]))
        want = expected.get(pdf, set())
        if got != want:
            raise ValueError(
                f"{tree_name} and {model_name} differ on pdf {pdf}: (phone, "
                f"pdf class) {sorted(got)} in the tree, {sorted(want)} in "
                "the model (a tree of another model or phone set?)"
            )


# ------------------------------------------------------------- compile


def word_loop_g(word_ids, words=None):
    """A word-loop grammar: any sequence of the words, equal probability.

    Arguments
    ---------
    word_ids : dict
        The word table.
    words : iterable of str, optional
        The words of the loop (default: every word of the table but
        ``<eps>``, ``<s>``, ``</s>`` and disambiguation symbols ``#k``).

    Returns
    -------
    kaldifst.StdVectorFst
        One state, final, one self-loop per word of cost ``log(n)``.

    Example
    -------
    >>> G = word_loop_g({"<eps>": 0, "one": 1, "two": 2, "#0": 3})
    >>> [(a.ilabel, round(a.weight.value, 3)) for a in kf.ArcIterator(G, 0)]
    [(1, 0.693), (2, 0.693)]
    """
    if words is None:
        words = [w for w in word_ids if w not in ("<eps>", "<s>", "</s>")]
    ids = sorted(
        {word_ids[w] for w in words if not is_disambig(w) and word_ids[w]}
    )
    if not ids:
        raise ValueError("word loop: no words")
    G = kf.StdVectorFst()
    s = G.add_state()
    G.start = s
    G.set_final(s, 0.0)
    for i in ids:
        G.add_arc(s, kf.StdArc(i, i, math.log(len(ids)), s))
    return G


@dataclass
class ContextGraph:
    """A compiled HCLG of a context-dependent model and its companions.

    Arguments
    ---------
    hclg : kaldifst.StdVectorFst
        The graph: transition-id inputs (self-loops reordered, as Kaldi),
        word outputs.
    word_ids : dict
        The word table of the output labels.
    phone_ids : dict
        The phone table, disambiguation symbols included.
    disambig_phones : list of int
        Phone ids of ``#0 ... #n``.
    disambig_tids : list of int
        The transition-side disambiguation symbols (removed from HCLG;
        Kaldi's ``disambig_tid.int``).
    context_width : int
        ``N`` of the tree.
    central_position : int
        ``P`` of the tree.
    num_pdfs : int
        Pdfs of the tree.
    sizes : dict
        ``stage -> (states, arcs)``: L, G, LG, CLG, Ha, HCLGa, HCLG.
    seconds : dict
        ``stage -> seconds``.

    Example
    -------
    >>> g = ContextGraph(
    ...     kf.StdVectorFst(), {"<eps>": 0, "a": 1}, {}, [], [], 1, 0, 3
    ... )
    >>> g.id2word[1], g.compile_seconds
    ('a', 0)
    """

    hclg: object
    word_ids: dict
    phone_ids: dict
    disambig_phones: list
    disambig_tids: list
    context_width: int
    central_position: int
    num_pdfs: int
    sizes: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    @property
    def id2word(self):
        """Output label -> word."""
        return {v: k for k, v in self.word_ids.items()}

    @property
    def compile_seconds(self):
        """Total compile time."""
        return sum(self.seconds.values())


class _Stages:
    """Times and sizes of the stages, logged as icefall's compile_hlg."""

    def __init__(self):
        self.sizes, self.seconds = {}, {}
        self.t0 = time.perf_counter()

    def done(self, name, fst):
        now = time.perf_counter()
        self.seconds[name] = round(now - self.t0, 4)
        self.t0 = now
        self.sizes[name] = graph_size(fst)
        states, arcs = self.sizes[name]
        logger.info(
            f"{name}: {states} states, {arcs} arcs ({self.seconds[name]:.3f} s)"
        )


def compile_context_hclg(
    model,
    tree,
    L,
    disambig_phones,
    G,
    word_ids,
    phone_ids=None,
    transition_scale=1.0,
    self_loop_scale=0.1,
):
    """Compiles HCLG as Kaldi's ``mkgraph.sh`` (see the module docstring).

    Arguments
    ---------
    model : TransitionModel
        The transition model.
    tree : kaldi_hmm_gmm.ContextDependency
        Its tree (:func:`check_tree` is not called here).
    L : kaldifst.StdVectorFst
        ``L_disambig``: phones (and ``#k``) in, words out (not modified).
    disambig_phones : list of int
        The phone ids of the ``#k`` on L's input side.
    G : kaldifst.StdVectorFst
        The grammar over ``word_ids`` (not modified).
    word_ids : dict
        The word table.
    phone_ids : dict, optional
        The phone table (kept in the result).
    transition_scale : float
        Scale of the non-self-loop transition log-probs (Kaldi's
        ``--transition-scale``).
    self_loop_scale : float
        Scale of the self-loop log-probs (Kaldi's ``--self-loop-scale``).

    Returns
    -------
    ContextGraph
        The graph, sizes and times.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    >>> phones = {"<eps>": 0, "SIL": 1, "n": 2, "oU": 3}
    >>> words = {"<eps>": 0, "no": 1, "know": 2}
    >>> L, dis = make_l(
    ...     [("no", ["n", "oU"]), ("know", ["n", "oU"])],
    ...     phones,
    ...     words,
    ...     return_disambig=True,
    ... )
    >>> G = word_loop_g(words)
    >>> g = compile_context_hclg(tm, monophone_tree(tm), L, dis, G, words)
    >>> g.sizes["HCLG"][0] > 0, min(g.disambig_tids) > tm.num_transition_ids
    (True, True)
    """
    stages = _Stages()
    L = kf.StdVectorFst(L)
    G = kf.StdVectorFst(G)
    stages.sizes["L"], stages.sizes["G"] = graph_size(L), graph_size(G)
    kf.arcsort(L, sort_type="olabel")
    kf.arcsort(G, sort_type="ilabel")
    LG = kf.compose(L, G)
    if LG.num_states == 0:
        raise ValueError(
            "L o G is empty (no sentence of G has pronunciations for all its "
            "words)"
        )
    _determinize(LG, "L o G")
    kf.minimize_encoded(LG)
    stages.done("LG", LG)
    CLG, ilabels = kf.compose_context(
        disambig_syms=list(disambig_phones),
        context_width=tree.context_width,
        central_position=tree.central_position,
        ifst=LG,
    )
    kf.arcsort(CLG, sort_type="ilabel")
    stages.done("CLG", CLG)
    ktm = khg_transition_model(model)
    try:
        Ha, disambig_tids = khg.get_h_transducer(
            ilabel_info=ilabels,
            ctx_dep=tree,
            trans_model=ktm,
            config=khg.HTransducerConfig(transition_scale=transition_scale),
        )
    except RuntimeError as err:
        last = str(err).strip().splitlines()[-1]
        raise ValueError(
            f"H: the tree has no pdf for a phone context of L o G ({last})"
        ) from None
    kf.arcsort(Ha, sort_type="olabel")
    stages.done("Ha", Ha)
    HCLGa = kf.compose(Ha, CLG)
    _determinize(HCLGa, "Ha o CLG")
    num_tids = model.num_transition_ids
    disambig_tids = [int(t) for t in disambig_tids]
    if disambig_tids and min(disambig_tids) <= num_tids:
        raise ValueError(
            f"H: disambiguation transition-id {min(disambig_tids)} is not "
            f"above the {num_tids} transition-ids"
        )
    HCLGa = _remove_input_labels(HCLGa, num_tids, disambig_tids)
    kf.rmepsilon(HCLGa)
    kf.minimize_encoded(HCLGa)
    stages.done("HCLGa", HCLGa)
    HCLG = khg.add_self_loops(
        self_loop_scale=self_loop_scale,
        disambig_syms=[],
        reorder=True,
        trans_model=ktm,
        ifst=HCLGa,
    )
    kf.arcsort(HCLG, sort_type="ilabel")
    stages.done("HCLG", HCLG)
    return ContextGraph(
        hclg=HCLG,
        word_ids=dict(word_ids),
        phone_ids=dict(phone_ids or {}),
        disambig_phones=list(disambig_phones),
        disambig_tids=disambig_tids,
        context_width=tree.context_width,
        central_position=tree.central_position,
        num_pdfs=tree.num_pdfs,
        sizes=stages.sizes,
        seconds=stages.seconds,
    )


# ------------------------------------------------------------- folders


def _read_int_list(path):
    """Integers, one per line (``phones/disambig.int``)."""
    values = []
    for number, line in iter_text_lines(path, "integer list"):
        for token in line.split():
            try:
                values.append(int(token))
            except ValueError:
                raise ValueError(
                    f"{path}: line {number}: {token!r} is not an integer"
                ) from None
    return values


def _fst_labels(fst):
    """Sets of input and output labels of an FST."""
    ilabels, olabels = set(), set()
    for state in range(fst.num_states):
        for arc in kf.ArcIterator(fst, state):
            ilabels.add(arc.ilabel)
            olabels.add(arc.olabel)
    return ilabels, olabels


def _lang_l(lang_dir, phones, words, silence_phone, silence_prob):
    """L, disambig phone ids, phone table, pronounced words, L's file."""
    phones_path = os.path.join(lang_dir, "phones.txt")
    words_path = os.path.join(lang_dir, "words.txt")
    l_path = os.path.join(lang_dir, "L_disambig.fst")
    if os.path.isfile(l_path):
        L = read_graph(l_path, what="lexicon FST")
        dis_path = os.path.join(lang_dir, "phones", "disambig.int")
        if not os.path.isfile(dis_path):
            raise FileNotFoundError(
                f"{dis_path}: not found (L_disambig.fst needs the ids of its "
                "disambiguation symbols, as Kaldi's prepare_lang.sh writes "
                "them)"
            )
        disambig = _read_int_list(dis_path)
        names = {i: p for p, i in phones.items()}
        for d in disambig:
            if d not in names or not is_disambig(names[d]):
                raise ValueError(
                    f"{dis_path}: {d} is not the id of a disambiguation "
                    f"symbol #k of {phones_path}"
                )
        ilabels, olabels = _fst_labels(L)
        for labels, table, path, side in (
            (ilabels, names, phones_path, "input"),
            (olabels, {i: w for w, i in words.items()}, words_path, "output"),
        ):
            bad = sorted(labels - set(table))
            if bad:
                raise ValueError(
                    f"{l_path}: {side} labels {bad[:5]} are not ids of {path}"
                )
        unlisted = sorted(
            i
            for i in ilabels
            if i and is_disambig(names[i]) and i not in disambig
        )
        if unlisted:
            raise ValueError(
                f"{l_path}: input labels {unlisted[:5]} are disambiguation "
                f"symbols of {phones_path} missing from {dis_path}"
            )
        wnames = {i: w for w, i in words.items()}
        pronounced = {wnames[o] for o in olabels if o}
        return L, disambig, dict(phones), pronounced, l_path
    rows, lexicon_path = _read_lang_lexicon(lang_dir)
    unknown = sorted({r[0] for r in rows} - set(words))
    if unknown:
        raise ValueError(
            f"{lexicon_path}: words not in {words_path}: "
            f"{' '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    try:
        L, disambig = make_l(
            rows,
            phones,
            words,
            silence_phone=silence_phone,
            silence_prob=silence_prob,
            return_disambig=True,
        )
    except ValueError as err:
        raise ValueError(f"{lexicon_path}: {err}") from None
    table, ids = add_symbols(phones, disambig_names(len(disambig)))
    if ids != disambig:  # make_l names them the same way
        raise RuntimeError(f"disambiguation ids {ids} != {disambig}")
    return L, disambig, table, {r[0] for r in rows}, lexicon_path


def _model_files(model_dir):
    """``final.mdl`` and ``tree`` (None if absent) of a model directory."""
    model_dir = os.fspath(model_dir)
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"{model_dir}: model directory not found")
    mdl = os.path.join(model_dir, "final.mdl")
    if not os.path.isfile(mdl):
        raise FileNotFoundError(
            f"{mdl}: not found (the model directory "
            "needs final.mdl, and tree for a "
            "context-dependent model)"
        )
    tree = os.path.join(model_dir, "tree")
    return mdl, tree if os.path.isfile(tree) else None


def _check_phones(phones, model, phones_path, mdl):
    real = {i for p, i in phones.items() if i and not is_disambig(p)}
    if real != set(model.phones):
        extra = sorted(real - set(model.phones))
        missing = sorted(set(model.phones) - real)
        raise ValueError(
            f"{phones_path} and {mdl} have different phones: "
            f"{extra[:10]} only in {phones_path}, {missing[:10]} only in "
            f"the model (a model of another lang directory?)"
        )


def build_context_graph(
    lang_dir,
    model_dir,
    arpa=None,
    word_loop=False,
    silence_phone="SIL",
    silence_prob=0.5,
    transition_scale=1.0,
    self_loop_scale=0.1,
):
    """HCLG of a lang directory and a model directory (nothing written).

    Arguments
    ---------
    lang_dir : str or os.PathLike
        Kaldi lang directory: ``phones.txt``, ``words.txt``, and either
        ``L_disambig.fst`` with ``phones/disambig.int`` or ``lexicon.txt``
        (``lexiconp.txt``); ``G.fst`` unless ``arpa`` or ``word_loop``.
    model_dir : str or os.PathLike
        ``final.mdl`` and, for a context-dependent model, ``tree``.
    arpa : str or os.PathLike, optional
        G from this ARPA file instead of ``G.fst``.
    word_loop : bool
        G is a loop over the pronounced words, equal probabilities; the
        OOV word of ``oov.txt`` (e.g. ``<UNK>``) is not one of them.
    silence_phone : str or None
        Optional silence of an L made from ``lexicon.txt``.
    silence_prob : float
        Its probability.
    transition_scale : float
        Kaldi's ``--transition-scale``.
    self_loop_scale : float
        Kaldi's ``--self-loop-scale``.

    Returns
    -------
    ContextGraph
        The graph.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file: missing inputs, tables that do not match (the
        model's phones and ``phones.txt``, the tree and the model, labels
        of L or G and the tables, ARPA words not in ``words.txt``).

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> lang, exp = getfixture("tmp_path") / "lang", getfixture("tmp_path")
    >>> lang.mkdir()
    >>> _ = (lang / "phones.txt").write_text("<eps> 0\\nSIL 1\\nn 2\\noU 3\\n")
    >>> _ = (lang / "words.txt").write_text("<eps> 0\\nno 1\\noh 2\\n")
    >>> _ = (lang / "lexicon.txt").write_text("oh oU\\nno n oU\\n")
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    >>> tm.write(exp / "final.mdl")
    >>> graph = build_context_graph(lang, exp, word_loop=True)
    >>> graph.context_width, graph.num_pdfs
    (1, 9)
    """
    lang_dir = os.fspath(lang_dir)
    if not os.path.isdir(lang_dir):
        raise FileNotFoundError(f"{lang_dir}: lang directory not found")
    if arpa is not None and word_loop:
        raise ValueError("--arpa and --word-loop exclude each other")
    mdl, tree_path = _model_files(model_dir)
    phones_path = os.path.join(lang_dir, "phones.txt")
    words_path = os.path.join(lang_dir, "words.txt")
    for path in (phones_path, words_path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: not found (lang directory)")
    phones = read_symbols(phones_path)
    words = read_symbols(words_path)
    model = TransitionModel.read(mdl)
    _check_phones(phones, model, phones_path, mdl)
    if tree_path is not None:
        tree = read_tree(tree_path)
        check_tree(tree, model, tree_path, mdl)
    else:
        try:
            tree = monophone_tree(model)
        except ValueError as err:
            raise ValueError(
                f"{mdl}: no tree in {os.fspath(model_dir)}, and {err}"
            ) from None
        logger.info(f"{mdl}: no tree next to it: monophone tree")
    if arpa is not None:
        G, words = make_g_from_arpa(arpa, words)
    L, disambig, phone_ids, pronounced, l_source = _lang_l(
        lang_dir, phones, words, silence_phone, silence_prob
    )
    # An ARPA G was made above: it may add #0 to the word table L needs.
    if word_loop:
        oov = _oov_word(lang_dir)
        loop_words = sorted(w for w in words if w in pronounced and w != oov)
        if oov is not None and oov in pronounced:
            logger.info(
                f"{os.path.join(lang_dir, 'oov.txt')}: the OOV word {oov} is "
                "left out of the word loop"
            )
        skipped = sum(
            1
            for w in words
            if w not in pronounced
            and w not in ("<eps>", "<s>", "</s>")
            and not is_disambig(w)
        )
        if skipped:
            logger.info(
                f"{words_path}: {skipped} words without pronunciation left "
                "out of the word loop"
            )
        G = word_loop_g(words, loop_words)
    elif arpa is None:
        g_path = os.path.join(lang_dir, "G.fst")
        G = _read_lang_g(g_path, words, words_path, pronounced)
    backoff = words.get("#0")
    if backoff is not None and backoff in _fst_labels(G)[0]:
        if backoff not in _fst_labels(L)[1]:
            raise ValueError(
                f"{l_source}: L has no #0 self-loop, but G has back-off "
                "arcs (#0): they could not be taken (Kaldi's prepare_lang.sh "
                "adds the loop to L_disambig.fst)"
            )
    graph = compile_context_hclg(
        model,
        tree,
        L,
        disambig,
        G,
        words,
        phone_ids=phone_ids,
        transition_scale=transition_scale,
        self_loop_scale=self_loop_scale,
    )
    return graph


def _input_files(lang_dir, model_dir, arpa, word_loop):
    """The existing files a graph is made from (for its fingerprint)."""
    lang = os.path.join
    names = [lang(lang_dir, "phones.txt"), lang(lang_dir, "words.txt")]
    names += [lang(model_dir, "final.mdl"), lang(model_dir, "tree")]
    if arpa is not None:
        names.append(os.fspath(arpa))
    if os.path.isfile(lang(lang_dir, "L_disambig.fst")):
        names += [
            lang(lang_dir, "L_disambig.fst"),
            lang(lang_dir, "phones", "disambig.int"),
        ]
    elif os.path.isfile(lang(lang_dir, "lexicon.txt")):
        names.append(lang(lang_dir, "lexicon.txt"))
    else:
        names.append(lang(lang_dir, "lexiconp.txt"))
    if arpa is None and not word_loop:
        names.append(lang(lang_dir, "G.fst"))
    if word_loop:
        names.append(lang(lang_dir, "oov.txt"))
    return [os.path.abspath(n) for n in names if os.path.isfile(n)]


def _oov_word(lang_dir):
    """The OOV word of ``LANG_DIR/oov.txt`` (None without the file)."""
    path = os.path.join(lang_dir, "oov.txt")
    if not os.path.isfile(path):
        return None
    for _, line in iter_text_lines(path):
        if line.strip():
            return line.split()[0]
    return None


def _fingerprint(inputs, options):
    digest = hashlib.sha256(repr(sorted(options.items())).encode())
    for path in inputs:
        digest.update(os.path.basename(path).encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _is_complete(graph_dir, fingerprint):
    info_path = os.path.join(graph_dir, INFO_FILE)
    if not os.path.isfile(info_path):
        return None
    try:
        info = read_json(info_path, "make-graph record")
    except ValueError:
        return None
    if info.get("fingerprint") != fingerprint:
        return None
    for name in GRAPH_FILES + tuple(info.get("copied", ())):
        if not os.path.isfile(os.path.join(graph_dir, name)):
            return None
    return info


def make_context_graph(
    lang_dir,
    model_dir,
    graph_dir,
    arpa=None,
    word_loop=False,
    silence_phone="SIL",
    silence_prob=0.5,
    transition_scale=1.0,
    self_loop_scale=0.1,
    force=False,
):
    """Kaldi's ``utils/mkgraph.sh``: writes a graph directory.

    ``graph_dir`` gets ``HCLG.fst`` (vector FST), ``words.txt``,
    ``phones.txt`` (with the disambiguation symbols), ``phones/``
    (``disambig.int``; ``word_boundary.*``, ``align_lexicon.*``,
    ``silence.csl``, ... copied from the lang directory when present),
    ``disambig_tid.int``, ``num_pdfs`` and ``make_graph.json`` (sizes,
    times, options, a fingerprint of the inputs). The folder is built
    under a temporary name and renamed into place; if it is complete and
    was made from the same inputs and options, nothing is done.

    Arguments
    ---------
    lang_dir : str or os.PathLike
        See :func:`build_context_graph`.
    model_dir : str or os.PathLike
        See :func:`build_context_graph`.
    graph_dir : str or os.PathLike
        The output folder; an existing one is replaced only if it is
        empty or was made by this function.
    arpa, word_loop, silence_phone, silence_prob : optional
        See :func:`build_context_graph`.
    transition_scale, self_loop_scale : float
        See :func:`build_context_graph`.
    force : bool
        Rebuild even if the folder is up to date.

    Returns
    -------
    dict
        The record of ``make_graph.json``, plus ``"skipped"`` (True when
        the folder was up to date).

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> lang, exp = getfixture("tmp_path") / "lang", getfixture("tmp_path")
    >>> lang.mkdir()
    >>> _ = (lang / "phones.txt").write_text("<eps> 0\\nSIL 1\\nn 2\\noU 3\\n")
    >>> _ = (lang / "words.txt").write_text("<eps> 0\\nno 1\\noh 2\\n")
    >>> _ = (lang / "lexicon.txt").write_text("oh oU\\nno n oU\\n")
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2, 3]))
    >>> tm.write(exp / "final.mdl")
    >>> info = make_context_graph(lang, exp, exp / "graph", word_loop=True)
    >>> sorted(os.listdir(exp / "graph"))  # doctest: +NORMALIZE_WHITESPACE
    ['HCLG.fst', 'disambig_tid.int', 'make_graph.json', 'num_pdfs',
     'phones', 'phones.txt', 'words.txt']
    >>> make_context_graph(lang, exp, exp / "graph", word_loop=True)["skipped"]
    True
    """
    graph_dir = os.path.abspath(os.fspath(graph_dir))
    lang_dir = os.fspath(lang_dir)
    options = {
        "arpa": os.path.abspath(os.fspath(arpa)) if arpa is not None else None,
        "word_loop": bool(word_loop),
        "silence_phone": silence_phone,
        "silence_prob": float(silence_prob),
        "transition_scale": float(transition_scale),
        "self_loop_scale": float(self_loop_scale),
    }
    replace = False
    if os.path.exists(graph_dir):
        if not os.path.isdir(graph_dir):
            raise FileExistsError(f"{graph_dir}: exists and is not a folder")
        if os.listdir(graph_dir):
            if not os.path.isfile(os.path.join(graph_dir, INFO_FILE)):
                raise FileExistsError(
                    f"{graph_dir}: exists and was not made by make-graph "
                    f"(no {INFO_FILE}): remove it or choose another folder"
                )
            replace = True
    inputs = _input_files(lang_dir, os.fspath(model_dir), arpa, word_loop)
    fingerprint = _fingerprint(inputs, options)
    if replace and not force:
        info = _is_complete(graph_dir, fingerprint)
        if info is not None:
            logger.info(f"{graph_dir}: up to date, not rebuilt")
            return {**info, "skipped": True}
    t0 = time.perf_counter()
    graph = build_context_graph(
        lang_dir,
        model_dir,
        arpa=arpa,
        word_loop=word_loop,
        silence_phone=silence_phone,
        silence_prob=silence_prob,
        transition_scale=transition_scale,
        self_loop_scale=self_loop_scale,
    )
    phones_src = os.path.join(lang_dir, "phones")
    copied = [
        f"phones/{name}"
        for name in PHONES_FILES
        if os.path.isfile(os.path.join(phones_src, name))
    ]
    info = {
        "lang_dir": os.path.abspath(lang_dir),
        "model_dir": os.path.abspath(os.fspath(model_dir)),
        "inputs": inputs,
        "options": options,
        "context_width": graph.context_width,
        "central_position": graph.central_position,
        "num_pdfs": graph.num_pdfs,
        "sizes": {k: list(v) for k, v in graph.sizes.items()},
        "seconds": graph.seconds,
        "copied": copied,
        "fingerprint": fingerprint,
    }
    with atomic_folder(graph_dir, replace=replace) as tmp:
        os.mkdir(os.path.join(tmp, "phones"))
        write_graph(graph.hclg, os.path.join(tmp, "HCLG.fst"))
        write_symbols(graph.word_ids, os.path.join(tmp, "words.txt"))
        write_symbols(graph.phone_ids, os.path.join(tmp, "phones.txt"))
        write_text(
            os.path.join(tmp, "phones", "disambig.int"),
            "".join(f"{d}\n" for d in graph.disambig_phones),
        )
        write_text(
            os.path.join(tmp, "disambig_tid.int"),
            "".join(f"{d}\n" for d in graph.disambig_tids),
        )
        write_text(os.path.join(tmp, "num_pdfs"), f"{graph.num_pdfs}\n")
        for name in copied:
            shutil.copyfile(
                os.path.join(lang_dir, name), os.path.join(tmp, name)
            )
        info["seconds"]["total"] = round(time.perf_counter() - t0, 4)
        write_json(os.path.join(tmp, INFO_FILE), info)
    logger.info(
        f"{graph_dir}: HCLG {graph.sizes['HCLG'][0]} states, "
        f"{graph.sizes['HCLG'][1]} arcs (N={graph.context_width}, "
        f"P={graph.central_position}) in {info['seconds']['total']:.2f} s"
    )
    return {**info, "skipped": False}
