"""``sb-rectifier sweep``: the paper's depth sweep, and its table.

Units x depths x seeds (x further ``--axis`` values), each an ordinary run
of the recipe's ``train.py``; then Table 1 (``table.md``, ``table.csv``)
with significance tests, and the figures.

    sb-rectifier sweep --seeds 1234 1235                 # embedded corpus
    sb-rectifier sweep --set data_folder=/data/s5c --jobs 2
    sb-rectifier sweep --recipe recipes/Switchboard --dry-run
    sb-rectifier sweep --axis corpus_hours=1,4 --layers 3

Authors
 * sb_rectifier developers 2026
"""

import os
import sys

DEFAULT_UNITS = ["tanh", "relu", "leaky_relu"]
DEFAULT_LAYERS = [2, 3, 4]


def register(subparsers):
    """Adds the ``sweep`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["sweep", "--layers", "2", "--dry-run"])
    >>> args.layers, args.units, args.dry_run
    ([2], ['tanh', 'relu', 'leaky_relu'], True)
    """
    parser = subparsers.add_parser(
        "sweep",
        help="units x depths x seeds: run the recipe, write Table 1 + figures",
        description="Runs the recipe's train.py for every unit, depth and "
        "seed (and --axis value), skipping finished runs and resuming "
        "interrupted ones, then writes table.md / table.csv (mean +- std "
        "over seeds, paired-bootstrap p-values) and the figures in the "
        "sweep folder.",
    )
    parser.add_argument(
        "--recipe",
        default=".",
        help="folder with the recipe's train.py (default: .); runs start there",
    )
    parser.add_argument(
        "--hparams",
        default="hparams",
        help="folder of <unit>.yaml, relative to the recipe (default: hparams)",
    )
    parser.add_argument("--units", nargs="+", default=DEFAULT_UNITS)
    parser.add_argument("--layers", nargs="+", type=int, default=DEFAULT_LAYERS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1234])
    parser.add_argument(
        "--axis",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a further axis, e.g. corpus_hours=1,4 or neurons=512,2048",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an override for every run, e.g. neurons=2048",
    )
    parser.add_argument(
        "--output",
        default=os.path.join("results", "sweep"),
        help="the sweep folder (default: results/sweep)",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs at a time (default: 1)"
    )
    parser.add_argument(
        "--launcher",
        default="python",
        help="what starts train.py, e.g. 'torchrun --nproc_per_node 8' "
        "(default: python)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print one command per run (for a scheduler) and stop",
    )
    parser.add_argument(
        "--collect",
        action="store_true",
        help="run nothing: write the table from the runs finished so far "
        "(also while the sweep runs)",
    )
    parser.add_argument(
        "--bootstrap-samples",
        type=int,
        default=10000,
        help="resamples of the paired bootstrap (default: 10000)",
    )
    parser.set_defaults(func=run)


def make_plan(args):
    """The :class:`~sb_rectifier.sweep.SweepPlan` of parsed arguments.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    SweepPlan
        The sweep.
    """
    from sb_rectifier.sweep import SweepPlan, parse_axis, parse_setting

    return SweepPlan(
        recipe=args.recipe,
        hparams=args.hparams,
        output=args.output,
        units=list(args.units),
        layers=list(args.layers),
        seeds=list(args.seeds),
        axes=[parse_axis(a) for a in args.axis],
        settings=[parse_setting(s, "--set") for s in args.set],
        launcher=args.launcher,
    )


def run(args):
    """Runs (or prints) the sweep, then writes its report.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 when every run finished, 1 otherwise.
    """
    from sb_rectifier.sweep import claim_folder, run_sweep, write_report
    from sb_rectifier.sweep.runner import check_description

    plan = make_plan(args)
    if args.dry_run:
        for item in plan.runs():
            print(plan.command(item))
        return 0
    if args.collect:
        # Runs nothing, so it may look at a sweep that is still running
        # (its tables are written atomically; the last writer wins).
        check_description(plan)
        lock = None
    else:
        lock = claim_folder(plan)
    try:
        if lock is not None:
            run_sweep(plan, jobs=args.jobs)
        report = write_report(plan, bootstrap_samples=args.bootstrap_samples)
    except KeyboardInterrupt:
        print(
            "sb-rectifier sweep: interrupted; the runs under way were "
            "stopped. The same command resumes them from their checkpoints.",
            file=sys.stderr,
        )
        return 130
    finally:
        if lock is not None:
            lock.release()
    print(report.text)
    for path in report.files:
        print(f"written: {path}")
    if report.missing:
        print(
            f"sb-rectifier sweep: {len(report.missing)} of "
            f"{len(plan.runs())} runs not finished: "
            + ", ".join(r.name for r in report.missing)
        )
        return 1
    return 0
