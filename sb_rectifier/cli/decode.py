"""``sb-rectifier decode``: 1-best decoding of log-likelihoods with an HCLG.

Like Kaldi's ``latgen-faster-mapped`` (1-best only, no lattices): the
graph has transition-id inputs, the log-likelihoods are per pdf, and the
transition model maps one to the other.

Inputs are checked before decoding starts: words.txt, the graph's header
and the model; an ``ark:`` input is read once here, each matrix checked
against the model's number of pdfs, and indexed in a temporary folder
next to the output (pid-tagged, removed on error, on ``SIGTERM`` and
``Ctrl-C``; after a ``kill -9``, the next run removes it). Errors name the
file, the utterance, the line or the word id; the hypotheses are written
atomically.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading

_SPECIFIER = re.compile(
    r"^(?P<kind>ark|scp)(?P<options>(,[a-z]+)*):(?P<path>.*)$"
)


def register(subparsers):
    """Adds the ``decode`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(
    ...     [
    ...         "decode",
    ...         "HCLG.fst",
    ...         "words.txt",
    ...         "final.mdl",
    ...         "scp:ll.scp",
    ...         "ark,t:hyp",
    ...     ]
    ... )
    >>> args.acoustic_scale, args.beam
    (0.1, 13.0)
    """
    parser = subparsers.add_parser(
        "decode",
        help="1-best decoding of log-likelihoods (as latgen-faster-mapped)",
        description="Decodes a Kaldi archive of per-pdf log-likelihoods with an "
        "HCLG graph (vector or const FST, transition-id inputs) and writes the "
        "1-best words as Kaldi text (utt word word ...).",
    )
    parser.add_argument("graph", help="HCLG.fst")
    parser.add_argument("words", help="words.txt of the graph")
    parser.add_argument("model", help="transition model (final.mdl)")
    parser.add_argument("loglikes", help="rspecifier, e.g. scp:loglikes.scp")
    parser.add_argument(
        "hyp", help="wspecifier of the words, e.g. ark,t:hyp.txt or a path"
    )
    parser.add_argument("--acoustic-scale", type=float, default=0.1)
    parser.add_argument("--word-ins-penalty", type=float, default=0.0)
    parser.add_argument("--beam", type=float, default=13.0)
    parser.add_argument("--max-active", type=int, default=7000)
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: all cores)",
    )
    parser.add_argument(
        "--alignments", metavar="WSPECIFIER",
        help="also write the per-frame transition-ids (Kaldi int vectors)",
    )  # fmt: skip
    parser.set_defaults(func=run)


def _text_target(wspecifier):
    for prefix in ("ark,t:", "ark:"):
        if wspecifier.startswith(prefix):
            return wspecifier[len(prefix) :]
    return wspecifier


def _rspecifier(spec):
    """``(kind, path)`` of an ``scp:``/``ark:`` rspecifier (options dropped)."""
    match = _SPECIFIER.match(spec)
    if match is None or not match["path"].strip():
        raise ValueError(
            f"{spec}: expected a log-likelihood rspecifier 'scp:FILE' or "
            "'ark:FILE' (or 'ark:-', 'ark:COMMAND |')"
        )
    return match["kind"], match["path"]


@contextlib.contextmanager
def _exit_on_sigterm():
    """Turns ``SIGTERM`` into ``SystemExit`` so that clean-ups run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _temp_folder(near):
    """A pid-tagged temporary folder next to ``near``, removed at the end."""
    from sb_rectifier.files import WriteError, temp_sibling

    folder = temp_sibling(near)
    try:
        os.mkdir(folder)
    except OSError as err:
        raise WriteError(
            err.errno,
            f"{folder}: cannot create the temporary folder: {err.strerror}",
        ) from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args):
    """Decodes and writes the hypotheses.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 (errors raise ``OSError`` / ``ValueError``, exit status 1).
    """
    from sb_rectifier.decoding import ParallelDecoder, read_symbols
    from sb_rectifier.decoding.parallel import index_ark
    from sb_rectifier.decoding.tuning import words_of
    from sb_rectifier.files import atomic_write, clean_stale_temps
    from sb_rectifier.kaldi import write_int_vectors

    for option, value in (
        ("--jobs", args.jobs),
        ("--beam", args.beam),
        ("--max-active", args.max_active),
        ("--acoustic-scale", args.acoustic_scale),
    ):
        if value is not None and not value > 0:
            raise ValueError(f"{option} must be positive, got {value}")
    id2word = {i: w for w, i in read_symbols(args.words).items()}
    kind, path = _rspecifier(args.loglikes)
    target = _text_target(args.hyp)
    if target != "-":
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"{target}: cannot write the hypotheses, folder {folder} "
                "does not exist"
            )
    near = (
        os.path.join(tempfile.gettempdir(), "sb-rectifier-decode")
        if target == "-"
        else target
    )
    # What killed runs left there (index folders, half-written outputs).
    clean_stale_temps(os.path.dirname(os.path.abspath(near)))
    with (
        _exit_on_sigterm(),
        ParallelDecoder(
            args.graph, args.model, args.jobs, args.beam, args.max_active
        ) as decoder,
    ):
        if kind == "scp":
            results = decoder.decode(
                path, args.acoustic_scale, args.word_ins_penalty
            )
        else:  # an ark or a pipe: check and index it once, then decode
            with _temp_folder(near) as tmp:
                scp = index_ark(path, tmp, decoder.num_pdfs, args.model)
                results = decoder.decode(
                    scp,
                    args.acoustic_scale,
                    args.word_ins_penalty,
                    source=path,
                )
    lines = [
        " ".join([u, *words_of(r, id2word, u, args.words)]) + "\n"
        for u, r in results.items()
    ]
    if target == "-":
        sys.stdout.writelines(lines)
        sys.stdout.flush()
    else:
        with atomic_write(target) as fout:
            fout.writelines(lines)
    if args.alignments:
        write_int_vectors(
            args.alignments, ((u, r.alignment) for u, r in results.items())
        )
    partial = decoder.last_not_final
    print(
        f"LOG (sb-rectifier decode) Decoded {len(results)} utterances "
        f"({decoder.last_frames} frames) in {decoder.last_seconds:.2f} s; "
        f"{partial} did not reach a final state.",
        file=sys.stderr,
    )
    return 0
