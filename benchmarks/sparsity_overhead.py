#!/usr/bin/env python3
"""Evaluation throughput with and without the sparsity hooks.

The same RectifierDNN evaluates the same random frames (minibatches of
``--batch-frames``, as HybridBrain evaluates dev) without and with a
:class:`~sb_rectifier.sparsity.SparsityMonitor` on its hidden units. Each
minibatch is evaluated both ways back to back (alternating which goes
first), so that both see the same state of a shared machine, and the
time of ``monitor.results()`` at the end of a pass is shared out among
them. After an untimed pass, ``--repeats`` passes over the ``--batches``
minibatches are timed; the result is the median slowdown over these pairs
(quartiles beside it). Target (CPU): at most 10 % slower with hooks.

    python benchmarks/sparsity_overhead.py
    python benchmarks/sparsity_overhead.py --units tanh --neurons 2048

Authors
 * sb_rectifier developers 2026
"""

import argparse
import contextlib
import json
import os
import statistics as stats
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_throughput import machine_description  # noqa: E402

import sb_rectifier.sparsity.statistics as statistics  # noqa: E402
from sb_rectifier import RectifierDNN  # noqa: E402
from sb_rectifier.files import write_json  # noqa: E402
from sb_rectifier.sparsity import SparsityMonitor  # noqa: E402

TARGET = 0.10


@torch.no_grad()
def timed_pass(model, batches, monitor):
    """Evaluates every batch without and with the hooks, back to back;
    returns ``[(plain seconds, hooked seconds)]`` per batch, the time of
    ``monitor.results()`` shared out among the hooked ones."""
    pairs = []
    monitor.reset()
    for i, x in enumerate(batches):
        seconds = {}
        for with_hooks in (i % 2 == 1, i % 2 == 0):
            start = time.perf_counter()
            with monitor if with_hooks else contextlib.nullcontext():
                model(x)
            seconds[with_hooks] = time.perf_counter() - start
        pairs.append([seconds[False], seconds[True]])
    start = time.perf_counter()
    monitor.results()
    share = (time.perf_counter() - start) / len(batches)
    return [(plain, hooked + share) for plain, hooked in pairs]


def main():
    """Runs the benchmark and prints one line per unit."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", nargs="+", default=["relu", "tanh"])
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--neurons", type=int, default=512)
    parser.add_argument("--n-pdfs", type=int, default=204)
    parser.add_argument("--batch-frames", type=int, default=20000)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--value-stride",
        type=int,
        default=None,
        help="SparsityMonitor value_stride (default: the monitor's)",
    )
    parser.add_argument(
        "--hist-stride",
        type=int,
        default=None,
        help="SparsityMonitor hist_stride (default: the monitor's)",
    )
    parser.add_argument(
        "--block-elements",
        type=int,
        default=statistics.BLOCK_ELEMENTS,
        help="values per block on CPUs (default %(default)s; a huge value: "
        "whole minibatches)",
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    statistics.BLOCK_ELEMENTS = args.block_elements
    options = {
        key: value
        for key, value in (
            ("value_stride", args.value_stride),
            ("hist_stride", args.hist_stride),
        )
        if value is not None
    }
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
        monitor = SparsityMonitor(model, **options)
        timed_pass(model, batches, monitor)
        pairs = []
        for _ in range(args.repeats):
            pairs += timed_pass(model, batches, monitor)
        slowdowns = sorted(1.0 - plain / hooked for plain, hooked in pairs)
        median = stats.median(slowdowns)
        quartiles = stats.quantiles(slowdowns, n=4)
        plain, hooked = (stats.median(t) for t in zip(*pairs, strict=True))
        rows.append({"unit": unit, "seconds": pairs, "median_slowdown": median})
        verdict = "meets" if median <= TARGET else "MISSES"
        print(
            f"{unit:>10} {args.num_layers}x{args.neurons}: without hooks "
            f"{args.batch_frames / plain:7.0f} frames/s | with hooks "
            f"{args.batch_frames / hooked:7.0f} frames/s | "
            f"{100 * median:5.1f} % slower (median of {len(pairs)} pairs; "
            f"quartiles {100 * quartiles[0]:.1f}, {100 * quartiles[2]:.1f} %)"
            f" | {verdict} the {100 * TARGET:.0f} % target",
            flush=True,
        )
    if args.json:
        write_json(args.json, {"args": vars(args), "results": rows})


if __name__ == "__main__":
    main()
