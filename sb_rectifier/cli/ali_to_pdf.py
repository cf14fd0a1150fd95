"""The ``ali-to-pdf`` subcommand: Kaldi's ``ali-to-pdf`` without Kaldi.

Reads transition-id alignments and writes the pdf id of every frame, in
the same formats as Kaldi's tool::

    sb-rectifier ali-to-pdf exp/tri3_ali/final.mdl \\
        "ark:gunzip -c exp/tri3_ali/ali.1.gz|" ark,t:-

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import os
import sys

from sb_rectifier.kaldi.archives import read_int_vectors, write_int_vectors
from sb_rectifier.kaldi.transition_model import TransitionModel


def register(subparsers):
    """Adds the ``ali-to-pdf`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["ali-to-pdf", "final.mdl", "ark:a", "ark:b"])
    >>> args.model, args.alignments, args.pdfs
    ('final.mdl', 'ark:a', 'ark:b')
    """
    parser = subparsers.add_parser(
        "ali-to-pdf",
        help="convert transition-id alignments to pdf ids (Kaldi ali-to-pdf)",
        description="Converts alignments (transition-ids) to pdf ids, like "
        "Kaldi's ali-to-pdf. Reads any Kaldi rspecifier or a plain (gzip'd) "
        "archive; writes any Kaldi wspecifier (ark:, ark,t:, ark,scp:, -) "
        "or a plain path (.gz = gzip'd binary archive).",
    )
    parser.add_argument(
        "model", metavar="MODEL", help="Kaldi model (final.mdl), text or binary"
    )
    parser.add_argument(
        "alignments",
        metavar="ALI_RSPECIFIER",
        help="alignments, e.g. 'ark:gunzip -c ali.1.gz|' or ali.1.gz",
    )
    parser.add_argument(
        "pdfs", metavar="PDF_WSPECIFIER", help="output, e.g. ark,t:pdf.txt"
    )
    parser.set_defaults(func=run)


def run(args):
    """Converts the alignments of ``args.alignments`` to pdf ids.

    Arguments
    ---------
    args : argparse.Namespace
        With ``model``, ``alignments`` and ``pdfs``.

    Returns
    -------
    int
        0 on success (errors raise and become exit status 1 in ``main``).

    Example
    -------
    >>> import argparse
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> tmp = getfixture("tmpdir")
    >>> TransitionModel.monophone(HmmTopology.left_to_right([1])).write(
    ...     tmp / "final.mdl"
    ... )
    >>> _ = open(tmp / "ali.txt", "w").write("u1 1 2 3 4 5 6 \\n")
    >>> args = argparse.Namespace(
    ...     model=str(tmp / "final.mdl"),
    ...     alignments=f"ark:{tmp}/ali.txt",
    ...     pdfs=f"ark,t:{tmp}/pdf.txt",
    ... )
    >>> run(args)
    0
    >>> open(tmp / "pdf.txt").read()
    'u1 0 0 1 1 2 2 \\n'
    """
    model = TransitionModel.read(args.model)

    def convert():
        for utt, tids in read_int_vectors(args.alignments):
            context = f"{args.alignments}: utterance '{utt}'"
            yield utt, model.ali_to_pdf(tids, context=context)

    try:
        count = write_int_vectors(args.pdfs, convert())
    except BrokenPipeError:
        # The reader went away (e.g. "| head"): stop quietly, as a Kaldi
        # tool killed by SIGPIPE would; 141 = 128 + SIGPIPE.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    print(
        f"LOG (ali-to-pdf:main()) Converted {count} alignments to pdfs.",
        file=sys.stderr,
    )
    return 0
