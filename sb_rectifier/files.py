"""Writing files so that nothing half-written is ever left behind.

Every output of sb_rectifier goes through this module:

* :func:`atomic_write` and :func:`atomic_folder` build a file or a folder
  under a temporary name next to its destination and rename it into place
  only when complete, so an error, a full disk or ``kill -9`` leaves the
  old version (or nothing), never a torn one;
* the temporary names carry the writer's process id and host
  (``.<name>.sbrtmp-<pid>-<random>@<host>``), so :func:`clean_stale_temps`
  can remove what a killed run left behind without touching the
  temporaries of a run that is still going;
* :func:`write_json` / :func:`read_json` name the file in every error;
* :func:`read_table` / :func:`write_table`: Kaldi text tables (``text``,
  ``utt2spk``, ``wav.scp``, ``words.txt``, counts, ...), one line a row,
  fields separated by single spaces; read errors name the file and line.

Exclusive use of a folder by one run is :mod:`sb_rectifier.locks`.

Write errors (``No space left on device``, ``File too large``, ...) are
re-raised as :class:`WriteError`, an ``OSError`` whose message names the
file that could not be written.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import errno
import json
import logging
import os
import re
import secrets
import shutil
import socket

from sb_rectifier.processes import pid_alive

logger = logging.getLogger(__name__)

TMP_MARK = ".sbrtmp-"
_TMP_RE = re.compile(
    r"^\.(?P<name>.*)" + re.escape(TMP_MARK) + r"(?P<pid>\d+)-[0-9a-f]+@"
    r"(?P<host>[^@/]+)$"
)


class WriteError(OSError):
    """An output file or folder could not be written (the message names it).

    Example
    -------
    >>> str(WriteError(28, "out.json: cannot write: No space left on device"))
    'out.json: cannot write: No space left on device'
    """

    def __str__(self):
        return str(self.strerror)


def _host():
    return socket.gethostname().replace("@", "_").replace(os.sep, "_") or "host"


def temp_sibling(path):
    """A fresh temporary name next to ``path``, tagged with pid and host.

    Arguments
    ---------
    path : str or os.PathLike
        The final file or folder.

    Returns
    -------
    str
        ``<folder>/.<name>.sbrtmp-<pid>-<random>@<host>``.

    Example
    -------
    >>> tmp = temp_sibling("/data/out.json")
    >>> tmp.startswith("/data/.out.json.sbrtmp-")
    True
    >>> is_temp_name(os.path.basename(tmp))
    True
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    tag = f"{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}@{_host()}"
    return os.path.join(folder, f".{name}{tag}")


def is_temp_name(name):
    """Whether a file name is one of :func:`temp_sibling`'s.

    Arguments
    ---------
    name : str
        A base name.

    Returns
    -------
    bool
        True for ``.<name>.sbrtmp-<pid>-<hex>@<host>``.

    Example
    -------
    >>> is_temp_name(".a.json.sbrtmp-12-ab12@node1"), is_temp_name("a.json")
    (True, False)
    """
    return _TMP_RE.match(name) is not None


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def clean_stale_temps(folder, recursive=False):
    """Removes temporaries left in ``folder`` by runs that no longer exist.

    Only names made by :func:`temp_sibling` on this host, whose process is
    dead, are removed; the temporaries of live runs and every other file
    are left alone.

    Arguments
    ---------
    folder : str or os.PathLike
        Where to look (nothing happens if it does not exist).
    recursive : bool
        Also look in sub-folders.

    Returns
    -------
    list of str
        The removed paths.

    Example
    -------
    >>> folder = getfixture("tmp_path")
    >>> dead = folder / ".x.json.sbrtmp-999999999-ab@{}".format(_host())
    >>> _ = dead.write_text("half")
    >>> mine = temp_sibling(folder / "y.json")
    >>> _ = open(mine, "w").write("in progress")
    >>> [os.path.basename(p) for p in clean_stale_temps(folder)] == [dead.name]
    True
    >>> os.path.exists(mine)
    True
    """
    folder = os.fspath(folder)
    removed = []
    if not os.path.isdir(folder):
        return removed
    host = _host()
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            match = _TMP_RE.match(name)
            if match is None or match["host"] != host:
                continue
            if pid_alive(int(match["pid"])):
                continue
            path = os.path.join(root, name)
            _remove(path)
            removed.append(path)
        dirs[:] = [d for d in dirs if not is_temp_name(d)] if recursive else []
    if removed:
        logger.info(
            f"Removed {len(removed)} temporary file(s) left by a killed run "
            f"in {folder}"
        )
    return removed


