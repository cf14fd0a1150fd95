"""``sb-rectifier export``: a finished experiment as a hub folder.

Authors
 * sb_rectifier developers 2026
"""


def register(subparsers):
    """Adds the ``export`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["export", "exp", "out", "--push", "me/m"]).push
    'me/m'
    """
    parser = subparsers.add_parser(
        "export",
        help="write a SpeechBrain hub folder (HybridASR) of a trained, "
        "decoded experiment; optionally upload it",
    )
    parser.add_argument("exp_dir", metavar="EXP_DIR", help="train.py output")
    parser.add_argument(
        "out_dir", metavar="OUT_DIR", help="new folder (must not hold files)"
    )
    parser.add_argument(
        "--example-wav", help="example audio (default: first test utterance)"
    )
    parser.add_argument(
        "--push",
        metavar="REPO_ID",
        help="upload the folder to this HuggingFace model repository",
    )
    parser.add_argument(
        "--private", action="store_true", help="create the repo as private"
    )
    parser.set_defaults(func=run)


def run(args):
    """Exports (and uploads); prints the folder's files.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success, 1 when the upload failed (the folder is kept).
    """
    import sys

    from sb_rectifier.inference.export import export_model
    from sb_rectifier.inference.hub import HubError, push_folder

    report = export_model(
        args.exp_dir, args.out_dir, example_wav=args.example_wav
    )
    print(f"exported to {report['folder']}:")
    for name, size in report["files"].items():
        print(f"  {name:<20} {size:>10,d} bytes")
    print(f"example.wav -> {report['example_transcript']!r}")
    if args.push:
        try:
            url = push_folder(report["folder"], args.push, args.private)
        except HubError as err:
            print(f"sb-rectifier export: error: {err}", file=sys.stderr)
            return 1
        print(f"uploaded: {url}")
    return 0
