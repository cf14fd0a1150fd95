"""Plots of sparsity statistics (matplotlib without pyplot, PNG files).

* :func:`plot_sorted_activation_probability`: Maas et al. (2013), Fig. 2:
  the activation probability of every unit of a layer, units sorted by it
  (descending), one curve per network / activity rule;
* :func:`plot_layers`: the same for every hidden layer of one run;
* :func:`plot_histograms`: activation-value histograms per layer (log y).

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.files import atomic_write
from sb_rectifier.sparsity.definitions import ActiveDefinition, paper_label

__all__ = [
    "layer_curves",
    "plot_histograms",
    "plot_layers",
    "plot_sorted_activation_probability",
]


def _axes(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig, ax, path, title):
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path, "wb", makedirs=True) as fout:
        fig.savefig(fout, format="png", dpi=120)
    return path


def layer_curves(result, unit=None):
    """The Fig. 2 curves of one layer result: ``[(label, probabilities)]``
    per rule, labelled as in the paper (``unit`` defaults to
    ``result["unit"]``; without one the labels are the rule names).

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(2, ["tanh_neg", "tanh_both"])
    >>> stats.update(torch.tensor([[-0.99, 0.0], [0.5, 0.99]]))
    >>> layer_curves(stats.result(), unit="tanh")
    [('tanh neg', [0.5, 1.0]), ('tanh both', [0.5, 0.5])]
    """
    unit = result.get("unit") if unit is None else unit
    curves = []
    for name, entry in result["definitions"].items():
        rule = ActiveDefinition.from_dict(entry["definition"])
        label = name if unit is None else paper_label(unit, rule)
        curves.append((label, list(entry["activation_probability"])))
    return curves


def plot_sorted_activation_probability(
    curves, path, title=None, relative=False
):
    """Plots ``[(label, per-unit probabilities)]`` sorted descending (x: the
    unit rank, or rank / layer size with ``relative``); returns ``path``.

    Example
    -------
    >>> path = getfixture("tmp_path") / "fig2.png"
    >>> _ = plot_sorted_activation_probability([("ReL", [0.1, 0.3])], path)
    >>> open(path, "rb").read(4)
    b'\\x89PNG'
    """
    fig, ax = _axes((6, 4))
    for label, probs in curves:
        ys = sorted((float(p) for p in probs), reverse=True)
        xs = [j / len(ys) if relative else j for j in range(len(ys))]
        ax.plot(xs, ys, label=str(label))
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(
        "hidden unit rank / layer size" if relative else "hidden unit (sorted)"
    )
    ax.set_ylabel("activation probability")
    if curves:
        ax.legend()
    return _save(fig, ax, path, title)


def plot_layers(results, path, title=None):
    """Sorted activation probabilities of every layer (and rule) of a run,
    x relative to the layer size; returns ``path``.

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(4)
    >>> stats.update(torch.randn(20, 4))
    >>> path = getfixture("tmp_path") / "layers.png"
    >>> plot_layers({"layers.0.act": stats.result()}, path).stat().st_size > 0
    True
    """
    curves = []
    for layer, result in results.items():
        entries = result["definitions"]
        for name, entry in entries.items():
            label = layer
            if len(entries) > 1:
                label = f"{layer} ({entry['definition'].get('label', name)})"
            curves.append((label, entry["activation_probability"]))
    return plot_sorted_activation_probability(
        curves, path, title, relative=True
    )


def plot_histograms(results, path, title=None):
    """Activation-value histogram of every layer that has one, as fractions
    of the histogrammed values (log y; the legend gives the fractions below
    and above the range); returns ``path``.

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(4, hist_bins=10, hist_range=(-1, 1))
    >>> stats.update(torch.randn(50, 4))
    >>> path = getfixture("tmp_path") / "hist.png"
    >>> open(plot_histograms({"l": stats.result()}, path), "rb").read(4)
    b'\\x89PNG'
    """
    fig, ax = _axes((7, 4))
    drawn = False
    for layer, result in results.items():
        hist = result.get("histogram")
        if not hist or not hist.get("values"):
            continue
        total = float(hist["values"])
        fractions = [
            c / total if c > 0 else float("nan") for c in hist["counts"]
        ]
        under, over = hist["underflow"] / total, hist["overflow"] / total
        label = f"{layer} (<lo: {under:.2g}, >=hi: {over:.2g})"
        ax.stairs(fractions, hist["edges"], label=label)
        drawn = True
    if drawn:
        ax.set_yscale("log")
        ax.legend(fontsize="small")
    ax.set_xlabel("activation value")
    ax.set_ylabel("fraction of values")
    return _save(fig, ax, path, title)
