"""Registry of hidden-unit nonlinearities.

Maas, Hannun & Ng (2013) compare three hidden units in DNN acoustic
models (their Eq. 1-3):

* ``tanh``: the hyperbolic tangent, :math:`h = \\tanh(w^T x)`;
* ``relu`` (the paper's *ReL*): :math:`h = \\max(w^T x, 0)`;
* ``leaky_relu`` (the paper's *LReL*): :math:`h = w^T x` if
  :math:`w^T x > 0`, else :math:`0.01 \\, w^T x`.

This module maps such names to factories that build a fresh
``torch.nn.Module`` each time, so that every layer of a network owns its
unit. Users can add their own units with :func:`register_activation`.
:func:`build_activation` also accepts what a HyperPyYAML file can express
(a class, a ``functools.partial`` from ``!name:`` with arguments, or a
module instance), so recipes can name a unit either way::

    activation: leaky_relu                        # registry name
    activation: !name:torch.nn.ELU                # a class
    activation: !name:torch.nn.LeakyReLU {negative_slope: 0.2}  # a partial

Names are case-insensitive, and the paper's notation is accepted as an
alias (``"ReL"`` -> ``relu``, ``"LReL"`` -> ``leaky_relu``).

Authors
 * sb_rectifier developers 2026
"""

import copy

import torch

__all__ = [
    "DEFAULT_LEAKY_SLOPE",
    "activation_name",
    "build_activation",
    "register_activation",
    "registered_activations",
    "unregister_activation",
]

#: Slope of the leaky rectifier for negative inputs (Maas et al. 2013, Eq. 3).
DEFAULT_LEAKY_SLOPE = 0.01

# Attribute set on modules built from a registry name (see activation_name).
_NAME_ATTR = "_sb_activation_name"


def _tanh(**kwargs):
    """Builds a tanh unit (``torch.nn.Tanh``; it takes no arguments)."""
    return torch.nn.Tanh(**kwargs)


def _relu(**kwargs):
    """Builds a rectified linear unit (``torch.nn.ReLU``)."""
    return torch.nn.ReLU(**kwargs)


def _leaky_relu(negative_slope=DEFAULT_LEAKY_SLOPE, **kwargs):
    """Builds a leaky rectifier (``torch.nn.LeakyReLU``), slope 0.01."""
    return torch.nn.LeakyReLU(negative_slope=negative_slope, **kwargs)


_BUILTINS = {"tanh": _tanh, "relu": _relu, "leaky_relu": _leaky_relu}
_REGISTRY = dict(_BUILTINS)

# Paper notation (lower-cased) -> registry name.
_ALIASES = {"rel": "relu", "lrel": "leaky_relu"}

# Built-in module classes -> registry name, for modules that were not built
# from a name (e.g. from ``!name:torch.nn.ReLU`` in a YAML file).
_CLASS_NAMES = {
    torch.nn.Tanh: "tanh",
    torch.nn.ReLU: "relu",
    torch.nn.LeakyReLU: "leaky_relu",
}


def _normalize(name):
    """Returns the canonical (lower-case, alias-resolved) form of a name."""
    key = name.strip().lower()
    return _ALIASES.get(key, key)


def registered_activations():
    """Returns the names of all registered hidden units, sorted.

    Aliases (``"ReL"``, ``"LReL"``) are accepted by :func:`build_activation`
    but are not listed.

    Returns
    -------
    names : list of str
        The registered names, in alphabetical order.

    Example
    -------
    >>> registered_activations()
    ['leaky_relu', 'relu', 'tanh']
    """
    return sorted(_REGISTRY)


def register_activation(name, factory, overwrite=False):
    """Registers a hidden unit under a name.

    Arguments
    ---------
    name : str
        Name of the unit (stored lower-case; lookups are case-insensitive).
    factory : callable
        Called as ``factory(**kwargs)``; must return a new
        ``torch.nn.Module`` on every call (a module class works).
    overwrite : bool
        If True, an existing entry of the same name is replaced.
        Otherwise re-registering a name raises ``ValueError``.

    Returns
    -------
    factory : callable
        The registered factory, returned unchanged.

    Raises
    ------
    ValueError
        If the name is empty, or already registered and overwrite is False.
    TypeError
        If ``name`` is not a string or ``factory`` is not callable.

    Example
    -------
    >>> register_activation("softplus", torch.nn.Softplus)
    <class 'torch.nn.modules.activation.Softplus'>
    >>> build_activation("Softplus")
    Softplus(beta=1.0, threshold=20.0)
    >>> unregister_activation("softplus")
    """
    if not isinstance(name, str):
        raise TypeError(
            f"Activation name must be a string, got {type(name).__name__}"
        )
    key = name.strip().lower()
    if not key:
        raise ValueError("Activation name must not be empty")
    if not callable(factory):
        raise TypeError(
            f"Factory for activation '{name}' must be callable, "
            f"got {type(factory).__name__}"
        )
    taken = key in _REGISTRY or key in _ALIASES
    if taken and not overwrite:
        raise ValueError(
            f"Activation '{key}' is already registered; "
            "pass overwrite=True to replace it"
        )
    # A new entry shadows an alias of the same name.
    _ALIASES.pop(key, None)
    _REGISTRY[key] = factory
    return factory


