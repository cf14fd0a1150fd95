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

**GPU mode** (``--device cuda``, or ``--mode step`` on any device): on a GPU
a 256-frame step is limited by per-step overhead, not arithmetic, so this
mode times the training step itself, with the GPU synchronised only at the
start and the end of the timed steps. Variants (``--variants``):

* ``bare_graph``: the fastest honest loop: frames and the epoch's shuffle
  on the device, context windows gathered there, bf16 autocast, clipping
  at 5.0, fused SGD, the whole step captured in a CUDA graph and replayed;
* ``bare_eager``: the same loop without the graph (no host syncs);
* ``brain_graph``: HybridBrain with ``cuda_graph_step`` and
  ``fused_optimizer`` (sync-free);
* ``brain_sync_free``: HybridBrain as it runs on CUDA by default
  (``sync_free_step``, eager step, SpeechBrain's foreach SGD);
* ``brain_speechbrain``: HybridBrain with ``sync_free_step: false``
  (SpeechBrain's step, which reads the loss on the host every step).

It prints frames/s of each, HybridBrain's best beside the bare loop's,
and each as a fraction of the arithmetic ceiling: training FLOPs per
frame (forward ``2 * in * out`` per linear layer, backward twice the
forward) against ``--peak-tflops`` (default 790: H200, bf16, dense). It
also prints an estimate (not a measurement) of the step's HBM traffic and
the frames/s that ``--peak-tbps`` of bandwidth allows. The paper model at
batch 256 on an H200:

    python benchmarks/train_throughput.py --device cuda --sizes paper \
        --json bench_gpu.json

Authors
 * sb_rectifier developers 2026
"""

import argparse
import contextlib
import functools
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
GPU_GOAL = 1.5e6  # frames/s of HybridBrain, paper model, batch 256, H200
GPU_STEPS = 500  # timed steps per run in step mode
GPU_WARMUP = 20  # untimed steps per run (HybridBrain captures at step 4)
VARIANTS = {
    "bare_graph": "bare (CUDA graph, fused SGD)",
    "bare_eager": "bare (eager, fused SGD)",
    "brain_graph": "HybridBrain (cuda_graph_step, fused_optimizer)",
    "brain_sync_free": "HybridBrain (sync_free_step: the CUDA default)",
    "brain_speechbrain": "HybridBrain (sync_free_step: false)",
}
NEEDS_CUDA = ("bare_graph", "brain_graph")


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


# ---------------------------------------------------------------------------
# Step mode (GPU): the training step itself, synchronised only at the ends
# ---------------------------------------------------------------------------


def synchronize(device):
    """Waits for the device's queued work (no-op on CPU)."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def layer_sizes(size):
    """``(in, out)`` of every linear layer of the model."""
    dims = [(2 * CONTEXT + 1) * FEAT_DIM]
    dims += [size["neurons"]] * size["num_layers"] + [size["n_pdfs"]]
    return list(zip(dims[:-1], dims[1:], strict=True))


def train_flops_per_frame(size):
    """Training FLOPs per frame: forward ``2 * in * out`` per linear layer,
    backward twice the forward (biases and activations left out)."""
    forward = sum(2 * n_in * n_out for n_in, n_out in layer_sizes(size))
    return 3 * forward


def step_bytes_estimate(size, precision):
    """Estimated HBM bytes per step moved for the weights (an estimate of
    the floor, not a measurement; activations of 256 frames are small).

    Per fp32 weight: bf16 autocast casts it (read 4, write 2), forward and
    backward read the bf16 copy (2 + 2), the weight gradient is written in
    bf16 and cast to fp32 (2 + 2 + 4); fp32: forward and backward read it
    (4 + 4), its gradient is written (4). Then clipping reads the
    gradient for the norm and scales it in place (4 + 8), and fused SGD
    with momentum reads weight, gradient and momentum and writes weight
    and momentum (20).
    """
    params = sum(n_in * n_out + n_out for n_in, n_out in layer_sizes(size))
    per_weight = (6 + 2 + 2 + 8) if precision == "bf16" else (4 + 4 + 4)
    return params * (per_weight + 12 + 20)


def make_opt(params, fused):
    """The benchmarked SGD (Nesterov momentum), fused or not."""
    kwargs = {"fused": True} if fused else {}
    return torch.optim.SGD(
        params, lr=0.01, momentum=0.9, nesterov=True, **kwargs
    )


def run_bare_step(size, store, args, graphed):
    """The fastest honest loop on the device; returns frames/s.

    The frames and the epoch's shuffle live on the device; each step
    gathers its context windows there, then forward (autocast), loss,
    backward, clipping at 5.0 and fused SGD; with ``graphed`` the whole
    step is one CUDA graph replay. No host sync inside the timed steps.
    """
    device = args.device
    model = make_model(size, args.seed).to(device)
    normalizer = GlobalNormalization(FEAT_DIM).fit(store.feats).to(device)
    store = store.to(device)
    params = list(model.parameters())
    opt = make_opt(params, fused=True)
    gen = torch.Generator().manual_seed(args.seed)
    perm = torch.randperm(store.num_frames, generator=gen).to(device)
    batch = args.batch_size
    num_batches = store.num_frames // batch
    idx = perm[:batch].clone()
    autocast = contextlib.nullcontext
    if args.precision == "bf16":
        autocast = functools.partial(
            torch.autocast,
            str(torch.device(device).type),
            dtype=torch.bfloat16,
            cache_enabled=False,
        )

    def step():
        opt.zero_grad(set_to_none=True)
        x = normalizer(store.gather(idx, CONTEXT, CONTEXT)).flatten(1)
        with autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), store.labels[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0, foreach=True)
        opt.step()
        return loss

    def load(i):
        start = (i % num_batches) * batch
        idx.copy_(perm[start : start + batch], non_blocking=True)

    run = step
    model.train()
    if graphed:
        side = torch.cuda.Stream(device=device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for i in range(3):  # warm-up (real steps) before the capture
                load(i)
                step()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            step()
        run = graph.replay
    start = None
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            synchronize(device)
            start = time.perf_counter()
        load(i)
        run()
    synchronize(device)
    return args.steps * batch / (time.perf_counter() - start)


class StepTimedBrain(HybridBrain):
    """HybridBrain that synchronises and timestamps at two steps only."""

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """Timestamps the ends of steps ``marks`` (after a device sync)."""
        if self.step in self.marks:
            synchronize(self.device)
            self.times[self.step] = time.perf_counter()


BRAIN_OPTIONS = {
    "brain_graph": {"cuda_graph_step": True, "fused_optimizer": True},
    "brain_sync_free": {"sync_free_step": True},
    "brain_speechbrain": {"sync_free_step": False},
}


def run_brain_step(size, store, args, variant):
    """HybridBrain.fit in step mode; returns frames/s of the timed steps."""
    model = make_model(size, args.seed)
    normalizer = GlobalNormalization(FEAT_DIM).fit(store.feats)
    with tempfile.TemporaryDirectory() as tmp:
        logger = sb.utils.train_logger.FileTrainLogger(
            os.path.join(tmp, "log.txt")
        )
        brain = StepTimedBrain(
            modules={"model": model, "normalizer": normalizer},
            opt_class=functools.partial(
                torch.optim.SGD, lr=0.01, momentum=0.9, nesterov=True
            ),
            hparams={
                "train_logger": logger,
                "lr_annealing": None,
                "epoch_counter": sb.utils.epoch_loop.EpochCounter(1),
                **BRAIN_OPTIONS[variant],
            },
            run_opts={
                "device": args.device,
                "noprogressbar": True,
                "precision": args.precision,
            },
        )
        brain.marks = (args.warmup, args.warmup + args.steps)
        brain.times = {}
        data = FrameDataset(store.to(args.device), CONTEXT, CONTEXT)
        brain.fit(
            brain.hparams.epoch_counter,
            data,
            train_loader_kwargs={
                "batch_size": args.batch_size,
                "seed": args.seed,
            },
            progressbar=False,
        )
    if len(brain.times) < 2:
        raise RuntimeError(f"store too small: steps {sorted(brain.times)}")
    first, last = brain.marks
    seconds = brain.times[last] - brain.times[first]
    return args.steps * args.batch_size / seconds


def run_variant(variant, size, store, args):
    """frames/s of one variant."""
    if variant.startswith("bare"):
        return run_bare_step(size, store, args, variant == "bare_graph")
    return run_brain_step(size, store, args, variant)


def step_mode(args, machine):
    """Step mode: every variant side by side, against the ceilings."""
    cuda = args.device.startswith("cuda")
    variants = [v for v in args.variants if cuda or v not in NEEDS_CUDA]
    skipped = [v for v in args.variants if v not in variants]
    if skipped:
        print(f"skipped (need a CUDA device): {', '.join(skipped)}")
    results = []
    for name in args.sizes:
        size = SIZES[name]
        run_args = argparse.Namespace(**vars(args))
        run_args.steps = args.steps or GPU_STEPS
        run_args.warmup = max(args.warmup, GPU_WARMUP if cuda else 5)
        frames = args.batch_size * (run_args.warmup + run_args.steps + 2)
        store = make_store(frames, size["n_pdfs"], args.seed)
        untimed = argparse.Namespace(**vars(run_args))
        untimed.steps = 2
        for variant in variants:
            run_variant(variant, size, store, untimed)
        runs = {v: [] for v in variants}
        for _ in range(args.repeats):
            for variant in variants:
                runs[variant].append(
                    run_variant(variant, size, store, run_args)
                )
        flops = train_flops_per_frame(size)
        ceiling = args.peak_tflops * 1e12 / flops
        traffic = step_bytes_estimate(size, args.precision)
        bandwidth_bound = args.peak_tbps * 1e12 / traffic * args.batch_size
        row = {
            "size": name,
            **size,
            "steps": run_args.steps,
            "warmup": run_args.warmup,
            "batch_size": args.batch_size,
            "precision": args.precision,
            "inputs": (2 * CONTEXT + 1) * FEAT_DIM,
            "parameters": make_model(size, 0).num_parameters(),
            "train_flops_per_frame": flops,
            "ceiling_frames_per_s": ceiling,
            "step_bytes_estimate": traffic,
            "bandwidth_bound_frames_per_s": bandwidth_bound,
            "frames_per_s": {v: max(r) for v, r in runs.items()},
            "median_frames_per_s": {v: median(r) for v, r in runs.items()},
            "all_frames_per_s": runs,
        }
        results.append(row)
        best = row["frames_per_s"]
        bare = max((v for v in best if v.startswith("bare")), key=best.get)
        brain = max((v for v in best if v.startswith("brain")), key=best.get)
        print(
            f"{name:>8}: {row['inputs']} -> {size['num_layers']}x"
            f"{size['neurons']} -> {size['n_pdfs']} "
            f"({row['parameters'] / 1e6:.1f}M params), batch "
            f"{args.batch_size}, {args.precision} | bare {best[bare]:9.0f} "
            f"frames/s | HybridBrain {best[brain]:9.0f} frames/s | ratio "
            f"{best[brain] / best[bare]:.3f} | ceiling fraction: bare "
            f"{best[bare] / ceiling:.3f}, HybridBrain "
            f"{best[brain] / ceiling:.3f}",
            flush=True,
        )
        for variant in variants:
            print(
                f"    {VARIANTS[variant]:<50} {best[variant]:10.0f} frames/s "
                f"(median {row['median_frames_per_s'][variant]:10.0f}), "
                f"{100 * best[variant] / ceiling:5.1f} % of the ceiling"
            )
        print(
            f"    ceiling: {flops / 1e6:.1f} MFLOP per frame at "
            f"{args.peak_tflops:g} TFLOP/s = {ceiling:.0f} frames/s"
        )
        print(
            f"    HBM traffic per step (estimate, not measured): "
            f"{traffic / 1e9:.2f} GB -> at most {bandwidth_bound:.0f} "
            f"frames/s at {args.peak_tbps:g} TB/s"
        )
        if cuda and name == "paper" and args.batch_size == 256:
            verdict = "meets" if best[brain] >= GPU_GOAL else "MISSES"
            print(f"    {verdict} the goal of {GPU_GOAL:.0f} frames/s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fout:
            json.dump(
                {"machine": machine, "args": vars(args), "results": results},
                fout,
                indent=2,
            )


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
    parser.add_argument(
        "--mode",
        choices=["ratio", "step"],
        help="ratio: HybridBrain against the bare loop, per-step timestamps "
        "(default on CPU); step: the step mode (default on CUDA)",
    )
    parser.add_argument(
        "--precision",
        choices=["fp32", "bf16"],
        help="step mode: training precision (default bf16 on CUDA, fp32 on "
        "CPU)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=list(VARIANTS),
        choices=list(VARIANTS),
        help="step mode: what to time",
    )
    parser.add_argument(
        "--peak-tflops",
        type=float,
        default=790.0,
        help="step mode: the arithmetic ceiling (default: H200, bf16, dense)",
    )
    parser.add_argument(
        "--peak-tbps",
        type=float,
        default=4.8,
        help="step mode: memory bandwidth for the traffic estimate (H200)",
    )
    args = parser.parse_args()
    if args.mode is None:
        args.mode = "step" if args.device.startswith("cuda") else "ratio"
    if args.precision is None:
        args.precision = "bf16" if args.device.startswith("cuda") else "fp32"

    machine = machine_description(args.device)
    print("machine:", json.dumps(machine))
    if args.mode == "step":
        step_mode(args, machine)
        return
    if args.precision != "fp32":
        parser.error("--precision applies to --mode step only")
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
