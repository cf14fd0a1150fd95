#!/usr/bin/env python3
"""Training throughput: HybridBrain against a bare PyTorch loop.

For each model size, the same RectifierDNN (same seed, same SGD with
Nesterov momentum, same gradient clipping at 5.0 as SpeechBrain's default
``max_grad_norm``) trains for a fixed number of steps on the same random
data, measured side by side in one process:

* **bare**: a hand-written loop over pre-spliced, pre-normalised random
  minibatches already in memory (forward, cross-entropy, backward, clip,
  step): the floor any framework adds overhead to;
* **HybridBrain**: ``HybridBrain.fit`` on a random frame store, with
  everything it really does per step: global frame shuffling, context
  windows gathered on the fly, normalisation, SpeechBrain's fit loop.

Each variant first runs once untimed (the first large allocations of a
process are slow, which would otherwise count against whichever variant
runs first), then ``--repeats`` times, alternating, each after
``--warmup`` untimed steps. The best run of each counts (the median is
printed too). The target (on CPU) is
HybridBrain at 0.9x the bare loop's frames/s or better.

    python benchmarks/train_throughput.py            # both sizes
    python benchmarks/train_throughput.py --sizes default --steps 50

Authors
 * sb_rectifier developers 2026
"""

import argparse
import json
import os
import platform
import tempfile
import time

import speechbrain as sb
import torch
import torch.nn.functional as F

from sb_rectifier import RectifierDNN
from sb_rectifier.data import FrameDataset, FrameStore
from sb_rectifier.nnet import GlobalNormalization
from sb_rectifier.training import HybridBrain

SIZES = {
    # The paper's size: 11 frames x 40 filterbanks, 4 x 2048, 9000 pdfs.
    "paper": {"num_layers": 4, "neurons": 2048, "n_pdfs": 9000, "steps": 15},
    # hparams/base.yaml's default model (pdfs: the embedded corpus's order).
    "default": {"num_layers": 4, "neurons": 512, "n_pdfs": 150, "steps": 200},
}
FEAT_DIM = 40
CONTEXT = 5
TARGET = 0.9


class TimedBrain(HybridBrain):
    """HybridBrain that timestamps the end of every optimiser step."""

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """Records the time and the frames of this step."""
        self.stamps.append((time.perf_counter(), len(batch)))


def make_model(size, seed):
    """The benchmarked model, identically initialised for both loops."""
    torch.manual_seed(seed)
    return RectifierDNN(
        input_size=(2 * CONTEXT + 1) * FEAT_DIM,
        num_layers=size["num_layers"],
        neurons=size["neurons"],
        activation="relu",
        n_pdfs=size["n_pdfs"],
    )


def make_store(num_frames, n_pdfs, seed):
    """A random frame store: utterances of 300 frames, random labels."""
    gen = torch.Generator().manual_seed(seed)
    feats = torch.randn(num_frames, FEAT_DIM, generator=gen)
    labels = torch.randint(0, n_pdfs, (num_frames,), generator=gen)
    offsets = list(range(0, num_frames, 300)) + [num_frames]
    return FrameStore(
        feats, offsets, [f"u{i}" for i in range(len(offsets) - 1)], labels
    )


def median(values):
    """Median of a list."""
    values = sorted(values)
    mid = len(values) // 2
    return (
        values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    )


def frames_per_second(stamps, warmup):
    """Throughput over the steps after ``warmup``."""
    timed = stamps[warmup:]
    frames = sum(n for _, n in timed[1:])
    return frames / (timed[-1][0] - timed[0][0])


