#!/usr/bin/env python3
"""Wall time of ``sb-rectifier train-gmm`` per hour of training audio.

Makes (or reuses) an embedded corpus of ``--hours`` of training speech
and its lang directory with ``recipes/GMM_alignment/run.sh --stop-stage
1``, then times the whole ``sb-rectifier train-gmm`` command (MFCC +
CMN + deltas, flat-start monophones, their alignments, the triphone tree
and system, its alignments) in a new experiment folder, ``--repeats``
times. Reported: the wall time per hour of training audio, the ratio the
target is about, with each stage's share (from the stages'
``summary.json``). Target (2 cores, ``--jobs 2``): at most 600 s (10
minutes) per hour of audio.

    python benchmarks/train_gmm_speed.py --hours 1 --json gmm_speed.json

Authors
 * sb_rectifier developers 2026
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_throughput import machine_description  # noqa: E402

from sb_rectifier.files import read_json, write_json  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_SECONDS_PER_HOUR = 600.0
STAGES = ("mono", "mono_ali", "tri1", "tri1_ali")
FRAMES_PER_HOUR = 360000


def prepare(work, hours, jobs):
    """Corpus and lang dir (recipes/GMM_alignment stage 1), reused."""
    subprocess.run(
        [
            "bash",
            "run.sh",
            "--hours",
            str(hours),
            "--exp",
            os.path.abspath(work),
            "--jobs",
            str(jobs),
            "--stop-stage",
            "1",
        ],
        cwd=os.path.join(REPO, "recipes", "GMM_alignment"),
        check=True,
    )


def one_run(work, jobs, extra):
    """Times one train-gmm run in a new folder; returns its figures."""
    exp = tempfile.mkdtemp(prefix="exp_", dir=work)
    cmd = [
        "sb-rectifier",
        "train-gmm",
        os.path.join(work, "corpus", "data", "train"),
        os.path.join(work, "data", "lang"),
        exp,
        "--jobs",
        str(jobs),
        "--no-progress",
        *extra,
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    stages = {
        s: read_json(os.path.join(exp, s, "summary.json"), "stage summary")
        for s in STAGES
    }
    frames = stages["mono"]["frames"]
    shutil.rmtree(exp)
    return {
        "seconds": seconds,
        "hours": frames / FRAMES_PER_HOUR,
        "seconds_per_hour": seconds / (frames / FRAMES_PER_HOUR),
        "stages": {s: stages[s]["seconds"] for s in STAGES},
        "num_pdfs": stages["tri1"]["num_pdfs"],
        "num_gauss": stages["tri1"]["num_gauss"],
    }


def main():
    """Runs the benchmark; prints a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--work",
        default="results/bench_train_gmm",
        help="corpus and runs (the corpus is reused)",
    )
    parser.add_argument("--json", help="write the results here")
    parser.add_argument(
        "extra",
        nargs=argparse.REMAINDER,
        help="more train-gmm options, after --",
    )
    args = parser.parse_args()
    work = os.path.join(args.work, f"{args.hours:g}h")
    os.makedirs(work, exist_ok=True)
    prepare(work, args.hours, args.jobs)
    extra = [a for a in args.extra if a != "--"]
    runs = [one_run(work, args.jobs, extra) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: r["seconds_per_hour"])
    print(
        "| audio (h) | wall time (s) | s per hour of audio | target | "
        + " | ".join(f"{s} (s)" for s in STAGES)
        + " |"
    )
    print("|" + "---|" * (4 + len(STAGES)))
    for r in runs:
        print(
            f"| {r['hours']:.2f} | {r['seconds']:.1f} | "
            f"{r['seconds_per_hour']:.1f} | {TARGET_SECONDS_PER_HOUR:.0f} | "
            + " | ".join(f"{r['stages'][s]:.1f}" for s in STAGES)
            + " |"
        )
    ok = best["seconds_per_hour"] <= TARGET_SECONDS_PER_HOUR
    print(
        f"best: {best['seconds_per_hour']:.1f} s per hour of audio "
        f"({'meets' if ok else 'misses'} the target of "
        f"{TARGET_SECONDS_PER_HOUR:.0f} s)"
    )
    if args.json:
        write_json(
            args.json,
            {
                "machine": machine_description("cpu"),
                "jobs": args.jobs,
                "train_gmm_options": extra,
                "runs": runs,
                "target_seconds_per_hour": TARGET_SECONDS_PER_HOUR,
                "meets_target": ok,
            },
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
