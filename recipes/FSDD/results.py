#!/usr/bin/env python3
"""The FSDD results table: the GMM-HMM and the hybrid with each unit.

``python results.py EXP [--units tanh relu leaky_relu]`` reads

* ``EXP/exp/tri1/decode_{dev,test}/decoding.json`` (``decode-gmm`` with
  ``--ali-dir``: WER and the GMM's frame accuracy),
* ``EXP/hybrid/<unit>/summary.json`` (``train.py``: WER and frame
  accuracy of dev and test),
* ``EXP/times.tsv`` (wall times that run.sh recorded; for a stage run
  more than once, the longest, the run that did the work),

prints one Markdown table, writes it to ``EXP/results.md`` and plots the
WERs in ``EXP/results.png``. Frame accuracies are against the triphone
GMM's alignments of the same split (the hybrids' training targets), so
the rows compare. A missing input shows as "-".

Authors
 * sb_rectifier developers 2026
"""

import argparse
import csv
import os
import sys

from sb_rectifier.files import read_json, write_text

UNITS = ("tanh", "relu", "leaky_relu")


def _load(path):
    return read_json(path, "results input") if os.path.isfile(path) else None


def _pct(value, scale=1.0):
    return "-" if value is None else f"{scale * value:.2f}"


def read_times(exp):
    """Label -> seconds from ``times.tsv`` (the longest of repeats)."""
    path = os.path.join(exp, "times.tsv")
    times = {}
    if not os.path.isfile(path):
        return times
    with open(path, encoding="utf-8") as f:
        for number, row in enumerate(csv.reader(f, delimiter="\t"), 1):
            if len(row) != 2 or not row[1].isdigit():
                raise ValueError(f"{path}:{number}: expected LABEL<TAB>SECONDS")
            times[row[0]] = max(times.get(row[0], 0), int(row[1]))
    return times


def rows(exp, units):
    """Table rows: system, dev/test WER, dev/test frame acc, wall time."""
    times = read_times(exp)
    gmm = {
        s: _load(
            os.path.join(exp, "exp", "tri1", f"decode_{s}", "decoding.json")
        )
        for s in ("dev", "test")
    }
    gmm_time = sum(
        times.get(k, 0)
        for k in (
            "train-gmm",
            "make-graph",
            "decode-gmm dev",
            "decode-gmm test",
        )
    )
    out = [
        (
            "GMM-HMM triphone (tri1)",
            _pct(gmm["dev"] and gmm["dev"]["wer"]),
            _pct(gmm["test"] and gmm["test"]["wer"]),
            _pct(gmm["dev"] and gmm["dev"].get("frame_acc"), 100),
            _pct(gmm["test"] and gmm["test"].get("frame_acc"), 100),
            str(gmm_time) if gmm_time else "-",
        )
    ]
    for unit in units:
        s = _load(os.path.join(exp, "hybrid", unit, "summary.json")) or {}
        out.append(
            (
                f"hybrid DNN, {unit}",
                _pct(s.get("dev_wer")),
                _pct(s.get("test_wer")),
                _pct(s.get("dev_frame_acc")),
                _pct(s.get("test_frame_acc")),
                str(times.get(f"hybrid {unit}", "-")),
            )
        )
    return out


def plot(table, path):
    """Bars of dev and test WER per system."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    names = [r[0].replace("hybrid DNN, ", "") for r in table]
    for k, (col, label) in enumerate(((1, "dev"), (2, "test"))):
        values = [float(r[col]) if r[col] != "-" else 0.0 for r in table]
        ax.bar(
            [i + 0.4 * k for i in range(len(table))], values, 0.38, label=label
        )
    ax.set_xticks([i + 0.2 for i in range(len(table))])
    ax.set_xticklabels(
        [n.replace("GMM-HMM triphone (tri1)", "GMM tri1") for n in names]
    )
    ax.set_ylabel("WER (%)")
    ax.set_title("FSDD, held-out speakers, digit loop")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    """Prints the table; writes results.md and results.png."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exp", metavar="EXP")
    parser.add_argument("--units", nargs="+", default=list(UNITS))
    args = parser.parse_args(argv)
    if not os.path.isdir(args.exp):
        print(f"results.py: {args.exp}: not found", file=sys.stderr)
        return 1
    try:
        table = rows(args.exp, args.units)
    except ValueError as err:
        print(f"results.py: error: {err}", file=sys.stderr)
        return 1
    header = (
        "system",
        "dev WER",
        "test WER",
        "dev frame acc",
        "test frame acc",
        "wall time (s)",
    )
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in table]
    lines += [
        "",
        "Frame accuracies are against the triphone GMM's alignments of the "
        "same split. The GMM decodes at Kaldi's default acoustic scale "
        "(1/12, no insertion penalty); each hybrid takes its LM weight and "
        "insertion penalty from a grid, chosen on dev. Wall times: the GMM's "
        "are train-gmm + make-graph + decode-gmm of dev and test; each "
        "hybrid's is its whole train.py run (training, evaluation, "
        "decoding).",
    ]
    text = "\n".join(lines)
    print(text)
    write_text(os.path.join(args.exp, "results.md"), text + "\n")
    plot(table, os.path.join(args.exp, "results.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
