"""The runs of a sweep: units x depths x seeds (x further axes).

A sweep is a grid of ordinary recipe runs. Each run is one ``train.py``
command line with its own ``--output_folder`` under the sweep folder, so
it can be started by :mod:`sb_rectifier.sweep.runner`, by hand, or by any
scheduler (``sb-rectifier sweep --dry-run`` prints the lines), and a later
``sb-rectifier sweep`` finds its results in the same place.

Authors
 * sb_rectifier developers 2026
"""

import dataclasses
import functools
import itertools
import os
import re
import shlex

from sb_rectifier.files import read_json

# A run is finished when train.py wrote its summary with these keys (the
# summary is written once, at the end of all stages).
FINISHED_KEYS = ("dev_ce", "dev_frame_acc")
WER_KEYS = ("test_wer", "wer_not_computed")
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VALUE_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a sweep.

    Arguments
    ---------
    unit : str
        Hidden unit (the name of the YAML file in the hparams folder).
    num_layers : int
        Hidden layers.
    seed : int
        Training seed.
    axes : tuple
        ``((key, value), ...)`` of the further axes (e.g. corpus size).
    folder : str
        Its output folder (absolute).
    """

    unit: str
    num_layers: int
    seed: int
    axes: tuple
    folder: str

    @property
    def name(self):
        """The folder relative to the sweep's ``runs/``."""
        parts = [f"{self.unit}_{self.num_layers}layers"]
        parts += [f"{k}-{v}" for k, v in self.axes]
        parts.append(f"seed{self.seed}")
        return "/".join(parts)

    @property
    def cell(self):
        """What the seeds of a table cell share: ``(axes, unit, layers)``."""
        return (self.axes, self.unit, self.num_layers)

    def summary(self):
        """The run's ``summary.json`` when the run is finished, else None.

        Returns
        -------
        dict or None
            The summary of a finished run.
        """
        path = os.path.join(self.folder, "summary.json")
        if not os.path.isfile(path):
            return None
        summary = read_json(path, "run summary")
        if all(k in summary for k in FINISHED_KEYS) and any(
            k in summary for k in WER_KEYS
        ):
            return summary
        return None


def parse_setting(text, what):
    """``KEY=VALUE`` -> ``(key, value)``; errors name the option.

    Arguments
    ---------
    text : str
        The option's argument.
    what : str
        The option (``--set``, ``--axis``), for messages.

    Returns
    -------
    tuple
        ``(key, value)`` (both str).

    Example
    -------
    >>> parse_setting("neurons=2048", "--set")
    ('neurons', '2048')
    >>> parse_setting("neurons", "--set")
    Traceback (most recent call last):
    ValueError: --set neurons: expected KEY=VALUE
    """
    key, sep, value = text.partition("=")
    key = key.strip().lstrip("-")
    if not sep or not key or not value.strip():
        raise ValueError(f"{what} {text}: expected KEY=VALUE")
    if not _KEY_RE.match(key):
        raise ValueError(f"{what} {text}: {key!r} is not a hyperparameter name")
    return key, value.strip()


def parse_axis(text):
    """``KEY=V1,V2,...`` -> ``(key, [values])``.

    Arguments
    ---------
    text : str
        The argument of ``--axis``.

    Returns
    -------
    tuple
        ``(key, values)``.

    Example
    -------
    >>> parse_axis("corpus_hours=1,4")
    ('corpus_hours', ['1', '4'])
    >>> parse_axis("corpus_hours=1,1")
    Traceback (most recent call last):
    ValueError: --axis corpus_hours=1,1: a value is repeated
    """
    key, value = parse_setting(text, "--axis")
    values = [v.strip() for v in value.split(",")]
    for v in values:
        if not _VALUE_RE.match(v):
            raise ValueError(
                f"--axis {text}: value {v!r} must be letters, digits or . _ + -"
            )
    if len(set(values)) != len(values):
        raise ValueError(f"--axis {text}: a value is repeated")
    return key, values


@functools.cache
def speechbrain_options():
    """Names of SpeechBrain's run options (``device``, ``precision``, ...).

    Example
    -------
    >>> {"device", "noprogressbar"} <= speechbrain_options()
    True
    """
    from speechbrain.utils.run_opts import RunOptions

    return frozenset(RunOptions().as_dict())


