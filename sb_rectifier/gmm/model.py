"""GMM-HMM models in Kaldi's ``final.mdl`` format (transition model + GMMs).

A Kaldi GMM ``final.mdl`` is a ``<TransitionModel>`` followed by an
``AmDiagGmm`` (``<DIMENSION> d <NUMPDFS> n`` and one ``<DiagGMM>`` per pdf
with ``<GCONSTS> <WEIGHTS> <MEANS_INVVARS> <INV_VARS>``), as written by
Kaldi's ``am-diag-gmm.cc`` / ``diag-gmm.cc``. The ``kaldi_hmm_gmm`` wheel
trains these objects but can neither write nor read the file, so this
module does both, on top of :mod:`sb_rectifier.kaldi.basic_io` and our
transition-model reader/writer (:mod:`sb_rectifier.kaldi.transition_model`).

Authors
 * sb_rectifier developers 2026
"""

import os

import _kaldi_hmm_gmm as _khg_native  # TransitionModelTuple
import kaldi_hmm_gmm as khg
import numpy as np

from sb_rectifier.files import atomic_write
from sb_rectifier.kaldi.basic_io import (
    BinaryTokenReader,
    BinaryWriter,
    TextTokenReader,
    TextWriter,
)
from sb_rectifier.kaldi.hmm_topology import write_topology
from sb_rectifier.kaldi.transition_model import TransitionModel, _read_model

__all__ = [
    "am_from_arrays",
    "am_to_arrays",
    "khg_topology",
    "khg_transition_model",
    "our_transition_model",
    "read_model",
    "write_model",
]


def khg_topology(topology):
    """Our :class:`~sb_rectifier.kaldi.hmm_topology.HmmTopology` as khg's.

    Arguments
    ---------
    topology : HmmTopology
        The topology (ours).

    Returns
    -------
    kaldi_hmm_gmm.HmmTopology
        The same topology, as Kaldi's C++ object.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> khg_topology(HmmTopology.left_to_right([1, 2])).phones
    [1, 2]
    """
    out = []
    write_topology(topology, TextWriter(out, 9), binary=False)
    topo = khg.HmmTopology()
    topo.read("".join(out))
    return topo


def our_transition_model(trans_model):
    """khg's TransitionModel as ours (exact: parsed from Kaldi's own text).

    Arguments
    ---------
    trans_model : kaldi_hmm_gmm.TransitionModel
        The model.

    Returns
    -------
    TransitionModel
        Our :class:`~sb_rectifier.kaldi.transition_model.TransitionModel`.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> topo = khg_topology(HmmTopology.left_to_right([1, 2]))
    >>> ctx = khg.monophone_context_dependency(
    ...     topo.phones, topo.get_phone_to_num_pdf_classes()
    ... )
    >>> our_transition_model(khg.TransitionModel(ctx, topo)).num_pdfs
    6
    """
    return _read_model(TextTokenReader(str(trans_model).split(), "khg"), False)


def khg_transition_model(tm):
    """Our TransitionModel as khg's (through khg's pickle state).

    Arguments
    ---------
    tm : TransitionModel
        Our model.

    Returns
    -------
    kaldi_hmm_gmm.TransitionModel
        The same model, as Kaldi's C++ object.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> k = khg_transition_model(tm)
    >>> k.transition_id_to_pdf(3), int(tm.tid2pdf[3])
    (1, 1)
    """
    tuples = [_khg_native.TransitionModelTuple(*t) for t in tm.tuples]
    id2state = tm.tid2tstate.astype(int).tolist()
    id2state[0] = 0
    id2pdf = tm.tid2pdf.astype(int).tolist()
    id2pdf[0] = 0
    non_loop = [0.0] + [
        tm.non_self_loop_log_prob(s)
        for s in range(1, tm.num_transition_states + 1)
    ]
    state = (
        tuples,
        khg_topology(tm.topology),
        tm.tstate2first_tid.astype(int).tolist(),
        id2state,
        id2pdf,
        tm.num_pdfs,
        [float(x) for x in tm.log_probs],
        non_loop,
    )
    out = khg.TransitionModel.__new__(khg.TransitionModel)
    out.__setstate__(state)
    return out


def am_to_arrays(am_gmm):
    """The parameters of an AmDiagGmm, per pdf.

    Arguments
    ---------
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        The GMMs.

    Returns
    -------
    list of tuple
        ``(gconsts, weights, means_invvars, inv_vars)`` per pdf (float32
        copies, independent of the model).

    Example
    -------
    >>> am = am_from_arrays([(np.ones(1), np.zeros((1, 2)), np.ones((1, 2)))])
    >>> [a.shape for a in am_to_arrays(am)[0]]
    [(1,), (1,), (1, 2), (1, 2)]
    """
    out = []
    for i in range(am_gmm.num_pdfs):
        g = am_gmm.get_pdf(i)
        # copies: khg's arrays view the model's memory, which a later
        # split or update frees
        out.append(
            (
                np.array(g.gconsts, dtype=np.float32, copy=True),
                np.array(g.weights, dtype=np.float32, copy=True),
                np.array(g.means_invvars, dtype=np.float32, copy=True),
                np.array(g.inv_vars, dtype=np.float32, copy=True),
            )
        )
    return out


