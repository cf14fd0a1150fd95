"""Viterbi decoding of a hybrid model's log-likelihoods on an HCLG graph.

The DNN gives per-frame pdf log-likelihoods (``log_posterior -
log_prior``); the graph's input labels are transition-ids. As Kaldi's
``decode-faster-mapped`` (``DecodableMatrixScaledMapped``), the decoder
sees ``acoustic_scale * loglik_pdf[t, tid2pdf[tid]]`` for transition-id
``tid``. kaldi-decoder's ``DecodableCtc`` returns ``mat[t, i - 1]`` for
input label ``i``, so the matrix given to it is
``acoustic_scale * loglik_pdf[:, tid2pdf[1:]]`` (column ``j`` is
transition-id ``j + 1``). Search is kaldi-decoder's ``FasterDecoder``
(Kaldi's beam and max-active pruning) or, for a lattice,
``LatticeSimpleDecoder``.

Authors
 * sb_rectifier developers 2026
"""

from dataclasses import dataclass

import kaldi_decoder as kd
import kaldifst as kf
import numpy as np

__all__ = [
    "DecodingResult",
    "check_loglikes",
    "decode_utterance",
    "tid_loglikes",
]


@dataclass
class DecodingResult:
    """The best path of one utterance.

    Arguments
    ---------
    words : list of int
        Word ids (the graph's output labels, epsilons removed).
    alignment : numpy.ndarray
        int32 transition-ids, one per frame.
    graph_cost : float
        Graph (LM, pronunciation, transition) cost of the path.
    acoustic_cost : float
        Acoustic cost: minus the sum of the path's (unscaled) pdf
        log-likelihoods, as Kaldi stores it in lattices.
    reached_final : bool
        False if no final state of the graph was active at the end, in
        which case the best partial path is returned (Kaldi warns and
        does the same; here nothing is logged per utterance: callers
        count these and report one summary line).
    lattice : kaldifst.Lattice or None
        The raw state-level lattice (``lattice=True`` only); its acoustic
        costs are scaled by the acoustic scale.

    Example
    -------
    >>> r = DecodingResult([1], np.array([1, 2], np.int32), 0.5, 3.0, True)
    >>> r.num_frames, r.log_like(0.1)
    (2, -8.0)
    """

    words: list
    alignment: np.ndarray
    graph_cost: float
    acoustic_cost: float
    reached_final: bool
    lattice: object = None

    @property
    def num_frames(self):
        """Number of frames of the alignment."""
        return len(self.alignment)

    def log_like(self, acoustic_scale):
        """Kaldi's total log-likelihood of the path (``decode-faster``).

        Arguments
        ---------
        acoustic_scale : float
            The scale used for decoding.

        Returns
        -------
        float
            ``-(graph_cost / acoustic_scale + acoustic_cost)``.

        Example
        -------
        >>> r = DecodingResult([], np.array([1], np.int32), 1.0, 2.0, True)
        >>> r.log_like(0.5)
        -4.0
        """
        return -(self.graph_cost / acoustic_scale + self.acoustic_cost)


def _check_loglik(loglik_pdf, tid2pdf):
    loglik = np.asarray(loglik_pdf)
    tid2pdf = np.asarray(tid2pdf)
    if tid2pdf.ndim != 1 or tid2pdf.size < 2:
        raise ValueError(
            f"decode_utterance: tid2pdf must be a 1-D table with index 0 for "
            f"epsilon, got shape {tid2pdf.shape}"
        )
    num_pdfs = int(tid2pdf[1:].max()) + 1
    if loglik.ndim != 2:
        raise ValueError(
            f"decode_utterance: log-likelihoods must be [frames, pdfs], got "
            f"shape {loglik.shape}"
        )
    if loglik.shape[1] != num_pdfs:
        raise ValueError(
            f"decode_utterance: log-likelihoods have {loglik.shape[1]} "
            f"columns but the transition model has {num_pdfs} pdfs"
        )
    if loglik.shape[0] == 0:
        raise ValueError("decode_utterance: no frames")
    if not np.all(np.isfinite(loglik)):
        bad = int(np.flatnonzero(~np.isfinite(loglik).all(axis=1))[0])
        raise ValueError(
            f"decode_utterance: non-finite log-likelihood at frame {bad}"
        )
    return loglik, tid2pdf


def check_loglikes(matrix, num_pdfs, where, model=None):
    """Checks a log-likelihood matrix read from a file; errors name it.

    Arguments
    ---------
    matrix : object
        What the archive reader returned for one utterance.
    num_pdfs : int
        The number of pdfs of the transition model (one column each).
    where : str
        The file and utterance, put at the start of every message, e.g.
        ``"loglikes.scp: utterance 'u1' (loglikes.ark:12)"``.
    model : str, optional
        The model file the pdf count comes from (named in the message on
        a wrong number of columns).

    Returns
    -------
    numpy.ndarray
        The matrix as C-contiguous float32 ``[frames, num_pdfs]``.

    Raises
    ------
    ValueError
        If it is not a 2-D numeric matrix, has no frames, not one column
        per pdf, or holds NaN/inf.

    Example
    -------
    >>> check_loglikes(np.zeros((2, 3)), 3, "ll.ark: utterance 'u1'").dtype
    dtype('float32')
    >>> check_loglikes(
    ...     np.zeros((2, 4)), 3, "ll.ark: utterance 'u1'", "final.mdl"
    ... )
    Traceback (most recent call last):
    ValueError: ll.ark: utterance 'u1': the matrix has 4 columns, but final.mdl has 3 pdfs (log-likelihoods of another model?)
    """
    if not isinstance(matrix, np.ndarray) or matrix.dtype.kind not in "fiu":
        raise ValueError(
            f"{where}: not a numeric matrix of log-likelihoods (got "
            f"{type(matrix).__name__})"
        )
    if matrix.ndim != 2:
        raise ValueError(
            f"{where}: expected a [frames, pdfs] matrix of log-likelihoods, "
            f"got an array of shape {matrix.shape}"
        )
    if matrix.shape[1] != num_pdfs:
        source = model if model is not None else "the transition model"
        raise ValueError(
            f"{where}: the matrix has {matrix.shape[1]} columns, but "
            f"{source} has {num_pdfs} pdfs (log-likelihoods of another "
            "model?)"
        )
    if matrix.shape[0] == 0:
        raise ValueError(f"{where}: the matrix has no frames")
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{where}: non-finite log-likelihood at frame {bad}")
    return matrix


