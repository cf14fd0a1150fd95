"""The ``compare-alignments`` subcommand: phone boundary accuracy.

Compares the alignments of one Kaldi alignment directory (the
hypothesis, e.g. ``exp/tri1_ali``) with another (the truth, e.g. the
embedded corpus's ``exp/ali_train``)::

    sb-rectifier compare-alignments corpus/exp/ali_train exp/tri1_ali \\
        --ref-phones corpus/data/lang/phones.txt \\
        --hyp-phones data/lang/phones.txt

and prints the share of reference phone boundaries within 10, 20 and
40 ms (:func:`sb_rectifier.gmm.evaluate.boundary_accuracy`).

Authors
 * sb_rectifier developers 2026
"""

import os

from sb_rectifier.decoding.lang import read_symbols
from sb_rectifier.files import write_json
from sb_rectifier.gmm.evaluate import boundary_accuracy
from sb_rectifier.kaldi.alignments import load_transition_ids


def register(subparsers):
    """Adds the ``compare-alignments`` subcommand.

    Arguments
    ---------
    subparsers : argparse._SubParsersAction
        The subcommand registry of the top-level parser.

    Example
    -------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["compare-alignments", "ref", "hyp"])
    >>> args.ref_dir, args.hyp_dir, args.tolerances
    ('ref', 'hyp', [10.0, 20.0, 40.0])
    """
    parser = subparsers.add_parser(
        "compare-alignments",
        help="phone boundary accuracy of alignments against the truth",
        description="Compares the alignments of HYP_ALI_DIR with those of "
        "REF_ALI_DIR (each: ali.*.gz + final.mdl): the percentage of "
        "reference phone boundaries (start and end of every non-silence "
        "phone) that the hypothesis places within each tolerance. Phone "
        "sequences are matched by edit distance after removing word-"
        "position suffixes (_B/_E/_I/_S); unmatched phones and missing "
        "utterances count as misses.",
    )
    parser.add_argument("ref_dir", metavar="REF_ALI_DIR")
    parser.add_argument("hyp_dir", metavar="HYP_ALI_DIR")
    parser.add_argument(
        "--ref-phones",
        help="phones.txt of the reference (default: REF_ALI_DIR/phones.txt)",
    )
    parser.add_argument(
        "--hyp-phones",
        help="phones.txt of the hypothesis (default: HYP_ALI_DIR/phones.txt)",
    )
    parser.add_argument(
        "--tolerances",
        type=float,
        nargs="+",
        default=[10.0, 20.0, 40.0],
        metavar="MS",
        help="tolerances in milliseconds (default: 10 20 40)",
    )
    parser.add_argument(
        "--silence",
        nargs="+",
        default=["SIL", "SPN", "NSN", "sil", "spn"],
        metavar="PHONE",
        help="base phone names left out (default: SIL SPN NSN sil spn)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.set_defaults(func=run)


def _phones(path, ali_dir, option):
    path = path or os.path.join(ali_dir, "phones.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path}: phone table not found (give it with {option})"
        )
    return {i: name for name, i in read_symbols(path).items()}


def run(args):
    """Prints the boundary accuracy of ``args.hyp_dir``.

    Arguments
    ---------
    args : argparse.Namespace
        As :func:`register` defines.

    Returns
    -------
    int
        0 on success.

    Example
    -------
    >>> import argparse
    >>> from sb_rectifier.kaldi.archives import write_int_vectors
    >>> from sb_rectifier.kaldi.hmm_topology import HmmTopology
    >>> from sb_rectifier.kaldi.transition_model import TransitionModel
    >>> tmp = getfixture("tmp_path")
    >>> tm = TransitionModel.monophone(HmmTopology.left_to_right([1, 2]))
    >>> for name in ("ref", "hyp"):
    ...     (tmp / name).mkdir()
    ...     tm.write(tmp / name / "final.mdl")
    ...     _ = (tmp / name / "phones.txt").write_text("SIL 1\\na 2\\n")
    >>> ali = tm.alignment_from_durations([(1, [1, 1, 1]), (2, [2, 2, 2])])
    >>> _ = write_int_vectors(str(tmp / "ref" / "ali.1.gz"), [("u", ali)])
    >>> _ = write_int_vectors(str(tmp / "hyp" / "ali.1.gz"), [("u", ali)])
    >>> args = argparse.Namespace(
    ...     ref_dir=str(tmp / "ref"),
    ...     hyp_dir=str(tmp / "hyp"),
    ...     ref_phones=None,
    ...     hyp_phones=None,
    ...     tolerances=[10.0],
    ...     silence=["SIL"],
    ...     json=None,
    ... )
    >>> run(args)
    boundaries within 10 ms: 100.00 %
    2 boundaries of 1 phones in 1 utterances (0 missing, 0 with another length, 0 with another phone sequence, 0 phones unmatched); mean deviation 0.0 ms
    0
    """
    ref_phones = _phones(args.ref_phones, args.ref_dir, "--ref-phones")
    hyp_phones = _phones(args.hyp_phones, args.hyp_dir, "--hyp-phones")
    ref, ref_model = load_transition_ids(args.ref_dir)
    hyp, hyp_model = load_transition_ids(args.hyp_dir)
    result = boundary_accuracy(
        ref,
        ref_model,
        ref_phones,
        hyp,
        hyp_model,
        hyp_phones,
        silence=args.silence,
        tolerances_ms=args.tolerances,
    )
    for tol, pct in result["within"].items():
        print(f"boundaries within {tol:g} ms: {pct:6.2f} %")
    mean = result["mean_abs_ms"]
    print(
        f"{result['boundaries']} boundaries of "
        f"{result['boundaries'] // 2} phones in {result['utterances']} "
        f"utterances ({len(result['missing'])} missing, "
        f"{len(result['frame_mismatch'])} with another length, "
        f"{result['sequence_mismatches']} with another phone sequence, "
        f"{result['unmatched_phones']} phones unmatched); mean deviation "
        + ("n/a" if mean is None else f"{mean:.1f} ms")
    )
    offsets = result["phone_offsets"][:5]
    if offsets:
        print(
            "largest systematic offsets (hyp - ref, median): "
            + ", ".join(
                f"{o['phone']} {o['side']} {o['median_ms']:+g} ms "
                f"({o['count']})"
                for o in offsets
            )
        )
        without = result["within_without_phone_offsets"]
        print(
            "without them (each phone's median offset removed): "
            + ", ".join(
                f"{pct:.2f} % within {tol:g} ms" for tol, pct in without.items()
            )
        )
    if args.json:
        write_json(args.json, result)
    return 0