def write_error(path, err):
    """An ``OSError`` met while writing ``path``, as a :class:`WriteError`.

    Arguments
    ---------
    path : str
        The file or folder being written.
    err : OSError
        The error.

    Returns
    -------
    WriteError
        The error, with a message naming ``path``.

    Example
    -------
    >>> import errno
    >>> print(write_error("out.json", OSError(errno.ENOSPC, "No space left")))
    out.json: cannot write: No space left
    """
    if isinstance(err, WriteError):
        return err
    reason = err.strerror or str(err)
    if err.errno == errno.EFBIG:
        reason += " (file size limit)"
    return WriteError(err.errno, f"{path}: cannot write: {reason}")


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding="utf-8", makedirs=False):
    """Opens ``path`` for writing through a temporary file and a rename.

    The data goes to a hidden temporary file in the same folder, which
    replaces ``path`` only when the ``with`` block ends without error; on
    error the temporary file is removed and ``path`` is left untouched.
    Write errors become :class:`WriteError` naming ``path``.

    Arguments
    ---------
    path : str or os.PathLike
        The file to (re)write.
    mode : str
        ``"w"`` (text, default) or ``"wb"``.
    encoding : str
        Text encoding (text mode only).
    makedirs : bool
        Create the folder if needed (otherwise a missing folder is an
        error naming it).

    Yields
    ------
    file object
        The temporary file.

    Example
    -------
    >>> path = getfixture("tmp_path") / "out.txt"
    >>> with atomic_write(path) as f:
    ...     _ = f.write("hello\\n")
    >>> path.read_text()
    'hello\\n'
    >>> with atomic_write(path) as f:
    ...     _ = f.write("half")
    ...     raise RuntimeError("interrupted")
    Traceback (most recent call last):
    RuntimeError: interrupted
    >>> path.read_text(), sorted(p.name for p in path.parent.iterdir())
    ('hello\\n', ['out.txt'])
    """
    path = os.fspath(path)
    if mode not in ("w", "wb"):
        raise ValueError(
            f"atomic_write: mode must be 'w' or 'wb', not {mode!r}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if makedirs:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as err:
            raise write_error(path, err) from None
    elif not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{path}: cannot write, folder {folder} does not exist"
        )
    tmp = temp_sibling(path)
    try:
        with open(
            tmp, mode, encoding=None if "b" in mode else encoding
        ) as handle:
            yield handle
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise write_error(path, err) from None
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path, makedirs=False):
    """A temporary name for a library that writes ``path`` by file name.

    For writers that take a file name, not a file object (an FST's
    ``write``, kaldiio's ``WriteHelper``): they write the yielded name,
    which is renamed to ``path`` when the block ends without error and
    removed otherwise.

    Arguments
    ---------
    path : str or os.PathLike
        The file to (re)write.
    makedirs : bool
        Create missing parent folders.

    Yields
    ------
    str
        The temporary name to write.

    Example
    -------
    >>> path = getfixture("tmp_path") / "out.bin"
    >>> with atomic_path(path) as tmp:
    ...     _ = open(tmp, "wb").write(b"data")
    >>> path.read_bytes()
    b'data'
    """
    with atomic_write(path, "wb", makedirs=makedirs) as handle:
        handle.close()
        yield handle.name


