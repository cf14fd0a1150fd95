"""Unit tests for the RectifierDNN lobe (sb_rectifier.lobes.rectifier_dnn).

Authors
 * sb_rectifier developers 2026
"""

import functools
import math

import pytest
import torch
from speechbrain.nnet.normalization import BatchNorm1d, LayerNorm

from sb_rectifier.lobes.rectifier_dnn import RectifierDNN


def small(**kwargs):
    """A small model for fast tests."""
    args = {"input_size": 12, "num_layers": 3, "neurons": 16, "n_pdfs": 5}
    args.update(kwargs)
    return RectifierDNN(**args)


def manual_forward(model, x):
    """Forward pass written out with torch.nn.functional (eval mode)."""
    hidden = []
    for block in model.layers:
        lin = block.linear.w
        x = x @ lin.weight.T + lin.bias
        act = block.act
        if isinstance(act, torch.nn.LeakyReLU):
            x = torch.where(x > 0, x, act.negative_slope * x)
        elif isinstance(act, torch.nn.ReLU):
            x = torch.clamp(x, min=0)
        elif isinstance(act, torch.nn.Tanh):
            x = torch.tanh(x)
        else:
            raise AssertionError(f"unexpected unit {act}")
        hidden.append(x)
    out = x
    if model.output is not None:
        out = x @ model.output.w.weight.T + model.output.w.bias
    return hidden, out


def test_shapes_2d_and_3d():
    model = small()
    assert model(torch.randn(7, 12)).shape == (7, 5)
    assert model(torch.randn(2, 9, 12)).shape == (2, 9, 5)
    assert model.output_size == 5


def test_without_output_layer_returns_last_hidden():
    model = small(n_pdfs=None, neurons=[16, 8, 4])
    assert model.output is None
    assert model.output_size == 4
    assert model(torch.randn(3, 12)).shape == (3, 4)
    assert "output.w.weight" not in model.state_dict()


@pytest.mark.parametrize("shape", [[None, None, 12], [None, 12], (4, 100, 12)])
def test_input_shape_inference(shape):
    model = RectifierDNN(input_shape=shape, num_layers=1, neurons=4)
    assert model.input_size == 12
    assert model.layers[0].linear.w.in_features == 12


def test_input_size_required_and_consistent():
    with pytest.raises(ValueError, match="input_shape .*or input_size"):
        RectifierDNN(num_layers=1, neurons=4)
    with pytest.raises(ValueError, match="disagrees"):
        RectifierDNN(input_shape=[None, 10], input_size=12)
    with pytest.raises(ValueError):
        RectifierDNN(input_shape=[None, None, None])


def test_wrong_feature_dimension_raises():
    with pytest.raises(ValueError, match=r"\[\.\.\., 12\]"):
        small()(torch.randn(4, 13))


def test_per_layer_neurons():
    model = RectifierDNN(input_size=6, num_layers=None, neurons=[10, 20, 30])
    assert model.num_layers == 3 and model.neurons == [10, 20, 30]
    sizes = [
        (b.linear.w.in_features, b.linear.w.out_features) for b in model.layers
    ]
    assert sizes == [(6, 10), (10, 20), (20, 30)]
    model = RectifierDNN(input_size=6, num_layers=2, neurons=7)
    assert model.neurons == [7, 7]


def test_neurons_length_mismatch_states_both_lengths():
    with pytest.raises(ValueError) as err:
        RectifierDNN(input_size=6, num_layers=4, neurons=[10, 20])
    assert "2" in str(err.value) and "num_layers=4" in str(err.value)


def test_per_layer_activations_are_separate_instances():
    model = RectifierDNN(
        input_size=6,
        num_layers=4,
        neurons=8,
        activation=["tanh", "relu", "LReL", torch.nn.ELU],
    )
    types = [type(block.act) for block in model.layers]
    assert types == [
        torch.nn.Tanh,
        torch.nn.ReLU,
        torch.nn.LeakyReLU,
        torch.nn.ELU,
    ]
    assert model.activation_names == ["tanh", "relu", "leaky_relu", "ELU"]
    shared = RectifierDNN(
        input_size=6, num_layers=3, neurons=8, activation=torch.nn.PReLU()
    )
    acts = [block.act for block in shared.layers]
    assert len({id(a) for a in acts}) == 3
    assert len({id(a.weight) for a in acts}) == 3


