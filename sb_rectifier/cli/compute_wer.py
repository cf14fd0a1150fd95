"""The ``compute-wer`` subcommand: Kaldi's ``compute-wer``, plus Hub5 extras.

Prints exactly what Kaldi's ``compute-wer --text`` prints::

    sb-rectifier compute-wer --mode=present ark:data/eval2000/text hyp.txt
    %WER 12.34 [ 123 / 1000, 10 ins, 20 del, 93 sub ]
    %SER 45.00 [ 45 / 100 ]
    Scored 100 sentences, 0 not present in hyp.

and optionally applies a Hub5 GLM (``--glm``, see
:mod:`sb_rectifier.scoring.glm`), reports subsets by utterance-id prefix
in a markdown table (``--subset SWBD=sw_ --subset CallHome=en_``), writes
per-utterance alignments (``--details``) and all numbers as JSON
(``--json``), both written atomically (a full disk leaves no half file;
the error names it).

Where Kaldi prints ``-nan`` and exits 0, this command refuses (exit
status 1, the message names the file):

* an empty reference (no utterance, or utterances without words): the
  WER is undefined because the reference has no words;
* no reference word scored at all (``--mode=present`` and none of the
  reference utterances in HYP, or a GLM that removes every word).

An empty hypothesis file (references not empty) is, as in Kaldi, an
error in ``--mode=strict`` (no hypothesis for the first reference
utterance), a valid 100 % deletion case in ``--mode=all`` (``[PARTIAL]``),
and, in ``--mode=present``, the "nothing scored" error above.
Bytes that are not UTF-8 give ``<file>: line N: not valid UTF-8 (byte
0x.. at column ..)``.

Authors
 * sb_rectifier developers 2026
"""

import argparse
import re
import sys

from sb_rectifier.files import atomic_write, write_json
from sb_rectifier.scoring.glm import Glm
from sb_rectifier.scoring.wer import (
    MODES,
    read_text,
    score_subsets,
    subset_table,
)

_ARK_PREFIX = re.compile(r"^ark(,[a-z]+)*:")


def _subset(text):
    name, sep, prefix = text.partition("=")
    if not sep or not name or not prefix:
        raise argparse.ArgumentTypeError(
            f"expected NAME=PREFIX (e.g. SWBD=sw_), got {text!r}"
        )
    return name, prefix


def register(subparsers):
    """Adds the ``compute-wer`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(
    ...     ["compute-wer", "--subset", "SWBD=sw_", "ark:ref", "hyp"]
    ... )
    >>> args.ref, args.hyp, args.mode, args.subsets
    ('ark:ref', 'hyp', 'strict', [('SWBD', 'sw_')])
    """
    parser = subparsers.add_parser(
        "compute-wer",
        help="word error rate of Kaldi text files (Kaldi compute-wer)",
        description="Computes the WER of hypotheses against references, "
        "both Kaldi text files ('utt-id word word ...'; 'ark:'/'ark,t:' "
        "prefixes are accepted, '-' = stdin for one of them), and prints it "
        "exactly as Kaldi's compute-wer does. Optionally normalises both "
        "with a Hub5 GLM (an approximation of NIST hubscr), reports subsets "
        "by utterance-id prefix, per-utterance alignments and JSON.",
    )
    parser.add_argument("ref", metavar="REF", help="reference text")
    parser.add_argument("hyp", metavar="HYP", help="hypothesis text")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="strict",
        help="reference utterances missing from HYP: 'strict' (default, as "
        "Kaldi) fails, 'present' skips them, 'all' scores them as empty "
        "(so an empty HYP file is 100%% deletions with 'all', an error "
        "otherwise)",
    )
    parser.add_argument(
        "--text",
        action="store_true",
        help="ignored: inputs are always text (accepted for Kaldi "
        "compatibility)",
    )
    parser.add_argument(
        "--glm",
        metavar="FILE",
        help="Hub5 GLM (e.g. en20000405_hub5.glm): map words, accept "
        "alternatives, drop hesitations and non-speech tokens, ignore case",
    )
    parser.add_argument(
        "--ignore-case",
        action="store_true",
        help="upper-case both transcripts (implied by --glm)",
    )
    parser.add_argument(
        "--subset",
        dest="subsets",
        action="append",
        type=_subset,
        default=[],
        metavar="NAME=PREFIX",
        help="also score the utterances whose id starts with PREFIX, e.g. "
        "SWBD=sw_ CallHome=en_ (repeatable; adds a markdown table)",
    )
    parser.add_argument(
        "--details",
        metavar="FILE",
        help="write per-utterance alignments (wer_per_utt_details.pl "
        "format) to FILE ('-': stdout, before the summary)",
    )
    parser.add_argument(
        "--json", metavar="FILE", help="write all numbers to FILE as JSON"
    )
    parser.set_defaults(func=run)


