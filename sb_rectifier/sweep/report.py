"""A sweep's report: Table 1 (``table.md``, ``table.csv``) and figures.

In the sweep folder, each written atomically:

* ``table.md``: per unit and depth, parameters, dev cross-entropy, dev
  frame accuracy, dev and test WER (and the test subsets a recipe scores,
  e.g. SWBD / CallHome), mean +- std over seeds, with the p-values of the
  paired tests against the first unit and against one layer less; then
  every test in full, the dev cross-entropy per epoch and the activity of
  the last hidden layer;
* ``table.csv``: the same per cell, one column per figure;
* ``wer_vs_depth.png`` (test WER and dev cross-entropy against depth, one
  line per unit), ``learning_curves.png`` (dev cross-entropy per epoch)
  and ``fig2.png`` (the paper's Fig. 2 for the deepest nets); with further
  axes, one figure per axes value (``..._corpus_hours-4.png``).

Authors
 * sb_rectifier developers 2026
"""

import csv
import dataclasses
import io
import math
import os

from sb_rectifier.files import atomic_write, write_text
from sb_rectifier.sweep.results import (
    collect,
    comparisons,
    gain_comparisons,
)

LEVEL = 0.05


@dataclasses.dataclass
class Report:
    """What :func:`write_report` wrote.

    Arguments
    ---------
    text : str
        ``table.md``'s content.
    files : list of str
        The files written.
    missing : list of Run
        Runs not finished (left out of the table).
    """

    text: str
    files: list
    missing: list


def fmt(mean, std, digits):
    """``mean ± std`` (the std left out when undefined); ``-`` for NaN.

    Example
    -------
    >>> (
    ...     fmt(1.23456, 0.01, 3),
    ...     fmt(1.5, float("nan"), 2),
    ...     fmt(float("nan"), 0, 1),
    ... )
    ('1.235 ± 0.010', '1.50', '-')
    """
    if math.isnan(mean):
        return "-"
    if math.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def fmt_p(test):
    """A p-value as the table prints it (``*`` when below 0.05).

    Example
    -------
    >>> from sb_rectifier.scoring import PairedBootstrap
    >>> fmt_p(PairedBootstrap(2, 1, 1, 0.2, 1.8, 0.0, 1.0, 1000))
    '<0.001*'
    >>> fmt_p(None)
    '-'
    """
    if test is None:
        return "-"
    p = test.p_value
    text = "<0.001" if p < 0.001 else f"{p:.3f}"
    return text + ("*" if p < LEVEL else "")


def axes_label(axes):
    """``((corpus_hours, 4),)`` -> ``"corpus_hours = 4"``."""
    return ", ".join(f"{k} = {v}" for k, v in axes)


def axes_suffix(axes):
    """``((corpus_hours, 4),)`` -> ``"_corpus_hours-4"`` (file names)."""
    return "".join(f"_{k}-{v}" for k, v in axes)


def _lookup(found):
    """``{(kind, cell a key, cell b key): Comparison}``."""
    return {(c.kind, _key(c.a), _key(c.b)): c for c in found}


def _deeper_than(found, cell):
    """The test of ``cell`` against the same unit one depth less, or None."""
    for c in found:
        if c.kind == "depth" and _key(c.b) == _key(cell):
            return c
    return None


def _key(cell):
    return (cell.axes, cell.unit, cell.num_layers)


def _subset_names(cells):
    names = []
    for cell in cells:
        for name in cell.subset_wers():
            if name not in names:
                names.append(name)
    return names


def _params(cell):
    mean = cell.stat("parameters")[0]
    if math.isnan(mean):
        return "-"
    return f"{mean / 1e6:.2f}M"


def cell_rows(cells, found):
    """The table's rows: one dict per cell (what ``table.csv`` holds).

    Arguments
    ---------
    cells : list of Cell
        From :func:`~sb_rectifier.sweep.results.collect`.
    found : list of Comparison
        From :func:`~sb_rectifier.sweep.results.comparisons`.

    Returns
    -------
    list of dict
        Axes values, unit, layers, parameters, seeds, mean and std of each
        figure, p-values, last-layer activity.
    """
    tests = _lookup(found)
    subsets = [s for s in _subset_names(cells) if s != "all"]
    first_unit = {}
    for cell in cells:
        first_unit.setdefault(cell.axes, cell.unit)
    rows = []
    for cell in cells:
        row = dict(cell.axes)
        row.update(
            unit=cell.unit,
            num_layers=cell.num_layers,
            parameters=int(cell.stat("parameters")[0])
            if not math.isnan(cell.stat("parameters")[0])
            else "",
            seeds=" ".join(map(str, cell.seeds)),
        )
        figures = ["dev_ce", "dev_frame_acc", "dev_wer", "test_wer"]
        for name in figures:
            row[f"{name}_mean"], row[f"{name}_std"] = cell.stat(name)
        losses = cell.epoch_means("train_loss")
        row["train_loss_last_epoch"] = losses[-1] if losses else ""
        wers = cell.subset_wers()
        for name in subsets:
            row[f"test_wer_{name}_mean"], row[f"test_wer_{name}_std"] = (
                wers.get(name, (math.nan, math.nan))
            )
        base = first_unit[cell.axes]
        vs_unit = tests.get(
            ("units", (cell.axes, base, cell.num_layers), _key(cell))
        )
        vs_depth = _deeper_than(found, cell)
        row[f"p_vs_{base}"] = vs_unit.test.p_value if vs_unit else ""
        row["p_vs_fewer_layers"] = vs_depth.test.p_value if vs_depth else ""
        for label, mean, dead in cell.activity():
            name = label.replace(" ", "_")
            row[f"last_layer_activation_prob_{name}"] = mean
            row[f"last_layer_never_active_{name}"] = dead
        rows.append(row)
    return rows


