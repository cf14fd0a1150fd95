#!/usr/bin/env python3
"""Evaluation throughput with and without the sparsity hooks.

The same RectifierDNN evaluates the same random frames (in minibatches of
``--batch-frames``, as HybridBrain evaluates dev) without and with a
:class:`~sb_rectifier.sparsity.SparsityMonitor` attached to its hidden
units, alternating, ``--repeats`` times each after an untimed run of both;
the best run of each counts. Target (CPU): at most 10 % slower with hooks.

    python benchmarks/sparsity_overhead.py
    python benchmarks/sparsity_overhead.py --units tanh --neurons 2048

Authors
 * sb_rectifier developers 2026
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_throughput import machine_description  # noqa: E402

from sb_rectifier import RectifierDNN  # noqa: E402
from sb_rectifier.sparsity import SparsityMonitor  # noqa: E402

TARGET = 0.10


@torch.no_grad()
def frames_per_second(model, batches, monitor=None):
    """Evaluates every batch once; returns frames/s."""
    start = time.perf_counter()
    if monitor is not None:
        monitor.attach()
    for x in batches:
        model(x)
    if monitor is not None:
        monitor.results()  # the statistics are part of the cost
        monitor.remove()
    return sum(len(x) for x in batches) / (time.perf_counter() - start)


def main():
    """Runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", nargs="+", default=["relu", "tanh"])
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--neurons", type=int, default=512)
    parser.add_argument("--n-pdfs", type=int, default=204)
    parser.add_argument("--batch-frames", type=int, default=20000)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    print("machine:", json.dumps(machine_description("cpu")))
    gen = torch.Generator().manual_seed(0)
    batches = [
        torch.randn(args.batch_frames, 440, generator=gen)
        for _ in range(args.batches)
    ]
    rows = []
    for unit in args.units:
        torch.manual_seed(0)
        model = RectifierDNN(
            input_size=440, num_layers=args.num_layers, neurons=args.neurons,
            activation=unit, n_pdfs=args.n_pdfs,
        ).eval()  # fmt: skip
        monitor = SparsityMonitor(model)
        frames_per_second(model, batches)
        frames_per_second(model, batches, monitor)
        plain, hooked = [], []
        for _ in range(args.repeats):
            plain.append(frames_per_second(model, batches))
            monitor.reset()
            hooked.append(frames_per_second(model, batches, monitor))
        slowdown = 1.0 - max(hooked) / max(plain)
        rows.append(
            {
                "unit": unit,
                "plain": plain,
                "hooked": hooked,
                "slowdown": slowdown,
            }
        )
        print(
            f"{unit:>10} {args.num_layers}x{args.neurons}: without hooks "
            f"{max(plain):9.0f} frames/s | with hooks {max(hooked):9.0f} frames/s | "
            f"{100 * slowdown:5.1f} % slower "
            f"({'meets' if slowdown <= TARGET else 'MISSES'} the {100 * TARGET:.0f} % target)",
            flush=True,
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fout:
            json.dump({"args": vars(args), "results": rows}, fout, indent=2)


if __name__ == "__main__":
    main()