def test_activation_list_length_mismatch():
    with pytest.raises(ValueError, match="num_layers=3"):
        RectifierDNN(input_size=6, num_layers=3, activation=["relu", "tanh"])


def test_unknown_activation_lists_registered():
    with pytest.raises(
        ValueError, match="registered activations: leaky_relu, relu, tanh"
    ):
        small(activation="swish")


def test_state_dict_keys_exactly_as_documented():
    model = small(num_layers=2)
    assert list(model.state_dict()) == [
        "layers.0.linear.w.weight",
        "layers.0.linear.w.bias",
        "layers.1.linear.w.weight",
        "layers.1.linear.w.bias",
        "output.w.weight",
        "output.w.bias",
    ]
    names = [name for name, _ in model.named_modules()]
    assert "layers.0.act" in names and "layers.1.act" in names
    assert [n for n, _ in model.layers[0].named_children()] == ["linear", "act"]


def test_dropout_and_norm_children():
    model = small(num_layers=2, dropout=0.3, norm="batchnorm")
    children = [n for n, _ in model.layers[1].named_children()]
    assert children == ["linear", "norm", "act", "dropout"]
    assert isinstance(model.layers[1].norm, BatchNorm1d)
    assert model.layers[1].dropout.p == 0.3
    keys = set(model.state_dict())
    assert {
        "layers.0.norm.norm.weight",
        "layers.0.norm.norm.bias",
        "layers.0.norm.norm.running_mean",
        "layers.0.norm.norm.running_var",
    } <= keys
    ln = small(norm="layernorm")
    assert isinstance(ln.layers[0].norm, LayerNorm)
    assert not hasattr(ln.layers[0], "dropout")
    with pytest.raises(ValueError, match="batchnorm, layernorm"):
        small(norm="groupnorm")
    with pytest.raises(ValueError):
        small(dropout=1.0)


def test_batchnorm_statistics_over_batch_and_time():
    torch.manual_seed(0)
    model = small(
        num_layers=1, n_pdfs=None, norm="batchnorm", activation="tanh"
    )
    x = torch.randn(4, 25, 12) * 3 + 2
    model.train()
    # Output of the norm = activation input; check it is standardised over
    # all batch x time positions per unit.
    z = model.layers[0].norm(model.layers[0].linear(x))
    flat = z.reshape(-1, 16)
    torch.testing.assert_close(flat.mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        flat.var(0, unbiased=False), torch.ones(16), atol=1e-3, rtol=0
    )
    # And 2-D frame minibatches work too.
    assert model(torch.randn(30, 12)).shape == (30, 16)


def test_layernorm_normalises_each_frame():
    torch.manual_seed(0)
    model = small(num_layers=1, n_pdfs=None, norm="layernorm")
    z = model.layers[0].norm(model.layers[0].linear(torch.randn(2, 3, 12) * 5))
    torch.testing.assert_close(z.mean(-1), torch.zeros(2, 3), atol=1e-5, rtol=0)


def test_dropout_only_active_in_training():
    torch.manual_seed(0)
    model = small(dropout=0.5)
    x = torch.randn(64, 12)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.allclose(model(x), model(x))


def test_glorot_uniform_statistics():
    torch.manual_seed(0)
    model = RectifierDNN(input_size=512, num_layers=1, neurons=512, n_pdfs=256)
    w = model.layers[0].linear.w.weight
    a = math.sqrt(6 / (512 + 512))
    assert w.abs().max() <= a
    assert w.abs().max() > 0.99 * a
    assert w.std().item() == pytest.approx(a / math.sqrt(3), rel=0.02)
    assert torch.count_nonzero(model.layers[0].linear.w.bias) == 0
    w_out = model.output.w.weight
    a_out = math.sqrt(6 / (512 + 256))
    assert w_out.abs().max() <= a_out
    assert w_out.std().item() == pytest.approx(a_out / math.sqrt(3), rel=0.02)
    assert torch.count_nonzero(model.output.w.bias) == 0


def test_he_uniform_statistics():
    torch.manual_seed(0)
    model = RectifierDNN(
        input_size=256, num_layers=1, neurons=512, init="he_uniform"
    )
    w = model.layers[0].linear.w.weight
    a = math.sqrt(6 / 256)
    assert w.abs().max() <= a and w.abs().max() > 0.99 * a
    assert w.std().item() == pytest.approx(a / math.sqrt(3), rel=0.02)
    assert torch.count_nonzero(model.layers[0].linear.w.bias) == 0