def am_from_arrays(pdfs):
    """An AmDiagGmm from ``(weights, means_invvars, inv_vars)`` per pdf.

    Arguments
    ---------
    pdfs : list of tuple
        Per pdf: weights ``(G,)``, means times inverse variances ``(G, D)``
        and inverse variances ``(G, D)``.

    Returns
    -------
    kaldi_hmm_gmm.AmDiagGmm
        The GMMs, with their gconsts computed.

    Example
    -------
    >>> am = am_from_arrays([(np.ones(1), np.zeros((1, 2)), np.ones((1, 2)))])
    >>> am.num_pdfs, am.dim, am.num_gauss
    (1, 2, 1)
    """
    state = []
    for weights, means_invvars, inv_vars in pdfs:
        state += [
            np.asarray(weights, dtype=np.float32),
            np.asarray(inv_vars, dtype=np.float32),
            np.asarray(means_invvars, dtype=np.float32),
        ]
    am = khg.AmDiagGmm.__new__(khg.AmDiagGmm)
    am.__setstate__(tuple(state))
    am.compute_gconsts()
    return am


def _write_matrix(w, binary, matrix):
    matrix = np.asarray(matrix, dtype=np.float32)
    if binary:
        w.token("FM")
        w.int(matrix.shape[0])
        w.int(matrix.shape[1])
        w.out.append(matrix.astype("<f4").tobytes())
        return
    rows = "".join(
        "\n  " + "".join(f"{w_fmt(x)} " for x in row) for row in matrix
    )
    w.raw(" [" + rows + "]\n")


def w_fmt(x):
    """``float`` formatted as C++ streams do (precision 7, Kaldi tools).

    Arguments
    ---------
    x : float
        The value.

    Returns
    -------
    str
        The text.

    Example
    -------
    >>> w_fmt(0.1), w_fmt(2.0)
    ('0.1', '2')
    """
    return f"{float(x):.7g}"


def _model_bytes(trans_model, am_gmm, binary):
    tm = (
        trans_model
        if isinstance(trans_model, TransitionModel)
        else our_transition_model(trans_model)
    )
    if am_gmm.num_pdfs != tm.num_pdfs:
        raise ValueError(
            f"write_model: transition model has {tm.num_pdfs} pdfs but the "
            f"GMMs have {am_gmm.num_pdfs}"
        )
    out = [b"\0B"] if binary else []
    text_out = []
    w = BinaryWriter(out) if binary else TextWriter(text_out, 7)
    tm._write(w, binary)
    w.token("<DIMENSION>")
    w.int(am_gmm.dim)
    w.token("<NUMPDFS>")
    w.int(am_gmm.num_pdfs)
    for gconsts, weights, means_invvars, inv_vars in am_to_arrays(am_gmm):
        w.token("<DiagGMM>")
        w.newline()
        w.token("<GCONSTS>")
        w.float_vector(gconsts)
        w.token("<WEIGHTS>")
        w.float_vector(weights)
        w.token("<MEANS_INVVARS>")
        _write_matrix(w, binary, means_invvars)
        w.token("<INV_VARS>")
        _write_matrix(w, binary, inv_vars)
        w.token("</DiagGMM>")
        w.newline()
    if binary:
        return b"".join(out)
    return "".join(text_out).encode("ascii")


def write_model(path, trans_model, am_gmm, binary=True):
    """Writes a Kaldi GMM ``final.mdl`` (atomically).

    Arguments
    ---------
    path : str or os.PathLike
        The output file.
    trans_model : kaldi_hmm_gmm.TransitionModel or TransitionModel
        The transition model (khg's or ours).
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        The GMMs, one per pdf.
    binary : bool
        Kaldi's binary form (default, as Kaldi's training scripts) or text.

    Example
    -------
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1]))
    >>> am = am_from_arrays(
    ...     [(np.ones(1), np.zeros((1, 2)), np.ones((1, 2)))] * tm.num_pdfs
    ... )
    >>> path = getfixture("tmp_path") / "final.mdl"
    >>> write_model(path, tm, am)
    >>> tm2, am2 = read_model(path)
    >>> am2.num_pdfs, tm2.num_pdfs, TransitionModel.read(path) == tm
    (3, 3, True)
    """
    data = _model_bytes(trans_model, am_gmm, binary)
    with atomic_write(path, "wb") as f:
        f.write(data)


