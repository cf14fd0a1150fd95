"""``sb-rectifier train-gmm``: monophone then triphone GMM-HMM training.

Kaldi's ``train_mono.sh`` -> ``align_si.sh`` -> ``train_deltas.sh`` ->
``align_si.sh`` in-process (see :mod:`sb_rectifier.gmm.train`): stage
folders ``EXP_DIR/{mono,mono_ali,tri1,tri1_ali}`` in Kaldi's layout,
skipped when already complete with the same options.

Authors
 * sb_rectifier developers 2026
"""

STAGE_CHOICES = {"mono": "mono_ali", "tri": "tri1_ali"}


def register(subparsers):
    """Adds the ``train-gmm`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["train-gmm", "data", "lang", "exp"])
    >>> args.mono_gauss, args.num_leaves, args.stage, args.boost_silence
    (1000, 2000, 'tri', 1.0)
    """
    parser = subparsers.add_parser(
        "train-gmm",
        help="train mono and triphone GMM-HMMs (as train_mono/train_deltas.sh)",
        description="Trains a flat-start monophone GMM-HMM, aligns, builds a "
        "triphone tree and trains it, and aligns again, writing EXP_DIR/mono, "
        "mono_ali, tri1, tri1_ali in Kaldi's layout (final.mdl, tree, "
        "ali.N.gz, num_jobs). Finished stages are skipped.",
    )
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", help="wav.scp, utt2spk, text"
    )
    parser.add_argument(
        "lang_dir", metavar="LANG_DIR", help="prepare-lang output"
    )
    parser.add_argument("exp_dir", metavar="EXP_DIR", help="output folder")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--mono-gauss",
        type=int,
        default=1000,
        help="monophone Gaussians, reached by mixing up (train_mono.sh's "
        "totgauss; default 1000)",
    )
    parser.add_argument(
        "--mono-iters",
        type=int,
        default=40,
        help="monophone EM iterations (default 40)",
    )
    parser.add_argument(
        "--num-leaves",
        type=int,
        default=2000,
        help="most leaves (pdfs) of the triphone tree (default 2000)",
    )
    parser.add_argument(
        "--num-gauss",
        type=int,
        default=10000,
        help="triphone Gaussians, reached by mixing up (default 10000)",
    )
    parser.add_argument(
        "--tri-iters",
        type=int,
        default=35,
        help="triphone EM iterations (default 35)",
    )
    parser.add_argument(
        "--boost-silence",
        type=float,
        default=1.0,
        help="silence boost while aligning (Kaldi recipes often use 1.25)",
    )
    parser.add_argument(
        "--stage",
        choices=sorted(STAGE_CHOICES),
        default="tri",
        help="last system to train: mono (mono + mono_ali) or tri (all)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars"
    )
    parser.set_defaults(func=run)


def run(args):
    """Runs the training and prints where the stages are.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 (errors raise ``OSError`` / ``ValueError``).
    """
    from sb_rectifier.gmm.train import train_gmm

    summaries = train_gmm(
        args.data_dir,
        args.lang_dir,
        args.exp_dir,
        jobs=args.jobs,
        mono_gauss=args.mono_gauss,
        mono_iters=args.mono_iters,
        num_leaves=args.num_leaves,
        num_gauss=args.num_gauss,
        tri_iters=args.tri_iters,
        boost_silence=args.boost_silence,
        until=STAGE_CHOICES[args.stage],
        progress=not args.no_progress,
    )
    for stage, s in summaries.items():
        state = (
            "skipped (done before)"
            if s.get("skipped")
            else f"{s['seconds']:.1f} s"
        )
        print(
            f"{stage}: {state}, {s.get('failed_utterances', 0)} utterances not aligned"
        )
    return 0
