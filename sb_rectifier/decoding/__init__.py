"""Decoding: HCLG graphs and Viterbi decoding of hybrid model outputs.

Kaldi's graph and decoder pipeline without Kaldi binaries, on kaldifst
(OpenFst), kaldilm and kaldi-decoder: language files (:mod:`.lang`), the
lexicon transducer L (:mod:`.lexicon_fst`), G from an ARPA model
(:mod:`.arpa`), HCLG from a Kaldi-style lang directory and a transition
model (:mod:`.hclg`; H is :func:`sb_rectifier.kaldi.hmm_utils.make_h`),
FST files (:mod:`.fst_io`), log-likelihood archives (:mod:`.loglikes`),
decoding of per-frame pdf log-likelihoods
(:mod:`.decoder`), over worker processes (:mod:`.parallel`), with LM
weight and insertion penalty tuned on dev (:mod:`.tuning`).

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

from sb_rectifier.decoding.arpa import make_g_from_arpa, write_arpa_g
from sb_rectifier.decoding.decoder import (
    DecodingResult,
    decode_utterance,
    tid_loglikes,
)
from sb_rectifier.decoding.fst_io import (
    check_graph_file,
    graph_size,
    read_graph,
    write_graph,
)
from sb_rectifier.decoding.hclg import CompiledGraph, compile_hclg, make_graph
from sb_rectifier.decoding.lang import (
    add_lex_disambig,
    add_symbols,
    read_lexicon,
    read_symbols,
    write_symbols,
)
from sb_rectifier.decoding.lexicon_fst import make_l
from sb_rectifier.decoding.loglikes import write_log_likelihoods
from sb_rectifier.decoding.parallel import (
    ParallelDecoder,
    with_word_insertion_penalty,
)
from sb_rectifier.decoding.tuning import tune_and_decode
from sb_rectifier.kaldi.hmm_utils import make_h

__all__ = [
    "CompiledGraph",
    "ParallelDecoder",
    "DecodingResult",
    "add_lex_disambig",
    "add_symbols",
    "check_graph_file",
    "compile_hclg",
    "decode_utterance",
    "graph_size",
    "make_g_from_arpa",
    "make_graph",
    "make_h",
    "make_l",
    "read_graph",
    "read_lexicon",
    "read_symbols",
    "tid_loglikes",
    "tune_and_decode",
    "with_word_insertion_penalty",
    "write_log_likelihoods",
    "write_arpa_g",
    "write_graph",
    "write_symbols",
]
