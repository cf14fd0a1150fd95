"""The grid of a sweep and each run's command (sb_rectifier.sweep.plan),
against the repository's own recipe and YAMLs."""

import os
import shlex

import pytest

from sb_rectifier.sweep import SweepPlan, parse_axis, parse_setting
from sb_rectifier.sweep.runner import SweepMismatchError, check_description

REPO = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


def plan(tmp_path, **kwargs):
    args = {
        "recipe": REPO,
        "hparams": "hparams",
        "output": str(tmp_path / "sweep"),
        "units": ["tanh", "relu", "leaky_relu"],
        "layers": [2, 3, 4],
        "seeds": [1, 2],
    }
    args.update(kwargs)
    return SweepPlan(**args)


def test_the_grid_and_its_commands(tmp_path):
    p = plan(
        tmp_path,
        axes=[parse_axis("corpus_hours=1,4")],
        settings=[
            parse_setting("neurons=64", "--set"),
            ("noprogressbar", "True"),
        ],
    )
    runs = p.runs()
    assert len(runs) == 2 * 3 * 3 * 2
    assert runs[0].name == "tanh_2layers/corpus_hours-1/seed1"
    assert runs[-1].name == "leaky_relu_4layers/corpus_hours-4/seed2"
    assert len({r.folder for r in runs}) == len(runs)
    line = p.command(runs[-1])
    words = shlex.split(line)
    assert words[:4] == ["cd", REPO, "&&", "python"]
    assert words[4:6] == ["train.py", "hparams/leaky_relu.yaml"]
    assert words[6:] == [
        "--num_layers",
        "4",
        "--seed",
        "2",
        "--corpus_hours",
        "4",
        "--neurons",
        "64",
        "--noprogressbar",
        "--output_folder",
        runs[-1].folder,
    ]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"units": ["relu", "sigmoid"]},
            r"--units: no sigmoid.yaml in .*hparams \(there: base, leaky_relu, relu, tanh\)",
        ),
        ({"layers": [2, 2]}, r"--layers: a value is repeated"),
        ({"layers": [0, 2]}, r"--layers: depths must be >= 1"),
        ({"seeds": []}, r"--seeds: give at least one value"),
        (
            {"settings": [("num_layers", "3")]},
            r"num_layers is set by the sweep itself: use --layers",
        ),
        (
            {"settings": [("neuron", "3")]},
            r"--set/--axis: unknown hyperparameter 'neuron'",
        ),
        (
            {"axes": [("corpus_hour", ["1"])]},
            r"unknown hyperparameter 'corpus_hour'",
        ),
        (
            {"settings": [("neurons", "3")], "axes": [("neurons", ["1"])]},
            r"neurons given more than once",
        ),
        (
            {"recipe": os.path.join(REPO, "docs")},
            r"--recipe .*docs: no train.py there",
        ),
    ],
)
def test_bad_grids_are_refused_before_anything_runs(tmp_path, kwargs, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        plan(tmp_path, **kwargs)


def test_flags_and_settings(tmp_path):
    bad = plan(tmp_path, settings=[("debug", "maybe")])
    with pytest.raises(ValueError, match="--set debug=maybe: debug is a flag"):
        bad.arguments(bad.runs()[0])
    off = plan(tmp_path, settings=[("noprogressbar", "False")])
    assert "--noprogressbar" not in off.arguments(off.runs()[0])
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_setting("neurons 3", "--set")
    with pytest.raises(ValueError, match="must be letters, digits"):
        parse_axis("corpus_hours=1;rm")


def test_the_folder_remembers_its_settings(tmp_path):
    check_description(plan(tmp_path, settings=[("neurons", "64")]))
    check_description(plan(tmp_path, settings=[("neurons", "64")], seeds=[3]))
    with pytest.raises(
        SweepMismatchError, match="settings neurons: 64 there, 32 now"
    ):
        check_description(plan(tmp_path, settings=[("neurons", "32")]))
    with pytest.raises(
        SweepMismatchError, match="hparams: hparams there, hparams/paper now"
    ):
        check_description(
            plan(
                tmp_path, hparams="hparams/paper", settings=[("neurons", "64")]
            )
        )
