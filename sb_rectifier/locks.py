"""Exclusive use of a folder by one run.

:class:`RunLock` gives one run exclusive use of a folder (an experiment
folder, a cache entry); a second run is refused, or waits, with a message
naming the run that holds it. Locks are ``flock`` locks (through the
``filelock`` package), released by the kernel when their process dies,
however it dies.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import datetime
import json
import logging
import os
import socket
import sys
import time

import filelock

from sb_rectifier.files import write_error, write_json

logger = logging.getLogger(__name__)


class FolderInUseError(RuntimeError):
    """Another run holds the lock of a folder."""


class RunLock:
    """Exclusive use of a folder (or another path) by one process.

    The lock is a ``flock`` on ``lock_file``, released by the kernel when
    the holding process dies, however it dies. The holder is described in
    ``<lock_file>.owner`` (pid, host, start time, command line), which the
    refusal message quotes.

    Arguments
    ---------
    lock_file : str or os.PathLike
        The lock file (its folder is created if needed). Use
        :meth:`for_folder` to lock a folder from inside, or a sibling
        ``.<name>.lock`` to lock a path that does not exist yet.
    target : str
        What is locked, named in messages (default: the lock's folder).
    what : str
        What the target is, for messages (e.g. "output folder").
    hint : str
        Appended to the refusal message (what the user can do).

    Example
    -------
    >>> folder = getfixture("tmp_path") / "exp"
    >>> with RunLock.for_folder(folder, "output folder"):
    ...     RunLock.for_folder(
    ...         folder, "output folder"
    ...     ).acquire()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.locks.FolderInUseError: .../exp: this output folder is in use by another run (pid ...
    """

    def __init__(self, lock_file, target=None, what="folder", hint=""):
        self.path = os.path.abspath(os.fspath(lock_file))
        self.target = target or os.path.dirname(self.path)
        self.what = what
        self.hint = hint
        self.owner_file = self.path + ".owner"
        self._lock = None

    @classmethod
    def for_folder(cls, folder, what="folder", hint=""):
        """A lock on ``folder`` held in ``<folder>/.lock``.

        Arguments
        ---------
        folder : str or os.PathLike
            The folder (created when the lock is taken).
        what : str
            What the folder is, for messages.
        hint : str
            Appended to the refusal message.

        Returns
        -------
        RunLock
            The (not yet acquired) lock.
        """
        folder = os.path.abspath(os.fspath(folder))
        return cls(os.path.join(folder, ".lock"), folder, what, hint)

    @classmethod
    def for_path(cls, path, what="folder", hint=""):
        """A lock on ``path`` held in a sibling ``.<name>.lock`` file.

        For outputs that are renamed into place and so cannot hold their
        own lock file (a corpus, a cache entry).

        Arguments
        ---------
        path : str or os.PathLike
            The path to lock (need not exist).
        what : str
            What it is, for messages.
        hint : str
            Appended to the refusal message.

        Returns
        -------
        RunLock
            The (not yet acquired) lock.
        """
        path = os.path.abspath(os.fspath(path))
        folder, name = os.path.split(path)
        return cls(os.path.join(folder, f".{name}.lock"), path, what, hint)

    def _owner(self):
        try:
            with open(self.owner_file, encoding="utf-8") as handle:
                info = json.load(handle)
            return (
                f"pid {info['pid']} on {info['host']}, started "
                f"{info['started']}: {info['command']}"
            )
        except (OSError, ValueError, KeyError):
            return "pid unknown"

    def acquire(self, wait=False, poll_seconds=1.0):
        """Takes the lock.

        Arguments
        ---------
        wait : bool
            Wait for the holder to finish (logging once who it is) instead
            of raising :class:`FolderInUseError`.
        poll_seconds : float
            Polling interval while waiting.

        Returns
        -------
        RunLock
            ``self``.
        """
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        except OSError as err:
            raise write_error(self.path, err) from None
        lock = filelock.FileLock(self.path, timeout=0)
        announced = False
        while True:
            try:
                lock.acquire()
                break
            except filelock.Timeout:
                message = (
                    f"{self.target}: this {self.what} is in use by another "
                    f"run ({self._owner()})"
                )
                if not wait:
                    raise FolderInUseError(
                        message + (f". {self.hint}" if self.hint else "")
                    ) from None
                if not announced:
                    logger.info(message + "; waiting for it to finish")
                    announced = True
                time.sleep(poll_seconds)
        self._lock = lock
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        }
        with contextlib.suppress(OSError):
            write_json(self.owner_file, owner)
        return self

    @property
    def held(self):
        """Whether this object holds the lock."""
        return self._lock is not None

    def release(self):
        """Releases the lock (a no-op if not held)."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.owner_file)
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self if self.held else self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False
