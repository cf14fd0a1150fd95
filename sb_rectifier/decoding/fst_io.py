"""Reading, writing and checking FST files (``HCLG.fst``, ``G.fst``).

Graphs are OpenFst binary files with standard (tropical) arcs, in
``vector`` or ``const`` form, as Kaldi writes them. A graph is checked by
its header before it is read (a large graph need not be loaded for a
clear error), and written atomically: a temporary file next to it
(:func:`sb_rectifier.files.temp_sibling`), then a rename.

kaldifst 1.7.17 (the release kaldi-hmm-gmm works with, see the README's
"Why the stack is pinned") writes ``const`` FSTs but cannot read them
("Unknown FST type const"). :func:`read_graph` therefore parses OpenFst's
``const`` format itself with NumPy (OpenFst's ``const-fst.h``: a header,
then an array of states and an array of arcs, each aligned to 16 bytes
in version 1, unaligned in version 2), builds the same graph's ``vector``
bytes without a per-arc Python loop, and has kaldifst read those from a
pipe (no file is written).

Authors
 * sb_rectifier developers 2026
"""

import errno
import os
import struct
import subprocess
import sys
from dataclasses import dataclass

import kaldifst as kf
import numpy as np

from sb_rectifier.files import WriteError, atomic_path

__all__ = [
    "GraphArrays",
    "check_graph_file",
    "graph_size",
    "read_graph",
    "read_graph_arrays",
    "write_graph",
]

_FST_MAGIC = 2125659606
_SYMBOLS_MAGIC = 2125658996
# FstHeader flags.
_HAS_ISYMBOLS, _HAS_OSYMBOLS, _IS_ALIGNED = 0x1, 0x2, 0x4
# MappedFile::kArchAlignment: where version-1 (aligned) const FSTs pad.
_ALIGN = 16
# Binary properties: kExpanded, kMutable. kCopyProperties: kError and
# the trinary properties, which carry over from a const FST to a vector.
_EXPANDED, _MUTABLE = 0x1, 0x2
_COPY_PROPERTIES = 0x4 | 0x0000FFFFFFFF0000
# ConstFstImpl<StdArc, uint32>::ConstState and StdArc, as stored.
_CONST_STATE = np.dtype(
    [
        ("final", "<f4"),
        ("pos", "<u4"),
        ("narcs", "<u4"),
        ("niepsilons", "<u4"),
        ("noepsilons", "<u4"),
    ]
)
_ARC = np.dtype(
    [
        ("ilabel", "<i4"),
        ("olabel", "<i4"),
        ("weight", "<f4"),
        ("nextstate", "<i4"),
    ]
)


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


class _ConstError(ValueError):
    """What is wrong with a const FST file (the caller names the file)."""


class _Fields:
    """Little-endian fields of an OpenFst header, each read checked."""

    def __init__(self, f, size):
        self.f, self.size = f, size

    def take(self, n, what):
        data = self.f.read(n)
        if len(data) != n:
            raise _ConstError(
                f"truncated FST: the file ({self.size} bytes) "
                f"ends inside the {what}"
            )
        return data

    def int32(self, what):
        return struct.unpack("<i", self.take(4, what))[0]

    def int64(self, what):
        return struct.unpack("<q", self.take(8, what))[0]

    def string(self, what):
        n = self.int32(what)
        if not 0 <= n <= self.size:
            raise _ConstError(f"bad string length {n} in the {what}")
        return self.take(n, what)


def _skip_symbol_table(fields, which):
    """Reads past one binary SymbolTable; returns its bytes."""
    what = f"{which} symbol table"
    start = fields.f.tell()
    if fields.int32(what) != _SYMBOLS_MAGIC:
        raise _ConstError(f"bad {what} (wrong magic number)")
    fields.string(what)  # name
    fields.int64(what)  # available key
    size = fields.int64(what)
    if not 0 <= size <= fields.size:
        raise _ConstError(f"bad {what} size {size}")
    for _ in range(size):
        fields.string(what)
        fields.int64(what)
    end = fields.f.tell()
    fields.f.seek(start)
    return fields.f.read(end - start)