def tid_loglikes(loglik_pdf, tid2pdf, acoustic_scale=0.1):
    """The matrix DecodableCtc needs: scaled, one column per transition-id.

    Arguments
    ---------
    loglik_pdf : numpy.ndarray
        ``[frames, num_pdfs]`` pdf log-likelihoods.
    tid2pdf : numpy.ndarray
        Transition-id -> pdf (index 0 unused), e.g.
        ``TransitionModel.tid2pdf``.
    acoustic_scale : float
        Scale of the log-likelihoods.

    Returns
    -------
    numpy.ndarray
        C-contiguous float32 ``[frames, num_transition_ids]``; column
        ``j`` is transition-id ``j + 1``.

    Example
    -------
    >>> tid_loglikes(np.array([[1.0, 2.0]]), np.array([-1, 0, 0, 1]), 0.5)
    array([[0.5, 0.5, 1. ]], dtype=float32)
    """
    loglik, tid2pdf = _check_loglik(loglik_pdf, tid2pdf)
    mapped = float(acoustic_scale) * loglik[:, tid2pdf[1:]]
    return np.ascontiguousarray(mapped, dtype=np.float32)


def decode_utterance(
    graph,
    loglik_pdf,
    tid2pdf,
    acoustic_scale=0.1,
    beam=13.0,
    max_active=7000,
    lattice=False,
    lattice_beam=6.0,
):
    """Decodes one utterance: best word sequence and frame alignment.

    Arguments
    ---------
    graph : kaldifst.StdVectorFst or kaldifst.StdConstFst
        HCLG with transition-id input labels (at most
        ``len(tid2pdf) - 1``) and word output labels.
    loglik_pdf : numpy.ndarray
        ``[frames, num_pdfs]`` pdf log-likelihoods.
    tid2pdf : numpy.ndarray
        Transition-id -> pdf (index 0 unused).
    acoustic_scale : float
        Scale of the log-likelihoods against the graph costs.
    beam : float
        Decoding beam.
    max_active : int
        Maximum number of active states (``FasterDecoder`` only).
    lattice : bool
        Use ``LatticeSimpleDecoder`` and return its raw lattice too.
    lattice_beam : float
        Lattice beam (``lattice=True`` only).

    Returns
    -------
    DecodingResult
        Words, alignment, costs, whether a final state was reached.

    Raises
    ------
    ValueError
        If the matrix does not have one column per pdf of ``tid2pdf``,
        has no frames, or holds NaN/inf.

    Example
    -------
    >>> import kaldifst as kf
    >>> graph = kf.compile("0 1 1 7\\n1 1 1 0\\n1 0 2 0\\n0")  # word 7 = t1+ t2
    >>> loglik = np.log(np.array([[0.9, 0.1]] * 3 + [[0.1, 0.9]], np.float32))
    >>> r = decode_utterance(graph, loglik, np.array([-1, 0, 1]), 1.0)
    >>> r.words, r.alignment.tolist(), r.reached_final
    ([7], [1, 1, 1, 2], True)
    """
    matrix = tid_loglikes(loglik_pdf, tid2pdf, acoustic_scale)
    decodable = kd.DecodableCtc(matrix)
    raw = None
    if lattice:
        config = kd.LatticeSimpleDecoderConfig(
            beam=float(beam), lattice_beam=float(lattice_beam)
        )
        decoder = kd.LatticeSimpleDecoder(graph, config)
        decoder.decode(decodable)
        reached = decoder.final_relative_cost() != float("inf")
        ok, raw = decoder.get_raw_lattice(use_final_probs=reached)
    else:
        options = kd.FasterDecoderOptions(
            beam=float(beam), max_active=int(max_active)
        )
        decoder = kd.FasterDecoder(graph, options)
        decoder.decode(decodable)
        reached = decoder.reached_final()
    ok, best = decoder.get_best_path(use_final_probs=reached)
    if not ok:
        raise RuntimeError(
            "decode_utterance: the decoder found no path (is the graph "
            "empty, or the beam too small?)"
        )
    ok, tids, words, weight = kf.get_linear_symbol_sequence(best)
    if not ok:
        raise RuntimeError("decode_utterance: best path is not linear")
    alignment = np.asarray(tids, dtype=np.int32)
    if len(alignment) != matrix.shape[0]:
        raise RuntimeError(
            f"decode_utterance: best path has {len(alignment)} frames, "
            f"expected {matrix.shape[0]}"
        )
    acoustic = float(weight.value2)
    if acoustic_scale != 0:
        acoustic /= float(acoustic_scale)
    return DecodingResult(
        words=[int(w) for w in words],
        alignment=alignment,
        graph_cost=float(weight.value1),
        acoustic_cost=acoustic,
        reached_final=bool(reached),
        lattice=raw,
    )
