"""Kaldi's basic serialisation: tokens, integers, floats and vectors.

Kaldi writes its objects (``<Topology>``, ``<TransitionModel>``, ...) as a
sequence of tokens, integers, floats and vectors, in a text form
(whitespace-separated) or in a binary form (files starting with ``\\0B``:
tokens followed by a space, numbers prefixed by their size in bytes,
little-endian), as in Kaldi's ``io-funcs.cc`` and ``kaldi-vector.cc``.
The readers and writers here are the building blocks of the object
readers and writers (:mod:`.hmm_topology`, :mod:`.transition_model`).

Authors
 * sb_rectifier developers 2026
"""

import math
import struct

import numpy as np

_CHUNK = 1 << 20  # Bytes read at a time when looking for an end token.


def to_float32(value):
    """Rounds a number to float32, like Kaldi's BaseFloat, as a float.

    Arguments
    ---------
    value : float
        The number.

    Returns
    -------
    float
        The nearest float32 value, as a Python float.

    Example
    -------
    >>> to_float32(0.1)
    0.10000000149011612
    """
    return float(np.float32(value))


def format_float(value, precision=6):
    """Formats a float like C++ ``std::ostream << value`` (default flags).

    Arguments
    ---------
    value : float
        The number.
    precision : int
        Significant digits (C++'s default is 6).

    Returns
    -------
    str
        The text, as Kaldi writes it in text mode.

    Example
    -------
    >>> format_float(-0.2876820724517809), format_float(1e-07)
    ('-0.287682', '1e-07')
    >>> format_float(float("nan")), format_float(2.0, precision=7)
    ('nan', '2')
    """
    if math.isnan(value):
        return "nan" if math.copysign(1.0, value) > 0 else "-nan"
    return f"{value:.{precision}g}"


class _TokenReader:
    """What the text and binary token readers share.

    Subclasses define ``token()`` and set ``name`` (used in messages).
    """

    def expect(self, expected):
        """Reads the next token; raises ValueError unless it is ``expected``.

        Arguments
        ---------
        expected : str
            The token that must come next.
        """
        got = self.token()
        if got != expected:
            raise ValueError(f"{self.name}: expected {expected}, got {got!r}")


class TextTokenReader(_TokenReader):
    """Reads tokens and numbers from whitespace-separated Kaldi text.

    Arguments
    ---------
    tokens : list of str
        The text, split on whitespace.
    name : str
        Names the source (e.g. a file path) in error messages.

    Example
    -------
    >>> tokens = TextTokenReader("<Dim> 3 [ 0.5 -1 ]".split(), "example")
    >>> tokens.expect("<Dim>")
    >>> tokens.int()
    3
    >>> tokens.float_vector()
    array([ 0.5, -1. ], dtype=float32)
    >>> tokens.token()
    Traceback (most recent call last):
     ...
    ValueError: example: unexpected end of data
    """

    def __init__(self, tokens, name):
        self.tokens = tokens
        self.pos = 0
        self.name = name

    def token(self):
        """Reads the next token.

        Returns
        -------
        str
            The token.
        """
        if self.pos >= len(self.tokens):
            raise ValueError(f"{self.name}: unexpected end of data")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def peek(self):
        """The next token, without consuming it (None at the end).

        Returns
        -------
        str or None
            The next token.
        """
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def int(self):
        """Reads an integer.

        Returns
        -------
        int
            The integer.
        """
        tok = self.token()
        try:
            return int(tok)
        except ValueError:
            raise ValueError(
                f"{self.name}: expected an integer, got {tok!r}"
            ) from None

    def float(self):
        """Reads a float, rounded to float32.

        Returns
        -------
        float
            The number.
        """
        tok = self.token()
        try:
            return to_float32(float(tok))
        except ValueError:
            raise ValueError(
                f"{self.name}: expected a number, got {tok!r}"
            ) from None

    def float_vector(self):
        """Reads a vector in Kaldi's text form (``[ 1 2 3 ]``).

        Returns
        -------
        numpy.ndarray
            The float32 values.
        """
        self.expect("[")
        values = []
        while self.peek() != "]":
            values.append(self.float())
        self.token()
        return np.array(values, dtype=np.float32)


