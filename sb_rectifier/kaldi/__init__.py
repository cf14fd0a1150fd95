"""Kaldi interoperability without Kaldi binaries.

Readers and writers for the Kaldi files a DNN-HMM hybrid recipe needs: the
transition model at the start of ``final.mdl`` (:mod:`.transition_model`)
and its HMM topology (:mod:`.hmm_topology`), both built on Kaldi's basic
text/binary serialisation (:mod:`.basic_io`), integer-vector tables such
as ``ali.*.gz`` (:mod:`.archives`), alignment directories
(:mod:`.alignments`) and data directories with CMVN (:mod:`.data_dir`).

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.kaldi.alignments import (
    load_alignment_dir,
    load_pdf_alignments,
)
from sb_rectifier.kaldi.archives import (
    read_int_vectors,
    write_int_vectors,
)
from sb_rectifier.kaldi.data_dir import (
    KaldiDataDir,
    apply_cmvn,
    compute_cmvn_stats,
)
from sb_rectifier.kaldi.hmm_topology import NO_PDF, HmmState, HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

__all__ = [
    "NO_PDF",
    "HmmState",
    "HmmTopology",
    "KaldiDataDir",
    "TransitionModel",
    "apply_cmvn",
    "compute_cmvn_stats",
    "load_alignment_dir",
    "load_pdf_alignments",
    "read_int_vectors",
    "write_int_vectors",
]
