"""Shared pytest set-up: test helpers importable, repository paths."""

import os
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)
# Test helpers (kaldi_fixture.py, ...) live next to this file.
sys.path.insert(0, TESTS_DIR)


@pytest.fixture(scope="session")
def repo_root():
    """The repository root (train.py, hparams/ live there)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data():
    """Real speech beside the checkout (../shared/data); skips if absent."""
    path = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data")
    if not os.path.isdir(path):
        pytest.skip("../shared/data is not present")
    return path
