#!/usr/bin/env python3
"""Regenerates every result quoted in the docs about the embedded corpus.

One command makes the figures of docs/embedded_corpus.md, docs/decoding.md
and docs/sparsity.md, on the machine it runs on:

    python docs/regenerate.py                   # about 35 min on 2 CPU cores

It makes the embedded corpus, trains the three units with two seeds each
(``python train.py hparams/<unit>.yaml --seed <seed>``, default settings),
trains ReLU seed 1234 a second time to measure the run-to-run spread on the
same machine, then rewrites the blocks of the docs between
``<!-- regenerate.py: NAME -->`` and ``<!-- /regenerate.py: NAME -->`` and
the figures they show. Prose outside those blocks quotes no number. Results
depend on the CPU (floating-point kernels differ between processors), so
every block names the machine it was made on.

Runs go to ``--root`` (default ``results/docs``); with ``--reuse`` finished
runs there are read instead of run again.

Authors
 * sb_rectifier developers 2026
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(REPO, "docs")
UNITS = ("tanh", "relu", "leaky_relu")
LABELS = {"tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU"}
SEEDS = (1234, 2)


def replace_block(text, name, body):
    """Replaces the generated block ``name`` of a document.

    Arguments
    ---------
    text : str
        The document.
    name : str
        Block name.
    body : str
        New content (without the markers).

    Returns
    -------
    str
        The document with the block replaced.

    Example
    -------
    >>> doc = "a\\n<!-- regenerate.py: t -->\\nold\\n<!-- /regenerate.py: t -->\\nb\\n"
    >>> print(replace_block(doc, "t", "new"), end="")
    a
    <!-- regenerate.py: t -->
    new
    <!-- /regenerate.py: t -->
    b
    """
    start, end = (
        f"<!-- regenerate.py: {name} -->",
        f"<!-- /regenerate.py: {name} -->",
    )
    pattern = re.compile(re.escape(start) + r"\n.*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"no generated block '{name}' in the document")
    return pattern.sub(lambda _: f"{start}\n{body.strip()}\n{end}", text)


def machine():
    """One line describing this machine and the software stack."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fin:
            names = re.findall(r"^model name\s*:\s*(.+)$", fin.read(), re.M)
        cpu = names[0].strip() if names else cpu
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fin:
            kb = int(re.search(r"MemTotal:\s*(\d+)", fin.read()).group(1))
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    gpu = (
        "no GPU"
        if not torch.cuda.is_available()
        else torch.cuda.get_device_name()
    )
    return (
        f"CPU: {cpu}, {os.cpu_count()} cores{mem}, {gpu}; Python "
        f"{platform.python_version()}, torch {torch.__version__}; "
        f"{datetime.date.today().isoformat()}"
    )


