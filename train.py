#!/usr/bin/env python3
"""Recipe: a DNN-HMM hybrid acoustic model trained on Kaldi alignments.

Frame-level cross-entropy on senone (pdf) targets, as in Maas, Hannun &
Ng (2013), with tanh, ReLU or leaky ReLU hidden units:

    python train.py hparams/relu.yaml          # the embedded synthetic corpus
    python train.py hparams/relu.yaml --data_folder <kaldi_root>
    python train.py hparams/tanh.yaml --data_folder <kaldi_root> --num_layers 2
    python train.py hparams/leaky_relu.yaml --data_folder <kaldi_root> \
        --device cuda --precision bf16 --store_device cuda

The run is four stages that meet through files in the output folder (and
the frame cache); ``--stages`` runs some of them on a finished
experiment, e.g. ``--stages=[decode] --beam 16`` decodes again:

 1. data: with no --data_folder, make (or reuse) the embedded synthetic
    corpus; check and cache the train/dev/test frames (features + pdf
    alignments, every split read with the training transition model and
    feature dim) -> frame cache, ``data_checks.json``;
 2. train: input normalisation and senone priors on train only;
    HybridBrain keeps the checkpoint with the best dev cross-entropy
    (refusing checkpoints of another experiment) -> ``save/``,
    ``metrics.json``, ``train_log.txt``;
 3. evaluate: dev and test frame metrics of the best checkpoint, and the
    hidden units' sparsity statistics -> ``sparsity/``;
 4. decode: log-likelihoods (Kaldi ark/scp), an HCLG graph, LM weight and
    insertion penalty chosen on dev, dev and test WER -> ``decode/``.

Each stage adds its figures to ``summary.json``, printed at the end.
The objects (model, optimiser, frame cache, decoder, scorer) are declared
in the YAML; this file only wires them together.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import logging
import os
import sys

import speechbrain as sb
import torch
import torch.nn.functional as F
from speechbrain.core import RunOptions
from speechbrain.utils.distributed import if_main_process, run_on_main

from sb_rectifier.corpus.make_corpus import make_corpus, read_corpus_info
from sb_rectifier.data import FrameDataset
from sb_rectifier.data.kaldi_frames import pdf_counts
from sb_rectifier.decoding import write_log_likelihoods
from sb_rectifier.features.make_feats import (
    features_sample_rate,
    make_feats,
    needs_fbank,
)
from sb_rectifier.files import (
    clean_stale_temps,
    read_json,
    read_table,
    write_json,
)
from sb_rectifier.hparams import load_hparams, resolve_hparams_file
from sb_rectifier.kaldi import TransitionModel
from sb_rectifier.locks import FolderInUseError
from sb_rectifier.recipe import (
    check_experiment_identity,
    check_options,
    derive_data_name,
    lock_output_folder,
    quiet_library_logs,
    report_log_errors_once,
)
from sb_rectifier.recipe.experiment import experiment_identity
from sb_rectifier.sparsity import collect as collect_sparsity
from sb_rectifier.training import HybridBrain

logger = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")
# The summary's pointers to the run's files (those that exist): summary
# key -> YAML key.
SUMMARY_PATHS = {
    "train_log": "train_log",
    "metrics": "metrics_file",
    "data_checks": "data_report",
    "checkpoints": "save_folder",
    "sparsity": "sparsity_folder",
}

# Summary entries of the decode stage besides the WERs (replaced, or
# removed, whenever the stage runs again).
DECODE_KEYS = ("graph", "words", "train_model", "lang_dir", "lm_weight")


# ---------------------------------------------------------------------------
# Stage 1: data
# ---------------------------------------------------------------------------


def is_embedded_corpus(hparams):
    """Whether the data folder is the embedded corpus that train.py makes."""
    return os.path.abspath(hparams["data_folder"]) == os.path.abspath(
        hparams["corpus_folder"]
    )


def prepare_corpus(hparams, progress):
    """Makes or reuses the embedded corpus when it is the data folder."""
    if not is_embedded_corpus(hparams):
        return
    config = hparams["corpus_config"]()
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


def compute_missing_features(hparams, progress):
    """40-dim fbank + CMVN for data dirs with wav.scp but no feats.scp.

    Cached (``make_feats`` recomputes only when wav.scp, segments, the
    speakers or the options change). The rate is ``sample_rate`` of the
    YAML when it has one, else that of the train features (or of train's
    first recording), so dev and test are computed as train is.
    """
    rate = hparams.get("sample_rate")
    for split in SPLITS:
        data_dir = hparams[f"{split}_dir"]
        if not needs_fbank(data_dir):
            continue
        if rate is None:
            rate = features_sample_rate(hparams["train_dir"])
        summary = make_feats(
            data_dir,
            sample_rate=rate,
            num_jobs=min(4, os.cpu_count() or 1),
            progress=progress,
        )
        logger.info(
            f"{split}: fbank features {'reused' if summary['cached'] else 'computed'}"
            f" from {os.path.join(data_dir, 'wav.scp')} at "
            f"{summary['sample_rate']} Hz"
        )


def prepare_frames(hparams, model, num_pdfs, progress):
    """Checks and caches the frames of every split (main process only).

    Dev and test are read with the training transition model and must
    have the training features' dim.
    """
    compute_missing_features(hparams, progress)
    feat_dim = None
    for split in SPLITS:
        data_dir, ali_dir = split_dirs(hparams, split)
        if ali_dir is None:
            logger.info(
                f"{split}: no alignment directory "
                f"({hparams[f'{split}_ali_dir']}), so no frame metrics"
            )
        _, report = hparams["frame_cache"].prepare(
            split,
            data_dir,
            ali_dir,
            num_pdfs,
            progress=progress,
            feat_dim=feat_dim,
            model=model,
        )
        feat_dim = report["feat_dim"] if feat_dim is None else feat_dim


def store_device(name):
    """``cuda`` means this process's GPU under torchrun (``LOCAL_RANK``)."""
    rank = os.environ.get("LOCAL_RANK")
    if name == "cuda" and rank is not None:
        return f"cuda:{rank}"
    return name


