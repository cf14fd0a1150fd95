"""Child processes that never outlive their parent.

Worker processes (decoding workers, synthesis shards) call
:func:`die_with_parent` first thing: on Linux the kernel then sends them
``SIGKILL`` when the parent dies, even by ``kill -9``, so no orphan keeps
running (and holding memory) after an interrupted run. Where the kernel
offers no such request, a daemon thread polls the parent's pid instead.

Authors
 * sb_rectifier developers 2026
"""

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 1.0


def _watch_parent(parent_pid):
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(POLL_SECONDS)


def die_with_parent(parent_pid):
    """Makes this process exit as soon as its parent ``parent_pid`` dies.

    Arguments
    ---------
    parent_pid : int
        The parent's pid as the parent saw it (``os.getpid()`` there),
        passed to the child so that a parent that died before this call
        is noticed too.

    Returns
    -------
    str
        ``"prctl"`` (kernel signal) or ``"poll"`` (watch thread).

    Example
    -------
    >>> import subprocess, sys
    >>> code = (
    ...     "import os; from sb_rectifier.processes import die_with_parent; "
    ...     "print(die_with_parent(os.getppid()))"
    ... )
    >>> subprocess.run(
    ...     [sys.executable, "-c", code], capture_output=True, text=True
    ... ).stdout.strip() in ("prctl", "poll")
    True
    """
    how = "poll"
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                how = "prctl"
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the request
        os._exit(1)
    if how == "poll":
        threading.Thread(
            target=_watch_parent, args=(parent_pid,), daemon=True
        ).start()
    return how


def pid_alive(pid):
    """Whether a process with this id exists on this machine.

    Arguments
    ---------
    pid : int
        Process id.

    Returns
    -------
    bool
        True if it exists (even if owned by another user).

    Example
    -------
    >>> pid_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
