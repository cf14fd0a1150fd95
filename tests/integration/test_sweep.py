"""``sb-rectifier sweep`` over the real recipe on a tiny embedded corpus:
the runs, the table, skipping finished runs, resuming a killed sweep."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from train_runner import REPO_ROOT

from sb_rectifier.locks import RunLock

pytestmark = pytest.mark.slow

SWEEP = [sys.executable, "-m", "sb_rectifier.cli.main", "sweep"]


def settings(shared):
    """Tiny runs sharing one corpus and frame cache."""
    values = {
        "corpus_hours": "0.01",
        "neurons": "32",
        "number_of_epochs": "3",
        "batch_size": "128",
        "lr": "0.02",
        "noprogressbar": "True",
        "corpus_folder": str(shared / "corpus"),
        "frame_cache_folder": str(shared / "cache"),
        "lm_weights": "[4,8]",
        "word_ins_penalties": "[0.0,1.0]",
    }
    args = []
    for key, value in values.items():
        args += ["--set", f"{key}={value}"]
    return args


def sweep(args, **kwargs):
    return subprocess.run(
        SWEEP + ["--recipe", REPO_ROOT] + args,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        **kwargs,
    )


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return tmp_path_factory.mktemp("sweep_shared")


@pytest.fixture(scope="module")
def finished(shared):
    """relu and tanh x 1 and 2 layers, one seed, two runs at a time."""
    out = shared / "sweep"
    args = ["--units", "relu", "tanh", "--layers", "1", "2"]
    args += ["--seeds", "7", "--output", str(out), "--jobs", "2"]
    args += settings(shared)
    result = sweep(args)
    assert result.returncode == 0, result.stdout + result.stderr
    return out, args, result


def test_runs_and_table(finished):
    out, _, result = finished
    assert "sweep: 4 runs, 0 finished already, 4 to run, 2 at a time" in (
        result.stdout
    )
    assert "[4/4] finished" in result.stdout
    for run in ("relu_1layers", "relu_2layers", "tanh_1layers", "tanh_2layers"):
        summary = json.loads(
            (out / "runs" / run / "seed7" / "summary.json").read_text()
        )
        assert "test_wer" in summary and "dev_ce" in summary
        assert (
            out / "runs" / run / "seed7" / "decode/test/per_utt.txt"
        ).is_file()
    table = (out / "table.md").read_text()
    for row in ("| relu | 1 |", "| relu | 2 |", "| tanh | 1 |", "| tanh | 2 |"):
        assert row in table
    assert "p vs relu" in table and "| relu 1L | tanh 1L | 1 |" in table
    assert "| relu 1L | relu 2L | 1 |" in table
    assert "| 1 -> 2 | relu | tanh |" in table  # gain per added layer
    for rule in (
        "| relu | 2 | ReL |",
        "| tanh | 2 | tanh neg |",
        "| tanh | 2 | tanh both |",
    ):
        assert rule in table
    header = (out / "table.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["unit", "num_layers", "parameters", "seeds"]
    for name in ("wer_vs_depth.png", "learning_curves.png", "fig2.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_finished_runs_are_skipped(finished):
    out, args, _ = finished
    logs = {p: p.read_text() for p in (out / "logs").iterdir()}
    again = sweep(args)
    assert again.returncode == 0, again.stderr
    assert "4 finished already, 0 to run" in again.stdout
    assert "started" not in again.stdout
    assert {p: p.read_text() for p in (out / "logs").iterdir()} == logs


def test_dry_run_prints_the_commands(finished, shared):
    out, args, _ = finished
    dry = sweep(args + ["--dry-run"])
    lines = dry.stdout.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(
        f"cd {REPO_ROOT} && python train.py hparams/relu.yaml"
    )
    assert "--num_layers 1 --seed 7" in lines[0]
    assert (
        "--noprogressbar " in lines[0]
        and "--noprogressbar True" not in lines[0]
    )
    assert lines[0].endswith(f"--output_folder {out}/runs/relu_1layers/seed7")
    torchrun = sweep(
        args + ["--dry-run", "--launcher", "torchrun --nproc_per_node 2"]
    )
    assert "&& torchrun --nproc_per_node 2 train.py hparams/" in torchrun.stdout


def test_other_settings_in_the_same_folder_are_refused(finished):
    out, args, _ = finished
    result = sweep(args + ["--set", "dropout=0.1"])
    assert result.returncode == 1
    assert (
        "holds a sweep with other settings (settings dropout: (not set) "
        in (result.stderr)
    )
    assert "Give another --output" in result.stderr


def test_a_second_sweep_on_a_busy_folder_is_refused(finished):
    out, args, _ = finished
    with RunLock.for_folder(out, "sweep folder").acquire():
        result = sweep(args)
        # --collect runs nothing: it may look at a sweep under way.
        (out / "table.md").unlink()
        collect = sweep(args + ["--collect"])
    assert result.returncode == 1
    assert "in use by another run" in result.stderr
    assert collect.returncode == 0, collect.stderr
    assert "| relu | 2 |" in (out / "table.md").read_text()


def test_a_killed_sweep_resumes_and_gives_the_same_result(finished, shared):
    """kill -9 the sweep after the first epoch: its train.py dies with it,
    and the next sweep resumes the run from its checkpoint, ending where
    the uninterrupted run of the same settings ended."""
    out_a, _, _ = finished
    out = shared / "killed"
    args = ["--units", "relu", "--layers", "2", "--seeds", "7"]
    args += ["--output", str(out)] + settings(shared)
    process = subprocess.Popen(
        SWEEP + ["--recipe", REPO_ROOT] + args,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metrics = out / "runs/relu_2layers/seed7/metrics.json"
    deadline = time.time() + 300
    while time.time() < deadline:
        if (
            metrics.is_file()
            and len(json.loads(metrics.read_text() or "[]")) >= 1
        ):
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the first epoch did not end in 300 s")
    process.send_signal(signal.SIGKILL)
    process.wait()
    # train.py's own lock names it; the kernel kills it with the sweep.
    owner = out / "runs/relu_2layers/seed7/.lock.owner"
    child = json.loads(owner.read_text())["pid"]
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"train.py (pid {child}) outlived the killed sweep")
    assert not (out / "runs/relu_2layers/seed7/summary.json").exists()

    result = sweep(args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 finished already, 1 to run" in result.stdout
    log = (out / "logs" / "relu_2layers__seed7.log").read_text()
    assert log.count("sb-rectifier sweep: cd ") == 2
    assert "Loading a checkpoint" in log
    resumed = json.loads(
        (out / "runs/relu_2layers/seed7/summary.json").read_text()
    )
    whole = json.loads(
        (out_a / "runs/relu_2layers/seed7/summary.json").read_text()
    )
    for key in ("dev_ce", "dev_frame_acc", "test_wer"):
        assert resumed[key] == whole[key], key
    epochs = json.loads(metrics.read_text())
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