def unregister_activation(name):
    """Removes a hidden unit from the registry.

    Arguments
    ---------
    name : str
        Registered name (case-insensitive; aliases are resolved).

    Raises
    ------
    ValueError
        If the name is not registered.

    Example
    -------
    >>> register_activation("elu", torch.nn.ELU)
    <class 'torch.nn.modules.activation.ELU'>
    >>> unregister_activation("ELU")
    >>> "elu" in registered_activations()
    False
    """
    key = _normalize(name)
    if key not in _REGISTRY:
        raise ValueError(_unknown_message(name))
    del _REGISTRY[key]


def _unknown_message(name):
    """Error message for an unknown name, listing the registered ones."""
    return f"Unknown activation '{name}'; registered activations: " + ", ".join(
        registered_activations()
    )


def _check_module(module, spec):
    """Raises TypeError if a factory did not return a module."""
    if not isinstance(module, torch.nn.Module):
        raise TypeError(
            f"Activation factory {spec!r} returned "
            f"{type(module).__name__}, expected a torch.nn.Module"
        )
    return module


def build_activation(spec, **kwargs):
    """Builds a new hidden-unit module from a specification.

    Arguments
    ---------
    spec : str, type, callable or torch.nn.Module
        One of:

        * a registered name (case-insensitive, e.g. ``"relu"``, ``"LReL"``);
        * a ``torch.nn.Module`` subclass (YAML ``!name:torch.nn.ELU``);
        * a callable returning a module, e.g. the ``functools.partial``
          given by YAML ``!name:torch.nn.LeakyReLU {negative_slope: 0.2}``;
        * a module instance, which is deep-copied so that layers built from
          the same spec never share a module.
    **kwargs
        Keyword arguments passed to the factory / class / callable
        (e.g. ``negative_slope=0.1`` for ``"leaky_relu"``). They cannot be
        used with a module instance.

    Returns
    -------
    module : torch.nn.Module
        A new module.

    Raises
    ------
    ValueError
        If ``spec`` is an unknown name; the message lists the registered
        names.
    TypeError
        If ``spec`` has an unsupported type, a factory returns something
        that is not a module, or kwargs are given with a module instance.

    Example
    -------
    >>> build_activation("leaky_relu")
    LeakyReLU(negative_slope=0.01)
    >>> build_activation("LReL", negative_slope=0.3)
    LeakyReLU(negative_slope=0.3)
    >>> build_activation(torch.nn.ELU, alpha=0.5)
    ELU(alpha=0.5)
    >>> build_activation("foo")
    Traceback (most recent call last):
     ...
    ValueError: Unknown activation 'foo'; registered activations: leaky_relu, relu, tanh
    """
    if isinstance(spec, str):
        key = _normalize(spec)
        if key not in _REGISTRY:
            raise ValueError(_unknown_message(spec))
        module = _check_module(_REGISTRY[key](**kwargs), spec)
        # Record the registry name for activation_name() (for logs).
        setattr(module, _NAME_ATTR, key)
        return module
    if isinstance(spec, torch.nn.Module):
        if kwargs:
            raise TypeError(
                "Keyword arguments cannot be applied to an activation "
                f"module instance ({type(spec).__name__}); pass its class "
                "or a registered name instead"
            )
        return copy.deepcopy(spec)
    if callable(spec):
        return _check_module(spec(**kwargs), spec)
    raise TypeError(
        "Activation spec must be a registered name, a torch.nn.Module "
        f"class or instance, or a callable; got {type(spec).__name__}"
    )


def activation_name(module):
    """Returns a short name of a hidden-unit module, for logs.

    Arguments
    ---------
    module : torch.nn.Module
        A hidden-unit module, e.g. one built with :func:`build_activation`.

    Returns
    -------
    name : str
        The registry name the module was built from; else the registry
        name of a built-in unit class (``torch.nn.ReLU`` -> ``"relu"``);
        else the module's class name.

    Example
    -------
    >>> activation_name(build_activation("LReL"))
    'leaky_relu'
    >>> activation_name(torch.nn.Tanh())
    'tanh'
    >>> activation_name(torch.nn.ELU())
    'ELU'
    """
    name = getattr(module, _NAME_ATTR, None)
    if isinstance(name, str):
        return name
    return _CLASS_NAMES.get(type(module), type(module).__name__)
