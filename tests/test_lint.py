"""The code base passes ruff's lint and format checks."""

import os
import shutil
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ruff():
    exe = shutil.which("ruff")
    if exe is None:
        local = os.path.join(os.path.dirname(sys.executable), "ruff")
        exe = local if os.path.exists(local) else None
    if exe is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    return exe


@pytest.mark.parametrize(
    "args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"]
)
def test_ruff(args):
    result = subprocess.run(
        [_ruff(), *args], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
