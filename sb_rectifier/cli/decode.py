"""``sb-rectifier decode``: 1-best decoding of log-likelihoods with an HCLG.

Like Kaldi's ``latgen-faster-mapped`` (1-best only, no lattices): the
graph has transition-id inputs, the log-likelihoods are per pdf, and the
transition model maps one to the other.

Authors
 * sb_rectifier developers 2026
"""

import os
import sys
import tempfile


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


def run(args):
    """Decodes and writes the hypotheses.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0.
    """
    import kaldiio

    from sb_rectifier.decoding import ParallelDecoder, read_symbols
    from sb_rectifier.decoding.tuning import words_of
    from sb_rectifier.kaldi import write_int_vectors

    id2word = {i: w for w, i in read_symbols(args.words).items()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.loglikes.startswith("scp:"):
            scp = args.loglikes[len("scp:") :]
        else:  # an ark or a pipe: index it once, then decode in parallel
            scp = os.path.join(tmp, "loglikes.scp")
            with (
                kaldiio.ReadHelper(args.loglikes) as reader,
                kaldiio.WriteHelper(
                    f"ark,scp:{tmp}/loglikes.ark,{scp}"
                ) as writer,
            ):
                for utt, mat in reader:
                    writer(utt, mat)
        with ParallelDecoder(
            args.graph, args.model, args.jobs, args.beam, args.max_active
        ) as decoder:
            results = decoder.decode(
                scp, args.acoustic_scale, args.word_ins_penalty
            )
    lines = [
        " ".join([u, *words_of(r, id2word)]) + "\n" for u, r in results.items()
    ]
    target = _text_target(args.hyp)
    if target == "-":
        sys.stdout.writelines(lines)
    else:
        tmp_path = f"{target}.tmp"
        with open(tmp_path, "w", encoding="utf-8") as fout:
            fout.writelines(lines)
        os.replace(tmp_path, target)
    if args.alignments:
        write_int_vectors(
            args.alignments, ((u, r.alignment) for u, r in results.items())
        )
    partial = sum(not r.reached_final for r in results.values())
    print(
        f"LOG (sb-rectifier decode) Decoded {len(results)} utterances "
        f"({decoder.last_frames} frames) in {decoder.last_seconds:.2f} s; "
        f"{partial} did not reach a final state.",
        file=sys.stderr,
    )
    return 0