class _TextMatrixReader(TextTokenReader):
    def float_matrix(self, dim):
        values = self.float_vector()
        if dim <= 0 or values.size % dim:
            raise ValueError(
                f"{self.name}: matrix of {values.size} values is not a "
                f"multiple of the dimension {dim}"
            )
        return values.reshape(-1, dim)


def _binary_matrix(tokens, dim):
    kind = tokens.token()
    if kind not in ("FM", "DM"):
        raise ValueError(f"{tokens.name}: expected FM or DM, got {kind!r}")
    rows, cols = tokens.int(), tokens.int()
    if rows < 0 or cols != dim:
        raise ValueError(
            f"{tokens.name}: matrix {rows}x{cols}, expected dimension {dim}"
        )
    dtype, width = ("<f4", 4) if kind == "FM" else ("<f8", 8)
    data = tokens._read(width * rows * cols)
    return (
        np.frombuffer(data, dtype=dtype).astype(np.float32).reshape(rows, cols)
    )


def _read_am(tokens, binary):
    tokens.expect("<DIMENSION>")
    dim = tokens.int()
    tokens.expect("<NUMPDFS>")
    num_pdfs = tokens.int()
    if dim <= 0 or num_pdfs <= 0:
        raise ValueError(
            f"{tokens.name}: bad dimension {dim} or #pdfs {num_pdfs}"
        )
    pdfs = []
    for pdf in range(num_pdfs):
        tok = tokens.token()
        if tok not in ("<DiagGMM>", "<DiagGMMBegin>"):
            raise ValueError(
                f"{tokens.name}: pdf {pdf}: expected <DiagGMM>, got {tok!r}"
            )
        tok = tokens.token()
        if tok == "<GCONSTS>":
            tokens.float_vector()
            tok = tokens.token()
        if tok != "<WEIGHTS>":
            raise ValueError(
                f"{tokens.name}: pdf {pdf}: expected <WEIGHTS>, got {tok!r}"
            )
        weights = tokens.float_vector()
        mats = []
        for name in ("<MEANS_INVVARS>", "<INV_VARS>"):
            tokens.expect(name)
            mats.append(
                _binary_matrix(tokens, dim)
                if binary
                else tokens.float_matrix(dim)
            )
        tok = tokens.token()
        if tok not in ("</DiagGMM>", "<DiagGMMEnd>"):
            raise ValueError(
                f"{tokens.name}: pdf {pdf}: expected </DiagGMM>, got {tok!r}"
            )
        if not (len(weights) == mats[0].shape[0] == mats[1].shape[0]):
            raise ValueError(
                f"{tokens.name}: pdf {pdf}: {len(weights)} weights but "
                f"{mats[0].shape[0]}/{mats[1].shape[0]} rows of means/variances"
            )
        pdfs.append((weights, mats[0], mats[1]))
    return am_from_arrays(pdfs)


def read_model(path, ours=False):
    """Reads a Kaldi GMM ``final.mdl`` (binary or text).

    Arguments
    ---------
    path : str or os.PathLike
        The model file.
    ours : bool
        Also return our TransitionModel (third item).

    Returns
    -------
    trans_model : kaldi_hmm_gmm.TransitionModel
        The transition model.
    am_gmm : kaldi_hmm_gmm.AmDiagGmm
        The GMMs.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file: missing, truncated or not a GMM model.

    Example
    -------
    >>> path = getfixture("tmp_path") / "bad.mdl"
    >>> _ = path.write_bytes(b"<Nnet3> ...")
    >>> read_model(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: ...bad.mdl: expected <TransitionModel> at the start...
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: GMM model file not found")
    with open(path, "rb") as f:
        data = f.read()
    try:
        if data[:2] == b"\0B":
            import io

            tokens = BinaryTokenReader(io.BytesIO(data[2:]), path)
            binary = True
        else:
            try:
                text = data.decode("ascii")
            except UnicodeDecodeError:
                raise ValueError(
                    f"{path}: not a Kaldi model (non-ASCII text)"
                ) from None
            tokens = _TextMatrixReader(text.split(), path)
            binary = False
        tm = _read_model(tokens, binary)
        am = _read_am(tokens, binary)
    except ValueError as err:
        message = str(err)
        if not message.startswith(path):
            message = f"{path}: {message}"
        raise ValueError(message) from None
    if am.num_pdfs != tm.num_pdfs:
        raise ValueError(
            f"{path}: transition model has {tm.num_pdfs} pdfs but there are "
            f"{am.num_pdfs} GMMs"
        )
    tm.source = path
    k = khg_transition_model(tm)
    return (k, am, tm) if ours else (k, am)