def _input_path(spec):
    """Strips Kaldi's ``ark:`` / ``ark,t:`` from a file name."""
    if re.match(r"^scp(,[a-z]+)*:", spec):
        raise ValueError(f"{spec}: scp rspecifiers are not supported")
    path = _ARK_PREFIX.sub("", spec, count=1)
    if path.rstrip().endswith("|"):
        raise ValueError(f"{spec}: pipes are not supported; use '-'")
    return path


def _read(spec):
    path = _input_path(spec)
    return read_text(sys.stdin if path == "-" else path)


def _name(spec):
    path = _input_path(spec)
    return "standard input" if path == "-" else path


def _check_inputs(args, refs, hyps):
    """Refuses inputs whose WER is undefined (Kaldi prints -nan)."""
    ref = _name(args.ref)
    if not refs:
        raise ValueError(
            f"{ref}: the reference has no utterances (empty file): the WER "
            "is undefined because the reference has no words"
        )
    if not any(refs.values()):
        raise ValueError(
            f"{ref}: the reference has no words ({len(refs)} utterances, "
            "all empty): the WER is undefined because the reference has "
            "no words"
        )
    if not hyps and args.mode == "strict":
        first = next(iter(refs))
        raise ValueError(
            f"{_name(args.hyp)}: the hypothesis file has no utterances: No "
            f"hypothesis for key {first} and strict mode specifier. "
            "(--mode=all scores every reference utterance as deleted)"
        )


def _check_scored(args, refs, overall):
    """Refuses a result without any scored reference word."""
    if overall.words:
        return
    if args.mode == "present" and overall.missing == len(refs):
        why = (
            f"none of the {len(refs)} reference utterances is in "
            f"{_name(args.hyp)} and --mode=present skips them"
        )
    elif args.glm:
        why = f"the GLM {args.glm} and the filtering removed every word"
    else:
        why = "the scored utterances have no words"
    raise ValueError(
        f"{_name(args.ref)}: no reference word was scored ({why}): the WER "
        "is undefined"
    )


def run(args):
    """Scores ``args.hyp`` against ``args.ref`` and prints the report.

    Arguments
    ---------
    args : argparse.Namespace
        From the ``compute-wer`` parser.

    Returns
    -------
    int
        0 (errors raise ``ValueError`` / ``OSError``, exit status 1; see
        the module docstring for the inputs that are refused).

    Example
    -------
    >>> tmp = getfixture("tmp_path")
    >>> _ = (tmp / "ref").write_text("u1 a b c\\nu2 d\\n")
    >>> _ = (tmp / "hyp").write_text("u1 a x c d\\nu2 d\\n")
    >>> args = argparse.Namespace(
    ...     ref=f"ark:{tmp}/ref",
    ...     hyp=str(tmp / "hyp"),
    ...     mode="strict",
    ...     glm=None,
    ...     ignore_case=False,
    ...     subsets=[],
    ...     details=None,
    ...     json=None,
    ... )
    >>> run(args)
    %WER 50.00 [ 2 / 4, 1 ins, 0 del, 1 sub ]
    %SER 50.00 [ 1 / 2 ]
    Scored 2 sentences, 0 not present in hyp.
    0
    """
    if _input_path(args.ref) == "-" and _input_path(args.hyp) == "-":
        raise ValueError("only one of REF and HYP can be '-' (stdin)")
    subsets = dict(args.subsets)
    if len(subsets) != len(args.subsets):
        raise ValueError("--subset: a name is given twice")
    refs = _read(args.ref)
    hyps = _read(args.hyp)
    _check_inputs(args, refs, hyps)
    glm = Glm.read(args.glm) if args.glm else None
    try:
        results = score_subsets(
            refs,
            hyps,
            subsets,
            mode=args.mode,
            glm=glm,
            ignore_case=args.ignore_case,
        )
    except ValueError as err:
        if str(err).startswith("No hypothesis for key"):
            raise ValueError(f"{_name(args.hyp)}: {err}") from None
        raise
    overall = results["all"]
    _check_scored(args, refs, overall)
    if args.details == "-":
        sys.stdout.write(overall.details())
    elif args.details:
        with atomic_write(args.details) as fout:
            for utterance in overall.utterances:
                fout.write(utterance.details())
    if args.json:
        report = {
            "ref": args.ref,
            "hyp": args.hyp,
            "mode": args.mode,
            "glm": args.glm,
            "subsets": subsets,
            "results": {name: r.to_dict() for name, r in results.items()},
        }
        write_json(args.json, report)
    sys.stdout.write(overall.kaldi_lines())
    if subsets:
        sys.stdout.write("\n" + subset_table(results))
    sys.stdout.flush()
    return 0
