"""``sb-rectifier make-feats``: features of a Kaldi data directory's audio.

Kaldi's ``make_fbank.sh`` / ``make_mfcc.sh`` + ``compute_cmvn_stats.sh``
without Kaldi::

    sb-rectifier make-feats data/train                  # 40-dim fbank
    sb-rectifier make-feats data/train --kind mfcc --out-dir mfcc/train

Authors
 * sb_rectifier developers 2026
"""

import json


def register(subparsers):
    """Adds the ``make-feats`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["make-feats", "data/train", "--jobs", "2"])
    >>> args.data_dir, args.kind, args.jobs, args.sample_rate
    ('data/train', 'fbank', 2, None)
    """
    parser = subparsers.add_parser(
        "make-feats",
        help="compute fbank or MFCC features + CMVN stats from wav.scp",
        description="Computes the features of every utterance of a Kaldi "
        "data directory from its audio (wav.scp: files or 'cmd |' pipes; "
        "optional segments), with per-speaker CMVN stats and utt2num_frames. "
        "fbank (40-dim, the hybrid's input) writes feats.scp, cmvn.scp and "
        "utt2num_frames into DATA_DIR (archives in --out-dir, default "
        "DATA_DIR/data); mfcc (13-dim, the GMM's input) writes them into "
        "--out-dir (required). Nothing is recomputed when the outputs were "
        "made from the same wav.scp, segments, speakers and options.",
    )
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", help="Kaldi data directory (wav.scp)"
    )
    parser.add_argument(
        "--kind",
        choices=("fbank", "mfcc"),
        default="fbank",
        help="feature kind (default: %(default)s)",
    )
    parser.add_argument(
        "--out-dir",
        default=None,
        help="fbank: folder of the archives (default: DATA_DIR/data); "
        "mfcc: folder of the tables and archives (required)",
    )
    parser.add_argument(
        "--sample-rate",
        type=int,
        default=None,
        help="rate of the features; other recordings are resampled "
        "(default: the first recording's rate)",
    )
    parser.add_argument(
        "--channel",
        type=int,
        default=None,
        help="channel of multi-channel audio, 0-based (default: audio "
        "must be mono)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes (default: %(default)s)",
    )
    parser.set_defaults(func=run)


def run(args):
    """Computes the features and prints the summary (JSON).

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 (errors raise; ``sb-rectifier`` reports them and exits 1).

    Example
    -------
    >>> import argparse
    >>> run(
    ...     argparse.Namespace(
    ...         data_dir="data/train",
    ...         kind="mfcc",
    ...         out_dir=None,
    ...         sample_rate=None,
    ...         channel=None,
    ...         jobs=1,
    ...     )
    ... )
    Traceback (most recent call last):
    ValueError: data/train: kind='mfcc' needs an out_dir (the data directory keeps its fbank feats.scp)
    """
    import sys

    from sb_rectifier.features.make_feats import make_feats

    summary = make_feats(
        args.data_dir,
        kind=args.kind,
        out_dir=args.out_dir,
        sample_rate=args.sample_rate,
        num_jobs=args.jobs,
        progress=sys.stderr.isatty(),
        channel=args.channel,
    )
    print(json.dumps(summary, indent=2))
    return 0