def run_bare(size, store, args, device):
    """The hand-written loop; returns frames/s."""
    model = make_model(size, args.seed).to(device)
    normalizer = GlobalNormalization(FEAT_DIM).fit(store.feats).to(device)
    opt = torch.optim.SGD(
        model.parameters(), lr=0.01, momentum=0.9, nesterov=True
    )
    gen = torch.Generator().manual_seed(args.seed)
    batches = []
    for _ in range(4):  # a few distinct minibatches, reused cyclically
        idx = torch.randint(
            0, store.num_frames, (args.batch_size,), generator=gen
        )
        x = normalizer(store.gather(idx, CONTEXT, CONTEXT).to(device)).flatten(
            1
        )
        batches.append((x, store.labels[idx].to(device)))
    stamps = []
    model.train()
    for step in range(args.warmup + args.steps + 1):
        x, y = batches[step % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        loss.item()  # HybridBrain, like any trainer, reads the loss each step
        stamps.append((time.perf_counter(), args.batch_size))
    return frames_per_second(stamps, args.warmup)


def run_brain(size, store, args, device):
    """HybridBrain.fit for the same number of steps; returns frames/s."""
    model = make_model(size, args.seed)
    normalizer = GlobalNormalization(FEAT_DIM).fit(store.feats)
    with tempfile.TemporaryDirectory() as tmp:
        logger = sb.utils.train_logger.FileTrainLogger(
            os.path.join(tmp, "log.txt")
        )
        brain = TimedBrain(
            modules={"model": model, "normalizer": normalizer},
            opt_class=lambda p: torch.optim.SGD(
                p, lr=0.01, momentum=0.9, nesterov=True
            ),
            hparams={
                "train_logger": logger,
                "lr_annealing": None,
                "epoch_counter": sb.utils.epoch_loop.EpochCounter(1),
            },
            run_opts={"device": device, "noprogressbar": True},
        )
        brain.stamps = []
        steps = args.warmup + args.steps + 1
        data = FrameDataset(store.to(device), CONTEXT, CONTEXT)
        brain.fit(
            brain.hparams.epoch_counter,
            data,
            train_loader_kwargs={
                "batch_size": args.batch_size,
                "seed": args.seed,
            },
            progressbar=False,
        )
        stamps = brain.stamps[:steps]
    if len(stamps) < steps:
        raise RuntimeError(f"store too small: {len(stamps)} < {steps} steps")
    return frames_per_second(stamps, args.warmup)


def machine_description(device):
    """CPU/GPU model, cores and library versions."""
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as fin:
            for line in fin:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    desc = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "speechbrain": sb.__version__,
        "device": device,
    }
    if device.startswith("cuda"):
        desc["gpu"] = torch.cuda.get_device_name(device)
    return desc


def main():
    """Runs the benchmark and prints a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", nargs="+", default=list(SIZES), choices=list(SIZES)
    )
    parser.add_argument(
        "--steps", type=int, help="timed steps per run (default: per size)"
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    machine = machine_description(args.device)
    print("machine:", json.dumps(machine))
    results = []
    for name in args.sizes:
        size = SIZES[name]
        run_args = argparse.Namespace(**vars(args))
        run_args.steps = args.steps or size["steps"]
        frames = args.batch_size * (args.warmup + run_args.steps + 2)
        store = make_store(frames, size["n_pdfs"], args.seed)
        untimed = argparse.Namespace(**vars(run_args))
        untimed.steps = 2
        run_bare(size, store, untimed, args.device)
        run_brain(size, store, untimed, args.device)
        bare, brain = [], []
        for _ in range(args.repeats):
            bare.append(run_bare(size, store, run_args, args.device))
            brain.append(run_brain(size, store, run_args, args.device))
        row = {
            "size": name,
            **size,
            "steps": run_args.steps,
            "inputs": (2 * CONTEXT + 1) * FEAT_DIM,
            "parameters": make_model(size, 0).num_parameters(),
            "bare_frames_per_s": max(bare),
            "brain_frames_per_s": max(brain),
            "ratio": max(brain) / max(bare),
            "median_ratio": median(brain) / median(bare),
            "all_bare": bare,
            "all_brain": brain,
        }
        results.append(row)
        print(
            f"{name:>8}: {row['inputs']} -> {size['num_layers']}x{size['neurons']} "
            f"-> {size['n_pdfs']} ({row['parameters'] / 1e6:.1f}M params) | "
            f"bare {row['bare_frames_per_s']:9.0f} frames/s | "
            f"HybridBrain {row['brain_frames_per_s']:9.0f} frames/s | "
            f"ratio {row['ratio']:.3f} (median {row['median_ratio']:.3f}) "
            f"({'meets' if row['ratio'] >= TARGET else 'MISSES'} the {TARGET}x target)",
            flush=True,
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fout:
            json.dump(
                {"machine": machine, "args": vars(args), "results": results},
                fout,
                indent=2,
            )


if __name__ == "__main__":
    main()
