"""Decoding many utterances over worker processes.

kaldi-decoder holds the GIL while it decodes, so utterances are decoded
in parallel by worker processes. Each worker reads the graph once (from
``HCLG.fst``) and the log-likelihood matrices itself, from a Kaldi scp
(nothing big is pickled). A word insertion penalty is applied by adding
it to the cost of every word-emitting arc of a copy of the graph, as
Kaldi's ``lattice-add-penalty`` does to lattices; each worker keeps one
copy per penalty it has seen.

Authors
 * sb_rectifier developers 2026
"""

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tqdm import tqdm

_WORKER = {}


def with_word_insertion_penalty(graph, penalty):
    """A copy of ``graph`` with ``penalty`` added to every word arc.

    Arguments
    ---------
    graph : kaldifst.StdVectorFst
        A decoding graph (word output labels).
    penalty : float
        Cost added per output word (positive: fewer insertions).

    Returns
    -------
    kaldifst.StdVectorFst
        The penalised copy (``graph`` itself when ``penalty`` is 0).

    Example
    -------
    >>> import kaldifst
    >>> g = kaldifst.StdVectorFst()
    >>> s = g.add_state()
    >>> g.start = s
    >>> g.set_final(s, 0.0)
    >>> g.add_arc(s, kaldifst.StdArc(1, 7, 0.5, s))
    >>> g.add_arc(s, kaldifst.StdArc(2, 0, 0.5, s))
    >>> p = with_word_insertion_penalty(g, 1.0)
    >>> [round(a.weight.value, 2) for a in _arcs(kaldifst.ArcIterator(p, 0))]
    [1.5, 0.5]
    >>> [round(a.weight.value, 2) for a in _arcs(kaldifst.ArcIterator(g, 0))]
    [0.5, 0.5]
    """
    import kaldifst

    if penalty == 0:
        return graph
    # The Python bindings have no mutable arc iterator: rewrite the arcs of
    # every state that emits a word.
    out = graph.copy()
    for state in range(out.num_states):
        arcs = _arcs(kaldifst.ArcIterator(out, state))
        if not any(arc.olabel for arc in arcs):
            continue
        out.delete_arcs(state, len(arcs))
        for arc in arcs:
            cost = arc.weight.value + (penalty if arc.olabel else 0.0)
            out.add_arc(
                state,
                kaldifst.StdArc(arc.ilabel, arc.olabel, cost, arc.nextstate),
            )
    return out


def _arcs(iterator):
    """All arcs of an arc iterator (helper for doctests and tests)."""
    arcs = []
    while not iterator.done:
        arcs.append(iterator.value)
        iterator.next()
    return arcs


def _init_worker(graph_path, model_path, beam, max_active):
    from sb_rectifier.decoding.graph import read_graph
    from sb_rectifier.kaldi import TransitionModel

    _WORKER.clear()
    _WORKER.update(
        graphs={0.0: read_graph(graph_path)},
        tid2pdf=TransitionModel.read(model_path).tid2pdf,
        beam=beam,
        max_active=max_active,
    )


def _graph(penalty):
    graphs = _WORKER["graphs"]
    if penalty not in graphs:
        graphs[penalty] = with_word_insertion_penalty(graphs[0.0], penalty)
    return graphs[penalty]


def _decode_one(utt, rxfile, acoustic_scale, penalty):
    import kaldiio

    from sb_rectifier.decoding.decoder import decode_utterance

    loglik = np.ascontiguousarray(kaldiio.load_mat(rxfile), dtype=np.float32)
    result = decode_utterance(
        _graph(penalty),
        loglik,
        _WORKER["tid2pdf"],
        acoustic_scale=acoustic_scale,
        beam=_WORKER["beam"],
        max_active=_WORKER["max_active"],
    )
    return utt, result, loglik.shape[0]


class ParallelDecoder:
    """1-best decoding of a log-likelihood scp over worker processes.

    Arguments
    ---------
    graph_path : str
        ``HCLG.fst`` (vector or const), transition-id inputs.
    model_path : str
        The transition model (``final.mdl``): maps pdfs to transition-ids.
    num_workers : int
        Worker processes (1: decode in this process).
    beam : float
        Decoding beam.
    max_active : int
        Most active tokens per frame.

    Example
    -------
    Used as a context manager::

        with ParallelDecoder("graph/HCLG.fst", "final.mdl", 2) as decoder:
            hyps = decoder.decode("loglikes.scp", acoustic_scale=0.1)
    """

    def __init__(
        self,
        graph_path,
        model_path,
        num_workers=None,
        beam=13.0,
        max_active=7000,
    ):
        self.num_workers = num_workers or os.cpu_count() or 1
        self.init_args = (graph_path, model_path, beam, max_active)
        self.pool = None
        self.last_seconds = None
        self.last_frames = None

    def __enter__(self):
        if self.num_workers > 1:
            # spawn: safe whatever the parent holds (torch threads, ...).
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(
                self.num_workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=self.init_args,
            )
        else:
            _init_worker(*self.init_args)
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
        return False

    def decode(
        self,
        scp,
        acoustic_scale,
        word_ins_penalty=0.0,
        progress=True,
        desc="decoding",
    ):
        """Decodes every utterance of a log-likelihood scp.

        Arguments
        ---------
        scp : str
            Kaldi scp of ``[frames, num_pdfs]`` log-likelihood matrices.
        acoustic_scale : float
            Scale of the acoustic log-likelihoods (1 / LM weight).
        word_ins_penalty : float
            Cost per output word.
        progress : bool
            Show a progress bar.
        desc : str
            Progress bar label.

        Returns
        -------
        dict
            Utterance id -> ``DecodingResult``, in scp order.
        """
        entries = []
        with open(scp, encoding="utf-8") as fin:
            for line in fin:
                if line.strip():
                    utt, rxfile = line.split(maxsplit=1)
                    entries.append((utt, rxfile.strip()))
        start = time.time()
        results, frames = {}, 0
        args = [
            (utt, rx, acoustic_scale, float(word_ins_penalty))
            for utt, rx in entries
        ]
        with tqdm(
            total=len(args), desc=desc, disable=not progress, unit="utt"
        ) as bar:
            if self.pool is None:
                outputs = (_decode_one(*a) for a in args)
            else:
                chunk = max(1, len(args) // (8 * self.num_workers))
                outputs = self.pool.map(
                    _decode_one, *zip(*args, strict=True), chunksize=chunk
                )
            for utt, result, num_frames in outputs:
                results[utt] = result
                frames += num_frames
                bar.update(1)
        self.last_seconds = time.time() - start
        self.last_frames = frames
        return results