def test_pytorch_init_keeps_torch_default():
    torch.manual_seed(3)
    model = RectifierDNN(
        input_size=20, num_layers=1, neurons=30, init="pytorch"
    )
    torch.manual_seed(3)
    ref = torch.nn.Linear(20, 30)
    torch.testing.assert_close(model.layers[0].linear.w.weight, ref.weight)
    torch.testing.assert_close(model.layers[0].linear.w.bias, ref.bias)
    assert torch.count_nonzero(ref.bias) > 0


def test_unknown_init_lists_choices():
    with pytest.raises(ValueError, match="glorot_uniform, he_uniform, pytorch"):
        small(init="orthogonal")


def test_leaky_slope_default_and_configurable():
    assert small(activation="leaky_relu").layers[0].act.negative_slope == 0.01
    model = small(
        activation="leaky_relu", activation_kwargs={"negative_slope": 0.1}
    )
    assert all(b.act.negative_slope == 0.1 for b in model.layers)
    partial = functools.partial(torch.nn.LeakyReLU, negative_slope=0.3)
    assert small(activation=partial).layers[2].act.negative_slope == 0.3


def test_reproducible_under_manual_seed():
    torch.manual_seed(1234)
    a = small(dropout=0.2)
    torch.manual_seed(1234)
    b = small(dropout=0.2)
    for (ka, va), (kb, vb) in zip(
        a.state_dict().items(), b.state_dict().items(), strict=True
    ):
        assert ka == kb and torch.equal(va, vb)
    torch.manual_seed(99)
    c = small(dropout=0.2)
    assert not torch.equal(
        a.layers[0].linear.w.weight, c.layers[0].linear.w.weight
    )


@pytest.mark.parametrize("unit", ["tanh", "relu", "leaky_relu"])
def test_hidden_activations_match_manual_forward(unit):
    torch.manual_seed(0)
    model = small(activation=unit, activation_kwargs=None).eval()
    x = torch.randn(10, 12)
    hidden, out = manual_forward(model, x)
    got = model.hidden_activations(x)
    assert len(got) == 3
    for h_got, h_ref in zip(got, hidden, strict=True):
        torch.testing.assert_close(h_got, h_ref)
    torch.testing.assert_close(model(x), out)
    if unit == "relu":
        assert all((h >= 0).all() for h in got)
        assert any((h == 0).any() for h in got)


def test_hidden_activations_are_before_dropout():
    torch.manual_seed(0)
    model = small(dropout=0.9, activation="relu").train()
    x = torch.randn(50, 12)
    hidden = model.hidden_activations(x)
    assert len(hidden) == model.num_layers == 3
    first = hidden[0]
    # Dropout zeros ~90% and rescales; the recorded unit output does not.
    block = model.layers[0]
    torch.testing.assert_close(first, torch.relu(block.linear(x)))


def test_gradient_flows_to_all_parameters():
    torch.manual_seed(0)
    model = small(norm="layernorm", dropout=0.1, activation="leaky_relu")
    x = torch.randn(8, 12, requires_grad=True)
    target = torch.randint(0, 5, (8,))
    loss = torch.nn.functional.cross_entropy(model(x), target)
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


def test_output_is_logits_not_probabilities():
    torch.manual_seed(0)
    out = small()(torch.randn(20, 12) * 10)
    assert not torch.allclose(out.exp().sum(-1), torch.ones(20))
    assert (out < 0).any()


def test_paper_size_parameter_count():
    n_in, hidden, layers, pdfs = 11 * 40, 2048, 4, 9000
    expected = (
        (n_in * hidden + hidden)
        + (layers - 1) * (hidden * hidden + hidden)
        + (hidden * pdfs + pdfs)
    )
    model = RectifierDNN(
        input_shape=[None, None, n_in],
        num_layers=layers,
        neurons=hidden,
        n_pdfs=pdfs,
        init="pytorch",
    )
    assert model.num_parameters() == expected == 31_933_224
    assert model.num_parameters(trainable_only=True) == expected
    model.output.w.weight.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == expected - hidden * pdfs
