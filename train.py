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
 1. load and check the hyperparameters (the unit YAML extends
    hparams/base.yaml); take the output folder for this run;
 2. with no --data_folder, make (or reuse) the embedded synthetic corpus;
 3. check and cache the train/dev/test frames (features + pdf alignments,
    every split read with the training transition model and feature dim);
 4. estimate the input normalisation and the senone priors on train only;
 5. train with HybridBrain, keeping the checkpoint with the best dev
    cross-entropy (refusing checkpoints of another experiment);
 6. evaluate dev and test frame metrics;
 7. write log-likelihoods (Kaldi ark/scp), decode them with an HCLG graph,
    choose LM weight and insertion penalty on dev, score dev and test WER;
 8. print a summary.

Authors
 * sb_rectifier developers 2026
"""

import logging
import os
import sys

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process, run_on_main

from sb_rectifier.corpus.make_corpus import (
    CorpusConfig,
    make_corpus,
    read_corpus_info,
)
from sb_rectifier.data import FrameDataset
from sb_rectifier.data.kaldi_frames import (
    load_split,
    pdf_counts,
    prepare_split,
    store_path,
)
from sb_rectifier.files import FolderInUseError, clean_stale_temps, write_json
from sb_rectifier.hparams import load_hparams, resolve_hparams_file
from sb_rectifier.kaldi import TransitionModel, read_kaldi_table_file
from sb_rectifier.nnet import GlobalNormalization, SenonePriors
from sb_rectifier.recipe import (
    check_experiment_identity,
    check_options,
    derive_data_name,
    lock_output_folder,
    quiet_library_logs,
    report_log_errors_once,
)
from sb_rectifier.recipe.experiment import experiment_identity
from sb_rectifier.training import HybridBrain

logger = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


def load_experiment(hparams_file, overrides):
    """Loads and checks the hyperparameters.

    When data directories are given on the command line (or in an
    extending YAML) without ``data_name``, ``data_name`` (part of the
    output folder) is derived from them, so runs on other data never share
    an output folder.
    """
    _, merged = resolve_hparams_file(hparams_file, overrides)
    data_name = derive_data_name(merged)
    if data_name is not None:
        merged["data_name"] = data_name
    hparams, base_file, merged = load_hparams(hparams_file, merged)
    check_options(hparams)
    return hparams, base_file, merged


def is_embedded_corpus(hparams):
    """Whether the data folder is the embedded corpus that train.py makes."""
    return os.path.abspath(hparams["data_folder"]) == os.path.abspath(
        hparams["corpus_folder"]
    )


def prepare_corpus(hparams, progress):
    """Makes or reuses the embedded corpus when it is the data folder."""
    if not is_embedded_corpus(hparams):
        return
    config = CorpusConfig(
        hours=hparams["corpus_hours"], seed=hparams["corpus_seed"]
    )
    info = make_corpus(hparams["corpus_folder"], config, progress=progress)
    logger.info(
        f"Synthetic corpus: {info['phones']} phones, {info['num_pdfs']} pdfs, "
        f"{info['words']} words, "
        + ", ".join(
            f"{s} {info['splits'][s]['hours']:.2f} h / "
            f"{info['splits'][s]['speakers']} speakers"
            for s in SPLITS
        )
    )


def read_train_model(hparams):
    """The training transition model (None without final.mdl) and the
    number of pdfs (from the YAML, else from that model)."""
    model_file = os.path.join(hparams["train_ali_dir"], "final.mdl")
    model = None
    if os.path.isfile(model_file):
        model = TransitionModel.read(model_file)
    n_pdfs = hparams["n_pdfs"]
    if n_pdfs is None and model is None:
        raise FileNotFoundError(
            f"{model_file}: not found; it gives the number of pdfs "
            "(or set n_pdfs in the YAML)"
        )
    if n_pdfs is not None and model is not None and n_pdfs != model.num_pdfs:
        raise ValueError(
            f"n_pdfs={n_pdfs} in the YAML, but {model_file} has "
            f"{model.num_pdfs} pdfs"
        )
    return model, (n_pdfs if n_pdfs is not None else model.num_pdfs)


def split_dirs(hparams, split):
    """The data and alignment directories of a split (ali may be None)."""
    data_dir = hparams[f"{split}_dir"]
    ali_dir = hparams[f"{split}_ali_dir"]
    if split == "test" and (ali_dir is None or not os.path.isdir(ali_dir)):
        ali_dir = None  # test alignments are optional
    return data_dir, ali_dir


def split_store(hparams, split, num_pdfs):
    """The frame cache folder of a split."""
    data_dir, ali_dir = split_dirs(hparams, split)
    return store_path(
        hparams["frame_cache_folder"],
        split,
        data_dir,
        ali_dir,
        num_pdfs,
        length_tolerance=hparams["length_tolerance"],
        apply_cmvn=hparams["apply_cmvn"],
        norm_vars=hparams["cmvn_norm_vars"],
    )


def prepare_frames(hparams, model, num_pdfs, progress):
    """Checks and caches the frames of every split (main process only).

    Dev and test are read with the training transition model and must
    have the training features' dim.
    """
    feat_dim = None
    for split in SPLITS:
        data_dir, ali_dir = split_dirs(hparams, split)
        if ali_dir is None:
            logger.info(
                f"{split}: no alignment directory "
                f"({hparams[f'{split}_ali_dir']}), so no frame metrics"
            )
        _, report = prepare_split(
            split,
            data_dir,
            ali_dir,
            num_pdfs,
            hparams["frame_cache_folder"],
            hparams["data_report"],
            length_tolerance=hparams["length_tolerance"],
            max_skip_fraction=hparams["max_skip_fraction"],
            apply_cmvn=hparams["apply_cmvn"],
            norm_vars=hparams["cmvn_norm_vars"],
            progress=progress,
            feat_dim=feat_dim,
            model=model,
        )
        feat_dim = report["feat_dim"] if feat_dim is None else feat_dim


def dataio_prepare(hparams, num_pdfs):
    """Loads the frame stores; estimates normalisation and priors on train."""
    stores = {
        split: load_split(
            split_store(hparams, split, num_pdfs),
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


def decoding_graph(hparams):
    """Where the decoding graph comes from, decided before training.

    Returns ``("kaldi", graph_dir)``, ``("corpus", lang_dir)`` or
    ``(None, reason)``; a ``graph_dir`` without its files is an error now,
    not after training.
    """
    if not hparams["decode"]:
        return None, "decode: False"
    if hparams["graph_dir"] is not None:
        for name in ("HCLG.fst", "words.txt"):
            path = os.path.join(hparams["graph_dir"], name)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path}: not found (graph_dir)")
        return "kaldi", hparams["graph_dir"]
    lang = os.path.join(hparams["data_folder"], "data", "lang")
    if is_embedded_corpus(hparams) or (
        read_corpus_info(hparams["data_folder"]) is not None
        and os.path.isdir(lang)
    ):
        return "corpus", lang
    return None, (
        "no decoding graph: --graph_dir is not set and "
        f"{hparams['data_folder']} is not a corpus made by make-corpus"
    )


def check_transcripts(hparams, datasets):
    """Every decoded utterance needs a reference transcript (checked
    before training, not after)."""
    refs = {}
    for split in ("dev", "test"):
        path = os.path.join(hparams[f"{split}_dir"], "text")
        table = read_kaldi_table_file(
            path, f"{split} transcripts (text)", allow_empty=True
        )
        utts = datasets[split].store.utt_ids
        missing = [u for u in utts if u not in table]
        if missing:
            raise ValueError(
                f"{path}: no transcript for {len(missing)} of {len(utts)} "
                f"{split} utterances (e.g. {', '.join(missing[:3])}); WER "
                "needs one per utterance (fix the file, or --decode False)"
            )
        refs[split] = {u: table[u].split() for u in utts}
    return refs


def graph_files(hparams, source, where):
    """HCLG.fst and words.txt: given (a Kaldi graph dir) or built for the corpus."""
    if source == "kaldi":
        return [os.path.join(where, f) for f in ("HCLG.fst", "words.txt")]
    from sb_rectifier.decoding import build_corpus_graph

    out_dir = os.path.join(hparams["output_folder"], "graph")
    compiled = build_corpus_graph(
        where,
        os.path.join(hparams["train_ali_dir"], "final.mdl"),
        out_dir=out_dir,
    )
    logger.info(
        f"HCLG: {compiled.num_states} states, {compiled.num_arcs} arcs, "
        f"compiled in {compiled.compile_seconds:.3f} s ({out_dir})"
    )
    return [os.path.join(out_dir, f) for f in ("HCLG.fst", "words.txt")]


def decode_and_score(brain, hparams, datasets, priors, graph, refs):
    """Decodes dev and test; returns the decoding report."""
    from sb_rectifier.decoding import (
        ParallelDecoder,
        read_symbols,
        tune_and_decode,
    )

    graph_fst, words_txt = graph_files(hparams, *graph)
    out_dir = os.path.join(hparams["output_folder"], "decode")
    scps = {}
    for split in ("dev", "test"):
        scps[split] = brain.write_log_likelihoods(
            datasets[split],
            priors,
            os.path.join(out_dir, split, "loglikes.ark"),
            prior_scale=hparams["prior_scale"],
            max_frames=hparams["eval_max_frames"],
        )
    glm = None
    if hparams["glm_file"]:
        from sb_rectifier.scoring import Glm

        glm = Glm.read(hparams["glm_file"])
    id2word = {i: w for w, i in read_symbols(words_txt).items()}
    with ParallelDecoder(
        graph_fst,
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
    quiet_library_logs()
    hparams, base_file, merged = load_experiment(hparams_file, overrides)
    lock = None
    if if_main_process():
        lock = lock_output_folder(hparams["output_folder"])
    try:
        summary = run(hparams, run_opts, base_file, merged)
    finally:
        if lock is not None:
            lock.release()
    end_process_group()
    return summary


def end_process_group():
    """Lets every DDP process finish together, then closes the group (a
    process that exits while another still talks to it can abort)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def run(hparams, run_opts, base_file, merged):
    """The recipe's steps, once the output folder is this run's."""
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=base_file,
        overrides=merged,
    )
    report_log_errors_once()
    if if_main_process():
        clean_stale_temps(hparams["output_folder"], recursive=True)
    progress = not run_opts["noprogressbar"]
    graph = decoding_graph(hparams)
    if graph[0] is None and hparams["decode"]:
        logger.warning(
            f"WER will not be computed ({graph[1]}); frame metrics only. "
            "Set --graph_dir to a Kaldi graph directory (HCLG.fst, "
            "words.txt), or --decode False to silence this."
        )
    elif graph[0] is None:
        logger.info("decode: False, so WER will not be computed")

    run_on_main(
        prepare_corpus, kwargs={"hparams": hparams, "progress": progress}
    )
    train_model, num_pdfs = read_train_model(hparams)
    run_on_main(
        prepare_frames,
        kwargs={
            "hparams": hparams,
            "model": train_model,
            "num_pdfs": num_pdfs,
            "progress": progress,
        },
    )
    datasets, normalizer, priors = dataio_prepare(hparams, num_pdfs)
    refs = check_transcripts(hparams, datasets) if graph[0] else None

    model = hparams["model"](
        input_size=datasets["train"].input_size, n_pdfs=num_pdfs
    )
    if if_main_process():
        check_experiment_identity(
            hparams["output_folder"],
            hparams["save_folder"],
            experiment_identity(
                hparams,
                datasets["train"].store,
                num_pdfs,
                datasets["train"].input_size,
            ),
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
    summary["best_epoch"] = hparams["epoch_counter"].current
    decoding = None
    if if_main_process() and graph[0] is not None:
        decoding = decode_and_score(
            brain, hparams, datasets, priors, graph, refs
        )
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
    else:
        summary["wer_not_computed"] = graph[1]
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
            summary=os.path.abspath(hparams["summary_file"]),
        )
        if hparams["sparsity_folder"] is not None and os.path.isdir(
            hparams["sparsity_folder"]
        ):
            summary["sparsity"] = os.path.abspath(hparams["sparsity_folder"])
        write_json(hparams["summary_file"], summary)
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
    if "best_epoch" in summary and "dev_ce" in summary:
        lines.append(
            f"      (checkpoint of epoch {summary['best_epoch']}, the lowest "
            "dev cross-entropy)"
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
    elif "wer_not_computed" in summary:
        lines.append(f" WER: not computed ({summary['wer_not_computed']})")
    for key in (
        "output_folder",
        "summary",
        "train_log",
        "metrics",
        "data_checks",
        "checkpoints",
        "pdf_counts",
        "decoding",
        "sparsity",
    ):
        if key in summary:
            lines.append(f"{key:>13}: {summary[key]}")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (OSError, ValueError, KeyError, FolderInUseError) as err:
        # A clear message for what the user can fix; the traceback is in
        # log.txt (when the output folder got that far).
        logger.debug("train.py failed", exc_info=True)
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"train.py: error: {message}", file=sys.stderr, flush=True)
        sys.exit(1)
