#!/usr/bin/env python3
"""Recipe: a DNN-HMM hybrid acoustic model trained on Kaldi alignments.

Frame-level cross-entropy on senone (pdf) targets, as in Maas, Hannun &
Ng (2013), with tanh, ReLU or leaky ReLU hidden units:

    python train.py hparams/relu.yaml          # the embedded synthetic corpus
    python train.py hparams/relu.yaml --data_folder <kaldi_root>
    python train.py hparams/tanh.yaml --data_folder <kaldi_root> --num_layers 2
    python train.py hparams/leaky_relu.yaml --data_folder <kaldi_root> \
        --device cuda --precision bf16 --store_device cuda

Steps, top to bottom:
 1. load the hyperparameters (the unit YAML extends hparams/base.yaml);
    with no --data_folder, make (or reuse) the embedded synthetic corpus;
 2. check and cache the train/dev/test frames (features + pdf alignments);
 3. estimate the input normalisation and the senone priors on train only;
 4. train with HybridBrain, keeping the checkpoint with the best dev
    cross-entropy;
 5. evaluate dev and test frame metrics;
 6. write log-likelihoods (Kaldi ark/scp), decode them with an HCLG graph,
    choose LM weight and insertion penalty on dev, score dev and test WER;
 7. print a summary.

Authors
 * sb_rectifier developers 2026
"""

import json
import logging
import os
import sys

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process, run_on_main

from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus
from sb_rectifier.data import FrameDataset
from sb_rectifier.data.kaldi_frames import load_split, pdf_counts, prepare_split
from sb_rectifier.hparams import load_hparams
from sb_rectifier.kaldi import TransitionModel
from sb_rectifier.nnet import GlobalNormalization, SenonePriors
from sb_rectifier.training import HybridBrain

logger = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


def prepare_corpus(hparams):
    """Makes or reuses the embedded corpus when it is the data folder."""
    if os.path.abspath(hparams["data_folder"]) != os.path.abspath(
        hparams["corpus_folder"]
    ):
        return
    config = CorpusConfig(
        hours=hparams["corpus_hours"], seed=hparams["corpus_seed"]
    )
    info = make_corpus(hparams["corpus_folder"], config)
    logger.info(
        f"Synthetic corpus: {info['phones']} phones, {info['num_pdfs']} pdfs, "
        f"{info['words']} words, "
        + ", ".join(
            f"{s} {v['hours']:.2f} h / {v['speakers']} speakers"
            for s, v in info["splits"].items()
        )
    )


def read_num_pdfs(hparams):
    """Number of pdfs: from the YAML, else from the train final.mdl."""
    model_file = os.path.join(hparams["train_ali_dir"], "final.mdl")
    from_model = None
    if os.path.isfile(model_file):
        from_model = TransitionModel.read(model_file).num_pdfs
    n_pdfs = hparams["n_pdfs"]
    if n_pdfs is None and from_model is None:
        raise FileNotFoundError(
            f"{model_file}: not found; it gives the number of pdfs "
            "(or set n_pdfs in the YAML)"
        )
    if n_pdfs is not None and from_model is not None and n_pdfs != from_model:
        raise ValueError(
            f"n_pdfs={n_pdfs} in the YAML, but {model_file} has "
            f"{from_model} pdfs"
        )
    return n_pdfs if n_pdfs is not None else from_model


def split_dirs(hparams, split):
    """The data and alignment directories of a split (ali may be None)."""
    data_dir = hparams[f"{split}_dir"]
    ali_dir = hparams[f"{split}_ali_dir"]
    if split == "test" and (ali_dir is None or not os.path.isdir(ali_dir)):
        logger.info(
            f"test: no alignment directory ({ali_dir}); frame metrics skipped"
        )
        ali_dir = None  # test alignments are optional
    return data_dir, ali_dir


def prepare_frames(hparams, num_pdfs):
    """Checks and caches the frames of every split (main process only)."""
    for split in SPLITS:
        data_dir, ali_dir = split_dirs(hparams, split)
        if ali_dir is None:
            logger.info(
                f"{split}: no alignment directory ({hparams[f'{split}_ali_dir']})"
                ", so no frame metrics"
            )
        prepare_split(
            split,
            data_dir,
            ali_dir,
            num_pdfs,
            store_folder(hparams, split),
            hparams["data_report"],
            length_tolerance=hparams["length_tolerance"],
            max_skip_fraction=hparams["max_skip_fraction"],
            apply_cmvn=hparams["apply_cmvn"],
            norm_vars=hparams["cmvn_norm_vars"],
        )


