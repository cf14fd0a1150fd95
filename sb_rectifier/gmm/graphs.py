"""Lang folders and per-utterance training graphs (``compile-train-graphs``).

:class:`Lang` reads what GMM training needs from a Kaldi lang folder (made
by :func:`sb_rectifier.kaldi.prepare_lang.prepare_lang` or by Kaldi's
``prepare_lang.sh``); :func:`compile_graphs` makes one training graph per
utterance (H o C o L o transcript, Kaldi's ``TrainingGraphCompiler``) and
:func:`equal_alignment` the flat-start alignment of a graph
(``align-equal-compiled``).

Authors
 * sb_rectifier developers 2026
"""

import os
import zlib

import kaldi_hmm_gmm as khg
import kaldifst

from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.files import iter_text_lines
from sb_rectifier.kaldi.basic_io import read_text_object
from sb_rectifier.kaldi.hmm_topology import read_topology

__all__ = ["Lang", "compile_graphs", "equal_alignment"]


def _int_lines(path):
    rows = []
    for number, line in iter_text_lines(path, "phone list"):
        fields = line.split()
        if not fields:
            continue
        try:
            rows.append([int(x) for x in fields])
        except ValueError:
            raise ValueError(
                f"{path}:{number}: expected integers, got {line!r}"
            ) from None
    return rows


class Lang:
    """The parts of a Kaldi lang folder that GMM training uses.

    Arguments
    ---------
    lang_dir : str or os.PathLike
        The folder: ``phones.txt words.txt topo L.fst`` (or
        ``L_disambig.fst``), ``oov.txt`` and ``phones/{disambig,
        optional_silence, sets, roots, extra_questions, context_indep}.int``.

    Attributes
    ----------
    phone_ids, word_ids : dict
        Symbol tables (name -> id); ``phone_names`` is id -> name.
    topo : kaldi_hmm_gmm.HmmTopology
        The topology (``our_topo``: ours).
    disambig, optional_silence, context_indep : list of int
        Phone ids.
    sets, extra_questions : list of list of int
        Phone sets (``sets.int``, ``extra_questions.int``).
    roots : list of tuple
        ``(shared, split, phones)`` per line of ``roots.int``.
    oov_word : str
        The OOV word.

    Example
    -------
    >>> Lang(getfixture("tmp_path"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: .../phones.txt: ...
    """

    def __init__(self, lang_dir):
        self.path = os.fspath(lang_dir)
        p = self.path
        for name in ("phones.txt", "words.txt", "topo"):
            if not os.path.isfile(os.path.join(p, name)):
                raise FileNotFoundError(
                    f"{os.path.join(p, name)}: not found (is {p} a Kaldi "
                    "lang folder made by prepare-lang?)"
                )
        self.phone_ids = read_symbols(os.path.join(p, "phones.txt"))
        self.phone_names = {i: n for n, i in self.phone_ids.items()}
        self.word_ids = read_symbols(os.path.join(p, "words.txt"))
        topo_path = os.path.join(p, "topo")
        with open(topo_path, "rb") as f:
            tokens = read_text_object(f, topo_path, "<Topology>", "</Topology>")
        try:
            self.our_topo = read_topology(tokens, binary=False)
        except ValueError as err:
            raise ValueError(f"{topo_path}: {err}") from None
        self.topo = khg.HmmTopology()
        with open(topo_path) as f:
            self.topo.read(f.read())
        phones_dir = os.path.join(p, "phones")

        def one_list(name):
            rows = _int_lines(os.path.join(phones_dir, name))
            return [x for row in rows for x in row]

        self.disambig = one_list("disambig.int")
        self.optional_silence = one_list("optional_silence.int")
        self.context_indep = one_list("context_indep.int")
        self.sets = _int_lines(os.path.join(phones_dir, "sets.int"))
        extra = os.path.join(phones_dir, "extra_questions.int")
        self.extra_questions = (
            _int_lines(extra) if os.path.isfile(extra) else []
        )
        self.roots = []
        roots_path = os.path.join(phones_dir, "roots.int")
        for number, line in iter_text_lines(roots_path, "roots file"):
            f = line.split()
            if not f:
                continue
            if (
                len(f) < 3
                or f[0] not in ("shared", "not-shared")
                or f[1]
                not in (
                    "split",
                    "not-split",
                )
            ):
                raise ValueError(f"{roots_path}:{number}: bad line {line!r}")
            self.roots.append(
                (f[0] == "shared", f[1] == "split", [int(x) for x in f[2:]])
            )
        oov_path = os.path.join(p, "oov.txt")
        self.oov_word = "<UNK>"
        if os.path.isfile(oov_path):
            with open(oov_path) as f:
                self.oov_word = f.read().strip() or "<UNK>"
        self.lexicon_path = None
        for name in ("L.fst", "L_disambig.fst"):
            if os.path.isfile(os.path.join(p, name)):
                self.lexicon_path = os.path.join(p, name)
                break
        if self.lexicon_path is None:
            raise FileNotFoundError(f"{p}: no L.fst or L_disambig.fst")
        missing = sorted(set(self.topo.phones) ^ self._real_phones())
        if missing:
            raise ValueError(
                f"{topo_path}: topology phones and the non-disambiguation "
                f"phones of phones.txt differ (e.g. {missing[:5]})"
            )

    def _real_phones(self):
        dis = set(self.disambig)
        return {i for i in self.phone_names if i > 0 and i not in dis}

    def lexicon_fst(self):
        """L (``L.fst``), arc-sorted on output labels.

        Returns
        -------
        kaldifst.StdVectorFst
            The lexicon transducer.
        """
        fst = kaldifst.StdVectorFst.read(self.lexicon_path)
        if fst is None:
            raise ValueError(f"{self.lexicon_path}: cannot read the FST")
        kaldifst.arcsort(fst, sort_type="olabel")
        return fst


