"""Running train.py from tests: in-process (``run_train``) or as the
command a user types (``train_command``)."""

import importlib.util
import os
import sys
from pathlib import Path

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_PY = os.path.join(REPO_ROOT, "train.py")

# Small and quick: enough to learn the fixture's pdfs.
SMALL = {
    "num_layers": "2",
    "neurons": "64",
    "number_of_epochs": "3",
    "batch_size": "128",
    "lr": "0.02",
    "device": "cpu",
}


def train_module():
    """train.py, imported as a module."""
    spec = importlib.util.spec_from_file_location(
        "sb_rectifier_train", TRAIN_PY
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_args(tmp_path, unit, dataset_root, extra=(), defaults=SMALL):
    """The argument list of a small run on a Kaldi-format fixture."""
    options = {
        "data_folder": str(dataset_root),
        "output_folder": str(tmp_path / f"exp_{unit}"),
        "frame_cache_folder": str(tmp_path / "cache"),
        **defaults,
    }
    extra = list(extra)
    for key, value in zip(extra[::2], extra[1::2], strict=True):
        options[key.lstrip("-")] = value
    argv = [
        os.path.join(REPO_ROOT, "hparams", f"{unit}.yaml"),
        "--noprogressbar",
    ]
    for key, value in options.items():
        argv += [f"--{key}", value]
    return argv, Path(options["output_folder"])


def run_train(tmp_path, unit, dataset_root, extra=()):
    """Runs train.py's main in this process; returns (summary, out)."""
    argv, out = train_args(tmp_path, unit, dataset_root, extra)
    return train_module().main(argv), out


def train_command(tmp_path, unit, dataset_root, extra=()):
    """The command line of the same run, for a subprocess."""
    argv, out = train_args(tmp_path, unit, dataset_root, extra)
    return [sys.executable, TRAIN_PY, *argv], out
