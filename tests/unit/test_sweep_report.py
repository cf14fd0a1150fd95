"""The sweep's table: figures over seeds, paired tests, markdown and CSV.

Run folders are written here as train.py writes them (summary.json,
metrics.json, decode/test/per_utt.txt from the real scorer), with figures
chosen by hand so that every number in the table can be checked.
"""

import csv
import json
import os
import shutil

import numpy as np
import pytest

from sb_rectifier.scoring import paired_bootstrap, score
from sb_rectifier.sweep import (
    SweepPlan,
    collect,
    comparisons,
    gain_comparisons,
    write_report,
)
from sb_rectifier.sweep.results import paired_errors

REFS = {
    "u1": "a b c d".split(),
    "u2": "e f".split(),
    "u3": "g h i".split(),
}
# Hypotheses per (unit, layers, seed): a few chosen errors.
HYPS = {
    ("tanh", 2, 1): {"u1": "a x c d", "u2": "e", "u3": "g h i"},
    ("tanh", 2, 2): {"u1": "a b c", "u2": "e f", "u3": "g y i"},
    ("relu", 2, 1): {"u1": "a b c d", "u2": "e f", "u3": "g h i"},
    ("relu", 2, 2): {"u1": "a b c d", "u2": "e", "u3": "g h i"},
    ("tanh", 3, 1): {"u1": "a b c d", "u2": "e", "u3": "g h i"},
    ("tanh", 3, 2): {"u1": "a b c d", "u2": "e f", "u3": "g h z i"},
    ("relu", 3, 1): {"u1": "a b c d", "u2": "e f", "u3": "g h i"},
    ("relu", 3, 2): {"u1": "a b c d", "u2": "e f", "u3": "g h i"},
}
DEV_CE = {
    ("tanh", 2): (1.50, 1.70),
    ("relu", 2): (1.30, 1.34),
    ("tanh", 3): (1.45, 1.55),
    ("relu", 3): (1.20, 1.22),
}


@pytest.fixture
def plan(tmp_path):
    recipe = tmp_path / "recipe"
    (recipe / "hparams").mkdir(parents=True)
    (recipe / "train.py").write_text("")
    for unit in ("tanh", "relu"):
        (recipe / "hparams" / f"{unit}.yaml").write_text("")
    plan = SweepPlan(
        str(recipe),
        "hparams",
        str(tmp_path / "sweep"),
        ["tanh", "relu"],
        [2, 3],
        [1, 2],
    )
    for run in plan.runs():
        write_run(run)
    return plan


def write_run(run, decoded=True):
    folder = run.folder
    os.makedirs(os.path.join(folder, "decode", "test"))
    hyps = {
        u: t.split()
        for u, t in HYPS[(run.unit, run.num_layers, run.seed)].items()
    }
    result = score(REFS, hyps, mode="all")
    ce = DEV_CE[(run.unit, run.num_layers)][run.seed - 1]
    summary = {
        "dev_ce": ce,
        "dev_frame_acc": 50.0 + 10 * (2 - ce),
        "parameters": 1000 * run.num_layers,
    }
    if not decoded:
        summary["wer_not_computed"] = "decode: False"
    else:
        summary.update(
            dev_wer=result.wer + 1.0,
            test_wer=result.wer,
            test_wer_subsets={"all": result.wer},
        )
    with open(os.path.join(folder, "summary.json"), "w") as fout:
        json.dump(summary, fout)
    metrics = [
        {"epoch": 1, "dev_ce": ce + 0.3, "train_loss": 2.0},
        {"epoch": 2, "dev_ce": ce, "train_loss": 1.5},
    ]
    with open(os.path.join(folder, "metrics.json"), "w") as fout:
        json.dump(metrics, fout)
    with open(
        os.path.join(folder, "decode", "test", "per_utt.txt"), "w"
    ) as fout:
        fout.write(result.details())


def cell(cells, unit, layers):
    return next(c for c in cells if (c.unit, c.num_layers) == (unit, layers))


def test_cells_pool_seeds(plan):
    cells, missing = collect(plan)
    assert missing == []
    assert [(c.unit, c.num_layers, c.seeds) for c in cells] == [
        ("tanh", 2, [1, 2]),
        ("tanh", 3, [1, 2]),
        ("relu", 2, [1, 2]),
        ("relu", 3, [1, 2]),
    ]
    mean, std = cell(cells, "tanh", 2).stat("dev_ce")
    assert mean == pytest.approx(1.6)
    assert std == pytest.approx(np.std([1.5, 1.7], ddof=1))
    # tanh 2 layers: seed 1 has 1 sub (u1) + 1 del (u2); seed 2 has 1 del
    # (u1) + 1 sub (u3): 2 errors / 9 words each.
    assert cell(cells, "tanh", 2).stat("test_wer")[0] == pytest.approx(
        100 * 2 / 9
    )


def test_paired_errors_sum_over_seeds(plan):
    cells, _ = collect(plan)
    a, b = cell(cells, "tanh", 2), cell(cells, "relu", 2)
    errors_a, errors_b, words, seeds = paired_errors(a, b)
    # Per utterance u1, u2, u3, summed over seeds 1 and 2.
    assert errors_a.tolist() == [2, 1, 1]
    assert errors_b.tolist() == [0, 1, 0]
    assert words.tolist() == [8, 4, 6]
    assert seeds == [1, 2]


