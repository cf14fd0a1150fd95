"""Real faults for the reliability tests: a full disk, a killed process.

No mocks: a file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes the
kernel fail writes beyond the limit with EFBIG, as a full disk fails them
with ENOSPC, in the middle of a file.
"""

import os
import resource
import signal
import time


def limit_file_size_in_child(max_bytes):
    """A ``preexec_fn`` that gives a subprocess a file size limit."""

    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, hard))

    return apply


def wait_for(predicate, timeout=60.0, step=0.1):
    """Polls ``predicate`` until it is true; False after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


def temporaries(folder):
    """Every pid-tagged temporary under ``folder`` (sb_rectifier.files)."""
    from sb_rectifier.files import is_temp_name

    found = []
    for root, dirs, files in os.walk(folder):
        found += [
            os.path.join(root, n) for n in dirs + files if is_temp_name(n)
        ]
    return found


def run_with_file_size_limit(argv, max_bytes, cwd=None):
    """Runs ``argv`` in a child process whose writes beyond ``max_bytes``
    fail (EFBIG, as a full disk's ENOSPC).

    The limit is never set in the test process itself: it would hit
    pytest's own capture files and a test log redirected to a file. The
    child's stdout and stderr are pipes, which the limit does not cover.
    """
    import subprocess

    return subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_file_size_in_child(max_bytes),
    )


def sb_rectifier_command(*args):
    """The ``sb-rectifier`` command line, run by this Python."""
    import sys

    return [sys.executable, "-m", "sb_rectifier.cli.main", *map(str, args)]


def python_command(code):
    """``python -c code`` with this Python."""
    import sys

    return [sys.executable, "-c", code]
