"""The figures of a sweep (one group of cells: one value of each axis).

Each function takes the cells of one group and a PNG path, writes it
atomically and returns True, or returns False when there is nothing to
plot (e.g. no run has sparsity statistics).

Authors
 * sb_rectifier developers 2026
"""

import math

from sb_rectifier.files import atomic_write


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    plt = _pyplot()
    try:
        fig.tight_layout()
        with atomic_write(path, "wb") as fout:
            fig.savefig(fout, format="png", dpi=120)
    finally:
        plt.close(fig)
    return True


def _by_unit(cells):
    units = {}
    for cell in cells:
        units.setdefault(cell.unit, []).append(cell)
    return {u: sorted(c, key=lambda c: c.num_layers) for u, c in units.items()}


def plot_wer_vs_depth(cells, path, title=None):
    """Test WER and dev cross-entropy against depth, one line per unit
    (error bars: std over seeds).

    Arguments
    ---------
    cells : list of Cell
        One group of a sweep.
    path : str
        PNG to write.
    title : str, optional
        Figure title.

    Returns
    -------
    bool
        Whether a figure was written.
    """
    plt = _pyplot()
    fig, (ax_wer, ax_ce) = plt.subplots(1, 2, figsize=(10, 4))
    plotted = False
    for unit, column in _by_unit(cells).items():
        depths = [c.num_layers for c in column]
        for ax, key in ((ax_wer, "test_wer"), (ax_ce, "dev_ce")):
            stats = [c.stat(key) for c in column]
            means = [m for m, _ in stats]
            if all(math.isnan(m) for m in means):
                continue
            errs = [0.0 if math.isnan(s) else s for _, s in stats]
            ax.errorbar(
                depths, means, yerr=errs, marker="o", capsize=3, label=unit
            )
            plotted = True
    ax_wer.set(xlabel="hidden layers", ylabel="test WER (%)")
    ax_ce.set(xlabel="hidden layers", ylabel="dev cross-entropy (nats/frame)")
    for ax in (ax_wer, ax_ce):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    if title:
        fig.suptitle(title)
    if not plotted:
        plt.close(fig)
        return False
    return _save(fig, path)


def plot_learning_curves(cells, path, title=None):
    """Dev cross-entropy per epoch, one panel per depth, one line per unit
    (the mean over seeds; each seed's run as a thin line).

    Arguments
    ---------
    cells : list of Cell
        One group of a sweep.
    path : str
        PNG to write.
    title : str, optional
        Figure title.

    Returns
    -------
    bool
        Whether a figure was written.
    """
    plt = _pyplot()
    depths = sorted({c.num_layers for c in cells})
    if not depths:
        return False
    fig, axes = plt.subplots(
        1, len(depths), figsize=(4 * len(depths), 3.6), squeeze=False
    )
    for ax, depth in zip(axes[0], depths, strict=True):
        for cell in cells:
            if cell.num_layers != depth:
                continue
            values = cell.epoch_means("dev_ce")
            line = ax.plot(
                range(1, len(values) + 1),
                values,
                marker="o",
                label=f"{cell.unit} (mean of {len(cell.results)})",
            )[0]
            for result in cell.results:  # each seed, thin
                seed_values = [r["dev_ce"] for r in result.metrics]
                ax.plot(
                    range(1, len(seed_values) + 1),
                    seed_values,
                    color=line.get_color(),
                    alpha=0.35,
                    linewidth=0.8,
                )
        ax.set(
            xlabel="epoch",
            ylabel="dev cross-entropy (nats/frame)",
            title=f"{depth} hidden layer{'s' if depth > 1 else ''}",
        )
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_fig2(cells, path, title=None):
    """The paper's Fig. 2 for the deepest nets: sorted activation
    probability of the last hidden layer's units on dev, one curve per unit
    (and activity rule), from each unit's first seed.

    Arguments
    ---------
    cells : list of Cell
        One group of a sweep.
    path : str
        PNG to write.
    title : str, optional
        Figure title.

    Returns
    -------
    bool
        Whether a figure was written (False: no sparsity statistics).
    """
    if not cells:
        return False
    deepest = max(c.num_layers for c in cells)
    curves = []
    for cell in cells:
        if cell.num_layers == deepest and cell.results:
            curves.extend(cell.results[0].last_layer_curves() or [])
    if not curves:
        return False
    from sb_rectifier.sparsity.plots import plot_sorted_activation_probability

    heading = f"last of {deepest} hidden layers, dev"
    plot_sorted_activation_probability(
        curves, path, title=f"{title}: {heading}" if title else heading
    )
    return True
