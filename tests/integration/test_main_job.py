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
        # Checkpoints kept (debug mode puts them in a temporary folder),
        # for the decode stage run alone below.
        "--debug", "--debug_persistently",
        "--corpus_hours", "0.01", "--noprogressbar",
        "--device", "cpu",
    ]  # fmt: skip
    result = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "=== sb_rectifier: summary ===" in out
    assert "dev: cross-entropy" in out and "test: cross-entropy" in out
    corpus = tmp_path / "results" / "embedded_corpus" / "0.01h_seed0"
    info = json.loads((corpus / "corpus.json").read_text())
    run = tmp_path / "results" / "relu_4x512" / "embedded_0.01h_seed0" / "1234"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["num_pdfs"] == info["num_pdfs"]

    # The debug model decodes end to end: graph, log-likelihoods, dev grid, WER.
    assert " WER: dev " in out and "test_wer" in summary
    decoding = json.loads((run / "decode" / "decoding.json").read_text())
    assert len(decoding["dev_grid"]) == 7 * 7
    for split in ("dev", "test"):
        assert (run / "decode" / split / "loglikes.scp").is_file()
        hyps = (run / "decode" / split / "hyp.txt").read_text().splitlines()
        refs = (corpus / "data" / split / "text").read_text().splitlines()
        assert [h.split()[0] for h in hyps] == [r.split()[0] for r in refs]

    # The decode stage alone, on the finished experiment, with other
    # decoder settings: a new grid and WER, the training left as it was.
    metrics = (run / "metrics.json").read_bytes()
    checkpoints = sorted(p.name for p in (run / "save").iterdir())
    redo = subprocess.run(
        cmd + ["--stages=[decode]", "--lm_weights=[4]", "--beam", "8"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert redo.returncode == 0, redo.stdout[-3000:] + redo.stderr[-3000:]
    again = json.loads((run / "summary.json").read_text())
    decoding = json.loads((run / "decode" / "decoding.json").read_text())
    assert len(decoding["dev_grid"]) == 7 and again["lm_weight"] == 4
    assert again["dev_ce"] == summary["dev_ce"]
    assert (run / "metrics.json").read_bytes() == metrics
    assert sorted(p.name for p in (run / "save").iterdir()) == checkpoints