def compile_graphs(trans_model, ctx_dep, lang, transcripts, lexicon_fst=None):
    """One training graph per utterance (Kaldi's ``compile-train-graphs``).

    Arguments
    ---------
    trans_model : kaldi_hmm_gmm.TransitionModel
        The model.
    ctx_dep : kaldi_hmm_gmm.ContextDependency
        Its tree.
    lang : Lang
        The lang folder.
    transcripts : dict
        Utterance -> word ids.
    lexicon_fst : kaldifst.StdVectorFst, optional
        L (default: read from the lang folder).

    Returns
    -------
    graphs : dict
        Utterance -> graph (transition-ids in, words out, no transition
        probabilities yet).
    failed : dict
        Utterance -> reason (e.g. an empty transcript).

    Example
    -------
    >>> import numpy as np
    >>> from sb_rectifier.gmm.estimate import init_mono
    >>> from sb_rectifier.kaldi.prepare_lang import prepare_lang
    >>> d = getfixture("tmp_path") / "dict"
    >>> d.mkdir()
    >>> _ = (d / "silence_phones.txt").write_text("SIL\\n")
    >>> _ = (d / "optional_silence.txt").write_text("SIL\\n")
    >>> _ = (d / "nonsilence_phones.txt").write_text("n\\noU\\n")
    >>> _ = (d / "lexicon.txt").write_text("<UNK> SIL\\nno n oU\\non oU n\\n")
    >>> _ = prepare_lang(d, d.parent / "lang")
    >>> lang = Lang(d.parent / "lang")
    >>> x = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    >>> tm, am, ctx = init_mono(lang.topo, [x], lang.sets)
    >>> w = lang.word_ids
    >>> transcripts = {"a": [w["no"], w["on"]], "b": []}
    >>> graphs, failed = compile_graphs(tm, ctx, lang, transcripts)
    >>> sorted(graphs), failed
    (['a'], {'b': 'empty transcript'})
    >>> len(equal_alignment(graphs["a"], 30, "a"))
    30
    """
    # compile-train-graphs: no transition probabilities in the graphs
    # (they are added at alignment time, with the current model's).
    opts = khg.TrainingGraphCompilerOptions()
    opts.transition_scale = 0.0
    opts.self_loop_scale = 0.0
    compiler = khg.TrainingGraphCompiler(
        trans_model=trans_model,
        ctx_dep=ctx_dep,
        lex_fst=lexicon_fst if lexicon_fst is not None else lang.lexicon_fst(),
        disambig_syms=sorted(lang.disambig),
        opts=opts,
    )
    graphs, failed = {}, {}
    for utt, words in transcripts.items():
        if not words:
            failed[utt] = "empty transcript"
            continue
        fst = compiler.compile_graph_from_text(list(words))
        if fst.num_states == 0:
            failed[utt] = "empty training graph (words without pronunciation?)"
            continue
        graphs[utt] = fst
    return graphs, failed


def equal_alignment(graph, num_frames, utt):
    """A flat-start alignment: a random path of the graph with equal frames.

    Kaldi's ``align-equal-compiled`` (random seed from the utterance id).

    Arguments
    ---------
    graph : kaldifst.StdVectorFst
        The training graph.
    num_frames : int
        Frames of the utterance.
    utt : str
        The utterance id (seeds the random choices).

    Returns
    -------
    list of int or None
        Transition-ids, one per frame; None if the graph has no path of
        that length (too few frames for the phones).

    Example
    -------
    >>> fst = kaldifst.compile(
    ...     "0 1 1 1\\n1 1 2 0\\n1 2 3 0\\n2", acceptor=False
    ... )
    >>> equal_alignment(fst, 4, "u")[0], len(equal_alignment(fst, 4, "u"))
    (1, 4)
    >>> equal_alignment(fst, 1, "u") is None
    True
    """
    ok, aligned = kaldifst.equal_align(
        ifst=graph,
        length=int(num_frames),
        rand_seed=zlib.crc32(utt.encode()) & 0x7FFFFFFF,
        num_retries=10,
    )
    if not ok:
        return None
    ok, ali, _words, _weight = kaldifst.get_linear_symbol_sequence(aligned)
    if not ok or len(ali) != num_frames:
        return None
    return list(ali)
