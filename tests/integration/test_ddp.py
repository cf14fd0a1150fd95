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
