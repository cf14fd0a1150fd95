#!/usr/bin/env python3
"""The results of run.sh as Markdown tables and a plot.

``python local/results.py EXP [--unit relu]`` reads what the stages wrote
in ``EXP`` and prints (and writes to ``EXP/results.md``):

1. phone boundary accuracy of the monophone and triphone alignments of
   train against the synthesiser's (``boundaries_*.json``);
2. the time of each ``train-gmm`` stage and the total per hour of audio
   (``exp/*/summary.json``);
3. WER of the triphone GMM and of the hybrid trained on the GMM's
   alignments and on the exact ones (``decoding.json``, the hybrids'
   ``summary.json``).

``EXP/boundaries.png`` plots table 1. A missing input is reported as such
in its table cell ("-"), never guessed.

Authors
 * sb_rectifier developers 2026
"""

import argparse
import os
import sys

from sb_rectifier.files import read_json, write_text

SYSTEMS = (
    ("mono_ali", "flat start, monophone (mono_ali)"),
    ("ali_train", "flat start, triphone (tri1)"),
    ("oracle", "bound: monophone trained on the exact alignments"),
)
STAGES = ("mono", "mono_ali", "tri1", "tri1_ali")
FRAMES_PER_HOUR = 360000


def _load(path):
    return read_json(path, "results input") if os.path.isfile(path) else None


def _pct(value):
    return "-" if value is None else f"{value:.2f}"


def boundary_rows(exp):
    """Table 1 rows: system, within 10/20/40 ms, mean deviation, misses."""
    rows = []
    for name, label in SYSTEMS:
        r = _load(os.path.join(exp, f"boundaries_{name}.json"))
        if r is None:
            rows.append((label, "-", "-", "-", "-", "-", "-"))
            continue
        w = r["within"]
        rows.append(
            (
                label,
                _pct(w["10"]),
                _pct(w["20"]),
                _pct(w["40"]),
                _pct(r["mean_abs_ms"]),
                f"{r['unmatched_phones']} of {r['boundaries'] // 2}",
                _pct(r.get("within_without_phone_offsets", {}).get("20")),
            )
        )
    return rows


def offset_rows(exp, limit=8):
    """Table 1b: the largest per-phone offsets of the triphone alignments."""
    r = _load(os.path.join(exp, "boundaries_ali_train.json"))
    if r is None:
        return []
    return [
        (o["phone"], o["side"], f"{o['median_ms']:+g}", o["count"])
        for o in r.get("phone_offsets", [])[:limit]
    ]


def timing_rows(exp):
    """Table 2 rows: stage, seconds; the total and the total per hour."""
    rows, total, frames = [], 0.0, None
    for stage in STAGES:
        s = _load(os.path.join(exp, "exp", stage, "summary.json"))
        if s is None:
            rows.append((stage, "-"))
            continue
        rows.append((stage, f"{s['seconds']:.1f}"))
        total += s["seconds"]
        frames = s.get("frames", frames)
    hours = frames / FRAMES_PER_HOUR if frames else None
    rows.append(("total", f"{total:.1f}"))
    if hours:
        rows.append(
            (
                f"per hour of audio ({hours:.2f} h trained)",
                f"{total / hours:.1f}",
            )
        )
    return rows


def wer_rows(exp, unit):
    """Table 3 rows: system, dev WER, test WER, dev frame accuracy."""
    rows = []
    gmm = [
        _load(os.path.join(exp, "exp", "tri1", f"decode_{s}", "decoding.json"))
        for s in ("dev", "test")
    ]
    rows.append(
        (
            "GMM-HMM triphone (tri1)",
            _pct(gmm[0] and gmm[0]["wer"]),
            _pct(gmm[1] and gmm[1]["wer"]),
            "-",
        )
    )
    for ali, label in (("gmm_ali", "GMM alignments"), ("exact_ali", "exact")):
        s = _load(os.path.join(exp, "hybrid", f"{unit}_{ali}", "summary.json"))
        rows.append(
            (
                f"hybrid {unit}, {label}",
                _pct(s and s.get("dev_wer")),
                _pct(s and s.get("test_wer")),
                _pct(s and s.get("dev_frame_acc")),
            )
        )
    return rows


def markdown(header, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def plot_boundaries(exp, path):
    """Bars of table 1 (share within 10/20/40 ms per system)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    tolerances = ("10", "20", "40")
    for k, (name, label) in enumerate(SYSTEMS):
        r = _load(os.path.join(exp, f"boundaries_{name}.json"))
        if r is None:
            continue
        xs = [i + 0.27 * k for i in range(len(tolerances))]
        ax.bar(xs, [r["within"][t] for t in tolerances], 0.25, label=label)
    ax.set_xticks([i + 0.27 for i in range(len(tolerances))])
    ax.set_xticklabels([f"within {t} ms" for t in tolerances])
    ax.set_ylabel("phone boundaries (%)")
    ax.set_ylim(0, 100)
    ax.axhline(90, color="grey", linestyle=":", linewidth=1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8)
    ax.set_title("GMM alignments vs the synthesiser's")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    """Prints the tables; writes results.md and boundaries.png."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exp", metavar="EXP")
    parser.add_argument("--unit", default="relu")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.exp):
        print(f"results.py: {args.exp}: not found", file=sys.stderr)
        return 1
    text = "\n\n".join(
        [
            "Phone boundary accuracy of the train alignments (%)\n\n"
            + markdown(
                (
                    "alignments",
                    "within 10 ms",
                    "within 20 ms",
                    "within 40 ms",
                    "mean deviation (ms)",
                    "unmatched phones",
                    "within 20 ms, per-phone offsets removed",
                ),
                boundary_rows(args.exp),
            ),
            "Largest systematic offsets of the triphone alignments "
            "(median of hypothesis - truth, per phone and side)\n\n"
            + markdown(
                ("phone", "boundary", "median offset (ms)", "boundaries"),
                offset_rows(args.exp),
            ),
            "train-gmm time (s)\n\n"
            + markdown(("stage", "seconds"), timing_rows(args.exp)),
            "Word error rates (%)\n\n"
            + markdown(
                ("system", "dev WER", "test WER", "dev frame acc"),
                wer_rows(args.exp, args.unit),
            ),
        ]
    )
    print(text)
    write_text(os.path.join(args.exp, "results.md"), text + "\n")
    plot_boundaries(args.exp, os.path.join(args.exp, "boundaries.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
