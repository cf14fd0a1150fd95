"""When is a hidden unit active? The rules of Maas et al. (2013), Fig. 2.

* ``positive`` (ReL, LReL): ``h > 0``;
* ``tanh_neg``: ``h > -0.95``, not saturated at the "off" end;
* ``tanh_both``: ``-0.95 < h < 0.95``, saturated at neither end;
* ``sigmoid_neg`` / ``sigmoid_both``: the tanh rules mapped through
  ``sigmoid(x) = (1 + tanh(x / 2)) / 2``.

A rule is an :class:`ActiveDefinition` of kind ``"greater"``
(``h > t``), ``"less"`` (``h < t``) or ``"between"`` (``lo < h < hi``);
all comparisons are strict and NaN is never active. Add rules with
:func:`register_definition`.

Authors
 * sb_rectifier developers 2026
"""

import math
from dataclasses import dataclass

import torch

from sb_rectifier.activations import activation_name

__all__ = [
    "ACTIVE_DEFINITIONS",
    "ActiveDefinition",
    "default_definitions",
    "get_definition",
    "paper_label",
    "register_definition",
    "resolve_definitions",
]

_KINDS = ("greater", "less", "between")


@dataclass(frozen=True)
class ActiveDefinition:
    """A rule saying when a unit's output ``h`` counts as active.

    Arguments
    ---------
    name : str
        Key in results and file columns.
    kind : str
        ``"greater"``, ``"less"`` or ``"between"``.
    threshold : float or (float, float)
        ``t``, or ``(lo, hi)`` with ``lo < hi`` for ``"between"``.
    label : str, optional
        Legend label (default: the name).

    Example
    -------
    >>> both = ActiveDefinition("tanh_both", "between", (-0.95, 0.95))
    >>> both.rule, both.is_active(torch.tensor([-0.99, 0.0, 0.96])).tolist()
    ('-0.95 < h < 0.95', [False, True, False])
    """

    name: str
    kind: str
    threshold: float | tuple
    label: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Definition name must be a string: {self.name!r}")
        if self.kind not in _KINDS:
            raise ValueError(
                f"Unknown kind '{self.kind}' of definition '{self.name}'; "
                "choose one of " + ", ".join(_KINDS)
            )
        pair = isinstance(self.threshold, (tuple, list))
        if pair != (self.kind == "between"):
            need = "a single threshold" if pair else "(low, high)"
            raise ValueError(
                f"Definition '{self.name}' of kind '{self.kind}' needs {need}, "
                f"got {self.threshold!r}"
            )
        values = [
            float(t) for t in (self.threshold if pair else [self.threshold])
        ]
        as_float32 = torch.tensor(values, dtype=torch.float32)  # as compared
        if not all(map(math.isfinite, values)) or (
            pair and not as_float32[0] < as_float32[1]
        ):
            raise ValueError(
                f"Definition '{self.name}': thresholds must be finite, with "
                f"low < high in float32; got {self.threshold!r}"
            )
        object.__setattr__(
            self, "threshold", tuple(values) if pair else values[0]
        )
        object.__setattr__(self, "label", self.label or self.name)

    @property
    def rule(self):
        """The rule as text, e.g. ``'h > -0.95'``.

        Example
        -------
        >>> ACTIVE_DEFINITIONS["tanh_neg"].rule
        'h > -0.95'
        """
        if self.kind == "between":
            return "{:g} < h < {:g}".format(*self.threshold)
        return f"h {'>' if self.kind == 'greater' else '<'} {self.threshold:g}"

    @property
    def comparisons(self):
        """The rule as one or two ``(torch op, threshold)`` pairs: active =
        the first minus the second (``lo < h < hi`` is
        ``[h > lo] - [h >= hi]``, so ``tanh_both`` shares ``h > -0.95``
        with ``tanh_neg``).

        Example
        -------
        >>> ACTIVE_DEFINITIONS["tanh_both"].comparisons
        (('gt', -0.95), ('ge', 0.95))
        """
        if self.kind == "between":
            return ("gt", self.threshold[0]), ("ge", self.threshold[1])
        return ((("gt" if self.kind == "greater" else "lt"), self.threshold),)

    def is_active(self, h):
        """Returns the boolean activity of every element of ``h``.

        Example
        -------
        >>> ACTIVE_DEFINITIONS["positive"].is_active(torch.tensor([0.0, 1e-6]))
        tensor([False,  True])
        """
        if self.kind == "greater":
            return h > self.threshold
        if self.kind == "less":
            return h < self.threshold
        return (h > self.threshold[0]) & (h < self.threshold[1])

    def to_dict(self):
        """Returns ``name``, ``kind``, ``threshold``, ``label`` and ``rule``.

        Example
        -------
        >>> ACTIVE_DEFINITIONS["positive"].to_dict()["rule"]
        'h > 0'
        """
        threshold = self.threshold
        threshold = list(threshold) if self.kind == "between" else threshold
        return {
            "name": self.name,
            "kind": self.kind,
            "threshold": threshold,
            "label": self.label,
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, d):
        """Rebuilds a definition from :meth:`to_dict` output.

        Example
        -------
        >>> d = ACTIVE_DEFINITIONS["tanh_both"]
        >>> ActiveDefinition.from_dict(d.to_dict()) == d
        True
        """
        return cls(d["name"], d["kind"], d["threshold"], d.get("label"))


