"""Tests of sb_rectifier.sparsity: activity rules, statistics, hooks, files."""

import csv
import json
import math
import os

import pytest
import torch

from sb_rectifier.activations import register_activation, unregister_activation
from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
from sb_rectifier.sparsity import (
    ACTIVE_DEFINITIONS,
    SCHEMA_VERSION,
    ActiveDefinition,
    LayerStatistics,
    SparsityMonitor,
    default_definitions,
    export_all,
    get_definition,
    gini_coefficient,
    layer_curves,
    normalized_entropy,
    paper_label,
    plot_histograms,
    plot_layers,
    plot_sorted_activation_probability,
    read_json,
    register_definition,
    write_csv,
    write_json,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# 4 frames x 4 units. Unit 0 is always 0 (dead, all exact zeros), unit 3 is
# always positive (always active). Active units per frame (h > 0): 2, 1, 2, 2.
H = torch.tensor(
    [
        [0.0, 1.0, 0.0, 2.0],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 3.0, -1.0, 0.5],
        [0.0, 0.0, 2.0, 4.0],
    ]
)


def _hand_stats(**kwargs):
    kwargs.setdefault("hist_bins", 4)
    kwargs.setdefault("hist_range", (-2.0, 2.0))
    kwargs.setdefault("pop_bins", 4)
    stats = LayerStatistics(4, **kwargs)
    stats.update(H)
    return stats


def _assert_results_equal(a, b, rel=1e-5):
    """Counts exactly, float statistics to float32 summation precision."""
    assert a.keys() == b.keys()
    for key in a:
        if key in ("mean", "variance"):
            assert a[key] == pytest.approx(b[key], rel=rel, abs=1e-5), key
        elif key == "definitions":
            for name in a[key]:
                da, db = a[key][name], b[key][name]
                for k in da:
                    if isinstance(da[k], float):
                        assert da[k] == pytest.approx(db[k], rel=rel, abs=1e-12)
                    elif k == "dispersion":
                        assert da[k]["entropy"] == pytest.approx(
                            db[k]["entropy"]
                        )
                        assert da[k]["gini"] == pytest.approx(db[k]["gini"])
                    else:
                        assert da[k] == db[k], (name, k)
        else:
            assert a[key] == b[key], key


# ----------------------------------------------------------------------
# Activity rules
# ----------------------------------------------------------------------
def test_builtin_definitions_follow_the_paper():
    h = torch.tensor([-0.99, -0.96, -0.5, 0.0, 0.5, 0.94, 0.96])
    pos = ACTIVE_DEFINITIONS["positive"].is_active(h).tolist()
    neg = ACTIVE_DEFINITIONS["tanh_neg"].is_active(h).tolist()
    both = ACTIVE_DEFINITIONS["tanh_both"].is_active(h).tolist()
    assert pos == [False, False, False, False, True, True, True]
    assert neg == [False, False, True, True, True, True, True]
    assert both == [False, False, True, True, True, True, False]
    sig = ACTIVE_DEFINITIONS["sigmoid_both"]
    assert sig.is_active(torch.tensor([0.01, 0.5, 0.99])).tolist() == [
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    "definition",
    [
        ActiveDefinition("g", "greater", 0.3),
        ActiveDefinition("l", "less", -0.2),
        ActiveDefinition("sym", "between", (-0.5, 0.5)),
        ActiveDefinition("asym", "between", (-0.1, 0.7)),
    ],
    ids=lambda d: d.name,
)
def test_indicator_matches_is_active(definition):
    h = torch.randn(50, 7)
    h[0, :3] = torch.tensor([0.3, -0.2, 0.7])  # on thresholds: inactive
    out = definition.indicator(h, torch.empty_like(h))
    assert torch.equal(out, definition.is_active(h).float())