def load_datasets(hparams, num_pdfs):
    """The frame datasets of the splits, from the frame cache."""
    datasets = {}
    for split in SPLITS:
        store = hparams["frame_cache"].load(
            split,
            *split_dirs(hparams, split),
            num_pdfs,
            mmap=hparams["store_mmap"] and split == "train",
        )
        datasets[split] = FrameDataset(
            store.to(store_device(hparams["store_device"])),
            hparams["context_left"],
            hparams["context_right"],
        )
    return datasets


def check_transcripts(hparams, datasets):
    """Every decoded utterance needs a reference transcript (checked
    before training, not after)."""
    refs = {}
    for split in ("dev", "test"):
        path = os.path.join(hparams[f"{split}_dir"], "text")
        table = read_table(
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


# ---------------------------------------------------------------------------
# Stage 2: train
# ---------------------------------------------------------------------------


def make_brain(hparams, run_opts, datasets, num_pdfs):
    """The model, its normaliser and priors (estimated on train only), and
    the HybridBrain that trains them, with the YAML's checkpointer."""
    train = datasets["train"].store
    normalizer = hparams["normalizer"](train.feat_dim).fit(train.feats)
    priors = hparams["priors"](num_pdfs).fit(pdf_counts(train, num_pdfs))
    if priors.num_floored:
        logger.warning(
            f"{priors.num_floored} of {num_pdfs} pdfs have a training prior "
            f"below the floor {priors.floor} (floored)"
        )
    model = hparams["model"](
        input_size=datasets["train"].input_size, n_pdfs=num_pdfs
    )
    if if_main_process():
        check_experiment_identity(
            hparams["output_folder"],
            hparams["save_folder"],
            experiment_identity(
                hparams, train, num_pdfs, datasets["train"].input_size
            ),
        )
    logger.info(
        f"Model: {model.num_parameters() / 1e6:.2f}M parameters, "
        f"input {datasets['train'].window} x {train.feat_dim}, "
        f"{num_pdfs} pdfs"
    )
    checkpointer = hparams["checkpointer"]
    checkpointer.add_recoverables(
        {"model": model, "normalizer": normalizer, "priors": priors}
    )
    brain_hparams = {k: hparams[k] for k in HybridBrain.REQUIRED_HPARAMS}
    brain_hparams.update(
        (k, hparams[k]) for k in RunOptions().as_dict() if k in hparams
    )
    brain_hparams.update(
        (k, hparams[k]) for k in HybridBrain.STEP_OPTIONS if k in hparams
    )
    brain = HybridBrain(
        modules={"model": model, "normalizer": normalizer},
        opt_class=hparams["opt_class"],
        hparams=brain_hparams,
        run_opts=run_opts,
        checkpointer=checkpointer,
    )
    return brain, model, priors


def sparsity_statistics(hparams, model, tag, epoch):
    """Sparsity statistics of the hidden units while the block runs,
    exported under ``sparsity_folder`` as ``tag`` (off when it is null)."""
    if hparams["sparsity_folder"] is None:
        return contextlib.nullcontext()
    meta = {
        "tag": tag,
        "epoch": epoch,
        "unit": str(hparams["unit_name"]),
        "num_layers": hparams["num_layers"],
        "neurons": hparams["neurons"],
    }
    return collect_sparsity(model, hparams["sparsity_folder"], tag, meta)


def train(brain, hparams, model, datasets):
    """Trains, keeping the checkpoint with the lowest dev cross-entropy."""
    if hparams["sparsity_every_epoch"]:
        brain.valid_context = lambda epoch: sparsity_statistics(
            hparams, model, f"dev_epoch{epoch}", epoch
        )
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["dev"],
        train_loader_kwargs=dict(hparams["train_loader_kwargs"]),
        valid_loader_kwargs=dict(hparams["eval_loader_kwargs"]),
    )


