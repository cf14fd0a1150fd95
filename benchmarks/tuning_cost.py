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
import os
import tempfile

from sb_rectifier.decoding import ParallelDecoder, read_symbols, tune_and_decode
from sb_rectifier.scoring import read_text

LM_WEIGHTS = [2, 3, 4, 6, 8, 10, 12]
PENALTIES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0]


def main():
    """Runs the benchmark; prints a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exp", help="train.py output folder")
    parser.add_argument("corpus", help="its data folder (data/, exp/)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--lattice-beam", type=float, default=6.0)
    args = parser.parse_args()
    graph = os.path.join(args.exp, "graph", "HCLG.fst")
    words = os.path.join(args.exp, "graph", "words.txt")
    model = os.path.join(args.corpus, "exp", "ali_train", "final.mdl")
    scp = os.path.join(args.exp, "decode", "dev", "loglikes.scp")
    refs = read_text(os.path.join(args.corpus, "data", "dev", "text"))
    id2word = {i: w for w, i in read_symbols(words).items()}
    rows, chosen = [], {}
    with ParallelDecoder(graph, model, num_workers=args.jobs) as decoder:
        decoder.decode(scp, 0.1, 0.0, progress=False)  # warm-up
        decoder.decode(scp, 0.1, 0.0, progress=False)
        one = decoder.last_seconds
        rows.append(("one 1-best pass over dev", one, None))
        for mode in ("exhaustive", "lattice"):
            with tempfile.TemporaryDirectory() as out:
                report = tune_and_decode(
                    decoder,
                    {"dev": scp, "test": scp},
                    {"dev": refs, "test": refs},
                    id2word,
                    out,
                    LM_WEIGHTS,
                    PENALTIES,
                    progress=False,
                    tuning=mode,
                    lattice_beam=args.lattice_beam,
                )
            grid = {
                (g["lm_weight"], g["word_ins_penalty"]): g["wer"]
                for g in report["dev_grid"]
            }
            chosen[mode] = (report["lm_weight"], report["word_ins_penalty"])
            rows.append(
                (
                    f"{mode} 7 x 7 grid -> {chosen[mode]}, dev %WER "
                    f"{grid[chosen[mode]]:.2f}",
                    report["tuning_seconds"],
                    grid,
                )
            )
    frames = decoder.last_frames
    print(
        f"dev: {len(refs)} utterances, {frames / 100 / 3600:.2f} h, jobs {args.jobs}"
    )
    print(f"{'':60s} {'seconds':>9s} {'x one pass':>10s}")
    for name, seconds, _ in rows:
        print(f"{name:60s} {seconds:9.2f} {seconds / one:10.2f}")
    ex, lat = rows[1][2], rows[2][2]
    differ = sum(abs(ex[p] - lat[p]) > 0.005 for p in ex)
    print(f"same chosen point: {chosen['exhaustive'] == chosen['lattice']}")
    print(
        f"dev %WER at the lattice's choice, by exhaustive decoding: "
        f"{ex[chosen['lattice']]:.2f} (best {min(ex.values()):.2f}); grid "
        f"points whose %WER differ: {differ} of {len(ex)}"
    )


if __name__ == "__main__":
    main()