def run(cmd, log_path):
    """Runs a command, its output to a log file; returns its wall time."""
    start = time.time()
    with open(log_path, "w", encoding="utf-8") as log:
        status = subprocess.run(
            cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    if status.returncode:
        sys.exit(f"regenerate.py: {' '.join(cmd)} failed; see {log_path}")
    return time.time() - start


def train(root, unit, seed, folder, reuse):
    """One default run; returns its folder and wall time (None: reused)."""
    out = os.path.join(root, folder)
    if reuse and os.path.isfile(os.path.join(out, "summary.json")):
        return out, None
    cmd = [
        sys.executable, "train.py", f"hparams/{unit}.yaml",
        "--seed", str(seed), "--noprogressbar",
        "--output_folder", out,
        "--frame_cache_folder", os.path.join(root, "frame_cache"),
        "--corpus_folder", os.path.join(root, "embedded_corpus", "1.0h_seed0"),
    ]  # fmt: skip
    os.makedirs(out, exist_ok=True)
    print(f"regenerate.py: {unit} seed {seed} ...", flush=True)
    return out, run(cmd, os.path.join(root, folder.replace("/", "_") + ".log"))


def load(out):
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as fin:
        summary = json.load(fin)
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as fin:
        metrics = json.load(fin)
    with open(
        os.path.join(out, "decode", "decoding.json"), encoding="utf-8"
    ) as fin:
        decoding = json.load(fin)
    return {
        "summary": summary,
        "metrics": metrics,
        "decoding": decoding,
        "dir": out,
    }


def seconds(value):
    return "not measured" if value is None else f"{value:.0f} s"


def corpus_block(root, corpus_seconds, where):
    with open(
        os.path.join(root, "embedded_corpus", "1.0h_seed0", "corpus.json")
    ) as fin:
        info = json.load(fin)
    lines = [
        f"Machine: {where}.",
        "",
        "| split | utterances | speakers | hours | frames |",
        "|---|---|---|---|---|",
    ]
    for split in ("train", "dev", "test"):
        s = info["splits"][split]
        lines.append(
            f"| {split} | {s['utterances']} | {s['speakers']} | {s['hours']:.2f} | "
            f"{s['frames']} |"
        )
    lines += [
        "",
        f"- {info['phones']} phones, including silence, and {info['num_pdfs']} pdfs "
        f"(3-state HMMs); {info['words']} words occur.",
        f"- Made in {seconds(corpus_seconds)} "
        "(`sb-rectifier make-corpus`, all cores).",
        f"- Utterances that failed to align: {len(info['failed_to_align'])}.",
    ]
    return "\n".join(lines)


def frame_block(runs, repeat, times, where):
    lines = [f"Machine: {where}.", ""]
    for seed in SEEDS:
        lines += [
            f"Seed {seed}:",
            "",
            "| unit | dev CE (nats/frame) | dev frame acc. (%) | test frame acc. (%) "
            "| best epoch / epochs | wall time |",
            "|---|---|---|---|---|---|",
        ]
        for unit in UNITS:
            r = runs[unit, seed]
            s = r["summary"]
            lines.append(
                f"| {LABELS[unit]} | {s['dev_ce']:.3f} | {s['dev_frame_acc']:.2f} | "
                f"{s['test_frame_acc']:.2f} | {s['best_epoch']} / {len(r['metrics'])} "
                f"| {seconds(times[unit, seed])} |"
            )
        lines.append("")
    lines += spread_lines(
        runs, repeat, "dev CE", lambda r: r["summary"]["dev_ce"], 3
    )
    lines += spread_lines(
        runs, repeat, "test frame accuracy (points)",
        lambda r: r["summary"]["test_frame_acc"], 2,
    )  # fmt: skip
    lowest = {
        seed: min(UNITS, key=lambda u: runs[u, seed]["summary"]["dev_ce"])
        for seed in SEEDS
    }
    lines.append(
        "- Lowest dev CE: "
        + ", ".join(f"seed {s}: {LABELS[u]}" for s, u in lowest.items())
        + "."
    )
    lines.append(
        "- Wall time is the whole `train.py` run (training, evaluation, "
        "decoding), the corpus already made."
    )
    return "\n".join(lines)


def spread_lines(runs, repeat, what, get, digits):
    seed_spread = max(
        abs(get(runs[u, SEEDS[0]]) - get(runs[u, SEEDS[1]])) for u in UNITS
    )
    units = [get(runs[u, s]) for u in UNITS for s in SEEDS]
    by_seed = [
        max(get(runs[u, s]) for u in UNITS)
        - min(get(runs[u, s]) for u in UNITS)
        for s in SEEDS
    ]
    rerun = abs(get(repeat) - get(runs["relu", SEEDS[0]]))
    return [
        f"- {what}: largest gap between units within a seed "
        f"{max(by_seed):.{digits}f}; largest change of one unit between the two "
        f"seeds {seed_spread:.{digits}f}; ReLU seed {SEEDS[0]} run twice on this "
        f"machine: difference {rerun:.{digits}f} (range over all runs "
        f"{min(units):.{digits}f} to {max(units):.{digits}f}).",
    ]


def wer_block(runs, repeat, where):
    dec = runs["relu", SEEDS[0]]["decoding"]
    grid = dec["dev_grid"]
    lms = sorted({g["lm_weight"] for g in grid})
    pens = sorted({g["word_ins_penalty"] for g in grid})
    lines = [
        f"Machine: {where}. Grid: LM weight {{{', '.join(f'{x:g}' for x in lms)}}} x "
        f"insertion penalty {{{', '.join(f'{x:g}' for x in pens)}}}, chosen on dev.",
        "",
        "| unit | seed | LM weight | penalty | dev WER % | test WER % | test (Kaldi format) "
        "| test decoding | RTF |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for seed in SEEDS:
        for unit in UNITS:
            d = runs[unit, seed]["decoding"]
            kaldi = (
                d["test"]["kaldi"]
                .splitlines()[0]
                .split("[", 1)[1]
                .split("]")[0]
            )
            lines.append(
                f"| {LABELS[unit]} | {seed} | {d['lm_weight']:g} | "
                f"{d['word_ins_penalty']:g} | {d['dev']['wer']:.2f} | "
                f"{d['test']['wer']:.2f} | `[{kaldi}]` | "
                f"{d['test']['decode_seconds']:.2f} s | "
                f"{d['test']['real_time_factor']:.4f} |"
            )
    lines.append("")
    lines += spread_lines(
        runs,
        repeat,
        "test WER (points)",
        lambda r: r["decoding"]["test"]["wer"],
        2,
    )
    audio = dec["test"]["audio_seconds"]
    lines.append(f"- Test set: {audio:.1f} s of audio.")
    return "\n".join(lines)


def compute_wer_block(runs, corpus):
    """compute-wer with two speakers as subsets, on ReLU seed 1234's test."""
    out = runs["relu", SEEDS[0]]["dir"]
    hyp = os.path.join(out, "decode", "test", "hyp.txt")
    ref = os.path.join(corpus, "data", "test", "text")
    speakers = sorted({line.split()[0].split("-")[0] for line in open(ref)})[:2]
    subsets = [a for spk in speakers for a in ("--subset", f"{spk}={spk}-")]
    details = os.path.join(out, "decode", "test", "details.txt")
    cmd = [
        sys.executable, "-m", "sb_rectifier.cli.main", "compute-wer", *subsets,
        "--details", details, f"ark:{ref}", f"ark,t:{hyp}",
    ]  # fmt: skip
    printed = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    shown = " ".join(
        ["$ sb-rectifier compute-wer", *(f"{a}" for a in subsets)]
        + ["--details details.txt ark:data/test/text ark,t:decode/test/hyp.txt"]
    )
    return f"```\n{shown}\n{printed.rstrip()}\n```"


def sparsity_block(runs, where):
    import numpy as np

    sys.path.insert(0, REPO)
    from sb_rectifier.cli.sparsity import fig2_curves
    from sb_rectifier.sparsity.plots import plot_sorted_activation_probability

    dirs = [runs[u, SEEDS[0]]["dir"] for u in ("relu", "leaky_relu", "tanh")]
    curves = fig2_curves(dirs)
    plot_sorted_activation_probability(
        curves,
        os.path.join(DOCS, "fig2_embedded_4x512.png"),
        title="Last hidden layer, 4 x 512, embedded corpus dev set",
    )
    lines = [f"Machine: {where}.", "", "```"]
    for label, probs in curves:
        p = np.asarray(probs)
        lines.append(
            f"{label:>10}: mean activation probability {p.mean():.3f}, "
            f"median {np.median(p):.3f}, max {p.max():.3f}, "
            f"units never active {int((p == 0).sum())}/{len(p)}"
        )
    lines += [
        "```",
        "",
        "| run | layer | rule | mean p (= mean population sparsity) | std of s_f "
        "| dead | always | entropy | Gini |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for unit in ("relu", "leaky_relu", "tanh"):
        path = os.path.join(runs[unit, SEEDS[0]]["dir"], "sparsity", "dev.json")
        with open(path, encoding="utf-8") as fin:
            doc = json.load(fin)
        frames = doc["meta"].get("frames")
        layers = list(doc["layers"].items())
        if unit != "relu":
            layers = layers[-1:]
        for index, (_, layer) in enumerate(layers, 1):
            number = index if unit == "relu" else len(doc["layers"])
            for d in layer["definitions"].values():
                lines.append(
                    f"| {LABELS[unit]} | {number} | {d['definition']['rule']} | "
                    f"{d['mean_activation_probability']:.3f} | "
                    f"{d['population_sparsity_std']:.3f} | "
                    f"{d['dead_units']['count']} | "
                    f"{d['always_active_units']['count']} | "
                    f"{d['dispersion']['entropy']:.3f} | "
                    f"{d['dispersion']['gini']:.3f} |"
                )
    lines.append("")
    lines.append(f"Frames per run (the whole dev set): {frames}.")
    lines += ["", "Checks of the paper's observations (last hidden layer):", ""]
    mean = {label: float(np.mean(p)) for label, p in curves}
    rect = [k for k in mean if not k.startswith("tanh")]
    tanh = [k for k in mean if k.startswith("tanh")]
    sparser = all(mean[r] < mean[t] for r in rect for t in tanh)
    lines.append(
        f"- Rectifier layers sparser than tanh under both rules: "
        f"{'yes' if sparser else 'no'} ("
        + ", ".join(f"{k} {v:.3f}" for k, v in mean.items())
        + ")."
    )
    if len(rect) == 2:
        lines.append(
            f"- ReL and LReL: {mean[rect[0]]:.3f} and {mean[rect[1]]:.3f} "
            f"(difference {abs(mean[rect[0]] - mean[rect[1]]):.3f})."
        )
    if len(tanh) == 2:
        above = mean["tanh neg"] > mean["tanh both"]
        lines.append(
            f'- "tanh neg" above "tanh both": {"yes" if above else "no"}.'
        )
    return "\n".join(lines)


def rewrite(doc, blocks):
    path = os.path.join(DOCS, doc)
    with open(path, encoding="utf-8") as fin:
        text = fin.read()
    for name, body in blocks.items():
        text = replace_block(text, name, body)
    with open(path, "w", encoding="utf-8") as fout:
        fout.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join("results", "docs"))
    parser.add_argument(
        "--reuse", action="store_true", help="read finished runs"
    )
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    os.makedirs(root, exist_ok=True)
    where = machine()
    corpus = os.path.join(root, "embedded_corpus", "1.0h_seed0")
    corpus_seconds = None
    if not (args.reuse and os.path.isfile(os.path.join(corpus, "corpus.json"))):
        print("regenerate.py: corpus ...", flush=True)
        corpus_seconds = run(
            [
                sys.executable,
                "-m",
                "sb_rectifier.cli.main",
                "make-corpus",
                corpus,
            ],
            os.path.join(root, "corpus.log"),
        )
    # Wall times of the runs made, kept for --reuse.
    timings_file = os.path.join(root, "timings.json")
    timings = {}
    if args.reuse and os.path.isfile(timings_file):
        with open(timings_file, encoding="utf-8") as fin:
            timings = json.load(fin)
    if corpus_seconds is not None:
        timings["corpus"] = corpus_seconds
    runs, times = {}, {}
    for seed in SEEDS:
        for unit in UNITS:
            out, seconds_taken = train(
                root, unit, seed, f"{unit}_4x512/{seed}", args.reuse
            )
            if seconds_taken is not None:
                timings[f"{unit}/{seed}"] = seconds_taken
            times[unit, seed] = timings.get(f"{unit}/{seed}")
            runs[unit, seed] = load(out)
            with open(timings_file, "w", encoding="utf-8") as fout:
                json.dump(timings, fout, indent=2)
    corpus_seconds = timings.get("corpus")
    out, _ = train(
        root, "relu", SEEDS[0], f"repeat/relu_4x512/{SEEDS[0]}", args.reuse
    )
    repeat = load(out)

    sys.path.insert(0, REPO)
    from sb_rectifier.report.runs import load_run, plot_learning_curves

    plot_learning_curves(
        [load_run(runs[u, SEEDS[0]]["dir"]) for u in UNITS],
        os.path.join(DOCS, "embedded_units_4x512.png"),
    )
    rewrite(
        "embedded_corpus.md",
        {
            "corpus": corpus_block(root, corpus_seconds, where),
            "frame-metrics": frame_block(runs, repeat, times, where),
        },
    )
    rewrite(
        "decoding.md",
        {
            "wer": wer_block(runs, repeat, where),
            "compute-wer": compute_wer_block(runs, corpus),
        },
    )
    rewrite("sparsity.md", {"fig2": sparsity_block(runs, where)})
    print(
        "regenerate.py: docs/embedded_corpus.md, docs/decoding.md, docs/sparsity.md"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
