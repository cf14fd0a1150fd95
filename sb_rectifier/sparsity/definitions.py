"""When is a hidden unit "active"? Definitions of activity.

Maas, Hannun & Ng (2013), Fig. 2, plot for every hidden unit of the last
hidden layer the fraction of inputs on which it is *active*, with two
families of definitions:

* rectifiers (ReL, LReL): a unit is active when its output is positive,
  ``h > 0`` (definition ``"positive"``);
* tanh: a unit is active when it is not saturated in the "off" position,
  ``h > -0.95`` (``"tanh_neg"``, legend "tanh neg"), or when it is not
  saturated at either asymptote, ``-0.95 < h < 0.95`` (``"tanh_both"``,
  legend "tanh both").

An :class:`ActiveDefinition` is one such rule: a ``kind`` and a
``threshold``:

* ``"greater"``: active iff ``h > threshold``;
* ``"less"``: active iff ``h < threshold``;
* ``"between"``: active iff ``low < h < high`` with
  ``threshold = (low, high)``.

All comparisons are strict. The built-in rules live in
:data:`ACTIVE_DEFINITIONS`; more can be added with
:func:`register_definition`. The sigmoid rules ``"sigmoid_neg"``
(``h > 0.025``) and ``"sigmoid_both"`` (``0.025 < h < 0.975``) are the tanh
rules mapped through ``sigmoid(x) = (1 + tanh(x / 2)) / 2``.

:func:`default_definitions` picks the rules that fit a hidden unit, and
:func:`paper_label` gives the paper's legend label of a (unit, rule) pair
("ReL", "LReL", "tanh neg", "tanh both").

Authors
 * sb_rectifier developers 2026
"""

import math
from dataclasses import dataclass

import torch

from sb_rectifier.activations import activation_name

__all__ = [
    "ACTIVE_DEFINITIONS",
    "ACTIVE_KINDS",
    "ActiveDefinition",
    "default_definitions",
    "get_definition",
    "paper_label",
    "register_definition",
    "resolve_definitions",
]

#: Accepted values of :attr:`ActiveDefinition.kind`.
ACTIVE_KINDS = ("greater", "less", "between")


