"""Comparing finished runs: a markdown table and learning curves.

A run folder is what ``train.py`` writes: ``summary.json`` (final figures
of the best checkpoint), ``metrics.json`` (one record per epoch) and
``hyperparams.yaml``.

Authors
 * sb_rectifier developers 2026
"""

import json
import os
import re

from sb_rectifier.files import atomic_write


def load_run(run_dir):
    """Reads a run folder.

    Arguments
    ---------
    run_dir : str
        Experiment folder written by ``train.py``.

    Returns
    -------
    dict
        ``name``, ``summary``, ``metrics`` and the ``unit``, ``num_layers``
        and ``neurons`` read from ``hyperparams.yaml``.
    """
    files = {}
    for name in ("summary.json", "metrics.json", "hyperparams.yaml"):
        path = os.path.join(run_dir, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: not found (is {run_dir} a finished run?)"
            )
        with open(path, encoding="utf-8") as fin:
            files[name] = fin.read()
    hparams = {}
    for key in ("unit_name", "num_layers", "neurons", "seed"):
        match = re.search(
            rf"^{key}: *(.+)$", files["hyperparams.yaml"], re.MULTILINE
        )
        hparams[key] = match.group(1).strip() if match else "?"
    return {
        "name": f"{hparams['unit_name']} {hparams['num_layers']}x{hparams['neurons']}",
        "unit": hparams["unit_name"],
        "num_layers": hparams["num_layers"],
        "neurons": hparams["neurons"],
        "seed": hparams["seed"],
        "summary": json.loads(files["summary.json"]),
        "metrics": json.loads(files["metrics.json"]),
    }


def markdown_table(runs):
    """The frame metrics of runs as a markdown table.

    Arguments
    ---------
    runs : list of dict
        From :func:`load_run`.

    Returns
    -------
    str
        One row per run: dev CE, dev/test frame accuracy, best epoch.

    Example
    -------
    >>> run = {
    ...     "name": "relu 4x512",
    ...     "summary": {
    ...         "dev_ce": 1.4,
    ...         "dev_frame_acc": 56.1,
    ...         "test_frame_acc": 53.9,
    ...     },
    ...     "metrics": [
    ...         {"epoch": 1, "dev_ce": 1.5},
    ...         {"epoch": 2, "dev_ce": 1.4},
    ...     ],
    ... }
    >>> print(markdown_table([run]))
    | model | dev CE (nats/frame) | dev frame acc. (%) | test frame acc. (%) | best epoch / epochs |
    |---|---|---|---|---|
    | relu 4x512 | 1.400 | 56.10 | 53.90 | 2 / 2 |
    """
    lines = [
        "| model | dev CE (nats/frame) | dev frame acc. (%) | test frame acc. (%) | best epoch / epochs |",
        "|---|---|---|---|---|",
    ]
    for run in runs:
        s = run["summary"]
        best = min(run["metrics"], key=lambda r: r["dev_ce"])["epoch"]
        test = f"{s['test_frame_acc']:.2f}" if "test_frame_acc" in s else "-"
        lines.append(
            f"| {run['name']} | {s['dev_ce']:.3f} | {s['dev_frame_acc']:.2f} | "
            f"{test} | {best} / {len(run['metrics'])} |"
        )
    return "\n".join(lines)


def plot_learning_curves(runs, path):
    """Dev cross-entropy and frame accuracy per epoch, one line per run.

    Arguments
    ---------
    runs : list of dict
        From :func:`load_run`.
    path : str
        PNG file to write (atomically).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_ce, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for run in runs:
        epochs = [r["epoch"] for r in run["metrics"]]
        ax_ce.plot(
            epochs,
            [r["dev_ce"] for r in run["metrics"]],
            marker="o",
            label=run["name"],
        )
        ax_acc.plot(
            epochs,
            [r["dev_frame_acc"] for r in run["metrics"]],
            marker="o",
            label=run["name"],
        )
    ax_ce.set(xlabel="epoch", ylabel="dev cross-entropy (nats/frame)")
    ax_acc.set(xlabel="epoch", ylabel="dev frame accuracy (%)")
    for ax in (ax_ce, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    try:
        with atomic_write(path, "wb") as fout:
            fig.savefig(fout, format="png", dpi=120)
    finally:
        plt.close(fig)
