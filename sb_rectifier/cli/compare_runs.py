"""``sb-rectifier compare-runs``: a table and learning curves of runs.

Authors
 * sb_rectifier developers 2026
"""


def register(subparsers):
    """Adds the ``compare-runs`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["compare-runs", "a", "b", "-o", "c.png"]).plot
    'c.png'
    """
    parser = subparsers.add_parser(
        "compare-runs",
        help="markdown table of the frame metrics of finished runs (+ plot)",
    )
    parser.add_argument(
        "runs", nargs="+", metavar="RUN_DIR", help="train.py output folders"
    )
    parser.add_argument(
        "-o", "--plot", help="also plot the learning curves to this PNG"
    )
    parser.set_defaults(func=run)


def run(args):
    """Prints the table; writes the plot when asked.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0.
    """
    from sb_rectifier.report.runs import (
        load_run,
        markdown_table,
        plot_learning_curves,
    )

    runs = [load_run(path) for path in args.runs]
    print(markdown_table(runs))
    if args.plot:
        plot_learning_curves(runs, args.plot)
        print(f"learning curves: {args.plot}")
    return 0
