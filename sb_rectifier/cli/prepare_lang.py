"""``sb-rectifier prepare-lang``: a Kaldi lang folder from a dictionary folder.

Kaldi's ``utils/prepare_lang.sh DICT_DIR OOV TMP LANG_DIR`` without Kaldi
(:func:`sb_rectifier.kaldi.prepare_lang.prepare_lang`): phones.txt,
words.txt, topo, L.fst, L_disambig.fst, oov.txt/int and phones/. An
existing non-empty LANG_DIR is reused when it holds exactly what this
call would write, and refused otherwise.

Authors
 * sb_rectifier developers 2026
"""

import argparse


def _bool(text):
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def register(subparsers):
    """Adds the ``prepare-lang`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(
    ...     ["prepare-lang", "dict", "lang", "--position-dependent-phones",
    ...      "false"]
    ... )  # fmt: skip
    >>> args.oov_word, args.position_dependent_phones, args.sil_prob
    ('<UNK>', False, 0.5)
    """
    parser = subparsers.add_parser(
        "prepare-lang",
        help="make a Kaldi lang folder from a dictionary folder "
        "(as utils/prepare_lang.sh)",
        description="Makes a Kaldi lang folder (phones.txt, words.txt, topo, "
        "L.fst, L_disambig.fst, oov.txt, phones/) from a dictionary folder "
        "(lexicon.txt or lexiconp.txt, silence_phones.txt, "
        "nonsilence_phones.txt, optional_silence.txt, extra_questions.txt), "
        "as Kaldi's utils/prepare_lang.sh with its defaults.",
    )
    parser.add_argument(
        "dict_dir", metavar="DICT_DIR", help="dictionary folder"
    )
    parser.add_argument(
        "lang_dir",
        metavar="LANG_DIR",
        help="lang folder to make (an existing one is reused only if "
        "identical)",
    )
    parser.add_argument(
        "--oov-word",
        default="<UNK>",
        help="word that out-of-vocabulary words map to; needs a lexicon "
        "entry (default: <UNK>)",
    )
    parser.add_argument(
        "--position-dependent-phones",
        type=_bool,
        default=True,
        metavar="{true,false}",
        help="word-position variants _B _E _I _S of the phones (default: true)",
    )
    parser.add_argument(
        "--sil-prob",
        type=float,
        default=0.5,
        help="probability of optional silence between words, in [0, 1) "
        "(default: 0.5)",
    )
    parser.add_argument(
        "--num-sil-states", type=int, default=5,
        help="HMM states of a silence phone (default: 5)",
    )  # fmt: skip
    parser.add_argument(
        "--num-nonsil-states", type=int, default=3,
        help="HMM states of a non-silence phone (default: 3)",
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args):
    """Makes the lang folder and prints its summary.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0.
    """
    from sb_rectifier.kaldi.prepare_lang import format_summary, prepare_lang

    summary = prepare_lang(
        args.dict_dir,
        args.lang_dir,
        oov_word=args.oov_word,
        position_dependent_phones=args.position_dependent_phones,
        sil_prob=args.sil_prob,
        num_sil_states=args.num_sil_states,
        num_nonsil_states=args.num_nonsil_states,
    )
    print(format_summary(summary), end="")
    return 0
