"""Plots of activity statistics (matplotlib, Agg backend, PNG files).

* :func:`plot_sorted_activation_probability`: the format of Maas et al.
  (2013), Fig. 2: the activation probability of every hidden unit of a
  layer, units sorted by it in descending order (x = unit rank), one curve
  per network / activity rule;
* :func:`plot_layers`: the same curves for every hidden layer of one run;
* :func:`plot_histograms`: activation-value histograms per layer (log y).

The figures are drawn without ``matplotlib.pyplot`` (no global state, no
display needed) and written atomically (a temporary file, then
``os.replace``).

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


def _figure(figsize):
    """A new matplotlib Figure with an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    """Writes the figure as PNG, atomically; returns the path."""
    with atomic_write(path, "wb", makedirs=True) as fout:
        fig.savefig(fout, format="png", dpi=120)
    return path


def _sorted_desc(values):
    return sorted((float(v) for v in values), reverse=True)


def layer_curves(result, unit=None):
    """Returns the Fig. 2 curves of one layer, one per activity rule.

    Arguments
    ---------
    result : dict
        A layer's result dict (``LayerStatistics.result()``, or an entry of
        ``SparsityMonitor.results()`` / of a JSON file's ``layers``).
    unit : str or torch.nn.Module, optional
        The hidden unit, for the paper's labels; default ``result["unit"]``.

    Returns
    -------
    curves : list of (str, list of float)
        ``(label, activation probabilities)`` with labels such as
        ``"ReL"``, ``"LReL"``, ``"tanh neg"``, ``"tanh both"``.

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
        if unit is None:
            label = name
        else:
            label = paper_label(
                unit, ActiveDefinition.from_dict(entry["definition"])
            )
        curves.append((label, list(entry["activation_probability"])))
    return curves


def plot_sorted_activation_probability(
    curves, path, title=None, relative=False
):
    """Plots sorted per-unit activation probabilities (the paper's Fig. 2).

    Each curve's units are sorted by activation probability, descending;
    x is the unit rank ``0..n-1`` (as in the paper), y the probability in
    ``[0, 1]``.

    Arguments
    ---------
    curves : list of (str, sequence of float)
        ``(legend label, activation probability of every unit)``.
    path : str
        PNG file to write.
    title : str, optional
        Figure title.
    relative : bool
        If True, x is the rank as a fraction of the layer size, ``j / n``
        (to compare layers of different sizes).

    Returns
    -------
    path : str
        The written file.

    Example
    -------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "fig2.png")
    >>> _ = plot_sorted_activation_probability(
    ...     [("ReL", [0.1, 0.3, 0.2]), ("tanh both", [0.5, 0.4, 0.45])], path
    ... )
    >>> open(path, "rb").read(4)
    b'\\x89PNG'
    """
    fig = _figure((6, 4))
    ax = fig.add_subplot(1, 1, 1)
    for label, probs in curves:
        ys = _sorted_desc(probs)
        n = len(ys)
        xs = [j / n for j in range(n)] if relative else list(range(n))
        ax.plot(xs, ys, label=str(label))
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(
        "hidden unit rank / layer size" if relative else "hidden unit (sorted)"
    )
    ax.set_ylabel("activation probability")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def plot_layers(results, path, title=None):
    """Plots the sorted activation probabilities of every layer of a run.

    One line per layer and activity rule (labelled ``"<layer>"``, or
    ``"<layer> (<rule label>)"`` when a layer has several rules); x is the
    rank as a fraction of the layer size, so layers of different widths
    share the axis.

    Arguments
    ---------
    results : dict
        Layer name -> result dict, in model order.
    path : str
        PNG file to write.
    title : str, optional
        Figure title.

    Returns
    -------
    path : str
        The written file.

    Example
    -------
    >>> import os, tempfile, torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(4)
    >>> stats.update(torch.randn(20, 4))
    >>> path = os.path.join(tempfile.mkdtemp(), "layers.png")
    >>> _ = plot_layers({"layers.0.act": stats.result()}, path)
    >>> os.path.getsize(path) > 0
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
    """Plots the activation-value histogram of every layer (log y).

    The y axis is the fraction of the histogrammed values in each bin;
    the legend gives the fractions below and above the histogram range.

    Arguments
    ---------
    results : dict
        Layer name -> result dict with a ``histogram``; layers without one
        are skipped.
    path : str
        PNG file to write.
    title : str, optional
        Figure title.

    Returns
    -------
    path : str
        The written file.

    Example
    -------
    >>> import os, tempfile, torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(4, hist_bins=10, hist_range=(-1, 1))
    >>> stats.update(torch.randn(50, 4))
    >>> path = os.path.join(tempfile.mkdtemp(), "hist.png")
    >>> _ = plot_histograms({"layers.0.act": stats.result()}, path)
    >>> open(path, "rb").read(4)
    b'\\x89PNG'
    """
    fig = _figure((7, 4))
    ax = fig.add_subplot(1, 1, 1)
    drawn = False
    for layer, result in results.items():
        hist = result.get("histogram")
        if not hist or not hist.get("values"):
            continue
        total = float(hist["values"])
        fractions = [
            c / total if c > 0 else float("nan") for c in hist["counts"]
        ]
        under = hist["underflow"] / total
        over = hist["overflow"] / total
        ax.stairs(
            fractions,
            hist["edges"],
            label=f"{layer} (<lo: {under:.2g}, >=hi: {over:.2g})",
        )
        drawn = True
    if drawn:
        ax.set_yscale("log")
        ax.legend(fontsize="small")
    ax.set_xlabel("activation value")
    ax.set_ylabel("fraction of values")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
