"""``sb-rectifier make-corpus``: the embedded synthetic corpus.

Authors
 * sb_rectifier developers 2026
"""

import json


def register(subparsers):
    """Adds the ``make-corpus`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["make-corpus", "out", "--hours", "0.1"]).hours
    0.1
    """
    from sb_rectifier.corpus.make_corpus import CorpusConfig

    default = CorpusConfig()
    parser = subparsers.add_parser(
        "make-corpus",
        help="synthesise the embedded telephone-speech corpus (Kaldi format)",
        description="Synthesises speech with eSpeak NG (GPL-3.0, loaded at "
        "run time) and writes a Kaldi-format corpus with exact alignments: "
        "wav files, data dirs with 40-dim fbank features and CMVN, a lexicon, "
        "a 3-state HMM transition model (final.mdl) and ali.*.gz.",
    )
    parser.add_argument("out_dir", help="corpus folder (reused if complete)")
    parser.add_argument("--hours", type=float, default=default.hours,
                        help="training speech in hours; dev and test get 1/6 each")  # fmt: skip
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--sample-rate", type=int, default=default.sample_rate)
    parser.add_argument("--speakers", type=int, default=default.num_speakers,
                        help="speakers in all (6 dev, 6 test, the rest train)")  # fmt: skip
    parser.add_argument("--snr", type=float, nargs=2, default=default.snr_db,
                        metavar=("MIN_DB", "MAX_DB"), help="range of the per-utterance SNR")  # fmt: skip
    parser.add_argument("--speed-perturb", type=float, nargs="*", default=[],
                        metavar="FACTOR", help="e.g. 0.9 1.0 1.1 (default: none)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes (default: all cores; the bytes do not depend on it)")  # fmt: skip
    parser.set_defaults(func=run)


def run(args):
    """Makes the corpus and prints its statistics.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0.
    """
    from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus

    config = CorpusConfig(
        hours=args.hours,
        seed=args.seed,
        sample_rate=args.sample_rate,
        num_speakers=args.speakers,
        snr_db=tuple(args.snr),
        speed_perturb=tuple(args.speed_perturb),
    )
    info = make_corpus(args.out_dir, config, num_workers=args.jobs)
    print(
        json.dumps({k: v for k, v in info.items() if k != "config"}, indent=2)
    )
    return 0