#: The registered rules, by name.
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
    """Adds a rule to :data:`ACTIVE_DEFINITIONS` (ValueError if the name is
    taken and ``overwrite`` is False); returns it.

    Example
    -------
    >>> _ = register_definition(ActiveDefinition("above_half", "greater", 0.5))
    >>> get_definition("above_half").rule
    'h > 0.5'
    >>> del ACTIVE_DEFINITIONS["above_half"]
    """
    if not isinstance(definition, ActiveDefinition):
        raise TypeError(f"Expected an ActiveDefinition, got {definition!r}")
    if definition.name in ACTIVE_DEFINITIONS and not overwrite:
        raise ValueError(
            f"Definition '{definition.name}' is already registered; pass "
            "overwrite=True to replace it"
        )
    ACTIVE_DEFINITIONS[definition.name] = definition
    return definition


def get_definition(spec):
    """Returns the rule of a registered name (or a rule, unchanged).

    Example
    -------
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
    """Returns the rules of one name / rule or a list of them (unique names).

    Example
    -------
    >>> [d.name for d in resolve_definitions(["tanh_neg", "tanh_both"])]
    ['tanh_neg', 'tanh_both']
    """
    if isinstance(specs, (str, ActiveDefinition)):
        specs = [specs]
    definitions = [get_definition(s) for s in specs]
    names = [d.name for d in definitions]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"Need distinct activity definitions, got {names}")
    return definitions


def _unit_name(unit):
    if isinstance(unit, torch.nn.Module):
        return activation_name(unit).lower()
    return str(unit).strip().lower()


def default_definitions(unit):
    """The rules that suit a unit (a module or a name): tanh -> ``tanh_neg``,
    ``tanh_both``; sigmoid -> ``sigmoid_neg``, ``sigmoid_both``; else
    ``positive``.

    Example
    -------
    >>> default_definitions(torch.nn.Tanh()), default_definitions("relu")
    (['tanh_neg', 'tanh_both'], ['positive'])
    """
    name = _unit_name(unit)
    if name in ("tanh", "sigmoid"):
        return [f"{name}_neg", f"{name}_both"]
    return ["positive"]


_PAPER_UNITS = {"relu": "ReL", "leaky_relu": "LReL", "tanh": "tanh"}


def paper_label(unit, definition):
    """The legend label of a (unit, rule) pair in the paper's style.

    Example
    -------
    >>> paper_label("leaky_relu", "positive"), paper_label("tanh", "tanh_both")
    ('LReL', 'tanh both')
    >>> paper_label(torch.nn.ELU(), "positive")
    'ELU pos'
    """
    definition = get_definition(definition)
    name = _unit_name(unit)
    shown = activation_name(unit) if isinstance(unit, torch.nn.Module) else unit
    shown = _PAPER_UNITS.get(name, shown)
    if name in ("relu", "leaky_relu") and definition.name == "positive":
        return shown
    return f"{shown} {definition.label}"
