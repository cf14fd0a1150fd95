"""``sb-rectifier align``: forced alignment with a trained GMM system.

Kaldi's ``steps/align_si.sh``: ``ALI_DIR`` gets ``final.mdl``, ``tree``,
``ali.N.gz``, ``num_jobs`` (what ``train.py --train_ali_dir`` reads) and
``failed.txt``, one line per utterance that could not be aligned with its
reason.

Authors
 * sb_rectifier developers 2026
"""


def register(subparsers):
    """Adds the ``align`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["align", "data", "lang", "exp/tri1", "ali"])
    >>> args.beam, args.retry_beam, args.jobs
    (10.0, 40.0, 1)
    """
    parser = subparsers.add_parser(
        "align",
        help="align a data folder with a GMM system (as align_si.sh)",
        description="Aligns DATA_DIR with the system in GMM_DIR (final.mdl, "
        "tree) and writes ALI_DIR in Kaldi's layout; utterances that fail at "
        "the beam are retried at the retry beam, and those that still fail are "
        "listed in ALI_DIR/failed.txt with the reason.",
    )
    parser.add_argument("data_dir", metavar="DATA_DIR")
    parser.add_argument("lang_dir", metavar="LANG_DIR")
    parser.add_argument("gmm_dir", metavar="GMM_DIR")
    parser.add_argument("ali_dir", metavar="ALI_DIR")
    parser.add_argument("--beam", type=float, default=10.0)
    parser.add_argument("--retry-beam", type=float, default=40.0)
    parser.add_argument("--boost-silence", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args):
    """Aligns and prints the summary.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 (errors raise ``OSError`` / ``ValueError``).
    """
    from sb_rectifier.gmm.train import align_data_dir

    summary = align_data_dir(
        args.data_dir,
        args.lang_dir,
        args.gmm_dir,
        args.ali_dir,
        beam=args.beam,
        retry_beam=args.retry_beam,
        jobs=args.jobs,
        boost_silence=args.boost_silence,
        progress=not args.no_progress,
    )
    print(
        f"{args.ali_dir}: {summary['utterances']} utterances aligned, "
        f"{summary['failed']} failed"
    )
    return 0