class BinaryTokenReader(_TokenReader):
    """Reads tokens and numbers in Kaldi's binary form from a file object.

    The reader has the methods of :class:`TextTokenReader`, plus
    :meth:`int_vector`; :meth:`peek` always gives None.

    Arguments
    ---------
    f : file object
        Opened in binary mode, positioned after the ``\\0B`` header.
    name : str
        Names the source (e.g. a file path) in error messages.

    Example
    -------
    >>> import io
    >>> out = []
    >>> writer = BinaryWriter(out)
    >>> writer.token("<Dim>")
    >>> writer.int(3)
    >>> writer.float_vector([0.5, -1.0])
    >>> tokens = BinaryTokenReader(io.BytesIO(b"".join(out)), "example")
    >>> tokens.expect("<Dim>")
    >>> tokens.int()
    3
    >>> tokens.float_vector()
    array([ 0.5, -1. ], dtype=float32)
    >>> tokens.int()
    Traceback (most recent call last):
     ...
    ValueError: example: unexpected end of file
    """

    def __init__(self, f, name):
        self.f = f
        self.name = name

    def _read(self, n):
        data = self.f.read(n)
        if len(data) != n:
            raise ValueError(f"{self.name}: unexpected end of file")
        return data

    def token(self):
        """Reads the next token (Kaldi's ``ReadToken``).

        Returns
        -------
        str
            The token.
        """
        char = self._read(1)
        while char.isspace():
            char = self._read(1)
        token = bytearray()
        while not char.isspace():
            token += char
            if len(token) > 64:
                raise ValueError(
                    f"{self.name}: garbage where a token was expected "
                    f"({bytes(token[:20])!r}...)"
                )
            char = self._read(1)
        if char != b" ":
            raise ValueError(
                f"{self.name}: token {token.decode(errors='replace')!r} not "
                "followed by a space"
            )
        return token.decode("ascii", errors="replace")

    def peek(self):
        """Always None: the binary form is read without look-ahead.

        Returns
        -------
        None
        """
        return None

    def int(self):
        """Reads a 4-byte integer (Kaldi's ``ReadBasicType<int32>``).

        Returns
        -------
        int
            The integer.
        """
        size = self._read(1)
        if size != b"\x04":
            raise ValueError(
                f"{self.name}: expected a 4-byte integer, size byte is {size!r}"
            )
        return struct.unpack("<i", self._read(4))[0]

    def float(self):
        """Reads a 4- or 8-byte float, rounded to float32.

        Returns
        -------
        float
            The number.
        """
        size = self._read(1)
        if size == b"\x04":
            return to_float32(struct.unpack("<f", self._read(4))[0])
        if size == b"\x08":
            return to_float32(struct.unpack("<d", self._read(8))[0])
        raise ValueError(
            f"{self.name}: expected a float, size byte is {size!r}"
        )

    def int_vector(self):
        """Reads an int32 vector (Kaldi's ``ReadIntegerVector``).

        Returns
        -------
        list of int
            The integers.
        """
        size = self._read(1)
        if size != b"\x04":
            raise ValueError(
                f"{self.name}: expected an int32 vector, size byte is {size!r}"
            )
        n = struct.unpack("<i", self._read(4))[0]
        if n < 0:
            raise ValueError(f"{self.name}: negative vector length {n}")
        return list(struct.unpack(f"<{n}i", self._read(4 * n)))

    def float_vector(self):
        """Reads a float or double vector (``FV`` or ``DV``).

        Returns
        -------
        numpy.ndarray
            The values, as float32.
        """
        kind = self.token()
        if kind not in ("FV", "DV"):
            raise ValueError(f"{self.name}: expected FV or DV, got {kind!r}")
        n = self.int()
        if n < 0:
            raise ValueError(f"{self.name}: negative vector length {n}")
        dtype, width = ("<f4", 4) if kind == "FV" else ("<f8", 8)
        data = np.frombuffer(self._read(width * n), dtype=dtype)
        return data.astype(np.float32)


class TextWriter:
    """Writes Kaldi's text form (``WriteToken`` / ``WriteBasicType``).

    Arguments
    ---------
    out : list of str
        The pieces of text are appended to this list.
    precision : int
        Significant digits of floats.

    Example
    -------
    >>> out = []
    >>> writer = TextWriter(out)
    >>> writer.token("<Dim>")
    >>> writer.int(3)
    >>> writer.newline()
    >>> writer.float_vector([0.5, -1 / 3])
    >>> print("".join(out), end="")
    <Dim> 3
     [ 0.5 -0.333333 ]
    """

    def __init__(self, out, precision=6):
        self.out = out
        self.precision = precision

    def token(self, tok):
        """Writes a token, followed by a space.

        Arguments
        ---------
        tok : str
            The token.
        """
        self.out.append(tok + " ")

    def int(self, value):
        """Writes an integer, followed by a space.

        Arguments
        ---------
        value : int
            The integer.
        """
        self.out.append(f"{int(value)} ")

    def float(self, value):
        """Writes a float, followed by a space.

        Arguments
        ---------
        value : float
            The number.
        """
        self.out.append(format_float(value, self.precision) + " ")

    def newline(self):
        """Writes a newline (the binary form has none)."""
        self.out.append("\n")

    def raw(self, text):
        """Writes ``text`` as it is.

        Arguments
        ---------
        text : str
            The text.
        """
        self.out.append(text)

    def float_vector(self, values):
        """Writes a vector (`` [ 1 2 3 ]``), then a newline.

        Arguments
        ---------
        values : iterable of float
            The values.
        """
        body = "".join(
            format_float(float(v), self.precision) + " " for v in values
        )
        self.out.append(" [ " + body + "]\n")


