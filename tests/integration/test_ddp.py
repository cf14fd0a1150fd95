"""train.py under torchrun: two CPU processes with the gloo backend."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from kaldi_fixture import make_kaldi_dataset

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path):
    ds = make_kaldi_dataset(tmp_path / "kaldi", seed=5)
    out = tmp_path / "exp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        os.path.join(REPO_ROOT, "train.py"),
        os.path.join(REPO_ROOT, "hparams", "relu.yaml"),
        "--data_folder",
        str(tmp_path / "kaldi"),
        "--output_folder",
        str(out),
        "--frame_cache_folder",
        str(tmp_path / "cache"),
        "--num_layers",
        "2",
        "--neurons",
        "64",
        "--number_of_epochs",
        "3",
        "--lr",
        "0.02",
        "--batch_size",
        "128",
        "--device",
        "cpu",
        "--distributed_backend",
        "gloo",
        "--noprogressbar",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    # Same criterion as the single-process recipe test: chance is always
    # guessing the most frequent dev pdf.
    dev = np.concatenate(list(ds["pdfs"]["dev"].values()))
    chance = 100.0 * np.bincount(dev).max() / len(dev)
    assert summary["dev_frame_acc"] > chance + 30.0, (summary, chance)
    records = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in records] == [1, 2, 3]


def _torchrun(nproc, tmp_path, data, out, extra=(), hparams=None):
    hparams = hparams or os.path.join(REPO_ROOT, "hparams", "relu.yaml")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={nproc}",
        os.path.join(REPO_ROOT, "train.py"), str(hparams),
        "--data_folder", str(data), "--output_folder", str(out),
        "--frame_cache_folder", str(tmp_path / "cache"),
        "--number_of_epochs", "1", "--device", "cpu",
        "--distributed_backend", "gloo", "--noprogressbar", *extra,
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_ddp_batch_size_is_global_and_dev_is_counted_once(tmp_path):
    """batch_size is frames per step over all processes: 2 processes at
    batch 256 train as 1 process at 256 does (not as 1 at 512), and each
    dev frame is evaluated (and counted in the sparsity statistics) once."""
    make_kaldi_dataset(tmp_path / "kaldi", seed=5)
    ce = {}
    for name, nproc, batch in (
        ("one_256", 1, 256),
        ("two_256", 2, 256),
        ("one_512", 1, 512),
    ):
        out = tmp_path / name
        extra = ["--batch_size", str(batch)]
        result = _torchrun(nproc, tmp_path, tmp_path / "kaldi", out, extra)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr
        assert "terminate called" not in result.stderr
        ce[name] = json.loads((out / "summary.json").read_text())["dev_ce"]
        dev_frames = json.loads((out / "data_checks.json").read_text())["dev"][
            "frames"
        ]
        for split in ("dev", "test"):
            sparsity = json.loads(
                (out / "sparsity" / f"{split}.json").read_text()
            )
            frames = json.loads((out / "data_checks.json").read_text())[split][
                "frames"
            ]
            assert sparsity["meta"]["frames"] == frames, (name, split)
        assert dev_frames > 0
    same_batch = abs(ce["two_256"] - ce["one_256"])
    other_batch = abs(ce["one_512"] - ce["one_256"])
    assert same_batch < 0.02, ce
    assert same_batch < 0.1 * other_batch, ce


@pytest.mark.slow
def test_ddp_batch_size_must_divide_by_the_processes(tmp_path):
    make_kaldi_dataset(tmp_path / "kaldi", seed=5)
    result = _torchrun(
        2,
        tmp_path,
        tmp_path / "kaldi",
        tmp_path / "out",
        ["--batch_size", "255"],
    )
    assert result.returncode != 0
    assert (
        "batch_size=255 (frames per step, over all processes) is not "
        "divisible by the 2 processes" in result.stderr
    )


@pytest.mark.slow
def test_ddp_mid_epoch_checkpoints_keep_the_ranks_in_step(tmp_path):
    """Time-based mid-epoch checkpoints under DDP: the decision is taken
    every 100 steps on all ranks together, checkpoints are written, and
    the run finishes (no rank left waiting in a collective)."""
    make_kaldi_dataset(tmp_path / "kaldi", seed=5)
    out = tmp_path / "out"
    # The command line takes whole minutes; a YAML takes any interval.
    hparams = tmp_path / "relu_often.yaml"
    base = os.path.join(REPO_ROOT, "hparams", "base.yaml")
    hparams.write_text(
        f"extends: {base}\nactivation: relu\nckpt_interval_minutes: 0.0001\n"
    )
    result = _torchrun(
        2, tmp_path, tmp_path / "kaldi", out, ["--batch_size", "16"], hparams
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    log = (out / "log.txt").read_text()
    # 4239 frames in steps of 16 (8 per rank): 265 steps on each rank, a
    # decision at steps 100 and 200, then the end-of-epoch checkpoint.
    assert log.count("Saved a checkpoint") == 3, log[-3000:]