@dataclass(frozen=True)
class ActiveDefinition:
    """A rule that says when a hidden unit's output ``h`` counts as active.

    Arguments
    ---------
    name : str
        Identifier, used as key in results and file columns.
    kind : str
        ``"greater"`` (``h > threshold``), ``"less"`` (``h < threshold``) or
        ``"between"`` (``low < h < high``, ``threshold = (low, high)``).
    threshold : float or tuple of float
        A finite number, or a ``(low, high)`` pair with ``low < high`` for
        ``"between"``.
    label : str, optional
        Short label for plot legends (default: the name).

    Example
    -------
    >>> both = ActiveDefinition("tanh_both", "between", (-0.95, 0.95))
    >>> both.rule
    '-0.95 < h < 0.95'
    >>> both.is_active(torch.tensor([-0.99, -0.5, 0.96])).tolist()
    [False, True, False]
    >>> ActiveDefinition("pos", "greater", 0.0).is_active(
    ...     torch.tensor([0.0, 1e-6])
    ... ).tolist()
    [False, True]
    """

    name: str
    kind: str
    threshold: float | tuple
    label: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(
                f"Definition name must be a non-empty string, got {self.name!r}"
            )
        if self.kind not in ACTIVE_KINDS:
            raise ValueError(
                f"Unknown kind '{self.kind}' of definition '{self.name}'; "
                "choose one of " + ", ".join(ACTIVE_KINDS)
            )
        if self.kind == "between":
            try:
                low, high = (float(t) for t in self.threshold)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Definition '{self.name}' of kind 'between' needs "
                    f"threshold=(low, high), got {self.threshold!r}"
                ) from None
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(
                    f"Definition '{self.name}': need finite low < high, got "
                    f"{self.threshold!r}"
                )
            object.__setattr__(self, "threshold", (low, high))
        else:
            if isinstance(self.threshold, (tuple, list)):
                raise ValueError(
                    f"Definition '{self.name}' of kind '{self.kind}' needs a "
                    f"single threshold, got {self.threshold!r}"
                )
            value = float(self.threshold)
            if not math.isfinite(value):
                raise ValueError(
                    f"Definition '{self.name}': threshold must be finite, "
                    f"got {self.threshold!r}"
                )
            object.__setattr__(self, "threshold", value)
        if self.label is None:
            object.__setattr__(self, "label", self.name)

    @property
    def rule(self):
        """The rule as text, e.g. ``"h > 0"`` or ``"-0.95 < h < 0.95"``.

        Returns
        -------
        rule : str
            Human-readable form of the rule.

        Example
        -------
        >>> ACTIVE_DEFINITIONS["tanh_neg"].rule
        'h > -0.95'
        """
        if self.kind == "between":
            low, high = self.threshold
            return f"{low:g} < h < {high:g}"
        op = ">" if self.kind == "greater" else "<"
        return f"h {op} {self.threshold:g}"

    def is_active(self, h):
        """Returns the boolean activity of every element of ``h``.

        This is the reference implementation (readable, allocating); the
        statistics use :meth:`indicator`, which writes into a buffer.

        Arguments
        ---------
        h : torch.Tensor
            Hidden-unit outputs, any shape.

        Returns
        -------
        active : torch.Tensor
            Boolean tensor of the shape of ``h``.

        Example
        -------
        >>> ACTIVE_DEFINITIONS["tanh_neg"].is_active(
        ...     torch.tensor([-0.99, -0.5, 0.96])
        ... ).tolist()
        [False, True, True]
        """
        if self.kind == "greater":
            return h > self.threshold
        if self.kind == "less":
            return h < self.threshold
        low, high = self.threshold
        return (h > low) & (h < high)

    def indicator(self, h, out, tmp=None):
        """Writes the 0/1 activity of ``h`` into the float tensor ``out``.

        Arguments
        ---------
        h : torch.Tensor
            Floating-point hidden-unit outputs.
        out : torch.Tensor
            Floating-point tensor of the shape of ``h``; overwritten.
        tmp : torch.Tensor, optional
            Scratch tensor like ``out``; needed for an asymmetric
            ``"between"`` rule only (allocated if missing).

        Returns
        -------
        out : torch.Tensor
            ``out``, holding 1.0 where active and 0.0 elsewhere.

        Example
        -------
        >>> h = torch.tensor([-0.99, -0.5, 0.96])
        >>> ACTIVE_DEFINITIONS["tanh_both"].indicator(h, torch.empty(3))
        tensor([0., 1., 0.])
        >>> ActiveDefinition("mid", "between", (-0.6, 0.0)).indicator(
        ...     h, torch.empty(3)
        ... )
        tensor([0., 1., 0.])
        """
        if self.kind == "greater":
            return torch.gt(h, self.threshold, out=out)
        if self.kind == "less":
            return torch.lt(h, self.threshold, out=out)
        low, high = self.threshold
        if low == -high:  # symmetric: |h| < high, two cheap passes
            torch.abs(h, out=out)
            return torch.lt(out, high, out=out)
        if tmp is None:
            tmp = torch.empty_like(out)
        torch.gt(h, low, out=out)
        torch.lt(h, high, out=tmp)
        return out.mul_(tmp)

    def to_dict(self):
        """Returns a JSON-friendly description of the rule.

        Returns
        -------
        description : dict
            ``name``, ``kind``, ``threshold`` (a number or ``[low, high]``),
            ``label`` and ``rule``.

        Example
        -------
        >>> ACTIVE_DEFINITIONS["positive"].to_dict()
        {'name': 'positive', 'kind': 'greater', 'threshold': 0.0, 'label': 'pos', 'rule': 'h > 0'}
        """
        threshold = self.threshold
        if isinstance(threshold, tuple):
            threshold = list(threshold)
        return {
            "name": self.name,
            "kind": self.kind,
            "threshold": threshold,
            "label": self.label,
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, description):
        """Builds a definition from :meth:`to_dict` output.

        Arguments
        ---------
        description : dict
            With ``name``, ``kind``, ``threshold`` and optionally ``label``.

        Returns
        -------
        definition : ActiveDefinition
            The rebuilt definition.

        Example
        -------
        >>> d = ACTIVE_DEFINITIONS["tanh_both"]
        >>> ActiveDefinition.from_dict(d.to_dict()) == d
        True
        """
        threshold = description["threshold"]
        if isinstance(threshold, list):
            threshold = tuple(threshold)
        return cls(
            description["name"],
            description["kind"],
            threshold,
            description.get("label"),
        )


#: Built-in activity rules, by name.
ACTIVE_DEFINITIONS = {
    d.name: d
    for d in (
        ActiveDefinition("positive", "greater", 0.0, "pos"),
        ActiveDefinition("tanh_neg", "greater", -0.95, "neg"),
        ActiveDefinition("tanh_both", "between", (-0.95, 0.95), "both"),
        ActiveDefinition("sigmoid_neg", "greater", 0.025, "neg"),
        ActiveDefinition("sigmoid_both", "between", (0.025, 0.975), "both"),
    )
}


def register_definition(definition, overwrite=False):
    """Adds an activity rule to :data:`ACTIVE_DEFINITIONS`.

    Arguments
    ---------
    definition : ActiveDefinition
        The rule; registered under ``definition.name``.
    overwrite : bool
        Replace an existing rule of the same name instead of raising.

    Returns
    -------
    definition : ActiveDefinition
        The registered rule, unchanged.

    Raises
    ------
    ValueError
        If the name is taken and ``overwrite`` is False.

    Example
    -------
    >>> register_definition(ActiveDefinition("above_half", "greater", 0.5))
    ActiveDefinition(name='above_half', kind='greater', threshold=0.5, label='above_half')
    >>> get_definition("above_half").rule
    'h > 0.5'
    >>> del ACTIVE_DEFINITIONS["above_half"]
    """
    if not isinstance(definition, ActiveDefinition):
        raise TypeError(
            "register_definition needs an ActiveDefinition, got "
            f"{type(definition).__name__}"
        )
    if definition.name in ACTIVE_DEFINITIONS and not overwrite:
        raise ValueError(
            f"Definition '{definition.name}' is already registered; pass "
            "overwrite=True to replace it"
        )
    ACTIVE_DEFINITIONS[definition.name] = definition
    return definition