def write_text(path, text, makedirs=False):
    """Writes a text file atomically (see :func:`atomic_write`).

    Arguments
    ---------
    path : str or os.PathLike
        The file.
    text : str
        Its content.
    makedirs : bool
        Create the folder if needed.

    Example
    -------
    >>> path = getfixture("tmp_path") / "a" / "b.txt"
    >>> write_text(path, "x\\n", makedirs=True)
    >>> path.read_text()
    'x\\n'
    """
    with atomic_write(path, "w", makedirs=makedirs) as handle:
        handle.write(text)


def write_json(path, obj, makedirs=False, sort_keys=False):
    """Writes ``obj`` as indented JSON, atomically.

    Arguments
    ---------
    path : str or os.PathLike
        The file.
    obj : object
        JSON-serialisable data.
    makedirs : bool
        Create the folder if needed.
    sort_keys : bool
        Sort mapping keys.

    Example
    -------
    >>> path = getfixture("tmp_path") / "r.json"
    >>> write_json(path, {"wer": 2.5})
    >>> read_json(path)
    {'wer': 2.5}
    """
    text = json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n"
    write_text(path, text, makedirs=makedirs)


def read_json(path, what="JSON file"):
    """Reads a JSON file; errors name the file (and the line).

    Arguments
    ---------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for messages.

    Returns
    -------
    object
        The data.

    Example
    -------
    >>> path = getfixture("tmp_path") / "bad.json"
    >>> _ = path.write_text('{"a": 1,\\n')
    >>> read_json(path, "report")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../bad.json: not a valid report (line 2: Expecting ...)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: {what} not found")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path}: not a valid {what} (line {err.lineno}: {err.msg})"
        ) from None
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not a valid {what} (not UTF-8 at byte {err.start})"
        ) from None


def iter_text_lines(path, what="text file"):
    """Yields ``(line_number, line)`` of a UTF-8 text file, errors named.

    A missing file, or bytes that are not UTF-8, give an error naming the
    file, the line and the column, instead of a bare ``UnicodeDecodeError``.

    Arguments
    ---------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for messages.

    Yields
    ------
    tuple
        ``(line_number, line)``, 1-based, the line without its newline.

    Example
    -------
    >>> path = getfixture("tmp_path") / "text"
    >>> _ = path.write_bytes(b"u1 hello\\nu2 caf\\xe9\\n")
    >>> list(iter_text_lines(path, "transcript"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../text: line 2: not valid UTF-8 (byte 0xe9 at column 7)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: {what} not found")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(
                    f"{path}: line {number}: not valid UTF-8 (byte "
                    f"0x{raw[err.start]:02x} at column {err.start + 1})"
                ) from None
            yield number, line.rstrip("\r\n")


def read_table(path, what, single_token=False, allow_empty=False):
    """Reads a Kaldi text table (``utt2spk``, ``text``, ``feats.scp``, ...).

    As in Kaldi, the key is the first whitespace-separated token of a line
    and the value is the rest of the line, stripped.

    Arguments
    ---------
    path : str or os.PathLike
        The file.
    what : str
        What the file is for (used in error messages).
    single_token : bool
        Require the value to be exactly one token (``utt2spk``).
    allow_empty : bool
        Allow an empty value (``text`` of a silent utterance).

    Returns
    -------
    dict
        Key -> value (str), in file order.

    Example
    -------
    >>> path = getfixture("tmp_path") / "utt2spk"
    >>> _ = path.write_text("s1-u1 s1\\ns1-u2 s1 s2\\n")
    >>> read_table(path, "speaker map")
    {'s1-u1': 's1', 's1-u2': 's1 s2'}
    >>> read_table(path, "speaker map", single_token=True)
    Traceback (most recent call last):
    ...
    ValueError: ...utt2spk: line 2: key 's1-u2' must have exactly one value, got 's1 s2'
    """
    path = os.fspath(path)
    table = {}
    for number, line in iter_text_lines(path, what):
        parts = line.strip().split(None, 1)
        if not parts:
            raise ValueError(f"{path}: line {number} is empty")
        key = parts[0]
        value = parts[1].strip() if len(parts) > 1 else ""
        if not value and not allow_empty:
            raise ValueError(f"{path}: line {number}: key '{key}' has no value")
        if single_token and len(value.split()) != 1:
            raise ValueError(
                f"{path}: line {number}: key '{key}' must have exactly "
                f"one value, got {value!r}"
            )
        if key in table:
            raise ValueError(f"{path}: duplicate key '{key}' (line {number})")
        table[key] = value
    return table


def write_table(path, rows, makedirs=False):
    """Writes a Kaldi text table atomically: one row a line.

    Arguments
    ---------
    path : str or os.PathLike
        The file.
    rows : iterable
        Rows: a sequence of fields (joined by single spaces, each through
        ``str``), or a ``(key, value)`` mapping's items.
    makedirs : bool
        Create missing parent folders.

    Example
    -------
    >>> path = getfixture("tmp_path") / "utt2spk"
    >>> write_table(path, {"s1-u1": "s1", "s1-u2": "s1"}.items())
    >>> print(path.read_text(), end="")
    s1-u1 s1
    s1-u2 s1
    >>> write_table(path, [("u1", 3, 0.5)])
    >>> path.read_text()
    'u1 3 0.5\\n'
    """
    with atomic_write(path, "w", makedirs=makedirs) as handle:
        for row in rows:
            handle.write(" ".join(str(field) for field in row) + "\n")


@contextlib.contextmanager
def atomic_folder(path, replace=False):
    """Builds a folder under a temporary name, then renames it into place.

    Arguments
    ---------
    path : str or os.PathLike
        The final folder.
    replace : bool
        Replace an existing ``path`` (the caller has checked it is its
        own to replace); otherwise an existing ``path`` is an error
        (``FileExistsError``) unless it is an empty folder, and so is a
        non-empty folder that appears there meanwhile (a
        :class:`WriteError` with ``errno.ENOTEMPTY``); an empty one is
        replaced, as ``rename`` does.

    Yields
    ------
    str
        The temporary folder to fill.

    Example
    -------
    >>> final = getfixture("tmp_path") / "store"
    >>> with atomic_folder(final) as tmp:
    ...     _ = open(os.path.join(tmp, "a.txt"), "w").write("a")
    >>> sorted(os.listdir(final))
    ['a.txt']
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as err:
        raise write_error(path, err) from None
    if os.path.exists(path) and not replace and not _empty_folder(path):
        raise FileExistsError(f"{path}: already exists")
    tmp = temp_sibling(path)
    os.mkdir(tmp)
    try:
        yield tmp
        if replace and os.path.exists(path):
            old = temp_sibling(path)
            os.rename(path, old)
            os.rename(tmp, path)
            _remove(old)
        else:
            # Fails if something non-empty appeared at ``path`` meanwhile:
            # what the caller did not make is never replaced.
            os.rename(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise write_error(path, err) from None
    except BaseException:
        _remove(tmp)
        raise


def _empty_folder(path):
    return (
        os.path.isdir(path)
        and not os.path.islink(path)
        and not os.listdir(path)
    )


def remove_folder(path):
    """Removes a folder atomically: renamed aside first, then deleted.

    An interrupted removal leaves a temporary name that
    :func:`clean_stale_temps` finishes, never a half-deleted folder under
    its real name.

    Arguments
    ---------
    path : str or os.PathLike
        The folder.

    Example
    -------
    >>> folder = getfixture("tmp_path") / "old"
    >>> folder.mkdir()
    >>> remove_folder(folder)
    >>> folder.exists()
    False
    """
    path = os.fspath(path)
    aside = temp_sibling(path)
    os.rename(path, aside)
    _remove(aside)
