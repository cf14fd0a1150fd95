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