def test_paired_errors_refuse_other_references(plan):
    cells, _ = collect(plan)
    run = cell(cells, "relu", 2).results[0].run
    path = os.path.join(run.folder, "decode", "test", "per_utt.txt")
    refs = dict(REFS, u2=["e"])
    with open(path, "w") as fout:
        fout.write(score(refs, {"u1": [], "u2": [], "u3": []}).details())
    with pytest.raises(ValueError, match="not scored on the same utterances"):
        paired_errors(cell(cells, "tanh", 2), cell(cells, "relu", 2))


def test_comparisons_units_per_depth_and_layers_per_unit(plan):
    cells, _ = collect(plan)
    found = comparisons(cells, num_samples=2000)
    pairs = [
        (c.kind, c.a.unit, c.a.num_layers, c.b.unit, c.b.num_layers)
        for c in found
    ]
    assert pairs == [
        ("units", "tanh", 2, "relu", 2),
        ("units", "tanh", 3, "relu", 3),
        ("depth", "tanh", 2, "tanh", 3),
        ("depth", "relu", 2, "relu", 3),
    ]
    first = found[0].test
    expected = paired_bootstrap([2, 1, 1], [0, 1, 0], [8, 4, 6], 2000)
    assert first == expected
    assert first.delta == pytest.approx(100 * (4 - 1) / 18)


def test_table_files(plan):
    report = write_report(plan, bootstrap_samples=2000)
    assert report.missing == []
    text = open(plan.output + "/table.md").read()
    assert text == report.text + "\n"
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| unit |"))
    assert header.split(" | ")[-2:] == ["p vs tanh", "p vs fewer layers |"]
    row = next(line for line in lines if line.startswith("| tanh | 2 |"))
    cols = [c.strip() for c in row.strip("|").split("|")]
    assert cols[2:5] == ["0.00M", "2", "1.600 ± 0.141"]
    assert cols[7] == "22.22 ± 0.00"  # both seeds: 2 errors / 9 words
    assert cols[8:] == ["-", "-"]
    relu3 = next(line for line in lines if line.startswith("| relu | 3 |"))
    assert relu3.rstrip(" |").split(" | ")[-1] != "-"
    assert "| tanh 2L | relu 2L | 2 | 22.22 | 5.56 | +16.67 |" in text
    assert "| ep. 1 | ep. 2 |" in text
    with open(plan.output + "/table.csv") as fin:
        rows = list(csv.DictReader(fin))
    assert [(r["unit"], r["num_layers"]) for r in rows] == [
        ("tanh", "2"),
        ("tanh", "3"),
        ("relu", "2"),
        ("relu", "3"),
    ]
    assert float(rows[0]["dev_ce_mean"]) == pytest.approx(1.6)
    assert rows[0]["p_vs_tanh"] == "" and rows[2]["p_vs_tanh"] != ""
    assert float(rows[2]["p_vs_tanh"]) == pytest.approx(
        comparisons(collect(plan)[0], num_samples=2000)[0].test.p_value
    )
    for name in ("wer_vs_depth.png", "learning_curves.png"):
        assert open(f"{plan.output}/{name}", "rb").read(4) == b"\x89PNG"
    assert not any(p.endswith("fig2.png") for p in report.files)


def test_unfinished_runs_are_listed_not_tabled(plan):
    run = plan.runs()[0]
    os.remove(os.path.join(run.folder, "summary.json"))
    shutil.rmtree(plan.runs()[1].folder)
    report = write_report(plan, bootstrap_samples=200)
    assert [r.name for r in report.missing] == [
        "tanh_2layers/seed1",
        "tanh_2layers/seed2",
    ]
    assert "Not finished (2 runs" in report.text
    assert "| tanh | 2 |" not in report.text


def test_undecoded_runs_give_frame_figures_only(tmp_path, plan):
    for run in plan.runs():
        import shutil

        shutil.rmtree(run.folder)
        write_run(run, decoded=False)
    report = write_report(plan, bootstrap_samples=200)
    row = next(
        line
        for line in report.text.splitlines()
        if line.startswith("| relu | 2")
    )
    assert row.split(" | ")[4] == "1.320 ± 0.028"
    assert "Paired tests" not in report.text


def test_gain_per_layer_by_hand(plan):
    """Errors per utterance (u1, u2, u3) summed over both seeds: tanh 2L
    [2, 1, 1], tanh 3L [0, 1, 1], relu 2L [0, 1, 0], relu 3L [0, 0, 0];
    18 reference words. tanh gains (4 - 2) / 18 = 11.11 points, relu
    (1 - 0) / 18 = 5.56: relu gains 5.56 points less."""
    cells, _ = collect(plan)
    (gain,) = gain_comparisons(cells, num_samples=2000)
    assert (gain.unit_a, gain.unit_b, gain.depth, gain.deeper) == (
        "tanh",
        "relu",
        2,
        3,
    )
    assert gain.gain_a == pytest.approx(100 * 2 / 18)
    assert gain.gain_b == pytest.approx(100 * 1 / 18)
    assert gain.test.delta == pytest.approx(-100 * 1 / 18)
    assert gain.test == paired_bootstrap([0, 2, 1], [2, 1, 1], [8, 4, 6], 2000)
    text = write_report(plan, bootstrap_samples=2000).text
    assert "| 2 -> 3 | tanh | relu | +11.11 | +5.56 | -5.56 |" in text
