"""Kaldi integer-vector tables (alignments, pdf ids): reading and writing.

Kaldi stores alignments (``ali.*.gz``) and pdf-id sequences as *tables* of
integer vectors, keyed by utterance id, in binary or text form. This module
reads and writes them in exactly Kaldi's formats:

* binary: ``utt \\0B\\4<n:int32>`` followed by ``\\4<int32>`` per element,
  as written by ``kaldiio`` (used here for all binary data);
* text: ``utt 1 2 3 \\n`` (Kaldi's ``BasicVectorHolder`` writes every
  element followed by one space, then a newline; no brackets). Readers also
  tolerate the bracketed form ``utt [ 1 2 3 ]`` that ``kaldiio`` writes.

``kaldiio`` parses the binary entries, opens pipes (``ark:gunzip -c x.gz|``)
and reads ``scp`` files. Its text-matrix parser guesses the dtype from the
first element and loses its place on an empty bracket-less line, so the
bracket-less text format is parsed here by hand.

Every writer writes to a temporary file in the destination folder and renames
it at the end (:func:`sb_rectifier.files.atomic_write`), so no half-written
file is left behind when an error interrupts it.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import gzip
import io
import os
import re
import sys

import kaldiio
import numpy as np
from kaldiio.matio import read_kaldi

from sb_rectifier.files import atomic_write

GZIP_MAGIC = b"\x1f\x8b"

# Options Kaldi accepts in r/w-specifiers (kaldi-table.cc). "b"/"t" only
# matter for writing; the others are accepted and have no effect here.
_SPECIFIER_OPTIONS = {
    "ark",
    "scp",
    "b",
    "t",
    "o",
    "no",
    "s",
    "ns",
    "cs",
    "ncs",
    "p",
    "np",
    "f",
    "nf",
}
_SPECIFIER_RE = re.compile(r"^([a-z]+(?:,[a-z]+)*):(.*)$", re.DOTALL)
_INT32_MIN = np.iinfo(np.int32).min
_INT32_MAX = np.iinfo(np.int32).max


def _parse_specifier(spec):
    """Splits a Kaldi r/wspecifier into (options, target).

    Returns None when ``spec`` is a plain path (no ``ark``/``scp`` prefix).
    """
    match = _SPECIFIER_RE.match(spec)
    if match is None:
        return None
    options = match.group(1).split(",")
    if "ark" not in options and "scp" not in options:
        return None
    unknown = [o for o in options if o not in _SPECIFIER_OPTIONS]
    if unknown:
        raise ValueError(
            f"'{spec}': unknown option(s) {', '.join(unknown)} in Kaldi "
            "r/wspecifier"
        )
    return options, match.group(2)


def _is_pipe(target):
    target = target.strip()
    return target.endswith("|") or target.startswith("|")


def _read_source_bytes(target, spec):
    """Returns the full content of an ark source (file, pipe or stdin)."""
    if target == "-" or _is_pipe(target):
        stream = kaldiio.open_like_kaldi(target, "rb")
        data = stream.read()
        status = stream.close()
        if status:
            raise OSError(
                f"'{spec}': command '{target.strip()}' failed with exit "
                f"status {status >> 8}"
            )
        return data
    if not os.path.isfile(target):
        raise FileNotFoundError(
            f"{target}: integer-vector archive not found (from '{spec}')"
        )
    with open(target, "rb") as f:
        data = f.read()
    return data


def _maybe_gunzip(data, name):
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as err:
        raise ValueError(f"{name}: corrupt gzip data ({err})") from err


def _read_key(fd, name):
    """Reads the next table key (skipping whitespace); None at end of data.

    Consumes the space or tab after the key; a newline is left in place.
    """
    char = fd.read(1)
    while char and char in b" \t\r\n":
        char = fd.read(1)
    if not char:
        return None
    key = bytearray()
    while char and char not in b" \t\r\n":
        key += char
        char = fd.read(1)
    key = key.decode("utf-8", errors="replace")
    if not char:
        raise ValueError(
            f"{name}: utterance '{key}': key not followed by a value "
            "(truncated archive or not a Kaldi archive?)"
        )
    if char == b"\n":  # "utt\n": an empty text vector, as Kaldi accepts
        fd.seek(-1, 1)
    return key


def _check_int_array(array, name, key):
    """Validates a value read by kaldiio and returns it as int32."""
    array = np.asarray(array)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: utterance '{key}': expected an integer vector, found "
            f"a {array.dtype} array of shape {array.shape}"
        )
    return array.astype(np.int32, copy=False)


def _parse_text_ints(line, name, key):
    """Parses the value part of a Kaldi text int-vector table line."""
    tokens = line.split()
    if tokens and tokens[0] == "[":
        if tokens[-1] != "]":
            raise ValueError(
                f"{name}: utterance '{key}': '[' without a closing ']'"
            )
        tokens = tokens[1:-1]
    try:
        values = np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        for token in tokens:
            try:
                int(token)
            except ValueError:
                raise ValueError(
                    f"{name}: utterance '{key}': non-integer value "
                    f"'{token}' in integer-vector archive"
                ) from None
        raise ValueError(
            f"{name}: utterance '{key}': value does not fit int32"
        ) from None
    if values.size and (values.min() < _INT32_MIN or values.max() > _INT32_MAX):
        raise ValueError(f"{name}: utterance '{key}': value does not fit int32")
    return values.astype(np.int32)


def _read_value(fd, name, key):
    """Reads one int-vector value (binary or text) at the current position."""
    start = fd.tell()
    if fd.read(2) == b"\0B":
        fd.seek(start)
        try:
            array = read_kaldi(fd)
        except Exception as err:  # kaldiio asserts / struct errors
            raise ValueError(
                f"{name}: utterance '{key}': corrupt or truncated binary "
                f"entry ({type(err).__name__}: {err})"
            ) from err
        return _check_int_array(array, name, key)
    fd.seek(start)
    line = fd.readline().decode("utf-8", errors="replace")
    return _parse_text_ints(line, name, key)


def _iter_archive(data, name):
    """Yields (key, int32 vector) from the bytes of a Kaldi archive."""
    fd = io.BytesIO(data)
    while True:
        key = _read_key(fd, name)
        if key is None:
            return
        yield key, _read_value(fd, name, key)


def _iter_scp(target, spec):
    """Yields (key, int32 vector) for the entries of a Kaldi scp file.

    Each entry is ``key path:offset`` (a value inside an archive), ``key
    path`` (a file holding one value) or ``key command |``.
    """
    if target == "-" or _is_pipe(target):
        lines = _read_source_bytes(target, spec).decode("utf-8").splitlines()
    elif not os.path.isfile(target):
        raise FileNotFoundError(
            f"{target}: script file (scp) not found (from '{spec}')"
        )
    else:
        with open(target, encoding="utf-8") as f:
            lines = f.read().splitlines()
    cache = {}
    for number, line in enumerate(lines, 1):
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            raise ValueError(
                f"{target}: line {number}: expected 'key rxfilename', got "
                f"{line!r}"
            )
        key, rxfile = parts[0], parts[1].strip()
        match = re.fullmatch(r"(.+):(\d+)", rxfile)
        if _is_pipe(rxfile) or match is None:
            name = f"{rxfile} (line {number} of {target})"
            data = _maybe_gunzip(_read_source_bytes(rxfile, spec), name)
            yield key, _read_value(io.BytesIO(data), name, key)
            continue
        path, offset = match.group(1), int(match.group(2))
        if path not in cache:
            cache.clear()
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"{target}: line {number}: utterance '{key}': archive "
                    f"{path} not found"
                )
            with open(path, "rb") as f:
                cache[path] = io.BytesIO(f.read())
        fd = cache[path]
        fd.seek(offset)
        yield key, _read_value(fd, f"{path} (offset {offset})", key)


def read_int_vectors(rspecifier):
    """Reads a Kaldi table of integer vectors (alignments, pdf ids).

    Accepts a plain path (binary or text archive, gzip detected from its
    magic bytes and decompressed in memory, no shell), or a Kaldi
    rspecifier: ``ark:x.ark``, ``ark,t:x.txt``, ``scp:x.scp``, stdin
    (``ark:-``) or a pipe (``ark:gunzip -c ali.1.gz|``, run through the
    shell by ``kaldiio``; a failing command raises ``OSError``). Each entry
    may be binary or text; text entries may be bracket-less (``utt 1 2 3``,
    Kaldi's form) or bracketed (``utt [ 1 2 3 ]``). Archives are read fully
    into memory before parsing (alignment archives are small).

    Arguments
    ---------
    rspecifier : str or os.PathLike
        What to read.

    Yields
    ------
    utt : str
        The key (utterance id).
    values : numpy.ndarray
        The int32 vector.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = open(tmp / "a.txt", "w").write("u1 1 2 3 \\nu2 [ 4 5 ]\\nu3 \\n")
    >>> for utt, values in read_int_vectors(str(tmp / "a.txt")):
    ...     print(utt, values.dtype, values.tolist())
    u1 int32 [1, 2, 3]
    u2 int32 [4, 5]
    u3 int32 []
    """
    spec = os.fspath(rspecifier)
    parsed = _parse_specifier(spec)
    if parsed is None:
        options, target = ["ark"], spec
    else:
        options, target = parsed
    if "ark" in options and "scp" in options:
        raise ValueError(
            f"'{spec}': an rspecifier names either an ark or an scp, not both"
        )
    if "scp" in options:
        yield from _iter_scp(target, spec)
        return
    name = target if parsed is None else f"{target} (from '{spec}')"
    data = _maybe_gunzip(_read_source_bytes(target, spec), name)
    yield from _iter_archive(data, name)


def _as_int32_vector(values, key, name):
    if not isinstance(key, str) or not key or any(c.isspace() for c in key):
        raise ValueError(
            f"{name}: invalid utterance id {key!r} (must be a non-empty "
            "string without whitespace)"
        )
    array = np.asarray(values)
    if array.ndim != 1 or (array.dtype.kind not in "iu" and array.size):
        raise ValueError(
            f"{name}: utterance '{key}': expected a 1-D integer array, got "
            f"{array.dtype} array of shape {array.shape}"
        )
    if array.size and (array.min() < _INT32_MIN or array.max() > _INT32_MAX):
        raise ValueError(f"{name}: utterance '{key}': values do not fit int32")
    return array.astype(np.int32)


def _text_line(key, array):
    return (key + " " + "".join(f"{v} " for v in array.tolist()) + "\n").encode(
        "utf-8"
    )


def _write_entry(fd, key, array, text):
    if text:
        fd.write(_text_line(key, array))
    else:
        kaldiio.save_ark(fd, {key: array})


def write_int_vectors(wspecifier, items, text=False):
    """Writes a Kaldi table of integer vectors.

    Supported targets:

    * ``ark:x.ark`` (binary, Kaldi format, via ``kaldiio``) and
      ``ark,t:x.txt`` (Kaldi text ``utt 1 2 3 \\n``, written here);
    * ``ark,scp:x.ark,x.scp`` and ``ark,t,scp:x.txt,x.scp`` (the ``scp``
      offsets point at the value, as Kaldi's);
    * ``ark:-`` / ``ark,t:-`` (standard output);
    * ``ark:| cmd`` (a pipe through the shell, e.g. ``| gzip -c > x.gz``;
      not atomic);
    * a plain path, binary unless ``text=True``, gzip-compressed when it
      ends with ``.gz`` (like Kaldi's ``ali.*.gz``).

    Files are written atomically (temporary file, then rename).

    Arguments
    ---------
    wspecifier : str or os.PathLike
        Where to write.
    items : iterable of (str, array-like)
        Utterance ids and integer vectors.
    text : bool
        For plain paths only: write Kaldi text instead of binary.

    Returns
    -------
    int
        The number of entries written.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> items = [("u1", [3, 3, 4]), ("u2", [])]
    >>> write_int_vectors(f"ark,t:{tmp}/a.txt", items)
    2
    >>> open(tmp / "a.txt").read()
    'u1 3 3 4 \\nu2 \\n'
    >>> write_int_vectors(str(tmp / "ali.1.gz"), items)
    2
    >>> [(u, v.tolist()) for u, v in read_int_vectors(str(tmp / "ali.1.gz"))]
    [('u1', [3, 3, 4]), ('u2', [])]
    """
    spec = os.fspath(wspecifier)
    parsed = _parse_specifier(spec)
    scp_path = None
    if parsed is None:
        ark_path, compress = spec, spec.endswith(".gz")
    else:
        options, target = parsed
        if "ark" not in options:
            raise ValueError(
                f"'{spec}': writing only an scp is not supported; use "
                "ark,scp:x.ark,x.scp"
            )
        if "t" in options and "b" in options:
            raise ValueError(f"'{spec}': both 't' and 'b' options given")
        text = "t" in options
        compress = False
        if "scp" in options:
            if "," not in target:
                raise ValueError(
                    f"'{spec}': ark and scp need two comma-separated files"
                )
            first, second = target.split(",", 1)
            ark_first = options.index("ark") < options.index("scp")
            ark_path, scp_path = (
                (first, second) if ark_first else (second, first)
            )
        else:
            ark_path = target
    if scp_path is not None and (ark_path == "-" or _is_pipe(ark_path)):
        raise ValueError(f"'{spec}': an scp needs the ark to be a plain file")

    if ark_path == "-":
        count = 0
        if text:  # through sys.stdout, so it interleaves with print()
            for key, values in items:
                array = _as_int32_vector(values, key, spec)
                sys.stdout.write(_text_line(key, array).decode("utf-8"))
                count += 1
            sys.stdout.flush()
            return count
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            raise ValueError(
                f"'{spec}': standard output is not a binary stream; use "
                "ark,t:- for text"
            )
        sys.stdout.flush()
        for key, values in items:
            _write_entry(out, key, _as_int32_vector(values, key, spec), text)
            count += 1
        out.flush()
        return count

    if _is_pipe(ark_path):
        pipe = kaldiio.open_like_kaldi(ark_path, "wb")
        count = 0
        try:
            for key, values in items:
                array = _as_int32_vector(values, key, spec)
                _write_entry(pipe, key, array, text)
                count += 1
        finally:
            status = pipe.close()
        if status:
            raise OSError(
                f"'{spec}': command '{ark_path.strip()}' failed with exit "
                f"status {status >> 8}"
            )
        return count

    with contextlib.ExitStack() as stack:
        # The scp is committed after its ark (exit order is reversed).
        scp = None
        if scp_path is not None:
            scp = stack.enter_context(atomic_write(scp_path, "w"))
        ark = stack.enter_context(atomic_write(ark_path, "wb"))
        stream = ark
        if compress:
            stream = gzip.GzipFile(filename="", mode="wb", fileobj=ark, mtime=0)
        count = 0
        for key, values in items:
            array = _as_int32_vector(values, key, ark_path)
            offset = stream.tell() + len(key.encode("utf-8")) + 1
            _write_entry(stream, key, array, text)
            if scp is not None:
                scp.write(f"{key} {ark_path}:{offset}\n")
            count += 1
        if compress:
            stream.close()
    return count