def store_folder(hparams, split):
    """Cache folder of a split's frame store."""
    data_dir, _ = split_dirs(hparams, split)
    name = os.path.abspath(data_dir).strip(os.sep).replace(os.sep, "_")
    return os.path.join(hparams["frame_cache_folder"], f"{split}-{name}")


def dataio_prepare(hparams, num_pdfs):
    """Loads the frame stores; estimates normalisation and priors on train."""
    stores = {
        split: load_split(
            store_folder(hparams, split),
            mmap=hparams["store_mmap"] and split == "train",
        )
        for split in SPLITS
    }
    train = stores["train"]
    normalizer = GlobalNormalization(train.feat_dim).fit(train.feats)
    priors = SenonePriors(num_pdfs, floor=hparams["prior_floor"])
    priors.fit(pdf_counts(train, num_pdfs))
    if priors.num_floored:
        logger.warning(
            f"{priors.num_floored} of {num_pdfs} pdfs have a training prior "
            f"below the floor {hparams['prior_floor']} (floored)"
        )
    datasets = {
        split: FrameDataset(
            store.to(hparams["store_device"]),
            hparams["context_left"],
            hparams["context_right"],
        )
        for split, store in stores.items()
    }
    return datasets, normalizer, priors


def graph_files(hparams):
    """HCLG.fst and words.txt: given (a Kaldi graph dir) or built for the corpus."""
    if hparams["graph_dir"] is not None:
        paths = [
            os.path.join(hparams["graph_dir"], f)
            for f in ("HCLG.fst", "words.txt")
        ]
        for path in paths:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path}: not found (graph_dir)")
        return paths
    if os.path.abspath(hparams["data_folder"]) != os.path.abspath(
        hparams["corpus_folder"]
    ):
        return None
    from sb_rectifier.decoding import build_corpus_graph

    out_dir = os.path.join(hparams["output_folder"], "graph")
    compiled = build_corpus_graph(
        os.path.join(hparams["corpus_folder"], "data", "lang"),
        os.path.join(hparams["train_ali_dir"], "final.mdl"),
        out_dir=out_dir,
    )
    logger.info(
        f"HCLG: {compiled.num_states} states, {compiled.num_arcs} arcs, "
        f"compiled in {compiled.compile_seconds:.3f} s ({out_dir})"
    )
    return [os.path.join(out_dir, f) for f in ("HCLG.fst", "words.txt")]


def decode_and_score(brain, hparams, datasets, priors):
    """Decodes dev and test; returns the decoding report (or None)."""
    from sb_rectifier.decoding import (
        ParallelDecoder,
        read_symbols,
        tune_and_decode,
    )
    from sb_rectifier.scoring import read_text

    files = graph_files(hparams) if hparams["decode"] else None
    if files is None:
        logger.info("No decoding graph (set graph_dir): WER skipped")
        return None
    graph, words_txt = files
    out_dir = os.path.join(hparams["output_folder"], "decode")
    scps, refs = {}, {}
    for split in ("dev", "test"):
        scps[split] = brain.write_log_likelihoods(
            datasets[split],
            priors,
            os.path.join(out_dir, split, "loglikes.ark"),
            prior_scale=hparams["prior_scale"],
            max_frames=hparams["eval_max_frames"],
        )
        all_refs = read_text(os.path.join(hparams[f"{split}_dir"], "text"))
        refs[split] = {u: all_refs[u] for u in datasets[split].store.utt_ids}
    glm = None
    if hparams["glm_file"]:
        from sb_rectifier.scoring import Glm

        glm = Glm.read(hparams["glm_file"])
    id2word = {i: w for w, i in read_symbols(words_txt).items()}
    with ParallelDecoder(
        graph,
        os.path.join(hparams["train_ali_dir"], "final.mdl"),
        num_workers=hparams["decode_jobs"],
        beam=hparams["beam"],
        max_active=hparams["max_active"],
    ) as decoder:
        return tune_and_decode(
            decoder,
            scps,
            refs,
            id2word,
            out_dir,
            hparams["lm_weights"],
            hparams["word_ins_penalties"],
            subsets=dict(hparams["wer_subsets"]),
            glm=glm,
            progress=not brain.noprogressbar,
        )


