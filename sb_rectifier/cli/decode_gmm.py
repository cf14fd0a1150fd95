"""``sb-rectifier decode-gmm``: one-best decoding with a GMM system.

Kaldi's ``steps/decode.sh`` (1-best only): writes ``DECODE_DIR/hyp.txt``
and, when ``DATA_DIR`` has ``text``, ``wer.txt`` and ``per_utt.txt``.

Authors
 * sb_rectifier developers 2026
"""


def register(subparsers):
    """Adds the ``decode-gmm`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["decode-gmm", "graph", "data", "exp", "out"])
    >>> args.acoustic_scale, args.beam, args.max_active
    (0.0833, 13.0, 7000)
    """
    parser = subparsers.add_parser(
        "decode-gmm",
        help="1-best decoding with a GMM system (as decode.sh)",
        description="Decodes DATA_DIR with the GMM system in GMM_DIR and the "
        "graph in GRAPH_DIR (HCLG.fst, words.txt); writes hyp.txt and, with a "
        "reference text, wer.txt and per_utt.txt into DECODE_DIR.",
    )
    parser.add_argument("graph_dir", metavar="GRAPH_DIR")
    parser.add_argument("data_dir", metavar="DATA_DIR")
    parser.add_argument("gmm_dir", metavar="GMM_DIR")
    parser.add_argument("decode_dir", metavar="DECODE_DIR")
    parser.add_argument("--acoustic-scale", type=float, default=0.0833)
    parser.add_argument("--beam", type=float, default=13.0)
    parser.add_argument("--max-active", type=int, default=7000)
    parser.add_argument(
        "--ali-dir",
        metavar="ALI_DIR",
        help="alignments of DATA_DIR (from align with this tree): the GMM's "
        "frame accuracy is reported too",
    )
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args):
    """Decodes and prints the WER line.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 (errors raise ``OSError`` / ``ValueError``).
    """
    from sb_rectifier.gmm.decode import decode_gmm

    report = decode_gmm(
        args.graph_dir,
        args.data_dir,
        args.gmm_dir,
        args.decode_dir,
        acoustic_scale=args.acoustic_scale,
        beam=args.beam,
        max_active=args.max_active,
        jobs=args.jobs,
        ali_dir=args.ali_dir,
        progress=not args.no_progress,
    )
    print(report.get("kaldi") or f"{report['utterances']} utterances decoded")
    if report.get("frame_acc") is not None:
        skipped = report["frame_acc_skipped"]
        print(
            f"frame accuracy {100 * report['frame_acc']:.2f} % over "
            f"{report['frame_acc_frames']} frames"
            + (
                f" ({len(skipped)} utterances without alignment)"
                if skipped
                else ""
            )
        )
    return 0
