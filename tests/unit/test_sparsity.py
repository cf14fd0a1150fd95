"""Tests of sb_rectifier.sparsity: activity rules, counts, hooks, files."""

import csv
import gc
import json
import math
import os

import numpy as np
import pytest
import torch

import sb_rectifier.sparsity.statistics as statistics
from sb_rectifier.activations import register_activation, unregister_activation
from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
from sb_rectifier.sparsity import (
    ACTIVE_DEFINITIONS,
    SCHEMA_VERSION,
    ActiveDefinition,
    LayerStatistics,
    SparsityMonitor,
    collect,
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

# Every frame and value statistic, as LayerStatistics' defaults.
EXACT = {"value_stride": 1, "hist_stride": 1}


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
        if key in ("mean", "variance", "sum", "sum_of_squares"):
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


def test_definition_validation_and_registry():
    with pytest.raises(ValueError, match="Unknown kind"):
        ActiveDefinition("x", "above", 0.0)
    with pytest.raises(ValueError, match="low, high"):
        ActiveDefinition("x", "between", 0.5)
    with pytest.raises(ValueError, match="low < high"):
        ActiveDefinition("x", "between", (0.5, 0.1))
    with pytest.raises(ValueError, match="low < high in float32"):
        ActiveDefinition("x", "between", (0.1, 0.1 + 1e-12))
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
# Exact counts and moments against brute force
# ----------------------------------------------------------------------
RULES = [
    ActiveDefinition("g", "greater", 0.3),
    ActiveDefinition("l", "less", -0.2),
    ActiveDefinition("sym", "between", (-0.5, 0.5)),
    ActiveDefinition("asym", "between", (-0.1, 0.7)),
    ACTIVE_DEFINITIONS["positive"],
    ACTIVE_DEFINITIONS["tanh_neg"],
    ACTIVE_DEFINITIONS["tanh_both"],
]


def _known_batches(seed=0):
    """Batches of various shapes, with values on every threshold."""
    gen = torch.Generator().manual_seed(seed)
    batches = [
        torch.randn(37, 9, generator=gen),
        torch.randn(3, 11, 9, generator=gen),
        torch.randn(1, 9, generator=gen).clamp(-0.1, 0.1),
        torch.zeros(0, 9),
    ]
    on_edges = torch.tensor([0.3, -0.2, -0.5, 0.5, -0.1, 0.7, 0.0, -0.95, 0.95])
    batches[0][:9] = on_edges  # every threshold, on every unit
    batches[0][9] = on_edges.roll(1)
    return batches


@pytest.mark.parametrize("block", [statistics.BLOCK_ELEMENTS, 9, 20])
def test_counts_are_exact_against_brute_force(monkeypatch, block):
    monkeypatch.setattr(statistics, "BLOCK_ELEMENTS", block)
    batches = _known_batches()
    stats = LayerStatistics(9, RULES, **EXACT)
    for h in batches:
        stats.update(h)
    r = stats.result()
    h = torch.cat([b.reshape(-1, 9) for b in batches])
    assert r["frames"] == len(h) == 37 + 33 + 1
    for rule in RULES:
        active = rule.is_active(h)
        d = r["definitions"][rule.name]
        assert d["active_frames"] == active.sum(0).tolist(), rule.name
        per_frame = torch.bincount(active.sum(1), minlength=10)
        assert d["active_units_per_frame"] == per_frame.tolist(), rule.name
        assert d["activation_probability"] == (active.double().mean(0).tolist())
    assert r["zero_frames"] == (h == 0).sum(0).tolist()
    assert r["value_frames"] == len(h)


def test_counts_are_int64_and_exact_beyond_float32():
    stats = LayerStatistics(2)
    stats.counts["active"] += 2**24  # float32 would stop counting here
    stats.counts["frames"] += 2**24
    stats.update(torch.tensor([[1.0, -1.0]]))
    assert stats.counts["active"].dtype == torch.int64
    d = stats.result()["definitions"]["positive"]
    assert d["active_frames"] == [2**24 + 1, 2**24]


def test_moments_against_numpy():
    gen = torch.Generator().manual_seed(3)
    batches = [torch.randn(n, 6, generator=gen) * 3 + 1 for n in (50, 7, 1)]
    stats = LayerStatistics(6, **EXACT)
    for h in batches:
        stats.update(h)
    r = stats.result()
    ref = np.concatenate([b.numpy() for b in batches]).astype(np.float64)
    np.testing.assert_allclose(r["sum"], ref.sum(0), rtol=1e-6)
    np.testing.assert_allclose(r["sum_of_squares"], (ref**2).sum(0), rtol=1e-6)
    np.testing.assert_allclose(r["mean"], ref.mean(0), rtol=1e-6)
    np.testing.assert_allclose(r["variance"], ref.var(0), rtol=1e-5)
    assert r["value_frames"] == 58


def test_tanh_definitions_against_brute_force():
    gen = torch.Generator().manual_seed(1)
    h = torch.tanh(3 * torch.randn(500, 7, generator=gen))
    h[0] = torch.tensor([-0.95, 0.95, -0.96, 0.96, -0.94, 0.94, 0.0])
    stats = LayerStatistics(7, ["tanh_neg", "tanh_both"])
    stats.update(h)
    r = stats.result()["definitions"]
    neg = (h > -0.95).sum(0)
    both = ((h > -0.95) & (h < 0.95)).sum(0)
    assert r["tanh_neg"]["active_frames"] == neg.tolist()
    assert r["tanh_both"]["active_frames"] == both.tolist()
    assert r["tanh_both"]["activation_probability"] == (
        (both.double() / 500).tolist()
    )


# ----------------------------------------------------------------------
# Statistics on hand-made activations
# ----------------------------------------------------------------------
def test_hand_made_per_unit_statistics():
    r = _hand_stats().result()
    assert r["num_units"] == 4 and r["frames"] == 4
    d = r["definitions"]["positive"]
    assert d["definition"]["rule"] == "h > 0"
    assert d["active_frames"] == [0, 2, 1, 4]
    assert d["activation_probability"] == [0.0, 0.5, 0.25, 1.0]
    assert d["mean_activation_probability"] == 0.4375
    assert d["dead_units"] == {"count": 1, "indices": [0]}
    assert d["always_active_units"] == {"count": 1, "indices": [3]}
    assert r["exact_zero_fraction"] == 0.5
    assert r["exact_zero_fraction_per_unit"] == [1.0, 0.5, 0.5, 0.0]
    assert r["zero_frames"] == [4, 2, 2, 0]
    assert r["mean"] == pytest.approx([0.0, 1.0, 0.25, 1.875])
    # variance = E[h^2] - E[h]^2
    assert r["variance"] == pytest.approx(
        [0.0, 10 / 4 - 1.0, 5 / 4 - 0.0625, 21.25 / 4 - 1.875**2]
    )


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


def test_histogram_edges_infinities_and_nan():
    stats = LayerStatistics(1, hist_bins=4, hist_range=(-2.0, 2.0))
    values = [-math.inf, -2.5, -2.0, -1.0, 0.0, 1.999, 2.0, math.inf, math.nan]
    stats.update(torch.tensor(values).view(-1, 1))
    hist = stats.result()["histogram"]
    assert hist["counts"] == [1, 1, 1, 1]
    assert (hist["underflow"], hist["overflow"]) == (2, 3)  # NaN: overflow
    assert hist["values"] == 9
    d = stats.result()["definitions"]["positive"]
    assert d["active_frames"] == [3]  # 1.999, 2.0, inf; NaN is not active


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
    with pytest.raises(TypeError, match="tensor"):
        stats.update([[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="hist_range"):
        LayerStatistics(3, hist_range=(1.0, 1.0))
    with pytest.raises(ValueError, match="value_stride"):
        LayerStatistics(3, value_stride=0)
    stats.update(torch.zeros(0, 3))
    assert stats.frames == 0


# ----------------------------------------------------------------------
# Streaming, merging, strides, dtypes
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


def test_blocks_equal_one_block(monkeypatch):
    h = _random_acts(frames=101)
    defs = ["positive", "tanh_neg", "sigmoid_both"]  # sigmoid_both: asymmetric
    big = LayerStatistics(16, defs)
    big.update(h)
    monkeypatch.setattr(statistics, "BLOCK_ELEMENTS", 40)  # 2-row blocks
    small = LayerStatistics(16, defs)
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


def test_histogram_frame_stride(monkeypatch):
    monkeypatch.setattr(statistics, "BLOCK_ELEMENTS", 100)
    h = _random_acts(frames=103)
    stats = LayerStatistics(16, hist_stride=4)
    stats.update(h)
    ref = LayerStatistics(16)
    ref.update(h[::4])
    r, r_ref = stats.result(), ref.result()
    for key in ("counts", "underflow", "overflow", "values"):
        assert r["histogram"][key] == r_ref["histogram"][key]
    assert r["histogram"]["frame_stride"] == 4
    assert r["frames"] == 103  # the other statistics use every frame


def test_value_stride_samples_only_the_value_statistics(monkeypatch):
    monkeypatch.setattr(statistics, "BLOCK_ELEMENTS", 48)
    h = _random_acts(frames=103).view(1, 103, 16)
    stats = LayerStatistics(16, value_stride=8, hist_stride=8)
    stats.update(h)
    r = stats.result()
    every = LayerStatistics(16)
    every.update(h)
    sampled = LayerStatistics(16)
    sampled.update(h[:, ::8])
    r_every, r_sampled = every.result(), sampled.result()
    assert r["frames"] == 103 and r["value_frames"] == 13
    assert r["value_stride"] == 8
    assert r["definitions"] == r_every["definitions"]
    for key in ("exact_zero_fraction", "exact_zero_fraction_per_unit"):
        assert r[key] == r_sampled[key]
    assert r["zero_frames"] == r_sampled["zero_frames"]
    assert r["mean"] == pytest.approx(r_sampled["mean"], rel=1e-5, abs=1e-6)
    assert r["variance"] == pytest.approx(r_sampled["variance"], rel=1e-5)
    assert r["histogram"]["counts"] == r_sampled["histogram"]["counts"]


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
    # 1e8 + 1 and 1e8 + 3 are not float32 numbers
    h = torch.tensor([[1e8 + 1.0], [1e8 + 3.0]], dtype=torch.float64)
    stats = LayerStatistics(1)
    stats.update(h)
    assert stats.result()["mean"] == [1e8 + 2.0]


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
    with SparsityMonitor(model, **EXACT) as monitor, torch.no_grad():
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


def test_monitor_default_strides():
    model = RectifierDNN(input_size=4, num_layers=1, neurons=6)
    with SparsityMonitor(model) as monitor, torch.no_grad():
        model(torch.randn(100, 4))
    r = monitor.results()["layers.0.act"]
    assert r["frames"] == 100  # activity: every frame
    assert r["value_frames"] == 13 and r["value_stride"] == 8
    assert r["histogram"]["frame_stride"] == 32
    assert r["histogram"]["values"] == 4 * 6


def test_auto_selection_excludes_output_layer():
    model = _Net()
    monitor = SparsityMonitor(model)
    assert list(monitor.layers) == ["hidden.1", "hidden.3"]
    assert monitor.units == {"hidden.1": "relu", "hidden.3": "leaky_relu"}
    with monitor, torch.no_grad():
        model(torch.randn(10, 6))
    assert [r["num_units"] for r in monitor.results().values()] == [8, 5]
    with pytest.raises(ValueError, match="No hidden-unit module") as err:
        SparsityMonitor(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    assert "module names: 0" in str(err.value)


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


def test_hooks_removed_and_reset():
    model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
    monitor = SparsityMonitor(model).attach()
    monitor.attach()  # idempotent
    assert len(model.layers[0].act._forward_hooks) == 1
    x = torch.randn(5, 4)
    model(x)
    assert monitor.stats["layers.0.act"].frames == 5
    monitor.remove()
    monitor.remove()
    assert _no_hooks(model)
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


def test_monitor_definitions_per_layer_and_registered_rule():
    model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
    monitor = SparsityMonitor(
        model, definitions={"layers.1.act": ["positive", "tanh_both"]}
    )
    assert [d.name for d in monitor.definitions["layers.0.act"]] == ["positive"]
    assert [d.name for d in monitor.definitions["layers.1.act"]] == [
        "positive",
        "tanh_both",
    ]
    with pytest.raises(ValueError, match="Unknown activity definition"):
        SparsityMonitor(model, definitions=["bogus"])
    register_definition(ActiveDefinition("above_tenth", "greater", 0.1))
    try:
        x = torch.randn(30, 4)
        with SparsityMonitor(model, definitions=["above_tenth"]) as monitor:
            model(x)
        active = model.hidden_activations(x)[1] > 0.1
        d = monitor.results()["layers.1.act"]["definitions"]["above_tenth"]
        assert d["active_frames"] == active.sum(0).tolist()
    finally:
        del ACTIVE_DEFINITIONS["above_tenth"]


def test_all_reduce_single_process_and_ddp_unwrap(tmp_path):
    dist = torch.distributed
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    held = {}
    try:
        model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
        held["ddp"] = ddp = torch.nn.parallel.DistributedDataParallel(model)
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
        # DDP's reducer must go while its process group is alive: freed
        # after it, gloo's destructor waits forever for its own thread.
        held.clear()
        ddp = monitor = None
        gc.collect()
        dist.destroy_process_group()


def _gloo_worker(rank, store, folder, batches):
    """One of two ranks: counts its own batch, then all_reduce / collect."""
    os.environ["RANK"] = str(rank)  # speechbrain's if_main_process()
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=2
    )
    try:
        _count_on_rank(rank, folder, batches)
        # DDP's reducer is freed (when _count_on_rank returns) while its
        # process group is alive: freed after it, gloo aborts the process.
        gc.collect()
    finally:
        torch.distributed.destroy_process_group()


def _count_on_rank(rank, folder, batches):
    torch.manual_seed(0)
    model = RectifierDNN(input_size=5, num_layers=2, neurons=7)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    with collect(ddp, folder, "dev", {"epoch": 2}) as monitor:
        with torch.no_grad():
            ddp(batches[rank])
    assert bool(monitor.files) == (rank == 0)
    stats = LayerStatistics(3, ["positive", "tanh_both"], **EXACT)
    stats.update(batches[rank][:, :3])
    stats.all_reduce()
    result = stats.result()
    if rank == 0:
        with open(os.path.join(folder, "direct.json"), "w") as fout:
            json.dump(result, fout)


def test_all_reduce_sums_counts_over_two_gloo_processes(tmp_path):
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    gen = torch.Generator().manual_seed(4)
    batches = [
        torch.randn(40, 5, generator=gen),
        torch.randn(23, 5, generator=gen),
    ]
    folder = str(tmp_path / "sparsity")
    torch.multiprocessing.spawn(
        _gloo_worker,
        args=(str(tmp_path / "store"), folder, batches),
        nprocs=2,
    )
    # collect(): one file, from rank 0, with every rank's frames.
    doc = read_json(os.path.join(folder, "dev.json"))
    assert doc["meta"]["frames"] == 63 and doc["meta"]["epoch"] == 2
    torch.manual_seed(0)
    model = RectifierDNN(input_size=5, num_layers=2, neurons=7)
    with SparsityMonitor(model) as monitor, torch.no_grad():
        for x in batches:
            model(x)
    for name, expected in monitor.results().items():
        got = doc["layers"][name]
        for key in ("frames", "value_frames", "zero_frames", "histogram"):
            assert got[key] == expected[key], key
        d, e = (
            got["definitions"]["positive"],
            expected["definitions"]["positive"],
        )
        assert d["active_frames"] == e["active_frames"]
        assert d["active_units_per_frame"] == e["active_units_per_frame"]
        assert got["sum"] == pytest.approx(expected["sum"], rel=1e-6)
    # LayerStatistics.all_reduce() on its own.
    with open(os.path.join(folder, "direct.json")) as fin:
        direct = json.load(fin)
    whole = LayerStatistics(3, ["positive", "tanh_both"], **EXACT)
    whole.update(torch.cat(batches)[:, :3])
    _assert_results_equal(direct, json.loads(json.dumps(whole.result())))


# ----------------------------------------------------------------------
# collect()
# ----------------------------------------------------------------------
def test_collect_exports_on_exit(tmp_path):
    model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
    meta = {"tag": "dev", "epoch": 3, "unit": "relu", "num_layers": 2}
    with collect(model, str(tmp_path / "sp"), "dev", meta) as monitor:
        assert isinstance(monitor, SparsityMonitor)
        assert not _no_hooks(model) and monitor.files == {}
        with torch.no_grad():
            model(torch.randn(11, 4))
            model(torch.randn(2, 3, 4))
    assert _no_hooks(model)
    doc = read_json(monitor.files["json"])
    assert monitor.files["json"] == str(tmp_path / "sp" / "dev.json")
    assert doc["meta"] == {
        **meta,
        "frames": 17,
        "last_hidden_layer": "layers.1.act",
    }
    assert doc["layers"]["layers.0.act"]["frames"] == 17
    assert sorted(monitor.files["plots"]) == [
        "histograms",
        "last_layer",
        "layers",
    ]
    assert all(os.path.isfile(p) for p in monitor.files["csv"].values())


def test_collect_exports_nothing_on_exception(tmp_path):
    model = RectifierDNN(input_size=4, num_layers=2, neurons=6, n_pdfs=2)
    with pytest.raises(RuntimeError, match="boom"):
        with collect(model, str(tmp_path / "sp"), "dev") as monitor:
            model(torch.randn(5, 4))
            raise RuntimeError("boom")
    assert _no_hooks(model)
    assert monitor.files == {}
    assert not (tmp_path / "sp").exists()


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
    assert os.listdir(tmp_path / "sub") == ["sparsity.json"]
    doc = read_json(path)
    assert doc["schema"] == "sb_rectifier.sparsity"
    assert doc["version"] == SCHEMA_VERSION == 2
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
            {"schema": "sb_rectifier.sparsity", "version": 3, "layers": {}},
            "version 3; this code reads versions 1, 2",
        ),
        ({"schema": "other", "version": 1, "layers": {}}, "schema 'other'"),
    ]:
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=pattern) as err:
            read_json(str(tmp_path / "bad.json"))
        assert "bad.json" in str(err.value)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken.json: not a valid sparsity"):
        read_json(str(tmp_path / "broken.json"))


def test_version_1_files_are_still_read(tmp_path):
    layer = _results()["layers.0.act"]
    v1 = {
        "schema": "sb_rectifier.sparsity",
        "version": 1,
        "meta": {"frames": 4},
        "layers": {"layers.0.act": {**layer, "min": -1.0, "max": 4.0}},
    }
    (tmp_path / "dev.json").write_text(json.dumps(v1))
    doc = read_json(str(tmp_path / "dev.json"))
    assert doc["version"] == 1
    assert layer_curves(doc["layers"]["layers.0.act"])[0] == (
        "ReL",
        [0.0, 0.5, 0.25, 1.0],
    )


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
    assert sorted(os.listdir(tmp_path)) == [
        "fig2.png",
        "hist.png",
        "layers.png",
    ]
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