# ---------------------------------------------------------------------------
# Stage 3: evaluate
# ---------------------------------------------------------------------------


def load_best_checkpoint(brain, hparams):
    """Loads the checkpoint with the lowest dev cross-entropy."""
    if brain.checkpointer.find_checkpoint(min_key="dev_ce") is None:
        raise FileNotFoundError(
            f"{hparams['save_folder']}: no checkpoint to evaluate or decode; "
            "run the train stage first (stages: [..., train, ...])"
        )
    brain.checkpointer.recover_if_possible(min_key="dev_ce")
    return hparams["epoch_counter"].current


def evaluate(brain, hparams, model, datasets):
    """Frame metrics (and sparsity) of the best checkpoint on dev, test."""
    best_epoch = load_best_checkpoint(brain, hparams)
    results = {"best_epoch": best_epoch}
    for split in ("dev", "test"):
        if datasets[split].store.labels is None:
            logger.info(f"{split}: no alignments, frame metrics skipped")
            continue
        brain.eval_split = split
        with sparsity_statistics(hparams, model, split, best_epoch):
            brain.evaluate(
                datasets[split],
                min_key="dev_ce",
                test_loader_kwargs=dict(hparams["eval_loader_kwargs"]),
            )
        results[f"{split}_ce"] = brain.last_test_stats["ce"]
        results[f"{split}_frame_acc"] = brain.last_test_stats["frame_acc"]
    return results


# ---------------------------------------------------------------------------
# Stage 4: decode
# ---------------------------------------------------------------------------


