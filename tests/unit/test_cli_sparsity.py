"""sparsity plot: the Fig. 2 overlay of several runs."""

import pytest
import torch

from sb_rectifier.cli.main import main
from sb_rectifier.sparsity.export import write_json
from sb_rectifier.sparsity.statistics import LayerStatistics


def _run(folder, unit, definitions, activations):
    """A run folder whose last layer saw ``activations``."""
    results = {}
    for name, h in (
        ("layers.0.act", torch.zeros(4, 3)),
        ("layers.1.act", activations),
    ):
        stats = LayerStatistics(h.shape[1], definitions)
        stats.update(h)
        result = stats.result()
        result["unit"] = unit
        results[name] = result
    write_json(results, str(folder / "sparsity" / "dev.json"), {"unit": unit})
    return folder


def test_overlay_labels_and_figures(tmp_path, capsys):
    relu = _run(
        tmp_path / "relu",
        "relu",
        ["positive"],
        torch.tensor([[1.0, 0.0, 2.0], [0.5, 0.0, 0.0]]),
    )
    tanh = _run(
        tmp_path / "tanh", "tanh", ["tanh_neg", "tanh_both"],
        torch.tensor([[-0.99, 0.5, 0.99], [0.0, -0.96, 0.2]]),
    )  # fmt: skip
    png = tmp_path / "fig2.png"
    assert main(["sparsity", "plot", str(relu), str(tanh), "-o", str(png)]) == 0
    out = capsys.readouterr().out
    # ReL: units active 2/2, 0/2, 1/2 -> mean 0.5, one unit never active.
    assert (
        "ReL: mean activation probability 0.500, median 0.500, max 1.000, units never active 1/3"
        in out
    )
    # tanh neg (h > -0.95): 1/2, 1/2, 2/2; tanh both (|h| < 0.95): 1/2, 1/2, 1/2.
    assert "tanh neg: mean activation probability 0.667" in out
    assert "tanh both: mean activation probability 0.500" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_missing_statistics_and_layer_are_clear_errors(tmp_path):
    run = _run(tmp_path / "relu", "relu", ["positive"], torch.ones(2, 2))
    with pytest.raises(FileNotFoundError, match="no sparsity statistics"):
        from sb_rectifier.cli.sparsity import fig2_curves

        fig2_curves([str(tmp_path / "nothing")])
    with pytest.raises(KeyError, match="no layer 'layers.9.act'"):
        fig2_curves([str(run)], layer="layers.9.act")


def test_reads_a_run_written_by_collect(tmp_path, capsys):
    from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
    from sb_rectifier.sparsity import collect

    torch.manual_seed(0)
    model = RectifierDNN(
        input_size=6, num_layers=2, neurons=8, activation="tanh"
    )
    x = torch.randn(300, 6)
    with collect(model, tmp_path / "run" / "sparsity", "dev"), torch.no_grad():
        model(x)
    png = tmp_path / "fig2.png"
    assert (
        main(["sparsity", "plot", str(tmp_path / "run"), "-o", str(png)]) == 0
    )
    out = capsys.readouterr().out
    with torch.no_grad():
        h = model.hidden_activations(x)[-1]
    neg = (h > -0.95).double().mean().item()
    both = ((h > -0.95) & (h < 0.95)).double().mean().item()
    assert f"tanh neg: mean activation probability {neg:.3f}" in out
    assert f"tanh both: mean activation probability {both:.3f}" in out
