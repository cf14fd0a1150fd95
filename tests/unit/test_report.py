"""compare-runs: loading run folders, table, learning-curve plot."""

import json

import pytest

from sb_rectifier.cli.main import main
from sb_rectifier.report.runs import load_run


def _fake_run(folder, unit, accs):
    folder.mkdir(parents=True)
    metrics = [
        {
            "epoch": i + 1,
            "dev_ce": 2.0 - 0.1 * i,
            "dev_frame_acc": acc,
            "train_loss": 2.5 - 0.2 * i,
        }
        for i, acc in enumerate(accs)
    ]
    (folder / "metrics.json").write_text(json.dumps(metrics))
    summary = {
        "dev_ce": metrics[-1]["dev_ce"],
        "dev_frame_acc": accs[-1],
        "test_frame_acc": accs[-1] - 2,
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "hyperparams.yaml").write_text(
        f"seed: 1\nunit_name: {unit}\nnum_layers: 4\nneurons: 512\n"
    )
    return folder


def test_compare_runs_table_and_plot(tmp_path, capsys):
    a = _fake_run(tmp_path / "a", "relu", [50.0, 55.0])
    b = _fake_run(tmp_path / "b", "tanh", [48.0, 52.5, 53.0])
    png = tmp_path / "curves.png"
    assert main(["compare-runs", str(a), str(b), "-o", str(png)]) == 0
    out = capsys.readouterr().out
    assert "| relu 4x512 | 1.900 | 55.00 | 53.00 | 2 / 2 |" in out
    assert "| tanh 4x512 | 1.800 | 53.00 | 51.00 | 3 / 3 |" in out
    assert (
        png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        and png.stat().st_size > 10000
    )


def test_unfinished_run_is_a_clear_error(tmp_path):
    run = _fake_run(tmp_path / "a", "relu", [50.0])
    (run / "summary.json").unlink()
    with pytest.raises(FileNotFoundError, match="summary.json: not found"):
        load_run(str(run))