def decoding_graph(hparams):
    """Where the decoding graph comes from, decided before training.

    Returns ``("kaldi", graph_dir)``, ``("corpus", lang_dir)`` or
    ``(None, reason)``; a ``graph_dir`` without its files is an error now,
    not after training. The lang directory of a corpus made before G.fst
    was part of it gets its G.fst now (a read-only one fails now too).
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
    made = read_corpus_info(hparams["data_folder"]) is not None
    if made and os.path.isdir(lang):
        from sb_rectifier.corpus.grammar_fst import write_grammar_g

        write_grammar_g(lang)  # kept if it is there
    if is_embedded_corpus(hparams) or (made and os.path.isdir(lang)):
        return "corpus", lang
    return None, (
        "no decoding graph: --graph_dir is not set and "
        f"{hparams['data_folder']} is not a corpus made by make-corpus"
    )


def graph_files(hparams, source, where):
    """HCLG.fst and words.txt: given (a Kaldi graph dir) or built from the
    corpus's lang directory (phones.txt, words.txt, lexicon.txt, G.fst)."""
    if source == "kaldi":
        return [os.path.join(where, f) for f in ("HCLG.fst", "words.txt")]
    from sb_rectifier.decoding import make_graph

    out_dir = os.path.join(hparams["output_folder"], "graph")
    compiled = make_graph(
        where,
        os.path.join(hparams["train_ali_dir"], "final.mdl"),
        out_dir=out_dir,
    )
    logger.info(
        f"HCLG: {compiled.num_states} states, {compiled.num_arcs} arcs, "
        f"compiled in {compiled.compile_seconds:.3f} s ({out_dir})"
    )
    return [os.path.join(out_dir, f) for f in ("HCLG.fst", "words.txt")]


@torch.no_grad()
def score_batches(brain, dataset, priors, hparams):
    """Scaled log-likelihoods ``log p(s|x) - prior_scale * log p(s)`` of
    every utterance, a minibatch at a time, in order."""
    loader = brain.make_dataloader(
        dataset,
        sb.Stage.TEST,
        ckpt_prefix=None,
        max_frames=hparams["eval_max_frames"],
        shard=False,
    )
    brain.modules.eval()
    priors = priors.to(brain.device)
    for batch in loader:
        with brain.evaluation_ctx:
            logits = brain.compute_forward(batch, sb.Stage.TEST)
        scores = priors(
            F.log_softmax(logits.float(), dim=-1), hparams["prior_scale"]
        )
        yield batch.utt_ids, batch.lengths.tolist(), scores


def decode_and_score(brain, hparams, datasets, priors, graph, refs):
    """Decodes dev and test (main process); returns the summary entries."""
    from sb_rectifier.decoding import read_symbols
    from sb_rectifier.decoding.ctm import ctm_writer

    load_best_checkpoint(brain, hparams)
    graph_fst, words_txt = graph_files(hparams, *graph)
    out_dir = os.path.join(hparams["output_folder"], "decode")
    scps = {
        split: write_log_likelihoods(
            score_batches(brain, datasets[split], priors, hparams),
            os.path.join(out_dir, split, "loglikes.ark"),
        )
        for split in ("dev", "test")
    }
    glm = None
    if hparams["glm_file"]:
        from sb_rectifier.scoring import Glm

        glm = Glm.read(hparams["glm_file"])
    id2word = {i: w for w, i in read_symbols(words_txt).items()}
    model_file = os.path.join(hparams["train_ali_dir"], "final.mdl")
    # decode/<split>/ctm when the graph (lang) dir has word boundaries.
    ctm = ctm_writer(
        graph[1],
        model_file,
        id2word,
        {s: split_dirs(hparams, s)[0] for s in ("dev", "test")},
    )
    with hparams["decoder"](graph_fst, model_file) as decoder:
        decoding = hparams["tune_and_decode"](
            decoder,
            scps,
            refs,
            id2word,
            out_dir,
            glm=glm,
            progress=not brain.noprogressbar,
            ctm_writer=ctm,
        )
    results = {}
    for split in ("dev", "test"):
        results[f"{split}_wer"] = decoding[split]["wer"]
        results[f"{split}_wer_subsets"] = decoding[split]["subsets"]
    # Where the graph and model came from (sb-rectifier export reads them).
    results.update(
        graph=os.path.abspath(graph_fst),
        words=os.path.abspath(words_txt),
        train_model=os.path.abspath(model_file),
    )
    if graph[0] == "corpus":
        results["lang_dir"] = os.path.abspath(graph[1])
    results.update(
        lm_weight=decoding["lm_weight"],
        word_ins_penalty=decoding["word_ins_penalty"],
        test_decode_seconds=decoding["test"]["decode_seconds"],
        test_real_time_factor=decoding["test"]["real_time_factor"],
        decoding=os.path.abspath(out_dir),
    )
    return results


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


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
    # The Brain is a recoverable of the checkpointer in hparams: dropped
    # here, it and its DDP modules go before the group is closed.
    del hparams
    end_process_group()
    return summary


