"""Entry point of the ``sb-rectifier`` console script.

Authors
 * sb_rectifier developers 2026
"""

import argparse
import importlib
import logging
import sys

# One module per subcommand; each exposes ``register(subparsers)``.
SUBCOMMAND_MODULES = [
    "sb_rectifier.cli.ali_to_pdf",
    "sb_rectifier.cli.hmm_info",
    "sb_rectifier.cli.make_corpus",
    "sb_rectifier.cli.make_feats",
    "sb_rectifier.cli.compare_runs",
    "sb_rectifier.cli.compute_wer",
    "sb_rectifier.cli.decode",
    "sb_rectifier.cli.make_graph",
    "sb_rectifier.cli.sparsity",
    "sb_rectifier.cli.export",
    "sb_rectifier.cli.transcribe",
    "sb_rectifier.cli.sweep",
    "sb_rectifier.cli.prepare_lang",
    "sb_rectifier.cli.compare_alignments",
    "sb_rectifier.cli.train_gmm",
    "sb_rectifier.cli.align",
    "sb_rectifier.cli.decode_gmm",
]


def build_parser():
    """Builds the argument parser with every subcommand registered.

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser.

    Example
    -------
    >>> parser = build_parser()
    >>> args = parser.parse_args(["num-pdfs", "final.mdl"])
    >>> args.command
    'num-pdfs'
    """
    parser = argparse.ArgumentParser(
        prog="sb-rectifier",
        description="DNN-HMM hybrid acoustic models with rectifier units "
        "for SpeechBrain: Kaldi-format tools and utilities.",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True
    )
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv=None):
    """Runs one subcommand and returns its exit status.

    Arguments
    ---------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when the command reported an error.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (OSError, ValueError, KeyError) as err:
        print(f"sb-rectifier {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
