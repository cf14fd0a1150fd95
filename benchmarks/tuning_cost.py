"""Cost of dev tuning: exhaustive 7 x 7 grid vs one lattice pass + rescoring.

Reuses a trained experiment's dev log-likelihoods and graph, e.g. of::

    python train.py hparams/relu.yaml --corpus_hours 0.3 \\
        --number_of_epochs 3 --output_folder EXP
    python benchmarks/tuning_cost.py EXP results/embedded_corpus/0.3h_seed0

and prints one 1-best pass over dev, the exhaustive grid and the
rescoring grid side by side, the ratio to one pass, and whether the two
grids choose the same (LM weight, penalty).

Authors
 * sb_rectifier developers 2026
"""

import argparse
import json
import os
import statistics
import tempfile

from sb_rectifier.decoding import ParallelDecoder, read_symbols, tune_and_decode
from sb_rectifier.scoring import read_text

LM_WEIGHTS = [2, 3, 4, 6, 8, 10, 12]
PENALTIES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0]


def _compare(ex, lat, chosen):
    """Prints how the two grids differ."""
    differ = sum(abs(ex[p] - lat[p]) > 0.005 for p in ex)
    print(f"same chosen point: {chosen['exhaustive'] == chosen['lattice']}")
    print(
        f"dev %WER at the lattice's choice, by exhaustive decoding: "
        f"{ex[chosen['lattice']]:.2f} (best {min(ex.values()):.2f}); grid "
        f"points whose %WER differ: {differ} of {len(ex)}"
    )
    print(
        f"{'dev %WER: exhaustive / lattice':40s}"
        + "".join(f"{'wip ' + str(p):>14s}" for p in PENALTIES)
    )
    for w in LM_WEIGHTS:
        print(
            f"{'LM weight ' + str(w):40s}"
            + "".join(
                f"{ex[(w, p)]:7.2f}/{lat[(w, p)]:6.2f}" for p in PENALTIES
            )
        )


def main():
    """Runs the benchmark; prints a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exp", help="train.py output folder")
    parser.add_argument("corpus", help="its data folder (data/, exp/)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument(
        "--graph", help="graph folder (HCLG.fst, words.txt); default EXP/graph"
    )
    parser.add_argument(
        "--modes",
        default="exhaustive,lattice",
        help="tuning modes to time (comma-separated)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs (median)"
    )
    parser.add_argument("--beam", type=float, default=13.0)
    parser.add_argument("--max-active", type=int, default=7000)
    parser.add_argument("--lattice-beam", type=float, default=6.0)
    parser.add_argument(
        "--lattice-lm-weight",
        type=float,
        help="LM weight of lattice generation (default: the grid's median)",
    )
    parser.add_argument(
        "--json", help="also write the figures and both grids here"
    )
    args = parser.parse_args()
    graph_dir = args.graph or os.path.join(args.exp, "graph")
    graph = os.path.join(graph_dir, "HCLG.fst")
    words = os.path.join(graph_dir, "words.txt")
    model = os.path.join(args.corpus, "exp", "ali_train", "final.mdl")
    scp = os.path.join(args.exp, "decode", "dev", "loglikes.scp")
    refs = read_text(os.path.join(args.corpus, "data", "dev", "text"))
    test_scp = os.path.join(args.exp, "decode", "test", "loglikes.scp")
    test_refs = read_text(os.path.join(args.corpus, "data", "test", "text"))
    id2word = {i: w for w, i in read_symbols(words).items()}
    rows, chosen = [], {}
    lattice_lm_weight = args.lattice_lm_weight or statistics.median_low(
        LM_WEIGHTS
    )
    with ParallelDecoder(
        graph,
        model,
        num_workers=args.jobs,
        beam=args.beam,
        max_active=args.max_active,
    ) as decoder:
        # Warm-up: every worker reads the graph (both forms) and loads
        # the compiled lattice search before anything is timed. The one
        # pass is at the lattices' LM weight (the search costs depend on
        # the scale: a smaller acoustic scale keeps more tokens in the beam).
        scale = 1.0 / lattice_lm_weight
        decoder.decode(scp, scale, 0.0, progress=False)
        decoder.rescore_grid(
            scp, [lattice_lm_weight], [0.0], lattice_lm_weight, progress=False
        )
        times = []
        for _ in range(args.repeats):
            decoder.decode(scp, scale, 0.0, progress=False)
            times.append(decoder.last_seconds)
        one = statistics.median(times)
        rows.append(
            (
                f"one 1-best pass over dev, LM weight {lattice_lm_weight}",
                one,
                None,
            )
        )
        for mode in args.modes.split(","):
            # The lattice grid is timed as often as the one pass (median);
            # the exhaustive grid, 49 passes, once.
            seconds = []
            for _ in range(args.repeats if mode == "lattice" else 1):
                with tempfile.TemporaryDirectory() as out:
                    report = tune_and_decode(
                        decoder,
                        {"dev": scp, "test": test_scp},
                        {"dev": refs, "test": test_refs},
                        id2word,
                        out,
                        LM_WEIGHTS,
                        PENALTIES,
                        progress=False,
                        tuning=mode,
                        lattice_beam=args.lattice_beam,
                        lattice_lm_weight=args.lattice_lm_weight,
                    )
                seconds.append(report["tuning_seconds"])
            grid = {
                (g["lm_weight"], g["word_ins_penalty"]): g["wer"]
                for g in report["dev_grid"]
            }
            chosen[mode] = (report["lm_weight"], report["word_ins_penalty"])
            rows.append(
                (
                    f"{mode} 7 x 7 grid -> {chosen[mode]}, dev/test %WER "
                    f"{grid[chosen[mode]]:.2f}/{report['test']['wer']:.2f}",
                    statistics.median(seconds),
                    grid,
                )
            )
    frames = decoder.last_frames
    print(
        f"dev: {len(refs)} utterances, {frames / 100 / 3600:.2f} h, jobs "
        f"{args.jobs}, beam {args.beam}, max-active {args.max_active}, "
        f"lattice beam {args.lattice_beam}"
    )
    print(f"{'':60s} {'seconds':>9s} {'x one pass':>10s}")
    for name, seconds, _ in rows:
        print(f"{name:60s} {seconds:9.2f} {seconds / one:10.2f}")
    grids = {m: g for m, (_, _, g) in zip(chosen, rows[1:], strict=True)}
    if len(grids) == 2:
        _compare(grids["exhaustive"], grids["lattice"], chosen)
    if args.json:
        out = {
            "args": vars(args),
            "utterances": len(refs),
            "frames": frames,
            "seconds": {name: sec for name, sec, _ in rows},
            "chosen": {m: list(c) for m, c in chosen.items()},
            "grids": {
                m: [[w, p, g[(w, p)]] for w, p in g] for m, g in grids.items()
            },
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
