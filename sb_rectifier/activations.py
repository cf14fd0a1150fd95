"""Hidden units of Maas et al. (2013): tanh, ReL, LReL (slope 0.01).

A unit is a registered name (case-insensitive; "ReL", "LReL" are aliases),
a module class, a callable (e.g. the partial of a YAML ``!name:`` tag) or a
module instance (deep-copied); every call builds a new module.

Authors
 * sb_rectifier developers 2026
"""

import copy
import functools

import torch

#: Slope of the leaky rectifier for negative inputs (the paper's Eq. 3).
DEFAULT_LEAKY_SLOPE = 0.01

_REGISTRY = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}
_REGISTRY["leaky_relu"] = functools.partial(
    torch.nn.LeakyReLU, negative_slope=DEFAULT_LEAKY_SLOPE
)
_ALIASES = {"rel": "relu", "lrel": "leaky_relu"}
_CLASS_NAMES = {getattr(f, "func", f): k for k, f in _REGISTRY.items()}


def registered_activations():
    """The registered names, sorted.

    Example
    -------
    >>> registered_activations()
    ['leaky_relu', 'relu', 'tanh']
    """
    return sorted(_REGISTRY)


def register_activation(name, factory, overwrite=False):
    """Registers ``factory(**kwargs) -> torch.nn.Module`` under ``name``.

    A taken name (or alias) needs ``overwrite=True``. Returns ``factory``.

    Example
    -------
    >>> _ = register_activation("softplus", torch.nn.Softplus)
    >>> build_activation("Softplus", beta=2.0)
    Softplus(beta=2.0, threshold=20.0)
    >>> unregister_activation("softplus")
    """
    key = name.strip().lower()
    if not callable(factory):
        raise TypeError(f"Factory for activation '{name}' must be callable")
    if not key:
        raise ValueError("Activation name must not be empty")
    if (key in _REGISTRY or key in _ALIASES) and not overwrite:
        raise ValueError(f"Activation '{key}' is already registered")
    _ALIASES.pop(key, None)
    _REGISTRY[key] = factory
    return factory


def unregister_activation(name):
    """Removes a registered unit.

    Example
    -------
    >>> unregister_activation("elu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: Unknown activation 'elu'; registered activations: ...
    """
    del _REGISTRY[_lookup(name)]


def _lookup(name):
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in _REGISTRY:
        names = ", ".join(sorted(_REGISTRY))
        raise ValueError(
            f"Unknown activation '{name}'; registered activations: {names}"
        )
    return key


def build_activation(spec, **kwargs):
    """Returns a new unit module from a name, class, callable or module;
    ``kwargs`` go to the factory (not allowed with a module instance).

    Example
    -------
    >>> build_activation("LReL"), build_activation(torch.nn.ELU, alpha=0.5)
    (LeakyReLU(negative_slope=0.01), ELU(alpha=0.5))
    >>> build_activation(functools.partial(torch.nn.LeakyReLU, 0.2))
    LeakyReLU(negative_slope=0.2)
    >>> build_activation("swish")
    Traceback (most recent call last):
    ValueError: Unknown activation 'swish'; registered activations: leaky_relu, relu, tanh
    """
    if isinstance(spec, torch.nn.Module):
        if kwargs:
            raise TypeError("Keyword arguments cannot go to a module instance")
        return copy.deepcopy(spec)
    name = _lookup(spec) if isinstance(spec, str) else None
    factory = _REGISTRY[name] if name else spec
    if not callable(factory):
        raise TypeError(f"Unsupported activation spec {spec!r}")
    module = factory(**kwargs)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"{spec!r} gave {module!r}, expected a torch.nn.Module")
    if name:
        module._sb_activation_name = name  # kept by deep copies
    return module


def activation_name(module):
    """The registry name a module was built from, else its class's.

    Example
    -------
    >>> activation_name(torch.nn.Tanh()), activation_name(torch.nn.ELU())
    ('tanh', 'ELU')
    """
    name = getattr(module, "_sb_activation_name", None)
    return name or _CLASS_NAMES.get(type(module), type(module).__name__)