class BinaryWriter:
    """Writes Kaldi's binary form (without the ``\\0B`` header).

    Arguments
    ---------
    out : list of bytes
        The pieces of data are appended to this list.

    Example
    -------
    >>> out = []
    >>> writer = BinaryWriter(out)
    >>> writer.token("<Dim>")
    >>> writer.int(3)
    >>> writer.int_vector([1, 2])
    >>> b"".join(out)
    b'<Dim> \\x04\\x03\\x00\\x00\\x00\\x04\\x02\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x02\\x00\\x00\\x00'
    """

    def __init__(self, out):
        self.out = out

    def token(self, tok):
        """Writes a token, followed by a space.

        Arguments
        ---------
        tok : str
            The token (ASCII).
        """
        self.out.append(tok.encode("ascii") + b" ")

    def int(self, value):
        """Writes a 4-byte integer, with its size byte.

        Arguments
        ---------
        value : int
            The integer.
        """
        self.out.append(b"\x04" + struct.pack("<i", int(value)))

    def float(self, value):
        """Writes a 4-byte float, with its size byte.

        Arguments
        ---------
        value : float
            The number.
        """
        self.out.append(b"\x04" + struct.pack("<f", value))

    def newline(self):
        """Does nothing: the binary form has no newlines."""

    def int_vector(self, values):
        """Writes an int32 vector (Kaldi's ``WriteIntegerVector``).

        Arguments
        ---------
        values : sequence of int
            The integers.
        """
        self.out.append(
            b"\x04" + struct.pack(f"<i{len(values)}i", len(values), *values)
        )

    def float_vector(self, values):
        """Writes a float32 vector (``FV``).

        Arguments
        ---------
        values : array-like of float
            The values.
        """
        self.token("FV")
        self.int(len(values))
        self.out.append(np.asarray(values, dtype="<f4").tobytes())


def read_text_object(f, name, begin, end, hint=""):
    """Reads a Kaldi text object from its ``begin`` to its ``end`` token.

    The file is read in chunks until ``end`` is found; whatever follows it
    (e.g. the GMMs or the network after ``</TransitionModel>`` in a
    ``final.mdl``) is not parsed.

    Arguments
    ---------
    f : file object
        Opened in binary mode, at the start of the object.
    name : str
        Names the source (e.g. a file path) in error messages.
    begin : str
        The token the data must start with (e.g. ``"<TransitionModel>"``).
    end : str
        The token that ends the object (e.g. ``"</TransitionModel>"``).
    hint : str
        Appended to the error message when the data does not start with
        ``begin``.

    Returns
    -------
    TextTokenReader
        The tokens, from ``begin`` to ``end`` included.

    Example
    -------
    >>> import io
    >>> f = io.BytesIO(b"<Obj> 1 2 </Obj> <Rest> ...")
    >>> read_text_object(f, "obj.txt", "<Obj>", "</Obj>").tokens
    ['<Obj>', '1', '2', '</Obj>']
    >>> read_text_object(io.BytesIO(b"<Obj> 1"), "cut.txt", "<Obj>", "</Obj>")
    Traceback (most recent call last):
     ...
    ValueError: cut.txt: no </Obj> found (truncated or not a Kaldi model file)
    """
    begin_bytes = begin.encode("ascii")
    end_bytes = end.encode("ascii")
    data = b""
    searched = 0
    while True:
        chunk = f.read(_CHUNK)
        data += chunk
        if not searched and data.split(None, 1)[:1] not in ([], [begin_bytes]):
            first = data.split(None, 1)[0][:40].decode(errors="replace")
            raise ValueError(
                f"{name}: expected {begin} at the start, got {first!r}{hint}"
            )
        stop = data.find(end_bytes, max(0, searched - len(end_bytes)))
        if stop >= 0:
            data = data[: stop + len(end_bytes)]
            break
        searched = len(data)
        if not chunk:
            raise ValueError(
                f"{name}: no {end} found (truncated or not a Kaldi model file)"
            )
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError(
            f"{name}: non-ASCII bytes in a text model (corrupt file?)"
        ) from None
    return TextTokenReader(text.split(), name)
