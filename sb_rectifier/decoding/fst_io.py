"""Reading, writing and checking FST files (``HCLG.fst``, ``G.fst``).

Graphs are OpenFst binary files with standard (tropical) arcs, in
``vector`` or ``const`` form, as Kaldi writes them. A graph is checked by
its header before it is read (a large graph need not be loaded for a
clear error), and written atomically: a temporary file next to it
(:func:`sb_rectifier.files.temp_sibling`), then a rename.

Authors
 * sb_rectifier developers 2026
"""

import errno
import os
import struct

import kaldifst as kf

from sb_rectifier.files import WriteError, atomic_path

__all__ = [
    "check_graph_file",
    "graph_size",
    "read_graph",
    "write_graph",
]

_FST_MAGIC = 2125659606


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


def check_graph_file(path, what="graph"):
    """Checks that a graph file exists and is an FST the decoder reads.

    Reads only the OpenFst header (the graph itself may be large); a
    truncated graph is reported when it is read.

    Arguments
    ---------
    path : str or os.PathLike
        ``HCLG.fst`` (or ``G.fst``).
    what : str
        What the file is, for the "not found" message.

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
        raise FileNotFoundError(f"{path}: {what} not found")
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


def read_graph(path, vector=True, what="graph"):
    """Reads a decoding graph (e.g. Kaldi's ``HCLG.fst``) or a ``G.fst``.

    Arguments
    ---------
    path : str or os.PathLike
        An OpenFst binary FST with standard (tropical) arcs, in ``vector``
        or ``const`` form (Kaldi's ``mkgraph.sh`` writes ``const``).
    vector : bool
        True (default): always return a (mutable) StdVectorFst, converting
        a const FST. False: return the file's form (a const FST is
        smaller in memory and the decoders take it as it is).
    what : str
        What the file is, for the "not found" message.

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
    if check_graph_file(path, what) == "vector":
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

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    sb_rectifier.files.WriteError
        If the file cannot be written (naming it); nothing is left behind.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "G.fst")
    >>> write_graph(kf.compile("0 1 5 7\\n1"), path)
    >>> read_graph(path).num_states
    2
    """
    path = os.fspath(path)
    if const:
        out = fst if isinstance(fst, kf.StdConstFst) else kf.StdConstFst(fst)
    else:
        out = fst if isinstance(fst, kf.StdVectorFst) else kf.StdVectorFst(fst)
    with atomic_path(path) as tmp:
        if not out.write(tmp):
            raise WriteError(
                errno.EIO, f"{path}: cannot write: writing the FST failed"
            )
