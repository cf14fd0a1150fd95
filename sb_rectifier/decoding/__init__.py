"""Decoding: HCLG graphs and Viterbi decoding of hybrid model outputs.

Kaldi's graph and decoder pipeline without Kaldi binaries, on kaldifst
(OpenFst), kaldilm and kaldi-decoder: language files (:mod:`.lang`),
graph construction and I/O (:mod:`.graph`), decoding of per-frame pdf
log-likelihoods (:mod:`.decoder`), over worker processes
(:mod:`.parallel`), with LM weight and insertion penalty tuned on dev
(:mod:`.tuning`).

Example
-------
>>> import kaldifst as kf
>>> import numpy as np
>>> graph = kf.compile("0 1 1 7\\n1 1 1 0\\n1 0 2 0\\n0")
>>> loglik = np.log(np.array([[0.9, 0.1]] * 3 + [[0.1, 0.9]], np.float32))
>>> decode_utterance(graph, loglik, np.array([-1, 0, 1]), 1.0).words
[7]

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.decoding.decoder import (
    DecodingResult,
    decode_utterance,
    tid_loglikes,
)
from sb_rectifier.decoding.graph import (
    CompiledGraph,
    build_corpus_graph,
    compile_hclg,
    graph_size,
    make_g_from_arpa,
    make_g_from_grammar,
    make_h,
    make_l,
    read_graph,
    write_graph,
)
from sb_rectifier.decoding.lang import (
    add_lex_disambig,
    add_symbols,
    read_lexicon,
    read_symbols,
    write_symbols,
)
from sb_rectifier.decoding.parallel import (
    ParallelDecoder,
    with_word_insertion_penalty,
)
from sb_rectifier.decoding.tuning import tune_and_decode

__all__ = [
    "CompiledGraph",
    "ParallelDecoder",
    "DecodingResult",
    "add_lex_disambig",
    "add_symbols",
    "build_corpus_graph",
    "compile_hclg",
    "decode_utterance",
    "graph_size",
    "make_g_from_arpa",
    "make_g_from_grammar",
    "make_h",
    "make_l",
    "read_graph",
    "read_lexicon",
    "read_symbols",
    "tid_loglikes",
    "tune_and_decode",
    "with_word_insertion_penalty",
    "write_graph",
    "write_symbols",
]
