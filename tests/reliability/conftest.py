"""Helpers shared by the reliability tests: real faults, no mocks."""

import resource
import signal

import pytest


@pytest.fixture
def file_size_limit():
    """A real per-process file size limit (RLIMIT_FSIZE): ``apply(limit)``.

    With SIGXFSZ ignored, the kernel fails every write beyond ``limit``
    bytes with EFBIG, as a full disk fails it with ENOSPC: the code under
    test meets a genuine write error, in the middle of a file. The limit
    is lifted when the test ends.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def apply(limit):
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

    try:
        yield apply
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
