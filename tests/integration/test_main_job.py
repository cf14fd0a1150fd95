"""The main job, as a newcomer runs it, with no data: --debug mode."""

import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


@pytest.mark.slow
def test_main_job_debug_end_to_end(tmp_path):
    cmd = [
        sys.executable, os.path.join(REPO_ROOT, "train.py"),
        os.path.join(REPO_ROOT, "hparams", "relu.yaml"),
        "--debug", "--corpus_hours", "0.01", "--noprogressbar",
        "--device", "cpu",
    ]  # fmt: skip
    result = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "=== sb_rectifier: summary ===" in result.stdout
    assert (
        "dev: cross-entropy" in result.stdout
        and "test: cross-entropy" in result.stdout
    )
    corpus = tmp_path / "results" / "embedded_corpus" / "0.01h_seed0"
    assert (corpus / "corpus.json").is_file()
    summary = json.loads(
        (
            tmp_path / "results" / "relu_4x512" / "1234" / "summary.json"
        ).read_text()
    )
    assert (
        summary["num_pdfs"]
        == json.loads((corpus / "corpus.json").read_text())["num_pdfs"]
    )
