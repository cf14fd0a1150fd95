"""Unit tests for the hidden-unit registry (sb_rectifier.activations).

Authors
 * sb_rectifier developers 2026
"""

import functools

import pytest
import torch

from sb_rectifier.activations import (
    DEFAULT_LEAKY_SLOPE,
    activation_name,
    build_activation,
    register_activation,
    registered_activations,
    unregister_activation,
)


@pytest.fixture
def scratch_unit():
    """Yields a fresh unit name and removes it from the registry after."""
    name = "scratch_unit"
    yield name
    if name in registered_activations():
        unregister_activation(name)


def test_builtin_names_and_types():
    assert registered_activations() == ["leaky_relu", "relu", "tanh"]
    assert type(build_activation("tanh")) is torch.nn.Tanh
    assert type(build_activation("relu")) is torch.nn.ReLU
    assert type(build_activation("leaky_relu")) is torch.nn.LeakyReLU


def test_builtin_units_compute_paper_equations():
    z = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0])
    assert torch.equal(
        build_activation("relu")(z), torch.tensor([0, 0, 0, 0.5, 3])
    )
    expected_lrel = torch.tensor([-0.02, -0.005, 0.0, 0.5, 3.0])
    torch.testing.assert_close(build_activation("leaky_relu")(z), expected_lrel)
    expected_tanh = torch.tensor([math_tanh(v) for v in z.tolist()])
    torch.testing.assert_close(build_activation("tanh")(z), expected_tanh)


def math_tanh(v):
    """tanh computed from exponentials, independent of torch."""
    import math

    return (math.exp(v) - math.exp(-v)) / (math.exp(v) + math.exp(-v))


def test_leaky_slope_default_and_configurable():
    assert DEFAULT_LEAKY_SLOPE == 0.01
    assert build_activation("leaky_relu").negative_slope == 0.01
    unit = build_activation("leaky_relu", negative_slope=0.2)
    assert unit.negative_slope == 0.2
    assert unit(torch.tensor([-10.0])).item() == pytest.approx(-2.0)


@pytest.mark.parametrize(
    "spec, cls",
    [
        ("ReLU", torch.nn.ReLU),
        ("RELU", torch.nn.ReLU),
        ("ReL", torch.nn.ReLU),
        ("LReL", torch.nn.LeakyReLU),
        ("lrel", torch.nn.LeakyReLU),
        ("Tanh", torch.nn.Tanh),
    ],
)
def test_case_insensitive_and_paper_aliases(spec, cls):
    assert type(build_activation(spec)) is cls


def test_each_call_returns_a_new_module():
    a, b = build_activation("relu"), build_activation("relu")
    assert a is not b


def test_unknown_name_lists_registered_names():
    with pytest.raises(ValueError) as err:
        build_activation("foo")
    assert str(err.value) == (
        "Unknown activation 'foo'; registered activations: "
        "leaky_relu, relu, tanh"
    )


def test_spec_is_a_module_class():
    unit = build_activation(torch.nn.ELU, alpha=0.5)
    assert type(unit) is torch.nn.ELU and unit.alpha == 0.5


def test_spec_is_a_partial_like_yaml_name_tag():
    spec = functools.partial(torch.nn.LeakyReLU, negative_slope=0.2)
    unit = build_activation(spec)
    assert type(unit) is torch.nn.LeakyReLU
    assert unit.negative_slope == 0.2
    assert build_activation(spec) is not unit


def test_spec_is_an_instance_is_deep_copied():
    proto = torch.nn.PReLU(num_parameters=3)
    copy1, copy2 = build_activation(proto), build_activation(proto)
    assert copy1 is not proto and copy2 is not copy1
    assert copy1.weight is not proto.weight
    torch.testing.assert_close(copy1.weight, proto.weight)
    with torch.no_grad():
        copy1.weight.fill_(0.7)
    assert not torch.equal(proto.weight, copy1.weight)


def test_kwargs_with_instance_raise():
    with pytest.raises(TypeError, match="instance"):
        build_activation(torch.nn.ReLU(), inplace=True)


def test_factory_returning_non_module_raises(scratch_unit):
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        build_activation(lambda: torch.relu)
    register_activation(scratch_unit, lambda: "not a module")
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        build_activation(scratch_unit)


def test_unsupported_spec_type_raises():
    with pytest.raises(TypeError):
        build_activation(3)


def test_register_and_build_custom_unit(scratch_unit):
    register_activation(scratch_unit, torch.nn.Softplus)
    assert scratch_unit in registered_activations()
    assert registered_activations() == sorted(registered_activations())
    unit = build_activation(scratch_unit.upper(), beta=2.0)
    assert type(unit) is torch.nn.Softplus and unit.beta == 2.0
    assert activation_name(unit) == scratch_unit
    # The error message lists the new unit too.
    with pytest.raises(ValueError, match=scratch_unit):
        build_activation("foo")


def test_reregister_needs_overwrite(scratch_unit):
    register_activation(scratch_unit, torch.nn.Softplus)
    with pytest.raises(ValueError, match="already registered"):
        register_activation(scratch_unit, torch.nn.ELU)
    with pytest.raises(ValueError, match="already registered"):
        register_activation("RELU", torch.nn.ELU)
    with pytest.raises(ValueError, match="already registered"):
        register_activation("LReL", torch.nn.ELU)
    register_activation(scratch_unit, torch.nn.ELU, overwrite=True)
    assert type(build_activation(scratch_unit)) is torch.nn.ELU


def test_overwrite_builtin_then_restore():
    register_activation("relu", torch.nn.ReLU6, overwrite=True)
    try:
        assert type(build_activation("relu")) is torch.nn.ReLU6
    finally:
        register_activation("relu", torch.nn.ReLU, overwrite=True)
    assert type(build_activation("relu")) is torch.nn.ReLU


def test_register_rejects_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        register_activation("bad_unit", 42)
    with pytest.raises(ValueError, match="empty"):
        register_activation("  ", torch.nn.ReLU)
    assert "bad_unit" not in registered_activations()


def test_unregister_unknown_raises():
    with pytest.raises(ValueError, match="Unknown activation"):
        unregister_activation("never_registered")


def test_activation_name():
    assert activation_name(build_activation("LReL")) == "leaky_relu"
    assert activation_name(build_activation("ReL")) == "relu"
    assert activation_name(torch.nn.Tanh()) == "tanh"
    assert activation_name(build_activation(torch.nn.LeakyReLU)) == (
        "leaky_relu"
    )
    assert activation_name(torch.nn.ELU()) == "ELU"
    # The name survives the deep copy made for module instances.
    assert activation_name(build_activation(build_activation("tanh"))) == (
        "tanh"
    )