def get_definition(spec):
    """Returns the :class:`ActiveDefinition` for a name or a definition.

    Arguments
    ---------
    spec : str or ActiveDefinition
        A registered name, or a definition (returned as it is).

    Returns
    -------
    definition : ActiveDefinition
        The rule.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the registered ones.

    Example
    -------
    >>> get_definition("tanh_neg").threshold
    -0.95
    >>> get_definition("nope")
    Traceback (most recent call last):
     ...
    ValueError: Unknown activity definition 'nope'; registered: positive, sigmoid_both, sigmoid_neg, tanh_both, tanh_neg
    """
    if isinstance(spec, ActiveDefinition):
        return spec
    if isinstance(spec, str) and spec in ACTIVE_DEFINITIONS:
        return ACTIVE_DEFINITIONS[spec]
    raise ValueError(
        f"Unknown activity definition {spec!r}; registered: "
        + ", ".join(sorted(ACTIVE_DEFINITIONS))
    )


def resolve_definitions(specs):
    """Turns a list of names / definitions into definitions.

    Arguments
    ---------
    specs : str, ActiveDefinition or sequence of them
        One rule or several; names must be unique.

    Returns
    -------
    definitions : list of ActiveDefinition
        In the given order.

    Raises
    ------
    ValueError
        For an unknown name, an empty list or a repeated name.

    Example
    -------
    >>> [d.name for d in resolve_definitions(["tanh_neg", "tanh_both"])]
    ['tanh_neg', 'tanh_both']
    """
    if isinstance(specs, (str, ActiveDefinition)):
        specs = [specs]
    definitions = [get_definition(s) for s in specs]
    if not definitions:
        raise ValueError("Need at least one activity definition")
    names = [d.name for d in definitions]
    if len(set(names)) != len(names):
        raise ValueError(f"Activity definition names repeat: {names}")
    return definitions


def _unit_name(unit):
    """Canonical lower-case unit name of a module or a string."""
    if isinstance(unit, torch.nn.Module):
        if isinstance(unit, torch.nn.Tanh):
            return "tanh"
        if isinstance(unit, torch.nn.Sigmoid):
            return "sigmoid"
        return activation_name(unit).lower()
    return str(unit).strip().lower()


def default_definitions(unit):
    """Returns the names of the activity rules that suit a hidden unit.

    * tanh: ``["tanh_neg", "tanh_both"]`` (the paper's two tanh rules;
      add ``"positive"`` explicitly for a like-for-like ``h > 0``
      comparison with rectifiers);
    * sigmoid: ``["sigmoid_neg", "sigmoid_both"]``;
    * anything else (ReL, LReL, unknown units): ``["positive"]``.

    Arguments
    ---------
    unit : torch.nn.Module or str
        The hidden-unit module, or its name (``"tanh"``, ``"relu"``, ...).

    Returns
    -------
    names : list of str
        Registered definition names.

    Example
    -------
    >>> default_definitions(torch.nn.ReLU())
    ['positive']
    >>> default_definitions(torch.nn.Tanh())
    ['tanh_neg', 'tanh_both']
    >>> default_definitions("leaky_relu")
    ['positive']
    """
    name = _unit_name(unit)
    if name == "tanh":
        return ["tanh_neg", "tanh_both"]
    if name == "sigmoid":
        return ["sigmoid_neg", "sigmoid_both"]
    return ["positive"]


_PAPER_UNITS = {"relu": "ReL", "leaky_relu": "LReL", "tanh": "tanh"}


def paper_label(unit, definition):
    """Returns the legend label of a (unit, rule) pair, in the paper's style.

    ReL and LReL with ``h > 0`` are labelled ``"ReL"`` and ``"LReL"``; other
    pairs are ``"<unit> <rule label>"``, e.g. ``"tanh neg"``,
    ``"tanh both"``, ``"tanh pos"`` or ``"ELU pos"``.

    Arguments
    ---------
    unit : torch.nn.Module or str
        The hidden-unit module or its name.
    definition : str or ActiveDefinition
        The activity rule.

    Returns
    -------
    label : str
        The legend label.

    Example
    -------
    >>> paper_label("relu", "positive")
    'ReL'
    >>> paper_label(torch.nn.LeakyReLU(), "positive")
    'LReL'
    >>> paper_label(torch.nn.Tanh(), "tanh_both")
    'tanh both'
    """
    definition = get_definition(definition)
    name = _unit_name(unit)
    if isinstance(unit, torch.nn.Module):
        shown = _PAPER_UNITS.get(name, activation_name(unit))
    else:
        shown = _PAPER_UNITS.get(name, str(unit))
    if name in ("relu", "leaky_relu") and definition.name == "positive":
        return shown
    return f"{shown} {definition.label}"