@functools.cache
def speechbrain_flags():
    """SpeechBrain's run options that are flags (``--noprogressbar``).

    Returns
    -------
    frozenset
        Their names.

    Example
    -------
    >>> "noprogressbar" in speechbrain_flags()
    True
    >>> "device" in speechbrain_flags()
    False
    """
    from speechbrain.utils.run_opts import HELP_TEXTS, RunOptions

    defaults = RunOptions().as_dict()
    return frozenset(k for k in HELP_TEXTS if defaults.get(k) is False)


def flag_value(key, value):
    """Whether ``--set KEY=VALUE`` of a SpeechBrain flag turns it on.

    Example
    -------
    >>> flag_value("noprogressbar", "True"), flag_value("debug", "false")
    (True, False)
    >>> flag_value("debug", "2")
    Traceback (most recent call last):
    ValueError: --set debug=2: debug is a flag of SpeechBrain: give True or False
    """
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError(
        f"--set {key}={value}: {key} is a flag of SpeechBrain: give True or "
        "False"
    )


@dataclasses.dataclass
class SweepPlan:
    """Units x depths x seeds x axes, and how to run each combination.

    Arguments
    ---------
    recipe : str
        The recipe folder (holds ``train.py``); runs start there, so the
        recipe's relative paths mean what they mean to ``train.py``.
    hparams : str
        Folder of the unit YAMLs, relative to ``recipe`` (``<unit>.yaml``).
    output : str
        The sweep folder (runs go to ``<output>/runs/``).
    units, layers, seeds : list
        The grid.
    axes : list of tuple
        ``[(key, [values])]``: further axes (e.g. ``corpus_hours``).
    settings : list of tuple
        ``[(key, value)]``: overrides given to every run.
    launcher : str
        What starts ``train.py`` (``python``, or e.g. ``torchrun
        --nproc_per_node 8``).

    Example
    -------
    >>> recipe = getfixture("tmp_path")
    >>> _ = (recipe / "train.py").write_text("")
    >>> (recipe / "hparams").mkdir()
    >>> _ = (recipe / "hparams" / "relu.yaml").write_text("")
    >>> plan = SweepPlan(
    ...     str(recipe),
    ...     "hparams",
    ...     str(recipe / "sweep"),
    ...     ["relu"],
    ...     [2, 3],
    ...     [1],
    ...     axes=[("corpus_hours", ["4"])],
    ... )
    >>> [run.name for run in plan.runs()]
    ['relu_2layers/corpus_hours-4/seed1', 'relu_3layers/corpus_hours-4/seed1']
    >>> print(plan.command(plan.runs()[0], relative=True))  # doctest: +ELLIPSIS
    python train.py hparams/relu.yaml --num_layers 2 --seed 1 --corpus_hours 4 --output_folder .../runs/relu_2layers/corpus_hours-4/seed1
    """

    recipe: str
    hparams: str
    output: str
    units: list
    layers: list
    seeds: list
    axes: list = dataclasses.field(default_factory=list)
    settings: list = dataclasses.field(default_factory=list)
    launcher: str = "python"

    def __post_init__(self):
        self.recipe = os.path.abspath(self.recipe)
        self.output = os.path.abspath(self.output)
        self.check()

    def check(self):
        """Errors, naming the option, for a grid that cannot run."""
        script = os.path.join(self.recipe, "train.py")
        if not os.path.isfile(script):
            raise FileNotFoundError(
                f"--recipe {self.recipe}: no train.py there (give the folder "
                "of the recipe, e.g. . or recipes/Switchboard)"
            )
        folder = os.path.join(self.recipe, self.hparams)
        missing = [u for u in self.units if not os.path.isfile(self.yaml(u))]
        if missing:
            have = sorted(
                f[: -len(".yaml")]
                for f in (os.listdir(folder) if os.path.isdir(folder) else [])
                if f.endswith(".yaml")
            )
            raise FileNotFoundError(
                f"--units: no {', '.join(m + '.yaml' for m in missing)} in "
                f"{folder} (there: {', '.join(have) or 'no YAML files'})"
            )
        for option, values in (
            ("--units", self.units),
            ("--layers", self.layers),
            ("--seeds", self.seeds),
        ):
            if not values:
                raise ValueError(f"{option}: give at least one value")
            if len(set(values)) != len(values):
                raise ValueError(f"{option}: a value is repeated: {values}")
        bad = [n for n in self.layers if int(n) < 1]
        if bad:
            raise ValueError(f"--layers: depths must be >= 1, got {bad}")
        grid = {"num_layers", "seed", "output_folder"}
        keys = [k for k, _ in self.axes] + [k for k, _ in self.settings]
        for key in keys:
            if key in grid:
                option = {
                    "num_layers": "--layers",
                    "seed": "--seeds",
                    "output_folder": "--output",
                }[key]
                raise ValueError(
                    f"{key} is set by the sweep itself: use {option}"
                )
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(
                f"--axis/--set: {', '.join(repeated)} given more than once"
            )
        self.check_keys()

    def check_keys(self):
        """Every ``--set``/``--axis`` key must be a hyperparameter of each
        unit's YAML (or a SpeechBrain run option): a typo is an error
        before any run starts, not one failure per run."""
        from sb_rectifier.hparams import resolve_hparams_file

        options = speechbrain_options()
        given = [(k, v) for k, v in self.settings]
        given += [(k, values[0]) for k, values in self.axes]
        text = "\n".join(f"{k}: {v}" for k, v in given if k not in options)
        for unit in self.units:
            try:
                resolve_hparams_file(self.yaml(unit), text)
            except KeyError as err:
                message = err.args[0] if err.args else str(err)
                raise ValueError(
                    f"--set/--axis: {message.replace('command-line overrides: ', '')}"
                ) from None

    def yaml(self, unit):
        """The YAML file of a unit."""
        return os.path.join(self.recipe, self.hparams, f"{unit}.yaml")

    def runs(self):
        """Every run of the grid, axes outermost, then units, depths, seeds.

        Returns
        -------
        list of Run
            The runs.
        """
        keys = [k for k, _ in self.axes]
        combos = itertools.product(*[v for _, v in self.axes])
        runs = []
        for combo in combos:
            axes = tuple(zip(keys, combo, strict=True))
            for unit in self.units:
                for layers in self.layers:
                    for seed in self.seeds:
                        run = Run(unit, int(layers), int(seed), axes, "")
                        folder = os.path.join(self.output, "runs", run.name)
                        runs.append(dataclasses.replace(run, folder=folder))
        return runs

    def arguments(self, run):
        """``train.py`` and its arguments for one run (a list).

        Arguments
        ---------
        run : Run
            The run.

        Returns
        -------
        list of str
            ``["train.py", "<hparams>/<unit>.yaml", "--num_layers", ...]``.
        """
        args = [
            "train.py",
            os.path.join(self.hparams, f"{run.unit}.yaml"),
            "--num_layers",
            str(run.num_layers),
            "--seed",
            str(run.seed),
        ]
        flags = speechbrain_flags()
        for key, value in list(run.axes) + list(self.settings):
            if key in flags:
                if flag_value(key, value):
                    args.append(f"--{key}")
            else:
                args += [f"--{key}", value]
        return args + ["--output_folder", run.folder]

    def command(self, run, relative=False):
        """The shell line that runs one run.

        Arguments
        ---------
        run : Run
            The run.
        relative : bool
            Leave out the ``cd <recipe> &&`` (for the recipe's folder).

        Returns
        -------
        str
            E.g. ``cd /x/recipe && python train.py hparams/relu.yaml ...``.
        """
        line = shlex.join(shlex.split(self.launcher) + self.arguments(run))
        if relative:
            return line
        return f"cd {shlex.quote(self.recipe)} && {line}"

    def description(self):
        """What identifies the sweep (recorded in ``sweep.json``).

        Returns
        -------
        dict
            Recipe, hparams folder and the settings given to every run.
        """
        return {
            "recipe": self.recipe,
            "hparams": self.hparams,
            "settings": dict(self.settings),
        }
