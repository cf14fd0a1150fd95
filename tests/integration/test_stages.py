"""train.py's stages: each runs alone on a finished experiment, and a stage
whose inputs are missing says which stage makes them."""

import json
import subprocess

import pytest
from kaldi_fixture import make_kaldi_dataset
from train_runner import run_train, train_command


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished small experiment (all stages) on a Kaldi fixture."""
    root = tmp_path_factory.mktemp("stages")
    make_kaldi_dataset(root / "kaldi", seed=2)
    summary, out = run_train(root, "relu", root / "kaldi")
    return root, summary, out


def _files(out):
    return {
        name: (out / name).read_bytes()
        for name in ("metrics.json", "data_checks.json", "train_log.txt")
    }


def test_evaluate_alone_reproduces_the_full_run(finished):
    root, summary, out = finished
    before = _files(out)
    checkpoints = sorted(p.name for p in (out / "save").iterdir())
    again, _ = run_train(
        root, "relu", root / "kaldi", ["--stages", "[evaluate]"]
    )
    for key in ("dev_ce", "dev_frame_acc", "test_ce", "best_epoch"):
        assert again[key] == pytest.approx(summary[key], rel=1e-6), key
    # Nothing trained, nothing prepared: the other stages' files are intact;
    # the train log gains the evaluation's lines only.
    after = _files(out)
    log, log_before = after.pop("train_log.txt"), before.pop("train_log.txt")
    assert after == before
    assert (
        log.startswith(log_before)
        and b"best checkpoint" in log[len(log_before) :]
    )
    assert b"train loss" not in log[len(log_before) :]
    assert sorted(p.name for p in (out / "save").iterdir()) == checkpoints
    sparsity = json.loads((out / "sparsity" / "dev.json").read_text())
    dev_frames = json.loads((out / "data_checks.json").read_text())["dev"]
    assert sparsity["meta"]["frames"] == dev_frames["frames"]
    written = json.loads((out / "summary.json").read_text())
    assert written["dev_ce"] == pytest.approx(summary["dev_ce"], rel=1e-6)
    assert written["num_pdfs"] == summary["num_pdfs"]


def test_a_stage_without_its_inputs_names_the_stage_to_run(finished, tmp_path):
    root, _, _ = finished
    cache = str(root / "cache")

    cases = [
        # The frames are cached, but a new output folder has no checkpoint.
        (
            ["--stages", "[evaluate]", "--frame_cache_folder", cache],
            "run the train stage first",
        ),
        # A new frame cache has no frames.
        (["--stages", "[train]"], "run the data stage first"),
        (["--stages", "[decode, score]"], "stages: must be a non-empty list"),
    ]
    for extra, message in cases:
        cmd, _ = train_command(tmp_path, "relu", root / "kaldi", extra)
        result = subprocess.run(
            cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert result.returncode != 0, extra
        assert message in result.stderr, (extra, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
