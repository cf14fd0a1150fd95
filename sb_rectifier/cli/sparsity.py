"""``sb-rectifier sparsity plot``: the paper's Fig. 2 over several runs.

Authors
 * sb_rectifier developers 2026
"""

import os


def register(subparsers):
    """Adds the ``sparsity`` subcommand (with its ``plot`` action).

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(
    ...     ["sparsity", "plot", "run1", "run2", "-o", "f.png"]
    ... )
    >>> args.runs, args.split, args.layer
    (['run1', 'run2'], 'dev', 'last')
    """
    parser = subparsers.add_parser(
        "sparsity", help="hidden-unit sparsity statistics of finished runs"
    )
    actions = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    plot = actions.add_parser(
        "plot",
        help="overlay sorted per-unit activation probabilities (Fig. 2)",
        description="Overlays, for each run, the per-unit activation "
        "probabilities of one hidden layer (by default the last), units sorted "
        "by probability, as in Fig. 2 of Maas et al. (2013): legend ReL, LReL, "
        "tanh neg (h > -0.95), tanh both (-0.95 < h < 0.95).",
    )
    plot.add_argument(
        "runs", nargs="+", metavar="RUN_DIR", help="train.py output folders"
    )
    plot.add_argument("-o", "--output", required=True, help="PNG file to write")
    plot.add_argument(
        "--split",
        default="dev",
        help="statistics file <RUN_DIR>/sparsity/<SPLIT>.json",
    )
    plot.add_argument(
        "--layer",
        default="last",
        help="hidden layer name (e.g. layers.3.act) or 'last'",
    )
    plot.add_argument("--title", default=None)
    plot.set_defaults(func=run_plot)


def fig2_curves(run_dirs, split="dev", layer="last"):
    """The Fig. 2 curves of several runs: one per (run, activity rule).

    Arguments
    ---------
    run_dirs : list of str
        Experiment folders with ``sparsity/<split>.json``.
    split : str
        Which statistics file.
    layer : str
        Hidden layer name, or ``"last"``.

    Returns
    -------
    list of tuple
        ``(label, per-unit activation probabilities)``.

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
    >>> from sb_rectifier.sparsity import collect
    >>> run = getfixture("tmp_path")
    >>> model = RectifierDNN(input_size=4, num_layers=2, neurons=3)
    >>> with collect(model, run / "sparsity", "dev"):
    ...     _ = model(torch.randn(10, 4))
    >>> [(label, len(p)) for label, p in fig2_curves([run])]
    [('ReL', 3)]
    """
    from sb_rectifier.sparsity.export import read_json
    from sb_rectifier.sparsity.plots import layer_curves

    curves = []
    for run in run_dirs:
        path = os.path.join(run, "sparsity", f"{split}.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: no sparsity statistics (run train.py with sparsity_folder set)"
            )
        layers = read_json(path)["layers"]
        name = list(layers)[-1] if layer == "last" else layer
        if name not in layers:
            raise KeyError(
                f"{path}: no layer '{name}' (layers: {', '.join(layers)})"
            )
        curves.extend(layer_curves(layers[name]))
    return curves


def run_plot(args):
    """Writes the overlay and prints one line per curve.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0.

    Example
    -------
    >>> import argparse, torch
    >>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
    >>> from sb_rectifier.sparsity import collect
    >>> run = getfixture("tmp_path")
    >>> model = RectifierDNN(input_size=4, num_layers=1, neurons=2)
    >>> with collect(model, run / "sparsity", "dev"):
    ...     _ = model(torch.ones(5, 4))
    >>> args = argparse.Namespace(
    ...     runs=[run],
    ...     split="dev",
    ...     layer="last",
    ...     title=None,
    ...     output=run / "fig2.png",
    ... )
    >>> run_plot(args)  # doctest: +ELLIPSIS
           ReL: mean activation probability ..., units never active .../2
    figure: .../fig2.png
    0
    """
    import numpy as np

    from sb_rectifier.sparsity.plots import plot_sorted_activation_probability

    curves = fig2_curves(args.runs, args.split, args.layer)
    plot_sorted_activation_probability(curves, args.output, title=args.title)
    for label, probs in curves:
        p = np.asarray(probs)
        print(
            f"{label:>10}: mean activation probability {p.mean():.3f}, "
            f"median {np.median(p):.3f}, max {p.max():.3f}, "
            f"units never active {int((p == 0).sum())}/{len(p)}"
        )
    print(f"figure: {args.output}")
    return 0
