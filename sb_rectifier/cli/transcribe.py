"""``sb-rectifier transcribe`` and ``force-align`` with an exported model.

Authors
 * sb_rectifier developers 2026
"""


def register(subparsers):
    """Adds the ``transcribe`` and ``force-align`` subcommands.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["force-align", "m", "a.wav", "ONE TWO"]).text
    'ONE TWO'
    """
    parser = subparsers.add_parser(
        "transcribe", help="transcribe audio files with an exported model"
    )
    parser.add_argument("model", metavar="MODEL", help="folder or repo id")
    parser.add_argument("wavs", nargs="+", metavar="AUDIO")
    parser.set_defaults(func=run_transcribe)
    parser = subparsers.add_parser(
        "force-align",
        help="align a known transcript to audio with an exported model "
        "(CTM on stdout)",
    )
    parser.add_argument("model", metavar="MODEL", help="folder or repo id")
    parser.add_argument("wav", metavar="AUDIO")
    parser.add_argument("text", metavar="TEXT", help="the words spoken")
    parser.add_argument(
        "--phones", action="store_true", help="phone segments, not words"
    )
    parser.set_defaults(func=run_align)


def _load(model):
    from sb_rectifier.inference import HybridASR

    return HybridASR.from_hparams(source=model)


def run_transcribe(args):
    """Prints ``<file> <transcript>`` per file.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.
    """
    asr = _load(args.model)
    for path in args.wavs:
        print(f"{path} {asr.transcribe_file(path)}", flush=True)


def run_align(args):
    """Prints the alignment as CTM (the file name as utterance id).

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.
    """
    import os

    asr = _load(args.model)
    alignment = asr.align_file(args.wav, args.text)
    utt = os.path.splitext(os.path.basename(args.wav))[0]
    print(alignment.ctm(utt, phones=args.phones), end="")
