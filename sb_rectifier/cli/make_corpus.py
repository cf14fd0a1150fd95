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
    from sb_rectifier.corpus.make_corpus import MAX_SPEAKERS, CorpusConfig

    default = CorpusConfig()
    parser = subparsers.add_parser(
        "make-corpus",
        help="synthesise the embedded telephone-speech corpus (Kaldi format)",
        description="Synthesises speech with eSpeak NG (GPL-3.0, loaded at "
        "run time) and writes a Kaldi-format corpus with exact alignments: "
        "wav files, data dirs with 40-dim fbank features and CMVN, a lexicon, "
        "a 3-state HMM transition model (final.mdl) and ali.*.gz. OUT_DIR "
        "must be new, empty, or hold the corpus made with the same options "
        "(then it is reused); anything else is refused and left untouched.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR",
                        help="corpus folder: new, empty, or this very corpus (reused)")  # fmt: skip
    parser.add_argument("--hours", type=float, default=default.hours,
                        help="training speech in hours, > 0; dev and test get "
                        "1/6 each (default: %(default)s)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=default.seed,
                        help="random seed, >= 0 (default: %(default)s)")  # fmt: skip
    parser.add_argument("--sample-rate", type=int, default=default.sample_rate,
                        help="samples per second, at least 8000 (the telephone "
                        "band reaches 3400 Hz) and a multiple of 100 "
                        "(default: %(default)s)")  # fmt: skip
    parser.add_argument("--speakers", type=int, default=default.num_speakers,
                        help=f"speakers in all, 13 to {MAX_SPEAKERS}: 6 dev, "
                        "6 test, the rest train (default: %(default)s)")  # fmt: skip
    parser.add_argument("--snr", type=float, nargs=2, default=default.snr_db,
                        metavar=("MIN_DB", "MAX_DB"),
                        help="range of the per-utterance SNR, MIN <= MAX "
                        "(default: 5 25)")  # fmt: skip
    parser.add_argument("--speed-perturb", type=float, nargs="*", default=[],
                        metavar="FACTOR",
                        help="speed factors from 0.5 to 2.0, as Kaldi's "
                        "perturb_data_dir_speed_3way.sh with 0.9 1.0 1.1: one "
                        "copy of the training set per factor, utterance and "
                        "speaker ids prefixed sp<FACTOR>- (1.0 keeps the "
                        "original ids; leave it out to drop the original); "
                        "dev and test are not perturbed (default: none)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes, >= 1 (default: all cores; the "
                        "bytes do not depend on it)")  # fmt: skip
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
        0 (bad options and folders raise ``CorpusError``, a
        ``ValueError``, which ``sb-rectifier`` reports as an error).

    Example
    -------
    >>> import argparse
    >>> run(
    ...     argparse.Namespace(
    ...         out_dir="unused",
    ...         hours=0.1,
    ...         seed=0,
    ...         sample_rate=8000,
    ...         speakers=48,
    ...         snr=[30, 5],
    ...         speed_perturb=[],
    ...         jobs=None,
    ...     )
    ... )  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.corpus.make_corpus.CorpusError: --snr (CorpusConfig.snr_db) MIN 30 dB is above MAX 5 dB...
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