def test_definition_validation_and_registry():
    with pytest.raises(ValueError, match="Unknown kind"):
        ActiveDefinition("x", "above", 0.0)
    with pytest.raises(ValueError, match="low, high"):
        ActiveDefinition("x", "between", 0.5)
    with pytest.raises(ValueError, match="low < high"):
        ActiveDefinition("x", "between", (0.5, 0.1))
    with pytest.raises(ValueError, match="single threshold"):
        ActiveDefinition("x", "greater", (0.0, 1.0))
    with pytest.raises(ValueError, match="finite"):
        ActiveDefinition("x", "greater", math.inf)
    with pytest.raises(ValueError, match="registered: positive"):
        get_definition("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_definition(ActiveDefinition("positive", "greater", 1.0))
    d = ActiveDefinition("half", "between", [0.0, 0.5], label="half")
    assert d.threshold == (0.0, 0.5)
    assert ActiveDefinition.from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_default_definitions_and_labels():
    assert default_definitions(torch.nn.ReLU()) == ["positive"]
    assert default_definitions(torch.nn.LeakyReLU(0.01)) == ["positive"]
    assert default_definitions(torch.nn.ELU()) == ["positive"]
    assert default_definitions(torch.nn.Tanh()) == ["tanh_neg", "tanh_both"]
    assert default_definitions(torch.nn.Sigmoid()) == [
        "sigmoid_neg",
        "sigmoid_both",
    ]
    assert paper_label(torch.nn.ReLU(), "positive") == "ReL"
    assert paper_label("leaky_relu", "positive") == "LReL"
    assert paper_label("tanh", "tanh_neg") == "tanh neg"
    assert paper_label(torch.nn.Tanh(), "tanh_both") == "tanh both"
    assert paper_label("tanh", "positive") == "tanh pos"
    assert paper_label(torch.nn.ELU(), "positive") == "ELU pos"


# ----------------------------------------------------------------------
# Statistics on hand-made activations
# ----------------------------------------------------------------------
def test_hand_made_per_unit_statistics():
    r = _hand_stats().result()
    assert r["num_units"] == 4 and r["frames"] == 4
    d = r["definitions"]["positive"]
    assert d["definition"]["rule"] == "h > 0"
    assert d["activation_probability"] == [0.0, 0.5, 0.25, 1.0]
    assert d["mean_activation_probability"] == 0.4375
    assert d["dead_units"] == {"count": 1, "indices": [0]}
    assert d["always_active_units"] == {"count": 1, "indices": [3]}
    assert r["exact_zero_fraction"] == 0.5
    assert r["exact_zero_fraction_per_unit"] == [1.0, 0.5, 0.5, 0.0]
    assert r["mean"] == pytest.approx([0.0, 1.0, 0.25, 1.875])
    # variance = E[h^2] - E[h]^2
    assert r["variance"] == pytest.approx(
        [0.0, 10 / 4 - 1.0, 5 / 4 - 0.0625, 21.25 / 4 - 1.875**2]
    )
    assert (r["min"], r["max"]) == (-1.0, 4.0)


def test_hand_made_population_sparsity():
    d = _hand_stats().result()["definitions"]["positive"]
    shares = [0.5, 0.25, 0.5, 0.5]  # active units per frame / 4
    mean = sum(shares) / 4
    std = math.sqrt(sum(s * s for s in shares) / 4 - mean**2)
    assert d["population_sparsity_mean"] == pytest.approx(mean, abs=1e-15)
    assert d["population_sparsity_std"] == pytest.approx(std, abs=1e-15)
    # mean over frames of the active share == mean over units of p_j
    assert d["population_sparsity_mean"] == d["mean_activation_probability"]
    assert d["active_units_per_frame"] == [0, 1, 3, 0, 0]
    hist = d["population_sparsity_histogram"]
    assert hist["edges"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert hist["counts"] == [0, 1, 3, 0]
    # default: 50 bins, k active of 4 -> bin floor(50 k / 4)
    d50 = _hand_stats(pop_bins=50).result()["definitions"]["positive"]
    counts = d50["population_sparsity_histogram"]["counts"]
    assert len(counts) == 50 and counts[12] == 1 and counts[25] == 3
    assert sum(counts) == 4


def test_hand_made_dispersion():
    d = _hand_stats().result()["definitions"]["positive"]
    p = [0.0, 0.5, 0.25, 1.0]
    q = [x / sum(p) for x in p if x > 0]
    entropy = -sum(x * math.log(x) for x in q) / math.log(4)
    assert d["dispersion"]["entropy"] == pytest.approx(entropy, abs=1e-12)
    # sorted p = 0, .25, .5, 1: sum (2i - n - 1) p_(i) / (n sum p)
    assert d["dispersion"]["gini"] == pytest.approx(3.25 / 7, abs=1e-12)
    pairwise = sum(abs(a - b) for a in p for b in p) / (2 * 4 * sum(p))
    assert d["dispersion"]["gini"] == pytest.approx(pairwise, abs=1e-12)
    assert normalized_entropy([0.2] * 5) == pytest.approx(1.0)
    assert gini_coefficient([0.2] * 5) == 0.0
    assert normalized_entropy([0.0, 0.0]) is None
    assert gini_coefficient([0.0, 0.0]) is None


def test_hand_made_value_histogram():
    hist = _hand_stats().result()["histogram"]
    assert hist["edges"] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    # -1 in [-1, 0); eight zeros and 0.5 in [0, 1); two ones in [1, 2);
    # 2, 2, 3, 4 are >= hi
    assert hist["counts"] == [0, 1, 9, 2]
    assert (hist["underflow"], hist["overflow"]) == (0, 4)
    assert hist["values"] == 16 and hist["frame_stride"] == 1
    off = LayerStatistics(4, hist_bins=0)
    off.update(H)
    assert off.result()["histogram"] is None


def test_relu_zeros_fall_in_the_bin_starting_at_zero():
    stats = LayerStatistics(3)  # 100 bins over [-5, 5]: [0, 0.1) is bin 50
    stats.update(torch.zeros(7, 3))
    counts = stats.result()["histogram"]["counts"]
    assert counts[50] == 21 and sum(counts) == 21


def test_histogram_kernels_agree():
    from sb_rectifier.sparsity.statistics import _histogram

    u = torch.tensor([-0.5, 0.0, 0.2, 0.999, 1.0, 3.0, 4.5, 6.0, float("nan")])
    expected = [1, 3, 1, 0, 1, 1, 1]  # bin b covers [b - 1, b); 6.0 -> last
    assert _histogram(u, 7, scatter=False).tolist() == expected
    assert _histogram(u, 7, scatter=True).tolist() == expected[:-1] + [2]


def test_tanh_definitions_on_hand_made_values():
    h = torch.tensor([[-0.99, -0.5], [0.96, 0.0], [-0.94, 0.999]])
    stats = LayerStatistics(2, ["tanh_neg", "tanh_both"], pop_bins=2)
    stats.update(h)
    r = stats.result()["definitions"]
    assert r["tanh_neg"]["activation_probability"] == pytest.approx(
        [2 / 3, 1.0]
    )
    assert r["tanh_both"]["activation_probability"] == pytest.approx(
        [1 / 3, 2 / 3]
    )
    assert r["tanh_neg"]["active_units_per_frame"] == [0, 1, 2]
    assert r["tanh_both"]["active_units_per_frame"] == [0, 3, 0]
    assert r["tanh_neg"]["always_active_units"]["indices"] == [1]
    assert r["tanh_both"]["dead_units"]["count"] == 0
    assert r["tanh_both"]["population_sparsity_std"] == 0.0


def test_no_frames_and_bad_input():
    stats = LayerStatistics(3)
    with pytest.raises(ValueError, match="No frames"):
        stats.result()
    with pytest.raises(ValueError, match=r"\[\.\.\., 3\]"):
        stats.update(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="mask has 3 entries"):
        stats.update(torch.zeros(4, 3), mask=torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="hist_range"):
        LayerStatistics(3, hist_range=(1.0, 1.0))
    stats.update(torch.zeros(0, 3))
    assert stats.frames == 0


# ----------------------------------------------------------------------
# Streaming, merging, masking, dtypes
# ----------------------------------------------------------------------
def _random_acts(frames=300, units=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.relu(torch.randn(frames, units, generator=gen) - 0.3)
    h[:, 2] = 0.0  # a dead unit
    h[:, 5] = h[:, 5].abs() + 0.1  # an always-active unit
    return h


def test_streaming_equals_single_batch():
    h = _random_acts()
    defs = ["positive", "tanh_both"]
    one = LayerStatistics(16, defs, hist_range=(-1, 3))
    one.update(h)
    many = LayerStatistics(16, defs, hist_range=(-1, 3))
    for part in torch.split(h, [1, 50, 7, 142, 100]):
        many.update(part)
    _assert_results_equal(one.result(), many.result())


def test_chunked_processing_equals_one_chunk():
    h = _random_acts(frames=101)
    defs = ["positive", "tanh_neg", "sigmoid_both"]  # sigmoid_both: asymmetric
    big = LayerStatistics(16, defs)
    big.update(h)
    small = LayerStatistics(16, defs, chunk_elements=40)  # 2-row chunks
    small.update(h)
    _assert_results_equal(big.result(), small.result())
    ref = torch.stack(
        [ACTIVE_DEFINITIONS[d].is_active(h).double().mean(0) for d in defs]
    )
    for i, d in enumerate(defs):
        p = small.result()["definitions"][d]["activation_probability"]
        assert p == ref[i].tolist()


def test_merge_equals_single_pass():
    h = _random_acts()
    whole = LayerStatistics(16)
    whole.update(h)
    a, b = LayerStatistics(16), LayerStatistics(16)
    a.update(h[:120])
    b.update(h[120:])
    _assert_results_equal(whole.result(), a.merge(b).result())
    with pytest.raises(ValueError, match="different set-ups"):
        a.merge(LayerStatistics(16, ["tanh_neg"]))


def test_masked_frames_are_ignored():
    h = _random_acts(frames=60).view(3, 20, 16)
    lengths = [20, 13, 5]
    mask = torch.arange(20)[None, :] < torch.tensor(lengths)[:, None]
    padded = h.clone()
    padded[~mask] = 1e4  # padding must not show up anywhere
    masked = LayerStatistics(16, ["positive", "tanh_both"])
    masked.update(padded, mask=mask)
    ref = LayerStatistics(16, ["positive", "tanh_both"])
    ref.update(h[mask])
    _assert_results_equal(masked.result(), ref.result())
    as_float = LayerStatistics(16, ["positive", "tanh_both"], chunk_elements=64)
    as_float.update(padded, mask=mask.float())
    _assert_results_equal(as_float.result(), ref.result())


def test_histogram_frame_stride():
    h = _random_acts(frames=103)
    stats = LayerStatistics(16, hist_stride=4, chunk_elements=100)
    stats.update(h)
    ref = LayerStatistics(16)
    ref.update(h[::4])
    r, r_ref = stats.result(), ref.result()
    for key in ("counts", "underflow", "overflow", "values"):
        assert r["histogram"][key] == r_ref["histogram"][key]
    assert r["histogram"]["frame_stride"] == 4
    assert r["frames"] == 103  # the other statistics use every frame


def test_value_stride_samples_only_the_value_statistics():
    h = _random_acts(frames=103).view(1, 103, 16)
    mask = torch.ones(1, 103, dtype=torch.bool)
    mask[0, 40:50] = False
    mask[0, 96] = False  # a sampled frame
    stats = LayerStatistics(
        16, value_stride=8, hist_stride=8, chunk_elements=48
    )
    stats.update(h, mask=mask)
    r = stats.result()
    every = LayerStatistics(16)
    every.update(h[mask])
    sampled = LayerStatistics(16)
    sampled.update(h[:, ::8][mask[:, ::8]])
    r_every, r_sampled = every.result(), sampled.result()
    assert r["frames"] == 92 and r["value_frames"] == 13 - 3  # 40, 48, 96
    assert r["value_stride"] == 8
    assert r["definitions"] == r_every["definitions"]
    for key in ("exact_zero_fraction", "exact_zero_fraction_per_unit", "min"):
        assert r[key] == r_sampled[key]
    assert r["mean"] == pytest.approx(r_sampled["mean"], rel=1e-5, abs=1e-6)
    assert r["variance"] == pytest.approx(r_sampled["variance"], rel=1e-5)
    assert r["histogram"]["counts"] == r_sampled["histogram"]["counts"]


def test_no_valid_sampled_frame_gives_none_values(tmp_path):
    stats = LayerStatistics(3, value_stride=2)
    stats.update(
        torch.ones(4, 3), mask=torch.tensor([False, True, False, True])
    )
    r = stats.result()
    assert r["frames"] == 2 and r["value_frames"] == 0
    assert r["mean"] == [None] * 3 and r["min"] is None
    path = write_csv({"l": r}, str(tmp_path), "t")["l"]
    with open(path) as fin:
        assert fin.read().splitlines()[1] == "0,1.0,,,"


def test_bf16_and_fp16_inputs():
    h = _random_acts().bfloat16()
    stats = LayerStatistics(16)
    stats.update(h)
    ref = LayerStatistics(16)
    ref.update(h.float())
    _assert_results_equal(stats.result(), ref.result())
    half = LayerStatistics(16)
    half.update(h.half())
    assert half.frames == 300


def test_float64_inputs_stay_float64():
    h = torch.tensor([[1e8 + 1.0], [1e8 - 1.0]], dtype=torch.float64)
    stats = LayerStatistics(1)
    stats.update(h)
    assert stats.result()["variance"] == [pytest.approx(1.0)]


# ----------------------------------------------------------------------
# Monitor
# ----------------------------------------------------------------------
class _Net(torch.nn.Module):
    """Hidden ReLU and LeakyReLU layers, a sigmoid inside the output layer."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Sequential(
            torch.nn.Linear(6, 8),
            torch.nn.ReLU(),
            torch.nn.Linear(8, 5),
            torch.nn.LeakyReLU(0.1),
        )
        self.output = torch.nn.Sequential(
            torch.nn.Linear(5, 2), torch.nn.Sigmoid()
        )

    def forward(self, x):
        return self.output(self.hidden(x))


def _no_hooks(model):
    return all(not m._forward_hooks for m in model.modules())


def test_monitor_matches_direct_statistics():
    torch.manual_seed(0)
    model = RectifierDNN(input_size=12, num_layers=3, neurons=20, n_pdfs=5)
    x = torch.randn(4, 30, 12)
    exact = {"hist_stride": 1, "value_stride": 1}
    with SparsityMonitor(model, **exact) as monitor, torch.no_grad():
        model(x[:2])
        model(x[2:])
    assert _no_hooks(model)
    results = monitor.results()
    assert list(results) == ["layers.0.act", "layers.1.act", "layers.2.act"]
    assert monitor.last_hidden_layer() == "layers.2.act"
    with torch.no_grad():
        acts = model.hidden_activations(x)
    for name, h in zip(results, acts, strict=True):
        ref = LayerStatistics(20)
        ref.update(h)
        expected = ref.result()
        expected["unit"] = "relu"
        _assert_results_equal(results[name], expected)


def test_auto_selection_excludes_output_layer():
    model = _Net()
    monitor = SparsityMonitor(model)
    assert list(monitor.layers) == ["hidden.1", "hidden.3"]
    assert monitor.units == {"hidden.1": "relu", "hidden.3": "leaky_relu"}
    with monitor, torch.no_grad():
        model(torch.randn(10, 6))
    assert [r["num_units"] for r in monitor.results().values()] == [8, 5]
    # Explicit names are taken as given, the output layer included.
    assert list(SparsityMonitor(model, select=["output.1"]).layers) == [
        "output.1"
    ]


def test_selection_by_type_and_pattern():
    model = _Net()
    assert list(SparsityMonitor(model, select=torch.nn.LeakyReLU).layers) == [
        "hidden.3"
    ]
    assert list(
        SparsityMonitor(model, select=(torch.nn.ReLU, torch.nn.Sigmoid)).layers
    ) == ["hidden.1"]  # the sigmoid sits in the output layer
    dnn = RectifierDNN(input_size=4, num_layers=4, neurons=6, n_pdfs=3)
    # The model's order, not the pattern order.
    assert list(
        SparsityMonitor(dnn, select=["layers.3.act", "layers.[01].act"]).layers
    ) == ["layers.0.act", "layers.1.act", "layers.3.act"]
    assert len(SparsityMonitor(dnn, select=["layers.*.act"]).layers) == 4
    with pytest.raises(ValueError, match="available module names") as err:
        SparsityMonitor(dnn, select=["layers.9.act"])
    assert "layers.0.act" in str(err.value) and "output" in str(err.value)
    with pytest.raises(ValueError, match="No hidden-unit module"):
        SparsityMonitor(torch.nn.Sequential(torch.nn.Linear(2, 2)))


def test_registered_unit_is_selected():
    class Cube(torch.nn.Module):
        def forward(self, x):
            return x**3

    register_activation("cube_test", Cube)
    try:
        model = RectifierDNN(
            input_size=4,
            num_layers=2,
            neurons=6,
            activation="cube_test",
            n_pdfs=2,
        )
        monitor = SparsityMonitor(model)
        assert list(monitor.layers) == ["layers.0.act", "layers.1.act"]
        assert monitor.units["layers.0.act"] == "cube_test"
    finally:
        unregister_activation("cube_test")


def test_hooks_removed_enabled_flag_and_reset():
    model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
    monitor = SparsityMonitor(model).attach()
    monitor.attach()  # idempotent
    assert monitor.attached
    assert len(model.layers[0].act._forward_hooks) == 1
    x = torch.randn(5, 4)
    model(x)
    monitor.enabled = False
    model(x)
    monitor.enabled = True
    assert monitor.stats["layers.0.act"].frames == 5
    monitor.remove()
    monitor.remove()
    assert _no_hooks(model) and not monitor.attached
    model(x)  # nothing recorded after remove
    assert monitor.stats["layers.1.act"].frames == 5
    monitor.reset()
    assert monitor.stats["layers.1.act"].frames == 0
    with pytest.raises(ValueError, match="No frames recorded"):
        monitor.results()
    try:
        with SparsityMonitor(model):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert _no_hooks(model)


def test_monitor_under_autocast_bf16_and_no_grad():
    torch.manual_seed(0)
    model = RectifierDNN(
        input_size=8, num_layers=2, neurons=16, activation="tanh", n_pdfs=3
    )
    x = torch.randn(64, 8)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        with SparsityMonitor(model, hist_stride=1) as monitor:
            model(x)
        acts = model.hidden_activations(x)  # monitor detached
    assert acts[-1].dtype == torch.bfloat16
    last = monitor.results()["layers.1.act"]
    assert last["unit"] == "tanh" and last["frames"] == 64
    assert list(last["definitions"]) == ["tanh_neg", "tanh_both"]
    ref = LayerStatistics(16, ["tanh_neg", "tanh_both"])
    ref.update(acts[-1])
    for name in ("tanh_neg", "tanh_both"):
        assert (
            last["definitions"][name]["activation_probability"]
            == ref.result()["definitions"][name]["activation_probability"]
        )
    # with gradients enabled too
    with SparsityMonitor(model) as monitor:
        model(x).sum().backward()
    assert monitor.results()["layers.0.act"]["frames"] == 64


def test_monitor_mask_applies_to_next_forward():
    model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
    x = torch.randn(2, 7, 4)
    mask = torch.tensor([[1] * 7, [1] * 3 + [0] * 4], dtype=torch.bool)
    exact = {"hist_stride": 1, "value_stride": 1}
    with SparsityMonitor(model, **exact) as monitor, torch.no_grad():
        monitor.set_mask(mask)
        model(x)
        first = monitor.results()["layers.1.act"]
        model(x)  # mask cleared after the forward: all 14 frames
        with pytest.raises(ValueError, match="layers.0.act.*mask has 3"):
            monitor.set_mask(torch.ones(3))
            model(x)
    assert first["frames"] == 10
    with torch.no_grad():
        ref = LayerStatistics(6)
        ref.update(model.hidden_activations(x)[1][mask])
    expected = ref.result()
    expected["unit"] = "relu"
    _assert_results_equal(first, expected)
    assert monitor.stats["layers.1.act"].frames == 24


def test_monitor_definitions_per_layer():
    model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
    monitor = SparsityMonitor(
        model, definitions={"layers.1.act": ["positive", "tanh_both"]}
    )
    assert [d.name for d in monitor.definitions("layers.0.act")] == ["positive"]
    assert [d.name for d in monitor.definitions("layers.1.act")] == [
        "positive",
        "tanh_both",
    ]
    with pytest.raises(ValueError, match="Unknown activity definition"):
        SparsityMonitor(model, definitions=["bogus"])


def test_all_reduce_single_process_and_ddp_unwrap(tmp_path):
    dist = torch.distributed
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    try:
        model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        monitor = SparsityMonitor(ddp, hist_stride=1)
        assert list(monitor.layers) == ["layers.0.act", "layers.1.act"]
        with pytest.raises(RuntimeError, match="recorded nothing"):
            monitor.all_reduce()
        with monitor, torch.no_grad():
            ddp(torch.randn(9, 4))
        before = monitor.results()
        monitor.all_reduce()
        assert monitor.results() == before
    finally:
        dist.destroy_process_group()


# ----------------------------------------------------------------------
# Files and plots
# ----------------------------------------------------------------------
def _results():
    stats = _hand_stats(definitions=["positive", "tanh_both"])
    result = stats.result()
    result["unit"] = "relu"
    return {"layers.0.act": result, "layers.1.act": dict(result)}


def test_json_round_trip_and_schema_errors(tmp_path):
    results = _results()
    path = str(tmp_path / "sub" / "sparsity.json")
    write_json(results, path, {"epoch": 3, "split": "dev", "unit": "relu"})
    assert not [f for f in os.listdir(tmp_path / "sub") if f.endswith(".tmp")]
    doc = read_json(path)
    assert doc["schema"] == "sb_rectifier.sparsity"
    assert doc["version"] == SCHEMA_VERSION == 1
    assert doc["meta"] == {
        "epoch": 3,
        "split": "dev",
        "unit": "relu",
        "last_hidden_layer": "layers.1.act",
        "frames": 4,
    }
    assert list(doc["layers"]) == list(results)
    assert doc["layers"] == json.loads(json.dumps(results))
    for bad, pattern in [
        (
            {"schema": "sb_rectifier.sparsity", "version": 2, "layers": {}},
            "version 2",
        ),
        ({"schema": "other", "version": 1, "layers": {}}, "schema 'other'"),
    ]:
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=pattern) as err:
            read_json(str(tmp_path / "bad.json"))
        assert "bad.json" in str(err.value)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken.json: not a JSON file"):
        read_json(str(tmp_path / "broken.json"))


def test_json_writes_non_finite_numbers_as_null(tmp_path):
    results = _results()
    results["layers.0.act"]["min"] = float("nan")
    results["layers.0.act"]["max"] = float("inf")
    path = str(tmp_path / "s.json")
    write_json(results, path)
    layer = read_json(path)["layers"]["layers.0.act"]
    assert layer["min"] is None and layer["max"] is None


def test_csv_content(tmp_path):
    paths = write_csv(_results(), str(tmp_path), "dev/epoch 3")
    assert sorted(os.path.basename(p) for p in paths.values()) == [
        "dev_epoch_3_layers.0.act.csv",
        "dev_epoch_3_layers.1.act.csv",
    ]
    with open(paths["layers.0.act"], newline="") as fin:
        rows = list(csv.DictReader(fin))
    assert list(rows[0]) == [
        "unit",
        "activation_probability_positive",
        "activation_probability_tanh_both",
        "exact_zero_fraction",
        "mean",
        "variance",
    ]
    assert [int(r["unit"]) for r in rows] == [0, 1, 2, 3]
    assert [float(r["activation_probability_positive"]) for r in rows] == [
        0.0,
        0.5,
        0.25,
        1.0,
    ]
    # |h| < 0.95: unit 0 always (zeros), unit 3 once (0.5)
    assert [float(r["activation_probability_tanh_both"]) for r in rows] == [
        1.0,
        0.5,
        0.5,
        0.25,
    ]
    assert [float(r["exact_zero_fraction"]) for r in rows] == [
        1.0,
        0.5,
        0.5,
        0.0,
    ]
    assert [float(r["mean"]) for r in rows] == pytest.approx(
        [0, 1, 0.25, 1.875]
    )
    assert float(rows[1]["variance"]) == pytest.approx(1.5)


def _is_png(path):
    import matplotlib.image

    with open(path, "rb") as fin:
        assert fin.read(8) == PNG_MAGIC
    image = matplotlib.image.imread(path)
    return image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50


def test_plots_are_valid_png(tmp_path):
    results = _results()
    fig2 = str(tmp_path / "fig2.png")
    out = plot_sorted_activation_probability(
        [("ReL", [0.1, 0.3, 0.2]), ("tanh both", [0.5, 0.4, 0.45, 0.2])],
        fig2,
        title="Fig. 2",
    )
    assert out == fig2 and _is_png(fig2)
    assert _is_png(plot_layers(results, str(tmp_path / "layers.png")))
    assert _is_png(plot_histograms(results, str(tmp_path / "hist.png")))
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert layer_curves(results["layers.0.act"]) == [
        ("ReL", [0.0, 0.5, 0.25, 1.0]),
        ("ReL both", [1.0, 0.5, 0.5, 0.25]),
    ]
    assert (
        layer_curves(results["layers.0.act"], unit="leaky_relu")[0][0] == "LReL"
    )


def test_export_all(tmp_path):
    paths = export_all(
        _results(), str(tmp_path / "out"), "dev_epoch1", {"epoch": 1}
    )
    assert read_json(paths["json"])["meta"]["epoch"] == 1
    assert os.path.basename(paths["json"]) == "dev_epoch1.json"
    assert len(paths["csv"]) == 2
    assert all(os.path.isfile(p) for p in paths["csv"].values())
    assert sorted(paths["plots"]) == ["histograms", "last_layer", "layers"]
    assert all(_is_png(p) for p in paths["plots"].values())