def _align(offset):
    return -(-offset // _ALIGN) * _ALIGN


def _read_fst_header(path):
    """The header of an OpenFst binary file: ``(header, size, offset)``.

    ``header`` holds the header's fields and the raw bytes of its symbol
    tables; ``offset`` is where the body starts.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        fields = _Fields(f, size)
        what = "header"
        if fields.int32(what) != _FST_MAGIC:
            raise _ConstError("not an OpenFst binary FST")
        header = {
            "fst_type": fields.string(what).decode("ascii", "replace"),
            "arc_type": fields.string(what).decode("ascii", "replace"),
            "version": fields.int32(what),
            "flags": fields.int32(what),
            "properties": struct.unpack("<Q", fields.take(8, what))[0],
            "start": fields.int64(what),
            "num_states": fields.int64(what),
            "num_arcs": fields.int64(what),
        }
        symbols = b""
        if header["flags"] & _HAS_ISYMBOLS:
            symbols += _skip_symbol_table(fields, "input")
        if header["flags"] & _HAS_OSYMBOLS:
            symbols += _skip_symbol_table(fields, "output")
        header["symbols"] = symbols
        offset = f.tell()
    if header["num_states"] < 0 or header["num_arcs"] < 0:
        raise _ConstError(
            f"bad FST header: {header['num_states']} states, "
            f"{header['num_arcs']} arcs"
        )
    if not -1 <= header["start"] < header["num_states"]:
        raise _ConstError(
            f"start state {header['start']} of {header['num_states']} states"
        )
    if header["arc_type"] != "standard":
        raise _ConstError(
            f"arc type {header['arc_type']!r}, expected 'standard' (tropical)"
        )
    return header, size, offset


def _read_const(path):
    """A ``const`` FST file as ``(header, states, arcs)`` NumPy arrays.

    ``states`` and ``arcs`` are structured arrays (``_CONST_STATE``,
    ``_ARC``). Everything is checked against the file's size and the
    header's counts (:class:`_ConstError` says what is wrong).
    """
    header, size, offset = _read_fst_header(path)
    if header["fst_type"] != "const":
        raise _ConstError(
            f"FST type {header['fst_type']!r}, expected 'const' "
            "(32-bit offsets)"
        )
    version = header["version"]
    if version not in (1, 2):
        raise _ConstError(
            f"const FST version {version} (this reader knows 1 and 2)"
        )
    num_states, num_arcs = header["num_states"], header["num_arcs"]
    # ConstFstImpl::Read: version 1, or the IS_ALIGNED flag, pads to 16
    # bytes (file offsets) before the states and before the arcs.
    aligned = version == 1 or bool(header["flags"] & _IS_ALIGNED)
    states_at = _align(offset) if aligned else offset
    arcs_at = states_at + num_states * _CONST_STATE.itemsize
    arcs_at = _align(arcs_at) if aligned else arcs_at
    end = arcs_at + num_arcs * _ARC.itemsize
    if size < end:
        raise _ConstError(
            f"truncated const FST: {size} bytes, but its header "
            f"({num_states} states, {num_arcs} arcs) needs {end}"
        )
    if size > end:
        raise _ConstError(
            f"{size - end} unexpected bytes after the const FST's "
            f"{num_states} states and {num_arcs} arcs"
        )
    states = np.fromfile(path, _CONST_STATE, num_states, offset=states_at)
    arcs = np.fromfile(path, _ARC, num_arcs, offset=arcs_at)
    first = states["pos"].astype(np.int64)
    last = first + states["narcs"]
    bad = np.flatnonzero(last > num_arcs)
    if bad.size:
        s = int(bad[0])
        raise _ConstError(
            f"state {s}'s arcs {first[s]}..{last[s] - 1} lie past "
            f"the {num_arcs} arcs of the file"
        )
    bad = np.flatnonzero(
        (arcs["nextstate"] < 0) | (arcs["nextstate"] >= num_states)
    )
    if bad.size:
        a = int(bad[0])
        raise _ConstError(
            f"arc {a} goes to state {arcs['nextstate'][a]}, "
            f"but the FST has {num_states} states"
        )
    return header, states, arcs


def _vector_bytes(header, states, arcs):
    """OpenFst ``vector`` binary of a const FST (``VectorFst::WriteFst``).

    Header, then per state: final weight (float32), number of arcs
    (int64), the arcs (ilabel, olabel, weight, nextstate). Built in
    NumPy from the const arrays, with no loop over states or arcs.
    """
    num_states = len(states)
    narcs = states["narcs"].astype(np.int64)
    total = int(narcs.sum())
    before = np.zeros(num_states, np.int64)
    np.cumsum(narcs[:-1], out=before[1:])
    # The body in 4-byte words: a state is 3 words and 4 per arc, so
    # state s starts at 3 s + 4 before[s], and its arc j (j counting all
    # arcs before it in the vector file) at 3 (s + 1) + 4 j.
    body = np.zeros(3 * num_states + 4 * total, "<i4")
    state_at = 3 * np.arange(num_states, dtype=np.int64) + 4 * before
    body[state_at] = states["final"].view("<i4")
    body[state_at + 1] = states["narcs"].view("<i4")  # high word stays 0
    if total:
        owner = np.repeat(np.arange(num_states, dtype=np.int64), narcs)
        j = np.arange(total, dtype=np.int64)
        first = states["pos"].astype(np.int64)
        if np.array_equal(first, before):  # as OpenFst writes them
            ordered = arcs[:total]
        else:
            ordered = arcs[first[owner] + j - before[owner]]
        words = np.ascontiguousarray(ordered).view("<i4").reshape(total, 4)
        arc_at = 3 * (owner + 1) + 4 * j
        for k in range(4):
            body[arc_at + k] = words[:, k]
    properties = (header["properties"] & _COPY_PROPERTIES) | (
        _EXPANDED | _MUTABLE
    )
    flags = header["flags"] & (_HAS_ISYMBOLS | _HAS_OSYMBOLS)
    head = b"".join(
        [
            struct.pack("<i", _FST_MAGIC),
            struct.pack("<i", 6),
            b"vector",
            struct.pack("<i", len(header["arc_type"])),
            header["arc_type"].encode("ascii"),
            struct.pack(
                "<iiQqqq",
                2,  # VectorFst's file version
                flags,
                properties,
                header["start"],
                num_states,
                total,
            ),
            header["symbols"],
        ]
    )
    return head, body


# Copies its standard input to its standard output once it has all of it.
_ECHO = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"


def _read_vector_bytes(path, head, body):
    """kaldifst reads an FST from bytes, through a pipe, writing no file.

    kaldifst reads only from a file name, and holds the GIL while it
    reads, so no thread of this process can feed a pipe: a child process
    takes all the bytes, then writes them to the pipe kaldifst reads
    (``/dev/fd/N``). Nothing touches the disk (a full disk or a file-size
    limit does not stop a graph from being read).
    """
    child = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _ECHO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    fst = None
    try:
        try:
            child.stdin.write(head)
            child.stdin.write(memoryview(body).cast("B"))
            child.stdin.close()
        except OSError as err:  # the child died
            raise OSError(
                err.errno or errno.EPIPE,
                f"{path}: cannot convert the const FST: the helper process "
                f"({sys.executable}) failed: {err}",
            ) from None
        fst = kf.StdVectorFst.read(f"/dev/fd/{child.stdout.fileno()}")
    finally:
        child.stdout.close()
        if child.poll() is None and fst is None:
            child.kill()
        err = child.stderr.read().decode(errors="replace").strip()
        child.stderr.close()
        child.wait()
    if child.returncode and fst is None:
        raise OSError(
            errno.EPIPE,
            f"{path}: cannot convert the const FST: the helper process "
            f"({sys.executable}) exited with status {child.returncode}"
            + (f": {err}" if err else ""),
        )
    return fst


def _read_const_as_vector(path):
    """A ``const`` FST file read into a kaldifst.StdVectorFst."""
    try:
        header, states, arcs = _read_const(path)
    except _ConstError as err:
        raise ValueError(f"{path}: could not read the FST: {err}") from None
    head, body = _vector_bytes(header, states, arcs)
    num_states = len(states)
    del states, arcs  # the memory goes to kaldifst's copy
    fst = _read_vector_bytes(path, head, body)
    if fst is None or fst.num_states != num_states:
        raise ValueError(f"{path}: could not read the FST (const)")
    return fst


@dataclass
class GraphArrays:
    """A decoding graph as arrays, for the lattice search.

    Arguments
    ---------
    start : int
        The start state.
    first, count : numpy.ndarray
        int64 index of each state's first arc in ``arcs`` and its number
        of arcs.
    arcs : numpy.ndarray
        int32 ``[num_arcs, 4]``: ilabel, olabel, weight (the float32's
        bits), next state, as OpenFst stores an arc.
    weights : numpy.ndarray
        float32 ``[num_arcs, 4]`` view of the same memory (column 2 is the
        weight).
    final : numpy.ndarray
        float32 final cost of each state (inf: not final).
    max_ilabel : int
        The largest input label (a transition-id).
    num_eps : numpy.ndarray
        int32 number of input-epsilon arcs of each state.
    """

    start: int
    first: np.ndarray
    count: np.ndarray
    arcs: np.ndarray
    weights: np.ndarray
    final: np.ndarray
    max_ilabel: int
    num_eps: np.ndarray

    @property
    def num_states(self):
        """Number of states."""
        return len(self.final)

    @property
    def num_arcs(self):
        """Number of arcs."""
        return len(self.arcs)


def _vector_arrays(path):
    """``(start, first, count, arcs, final, num_eps)`` of a ``vector`` FST.

    The body is, per state, the final weight (float32), the number of arcs
    (int64) and the arcs (4 x 4 bytes). States have variable sizes, so
    the walk over them is compiled (numba).
    """
    from sb_rectifier.decoding.lattice_search import vector_fst_body

    header, size, offset = _read_fst_header(path)
    if header["fst_type"] != "vector":
        raise _ConstError(f"FST type {header['fst_type']!r}, expected 'vector'")
    num_states = header["num_states"]
    body = size - offset
    num_arcs, rest = divmod(body - 12 * num_states, 16)
    if rest or num_arcs < 0 or body % 4:
        raise _ConstError(
            f"{body} bytes after the header do not hold {num_states} "
            "states and whole arcs (truncated?)"
        )
    # Mapped, not read: the body is copied once, into the arrays.
    words = np.memmap(path, "<i4", "r", offset=offset, shape=(body // 4,))
    try:
        first, count, arcs, final, num_eps, error = vector_fst_body(
            words, words.view("<f4"), num_states, num_arcs
        )
    finally:
        del words
    if error >= 0:
        raise _ConstError(
            f"state {error}: its arcs run past the end of the file, or an "
            "arc goes to a state that does not exist"
        )
    return header["start"], first, count, arcs, final, num_eps


def read_graph_arrays(path):
    """Reads a graph file (``vector`` or ``const``) into arrays.

    The lattice search (:mod:`.lattice_search`) walks these arrays; a
    ``const`` graph's arcs are read as they lie in the file.

    Arguments
    ---------
    path : str or os.PathLike
        An OpenFst binary FST with standard arcs.

    Returns
    -------
    GraphArrays
        The graph.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file, as :func:`read_graph`.

    Example
    -------
    >>> fst = kf.compile("0 1 5 7 0.5\\n1 2.0")
    >>> for const in (False, True):
    ...     path = str(getfixture("tmpdir") / f"HCLG_{const}.fst")
    ...     write_graph(fst, path, const=const)
    ...     g = read_graph_arrays(path)
    ...     print(
    ...         g.start,
    ...         g.arcs[:, [0, 1, 3]].tolist(),
    ...         g.weights[:, 2].tolist(),
    ...         g.final.tolist(),
    ...     )
    0 [[5, 7, 1]] [0.5] [inf, 2.0]
    0 [[5, 7, 1]] [0.5] [inf, 2.0]
    """
    path = os.fspath(path)
    fst_type = check_graph_file(path)
    try:
        if fst_type == "const":
            header, states, arcs = _read_const(path)
            start = header["start"]
            first = states["pos"].astype(np.int64)
            count = states["narcs"].astype(np.int64)
            final = np.ascontiguousarray(states["final"], np.float32)
            num_eps = states["niepsilons"].astype(np.int32)
            arcs = np.ascontiguousarray(arcs).view("<i4").reshape(-1, 4)
        else:
            start, first, count, arcs, final, num_eps = _vector_arrays(path)
    except _ConstError as err:
        raise ValueError(f"{path}: could not read the FST: {err}") from None
    return GraphArrays(
        start=int(start),
        first=first,
        count=count,
        arcs=arcs,
        weights=arcs.view("<f4"),
        final=final,
        max_ilabel=int(arcs[:, 0].max()) if len(arcs) else 0,
        num_eps=num_eps,
    )


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
        smaller in memory and the decoders take it as it is; it is
        built from the vector form, so reading takes a moment longer).
    what : str
        What the file is, for the "not found" message.

    Returns
    -------
    kaldifst.StdVectorFst or kaldifst.StdConstFst
        The graph.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file: missing, not a vector or const FST with standard
        arcs, truncated or inconsistent (an arc to a state that does not
        exist, trailing bytes).
    OSError
        If the helper process that hands a const FST's vector form to
        kaldifst (through a pipe) fails.

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
        if fst is None:
            raise ValueError(f"{path}: could not read the FST")
        return fst
    # kaldifst 1.7.17 cannot read const FSTs: parsed here (module notes).
    fst = _read_const_as_vector(path)
    return fst if vector else kf.StdConstFst(fst)


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