def recipe_name(recipe):
    """The recipe folder as the table names it: relative to the current
    folder when inside it, else its base name.

    Example
    -------
    >>> recipe_name(os.getcwd()), recipe_name(os.path.join("recipes", "x"))
    ('.', 'recipes/x')
    """
    relative = os.path.relpath(os.path.abspath(recipe))
    if relative == ".." or relative.startswith(".." + os.sep):
        return os.path.basename(os.path.abspath(recipe))
    return relative


def markdown(plan, cells, found, missing, num_samples, gains=()):
    """``table.md``'s text.

    Arguments
    ---------
    plan : SweepPlan
        The sweep.
    cells : list of Cell
        Its cells.
    found : list of Comparison
        Its tests.
    missing : list of Run
        Unfinished runs.
    num_samples : int
        Bootstrap resamples (stated in the text).
    gains : list of GainComparison
        The gain-per-layer tests.

    Returns
    -------
    str
        Markdown.
    """
    tests = _lookup(found)
    subsets = [s for s in _subset_names(cells) if s != "all"]
    out = [
        f"# Sweep: {', '.join(plan.units)} x "
        f"{', '.join(map(str, plan.layers))} hidden layers x seeds "
        f"{', '.join(map(str, plan.seeds))}",
        "",
        f"`{recipe_name(plan.recipe)}/train.py` with "
        f"`{plan.hparams}/<unit>.yaml`"
        + (
            ", with " + ", ".join(f"`{k}={v}`" for k, v in plan.settings)
            if plan.settings
            else ""
        )
        + ". Figures are mean ± std over seeds (of the checkpoint with the "
        "lowest dev cross-entropy; LM weight and insertion penalty chosen "
        "on dev). p: paired bootstrap over test utterances "
        f"({num_samples} resamples, each utterance's errors summed over "
        f"seeds), two-sided; * marks p < {LEVEL}.",
        "",
    ]
    groups = {}
    for cell in cells:
        groups.setdefault(cell.axes, []).append(cell)
    for axes, group in groups.items():
        base = group[0].unit
        if axes:
            out += [f"## {axes_label(axes)}", ""]
        header = [
            "unit",
            "layers",
            "params",
            "seeds",
            "dev CE (nats/frame)",
            "dev frame acc. (%)",
            "dev WER (%)",
            "test WER (%)",
        ]
        header += [f"test {s} WER (%)" for s in subsets]
        header += [f"p vs {base}", "p vs fewer layers"]
        out += [
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        for cell in group:
            wers = cell.subset_wers()
            vs_unit = tests.get(
                ("units", (axes, base, cell.num_layers), _key(cell))
            )
            vs_depth = _deeper_than(found, cell)
            cols = [
                cell.unit,
                str(cell.num_layers),
                _params(cell),
                str(len(cell.results)),
                fmt(*cell.stat("dev_ce"), 3),
                fmt(*cell.stat("dev_frame_acc"), 2),
                fmt(*cell.stat("dev_wer"), 2),
                fmt(*cell.stat("test_wer"), 2),
            ]
            cols += [
                fmt(*wers.get(s, (math.nan, math.nan)), 2) for s in subsets
            ]
            cols += [
                fmt_p(vs_unit.test if vs_unit else None),
                fmt_p(vs_depth.test if vs_depth else None),
            ]
            out.append("| " + " | ".join(cols) + " |")
        out.append("")
        out += _significance_section(
            [c for c in found if c.a.axes == axes], num_samples
        )
        out += _gain_section([g for g in gains if g.axes == axes])
        out += _convergence_section(group)
        out += _activity_section(group)
    if missing:
        out += [
            f"Not finished ({len(missing)} runs, left out above): "
            + ", ".join(r.name for r in missing),
            "",
        ]
    return "\n".join(out)


def _significance_section(found, num_samples):
    if not found:
        return []
    out = [
        "Paired tests on test WER (delta = WER a - WER b, positive when b "
        "is better; 95 % bootstrap interval):",
        "",
        "| a | b | seeds | WER a (%) | WER b (%) | delta | 95 % interval "
        "| p | P(b better) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in found:
        t = c.test
        out.append(
            f"| {c.a.unit} {c.a.num_layers}L | {c.b.unit} {c.b.num_layers}L "
            f"| {len(c.seeds)} | {t.wer_a:.2f} | {t.wer_b:.2f} | "
            f"{t.delta:+.2f} | [{t.ci_low:+.2f}, {t.ci_high:+.2f}] | "
            f"{fmt_p(t)} | {t.prob_b_better:.3f} |"
        )
    return out + [""]


def _gain_section(gains):
    if not gains:
        return []
    out = [
        "WER gain per added layer (points; test), and whether b gains more "
        "than a (difference = gain b - gain a, paired bootstrap over "
        "utterances of the four systems):",
        "",
        "| layers | a | b | gain a | gain b | difference | 95 % interval | p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in gains:
        t = g.test
        out.append(
            f"| {g.depth} -> {g.deeper} | {g.unit_a} | {g.unit_b} | "
            f"{g.gain_a:+.2f} | {g.gain_b:+.2f} | {t.delta:+.2f} | "
            f"[{t.ci_low:+.2f}, {t.ci_high:+.2f}] | {fmt_p(t)} |"
        )
    return out + [""]


def _convergence_section(group):
    curves = [(c, c.epoch_means("dev_ce")) for c in group]
    epochs = max((len(v) for _, v in curves), default=0)
    if not epochs:
        return []
    out = [
        "Dev cross-entropy (nats/frame) after each epoch, and the training "
        "loss of the last epoch, mean over seeds:",
        "",
        "| unit | layers | "
        + " | ".join(f"ep. {e + 1}" for e in range(epochs))
        + " | train loss, last epoch |",
        "|---|---|" + "---|" * (epochs + 1),
    ]
    for cell, values in curves:
        cols = [f"{v:.3f}" for v in values] + ["-"] * (epochs - len(values))
        losses = cell.epoch_means("train_loss")
        cols.append(f"{losses[-1]:.3f}" if losses else "-")
        out.append(
            f"| {cell.unit} | {cell.num_layers} | " + " | ".join(cols) + " |"
        )
    return out + [""]


def _activity_section(group):
    rows = [(c, a) for c in group for a in c.activity()]
    if not rows:
        return []
    out = [
        "Last hidden layer on dev (the paper's Fig. 2 statistics): mean "
        "activation probability and fraction of units never active, per "
        "activity rule, mean over seeds:",
        "",
        "| unit | layers | rule | mean activation probability | never active |",
        "|---|---|---|---|---|",
    ]
    for cell, (label, mean, dead) in rows:
        out.append(
            f"| {cell.unit} | {cell.num_layers} | {label} | {mean:.3f} | "
            f"{100 * dead:.1f} % |"
        )
    return out + [""]


def csv_text(rows):
    """``table.csv``'s text (the union of the rows' columns).

    Example
    -------
    >>> print(csv_text([{"unit": "relu", "p": 0.5}, {"unit": "tanh"}]), end="")
    unit,p
    relu,0.5
    tanh,
    """
    columns = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: ("" if isinstance(v, float) and math.isnan(v) else v)
                for k, v in row.items()
            }
        )
    return buffer.getvalue()


def write_report(plan, bootstrap_samples=10000):
    """Writes the sweep's tables and figures from its finished runs.

    Arguments
    ---------
    plan : SweepPlan
        The sweep.
    bootstrap_samples : int
        Resamples of each paired bootstrap.

    Returns
    -------
    Report
        The text, the files and the unfinished runs.
    """
    from sb_rectifier.sweep.plots import (
        plot_fig2,
        plot_learning_curves,
        plot_wer_vs_depth,
    )

    cells, missing = collect(plan)
    found = comparisons(cells, num_samples=bootstrap_samples)
    gains = gain_comparisons(cells, num_samples=bootstrap_samples)
    text = markdown(plan, cells, found, missing, bootstrap_samples, gains)
    files = []
    path = os.path.join(plan.output, "table.md")
    write_text(path, text + "\n")
    files.append(path)
    path = os.path.join(plan.output, "table.csv")
    with atomic_write(path) as fout:
        fout.write(csv_text(cell_rows(cells, found)))
    files.append(path)
    groups = {}
    for cell in cells:
        groups.setdefault(cell.axes, []).append(cell)
    for axes, group in groups.items():
        suffix = axes_suffix(axes)
        title = axes_label(axes) or None
        for name, plot in (
            ("wer_vs_depth", plot_wer_vs_depth),
            ("learning_curves", plot_learning_curves),
            ("fig2", plot_fig2),
        ):
            path = os.path.join(plan.output, f"{name}{suffix}.png")
            if plot(group, path, title=title):
                files.append(path)
    return Report(text, files, missing)