def end_process_group():
    """Lets every DDP process finish together, then closes the group (a
    process that exits while another still talks to it can abort).

    Once ``main`` has dropped ``hparams``, the Brain is unreachable but
    still alive in reference cycles (``valid_context`` refers to it), and
    with it the DDP reducer that holds the process group, which would
    then be torn down during interpreter exit, after the group was
    closed: the likely cause of a rare abort at exit (``terminate called
    without an active exception``, once in a few full CI runs). So it is
    collected here, while the interpreter is whole, before the group is
    closed (checked by hand: no ``DistributedDataParallel`` object is
    left after this collection; one was before ``hparams`` was dropped).
    """
    import gc

    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def run(hparams, run_opts, base_file, merged):
    """The stages, once the output folder is this run's."""
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=base_file,
        overrides=merged,
    )
    report_log_errors_once()
    if if_main_process():
        clean_stale_temps(hparams["output_folder"], recursive=True)
    stages = hparams["stages"]
    progress = not run_opts["noprogressbar"]
    graph = (None, "the decode stage is not run")
    if "decode" in stages:
        graph = decoding_graph(hparams)
        if graph[0] is None and hparams["decode"]:
            logger.warning(
                f"WER will not be computed ({graph[1]}); frame metrics only. "
                "Set --graph_dir to a Kaldi graph directory (HCLG.fst, "
                "words.txt), or --decode False to silence this."
            )
        elif graph[0] is None:
            logger.info("decode: False, so WER will not be computed")

    # 1. data
    if "data" in stages:
        run_on_main(
            prepare_corpus, kwargs={"hparams": hparams, "progress": progress}
        )
    train_model, num_pdfs = read_train_model(hparams)
    if "data" in stages:
        run_on_main(
            prepare_frames,
            kwargs={
                "hparams": hparams,
                "model": train_model,
                "num_pdfs": num_pdfs,
                "progress": progress,
            },
        )
    datasets = load_datasets(hparams, num_pdfs)
    refs = check_transcripts(hparams, datasets) if graph[0] else None

    # 2. train
    brain, model, priors = make_brain(hparams, run_opts, datasets, num_pdfs)
    if "train" in stages:
        train(brain, hparams, model, datasets)

    # 3. evaluate, 4. decode: each adds to the summary of earlier runs
    # of this experiment, unless the model is new.
    summary = {}
    if "train" not in stages and os.path.isfile(hparams["summary_file"]):
        summary = read_json(hparams["summary_file"], "summary")
    summary["output_folder"] = os.path.abspath(hparams["output_folder"])
    summary["data_folder"] = os.path.abspath(hparams["data_folder"])
    if "evaluate" in stages:
        summary.update(evaluate(brain, hparams, model, datasets))
    if "decode" in stages and if_main_process():
        for key in [k for k in summary if "wer" in k or k in DECODE_KEYS]:
            del summary[key]
        if graph[0] is not None:
            summary.update(
                decode_and_score(brain, hparams, datasets, priors, graph, refs)
            )
        else:
            summary["wer_not_computed"] = graph[1]
    if if_main_process():
        priors_file = os.path.join(
            hparams["save_folder"], "ali_train_pdf.counts"
        )
        priors.write_kaldi_counts(priors_file)
        summary.update(num_pdfs=num_pdfs, parameters=model.num_parameters())
        for name, key in SUMMARY_PATHS.items():
            if hparams[key] is not None and os.path.exists(hparams[key]):
                summary[name] = os.path.abspath(hparams[key])
        summary["pdf_counts"] = os.path.abspath(priors_file)
        summary["summary"] = os.path.abspath(hparams["summary_file"])
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