def main(argv):
    """Runs the recipe; returns the summary dict."""
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    sb.utils.distributed.ddp_init_group(run_opts)
    hparams, base_file, merged = load_hparams(hparams_file, overrides)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=base_file,
        overrides=merged,
    )

    run_on_main(prepare_corpus, kwargs={"hparams": hparams})
    num_pdfs = read_num_pdfs(hparams)
    run_on_main(
        prepare_frames, kwargs={"hparams": hparams, "num_pdfs": num_pdfs}
    )
    datasets, normalizer, priors = dataio_prepare(hparams, num_pdfs)

    model = hparams["model"](
        input_size=datasets["train"].input_size, n_pdfs=num_pdfs
    )
    logger.info(
        f"Model: {model.num_parameters() / 1e6:.2f}M parameters, "
        f"input {datasets['train'].window} x {datasets['train'].store.feat_dim}, "
        f"{num_pdfs} pdfs"
    )
    checkpointer = hparams["checkpointer"]
    checkpointer.add_recoverables(
        {"model": model, "normalizer": normalizer, "priors": priors}
    )
    brain = HybridBrain(
        modules={"model": model, "normalizer": normalizer},
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=checkpointer,
    )
    brain.fit(
        brain.hparams.epoch_counter,
        datasets["train"],
        datasets["dev"],
        train_loader_kwargs=dict(hparams["train_loader_kwargs"]),
        valid_loader_kwargs=dict(hparams["eval_loader_kwargs"]),
    )

    # Frame metrics of the best checkpoint (lowest dev cross-entropy).
    summary = {"output_folder": os.path.abspath(hparams["output_folder"])}
    for split in ("dev", "test"):
        if datasets[split].store.labels is None:
            logger.info(f"{split}: no alignments, frame metrics skipped")
            continue
        brain.eval_split = split
        brain.evaluate(
            datasets[split],
            min_key="dev_ce",
            test_loader_kwargs=dict(hparams["eval_loader_kwargs"]),
        )
        summary[f"{split}_ce"] = brain.last_test_stats["ce"]
        summary[f"{split}_frame_acc"] = brain.last_test_stats["frame_acc"]
    decoding = None
    if if_main_process():
        decoding = decode_and_score(brain, hparams, datasets, priors)
    if decoding is not None:
        for split in ("dev", "test"):
            summary[f"{split}_wer"] = decoding[split]["wer"]
            summary[f"{split}_wer_subsets"] = decoding[split]["subsets"]
        summary.update(
            lm_weight=decoding["lm_weight"],
            word_ins_penalty=decoding["word_ins_penalty"],
            test_decode_seconds=decoding["test"]["decode_seconds"],
            test_real_time_factor=decoding["test"]["real_time_factor"],
            decoding=os.path.abspath(
                os.path.join(hparams["output_folder"], "decode")
            ),
        )
    if if_main_process():
        priors_file = os.path.join(
            hparams["save_folder"], "ali_train_pdf.counts"
        )
        priors.write_kaldi_counts(priors_file)
        summary.update(
            num_pdfs=num_pdfs,
            parameters=model.num_parameters(),
            train_log=os.path.abspath(hparams["train_log"]),
            metrics=os.path.abspath(hparams["metrics_file"]),
            data_checks=os.path.abspath(hparams["data_report"]),
            checkpoints=os.path.abspath(hparams["save_folder"]),
            pdf_counts=os.path.abspath(priors_file),
        )
        with open(hparams["summary_file"], "w", encoding="utf-8") as fout:
            json.dump(summary, fout, indent=2)
        print_summary(summary)
    return summary


def print_summary(summary):
    """Prints the final summary of a run."""
    lines = ["", "=== sb_rectifier: summary ==="]
    for split in ("dev", "test"):
        if f"{split}_ce" in summary:
            lines.append(
                f"{split:>4}: cross-entropy {summary[f'{split}_ce']:.4f} "
                f"nats/frame, frame accuracy {summary[f'{split}_frame_acc']:.2f} %"
            )
    if "test_wer" in summary:
        lines.append(
            f" WER: dev {summary['dev_wer']:.2f} %, test {summary['test_wer']:.2f} % "
            f"(LM weight {summary['lm_weight']:g}, insertion penalty "
            f"{summary['word_ins_penalty']:g}, both chosen on dev; test decoding "
            f"{summary['test_decode_seconds']:.1f} s, RTF "
            f"{summary['test_real_time_factor']:.3f})"
        )
        for name, wer in summary["test_wer_subsets"].items():
            if name != "all":
                lines.append(f"      test {name}: {wer:.2f} %")
    for key in (
        "output_folder",
        "train_log",
        "metrics",
        "data_checks",
        "checkpoints",
        "pdf_counts",
        "decoding",
    ):
        if key in summary:
            lines.append(f"{key:>13}: {summary[key]}")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
