"""``sb-rectifier export``: a trained experiment as a SpeechBrain hub folder.

``export_model(EXP_DIR, OUT_DIR)`` reads a finished ``train.py`` output
folder (its ``summary.json``, ``hyperparams.yaml``, best checkpoint and
decoding graph) and writes, atomically, a folder laid out as SpeechBrain's
own hub models::

    hyperparams.yaml      features, model, decoding settings, Pretrainer
    config.json           {"speechbrain_interface": "HybridASR"}
    custom_interface.py   HybridASR (for foreign_class without the plugin)
    model.ckpt            the DNN, as a torch.nn.Sequential state dict
    normalizer.ckpt       global mean/std of the training features
    priors.ckpt           pdf counts and log priors
    transitions.ckpt      transition-id -> pdf / phone / phone end
    decoding.ckpt         HCLG.fst and words.txt (as byte tensors)
    alignment.ckpt        phones.txt, lexicon.txt, L.fst, H.fst (bytes)
    HCLG.fst words.txt final.mdl   the same graph and model for Kaldi tools
    example.wav           a test utterance
    sparsity.png          the hidden units' activation probabilities
    README.md             the model card (:mod:`.model_card`)

The model is stored as a plain ``torch.nn.Sequential`` of ``torch.nn``
layers (linear, norm, unit), so the folder loads without this plugin;
the conversion is checked to give the same outputs, bit for bit, before
anything is written. HCLG carries the word insertion penalty chosen on
dev; the LM weight is in ``hyperparams.yaml``. Before the folder is
renamed into place it is loaded with :class:`.hybrid_asr.HybridASR` and
``example.wav`` is transcribed.

Authors
 * sb_rectifier developers 2026
"""

import inspect
import json
import logging
import os
import shutil

import torch

from sb_rectifier.files import (
    atomic_folder,
    clean_stale_temps,
    read_json,
    write_json,
    write_text,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ExportError",
    "export_model",
    "sequential_layers",
    "pad_signals",
    "read_wav16",
    "test_set_wer",
]

# Fbank options of the embedded corpus (make_corpus), besides its sample
# rate and mel bins.
FEATURE_OPTIONS = {"dither": 0.0, "energy_floor": 0.0}
DECODING_FILES = ("HCLG.fst", "words.txt")
ALIGNMENT_FILES = ("phones.txt", "lexicon.txt", "L.fst", "H.fst")


class ExportError(ValueError):
    """An experiment folder that cannot be exported (says what is missing)."""


# ---------------------------------------------------------------------------
# The model as torch.nn layers
# ---------------------------------------------------------------------------


def _class_path(cls):
    """``torch.nn.X`` for torch.nn classes, else ``module.Class``."""
    if getattr(torch.nn, cls.__name__, None) is cls:
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _constructor_args(module):
    """The constructor arguments of a unit, read back from its attributes."""
    args = {}
    signature = inspect.signature(type(module).__init__)
    for name, param in list(signature.parameters.items())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if hasattr(module, name):
            value = getattr(module, name)
        elif param.default is not param.empty:
            continue
        else:
            raise ExportError(
                f"cannot export the hidden unit {type(module).__name__}: its "
                f"constructor argument {name!r} is not an attribute"
            )
        if not isinstance(value, bool | int | float | str | type(None)):
            raise ExportError(
                f"cannot export the hidden unit {type(module).__name__}: "
                f"argument {name}={value!r} is not a plain value"
            )
        args[name] = value
    return args


def sequential_layers(model):
    """A RectifierDNN as ``torch.nn`` layers: ``(specs, state_dict)``.

    Each spec is ``(class path, keyword args)``; the state
    dict is keyed as ``torch.nn.Sequential`` of those layers keys it.
    Dropout is left out (inference only).

    Arguments
    ---------
    model : sb_rectifier.RectifierDNN
        The trained model (with its output layer).

    Returns
    -------
    specs : list of tuple
        The layers.
    state : dict
        Their parameters and buffers.

    Example
    -------
    >>> from sb_rectifier import RectifierDNN
    >>> dnn = RectifierDNN(input_size=6, num_layers=1, neurons=4, n_pdfs=3)
    >>> specs, state = sequential_layers(dnn)
    >>> [s[0] for s in specs], sorted(state)
    (['torch.nn.Linear', 'torch.nn.ReLU', 'torch.nn.Linear'], ['0.bias', '0.weight', '2.bias', '2.weight'])
    """
    if getattr(model, "output", None) is None:
        raise ExportError("the model has no output layer (n_pdfs=None)")
    specs, state = [], {}

    def add(cls_path, kwargs, module):
        index = len(specs)
        specs.append((cls_path, kwargs))
        for key, value in module.state_dict().items():
            state[f"{index}.{key}"] = value.detach().clone()

    def add_linear(layer):
        inner = layer.w  # speechbrain.nnet.linear.Linear wraps torch's
        kwargs = {
            "in_features": inner.in_features,
            "out_features": inner.out_features,
            "bias": inner.bias is not None,
        }
        add("torch.nn.Linear", kwargs, inner)

    for block in model.layers:
        for name, child in block.named_children():
            if name == "linear":
                add_linear(child)
            elif name == "norm":
                inner = child.norm
                if isinstance(inner, torch.nn.BatchNorm1d):
                    kwargs = {
                        "num_features": inner.num_features,
                        "eps": inner.eps,
                        "momentum": inner.momentum,
                        "affine": inner.affine,
                        "track_running_stats": inner.track_running_stats,
                    }
                    add("torch.nn.BatchNorm1d", kwargs, inner)
                elif isinstance(inner, torch.nn.LayerNorm):
                    kwargs = {
                        "normalized_shape": list(inner.normalized_shape),
                        "eps": inner.eps,
                        "elementwise_affine": inner.elementwise_affine,
                    }
                    add("torch.nn.LayerNorm", kwargs, inner)
                else:
                    raise ExportError(f"cannot export norm {inner!r}")
            elif name == "act":
                path = _class_path(type(child))
                if not path.startswith("torch.nn."):
                    raise ExportError(
                        f"cannot export the hidden unit {path}: a hub folder "
                        "builds only torch.nn classes (so that it loads "
                        "without this plugin)"
                    )
                add(path, _constructor_args(child), child)
            elif name != "dropout":
                raise ExportError(f"cannot export layer {name!r} of {block}")
    add_linear(model.output)
    return specs, state


def _yaml_value(value):
    """A YAML flow value for a plain Python value."""
    return json.dumps(value)


def sequential_yaml(specs, indent="    "):
    """The ``!new:torch.nn.Sequential`` block of the layers (YAML lines).

    Arguments
    ---------
    specs : list of tuple
        ``(class path, keyword args)`` from :func:`sequential_layers`.
    indent : str
        Indentation of the list items.

    Returns
    -------
    str
        ``model: !new:torch.nn.Sequential`` and its items.

    Example
    -------
    >>> specs = [("torch.nn.Linear", {"in_features": 2, "out_features": 3})]
    >>> print(sequential_yaml(specs + [("torch.nn.Tanh", {})]), end="")
    model: !new:torch.nn.Sequential
        - !new:torch.nn.Linear
            in_features: 2
            out_features: 3
        - !new:torch.nn.Tanh
    """
    lines = ["model: !new:torch.nn.Sequential"]
    for path, kwargs in specs:
        lines.append(f"{indent}- !new:{path}")
        for key, value in kwargs.items():
            lines.append(f"{indent}    {key}: {_yaml_value(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Reading the experiment
# ---------------------------------------------------------------------------


def _need(path, what, hint):
    if not os.path.exists(path):
        raise ExportError(f"{path}: not found ({what}); {hint}")
    return path


def read_experiment(exp_dir):
    """The summary, hyperparameters and best checkpoint of an experiment.

    Arguments
    ---------
    exp_dir : str
        A ``train.py`` output folder.

    Returns
    -------
    dict
        ``summary``, ``hparams`` (the saved YAML, objects that write files
        left out), ``checkpoint`` (the folder of the best checkpoint).
    """
    from hyperpyyaml import load_hyperpyyaml
    from speechbrain.utils.checkpoints import Checkpointer

    if not os.path.isdir(exp_dir):
        raise ExportError(f"{exp_dir}: experiment folder not found")
    summary_file = _need(
        os.path.join(exp_dir, "summary.json"),
        "the run's summary",
        "is this a train.py output folder, and did the run finish?",
    )
    summary = read_json(summary_file, "summary")
    hparams_file = _need(
        os.path.join(exp_dir, "hyperparams.yaml"),
        "the run's hyperparameters",
        "is this a train.py output folder?",
    )
    if "lm_weight" not in summary or "graph" not in summary:
        raise ExportError(
            f"{summary_file}: the experiment was not decoded (no LM weight "
            "or graph): run `python train.py <yaml> <same options> "
            "--stages=[decode]` first"
        )
    # Objects that write into the experiment are not built.
    with open(hparams_file, encoding="utf-8") as f:
        hparams = load_hyperpyyaml(
            f,
            {"checkpointer": None, "train_logger": None, "frame_cache": None},
        )
    save_folder = os.path.join(exp_dir, "save")
    checkpoint = None
    if os.path.isdir(save_folder):
        found = Checkpointer(save_folder).find_checkpoint(min_key="dev_ce")
        checkpoint = None if found is None else str(found.path)
    if checkpoint is None:
        raise ExportError(
            f"{save_folder}: no checkpoint with a dev cross-entropy: train "
            "the model first (the train stage of train.py)"
        )
    for name in ("model", "normalizer", "priors"):
        _need(
            os.path.join(checkpoint, f"{name}.ckpt"),
            f"the {name} of the best checkpoint",
            "the checkpoint is incomplete",
        )
    return {"summary": summary, "hparams": hparams, "checkpoint": checkpoint}


def _load_state(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def _corpus_info(summary):
    """The ``corpus.json`` of the training data (for its feature settings)."""
    from sb_rectifier.corpus.make_corpus import read_corpus_info

    data_folder = summary.get("data_folder")
    info = read_corpus_info(data_folder) if data_folder else None
    if info is None:
        raise ExportError(
            f"{data_folder}: not a corpus made by sb-rectifier, so the "
            "feature settings of its feats.scp are unknown; only models "
            "trained on the embedded corpus can be exported yet"
        )
    return info


def _transition_tables(model):
    """TransitionTables' state from a TransitionModel."""
    size = model.num_transition_ids + 1
    ends = torch.zeros(size, dtype=torch.bool)
    for tid in range(1, size):
        phone = int(model.tid2phone[tid])
        last = len(model.topology.topology_for_phone(phone)) - 1
        ends[tid] = bool(model.tid2dest[tid] == last)
    tid2pdf = torch.from_numpy(model.tid2pdf.astype("int64"))
    tid2phone = torch.from_numpy(model.tid2phone.astype("int64"))
    return {"tid2pdf": tid2pdf, "tid2phone": tid2phone, "ends_phone": ends}


def _fst_bytes(fst, folder, name):
    from sb_rectifier.decoding import write_graph

    path = os.path.join(folder, name)
    write_graph(fst, path)
    with open(path, "rb") as f:
        return f.read()


def _read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# The folder
# ---------------------------------------------------------------------------


def _hub_yaml(specs, dims, settings):
    """The hub folder's hyperparams.yaml (text)."""
    s = settings
    return f"""\
# ############################################################################
# Model: DNN-HMM hybrid acoustic model ({s["unit"]}, {s["layers"]}), exported
# by `sb-rectifier export` (sb_rectifier {s["version"]}).
#
# With the plugin (pip install sb_rectifier):
#   from sb_rectifier.inference import HybridASR
#   asr = HybridASR.from_hparams(source="<this folder or repo id>")
# Without it (needs torch, torchaudio, speechbrain, kaldifst, kaldi-decoder):
#   from speechbrain.inference.interfaces import foreign_class
#   asr = foreign_class(source="<this folder or repo id>",
#       pymodule_file="custom_interface.py", classname="HybridASR")
#
# Like every SpeechBrain hyperparams.yaml, this file constructs objects:
# load only folders you trust. HybridASR.from_hparams checks it first (only
# torch.nn classes, SpeechBrain's Pretrainer and custom_interface.*).
# ############################################################################

# Features: Kaldi filterbanks on 16-bit sample values, Kaldi CMVN (per
# speaker if speakers are given, else per utterance), global normalisation
# of the training set, context window with edge frames replicated.
sample_rate: {dims["sample_rate"]}
features: !new:custom_interface.KaldiFbank
    sample_rate: !ref <sample_rate>
    num_mel_bins: {dims["feat_dim"]}
    cmvn: {s["cmvn"]}
    norm_vars: {s["norm_vars"]}
    fbank_options: {_yaml_value(FEATURE_OPTIONS)}
context_left: {s["context_left"]}
context_right: {s["context_right"]}
eval_max_frames: 20000     # frames per network pass

# Acoustic model: {dims["input_size"]} inputs -> {s["layers"]} {s["unit"]} -> {dims["num_pdfs"]} pdfs
normalizer: !new:custom_interface.GlobalNorm
    feat_dim: {dims["feat_dim"]}
{sequential_yaml(specs)}priors: !new:custom_interface.LogPriors
    num_pdfs: {dims["num_pdfs"]}
prior_scale: {s["prior_scale"]}

# Decoding: log posteriors - prior_scale x log priors, Viterbi on HCLG.
# HCLG carries the word insertion penalty chosen on dev
# ({s["word_ins_penalty"]}); acoustic scale = 1 / lm_weight.
lm_weight: {s["lm_weight"]}
word_ins_penalty: {s["word_ins_penalty"]}   # informative: already in HCLG
beam: {s["beam"]}
max_active: {s["max_active"]}
transitions: !new:custom_interface.TransitionTables
    num_transition_ids: {dims["num_transition_ids"]}
decoding: !new:custom_interface.FileBundle
    names: {_yaml_value(list(DECODING_FILES))}

# Forced alignment: H o L o (the transcript), as Kaldi's align-mapped.
alignment: !new:custom_interface.FileBundle
    names: {_yaml_value(list(ALIGNMENT_FILES))}
silence_phones: {_yaml_value(s["silence_phones"])}
align_acoustic_scale: 0.1

modules:
    normalizer: !ref <normalizer>
    model: !ref <model>
    priors: !ref <priors>

# Each loadable is <name>.ckpt, loaded with torch.load(weights_only=True)
# and strictly (every key present and of the right shape).
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        model: !ref <model>
        normalizer: !ref <normalizer>
        priors: !ref <priors>
        transitions: !ref <transitions>
        decoding: !ref <decoding>
        alignment: !ref <alignment>
    custom_hooks:
        model: !name:custom_interface.load_strict
        normalizer: !name:custom_interface.load_strict
        priors: !name:custom_interface.load_strict
        transitions: !name:custom_interface.load_strict
        decoding: !name:custom_interface.load_bundle
        alignment: !name:custom_interface.load_bundle
"""


def _example_wav(test_dir, given):
    """The example audio: given, else the first test utterance."""
    if given is not None:
        return _need(given, "--example-wav", "give an existing audio file")
    from sb_rectifier.files import read_table

    wav_scp = _need(
        os.path.join(test_dir, "wav.scp"), "test wav.scp", "give --example-wav"
    )
    first = next(iter(read_table(wav_scp, "wav.scp").values()))
    return _need(first, "the first test utterance", "give --example-wav")


def export_model(exp_dir, out_dir, example_wav=None):
    """Writes the hub folder of a finished experiment (atomically).

    Arguments
    ---------
    exp_dir : str or os.PathLike
        A ``train.py`` output folder (trained and decoded).
    out_dir : str or os.PathLike
        The folder to write; it must not exist, or be empty.
    example_wav : str, optional
        The example audio (default: the first test utterance).

    Returns
    -------
    dict
        ``folder``, ``files`` (name -> bytes), ``example_transcript``.

    Raises
    ------
    ExportError, FileExistsError
        An incomplete experiment (naming the missing file and the stage
        that makes it), or an ``out_dir`` that holds files.
    """
    from sb_rectifier import __version__
    from sb_rectifier.decoding import make_h, make_l, read_graph
    from sb_rectifier.decoding.parallel import with_word_insertion_penalty
    from sb_rectifier.inference import hybrid_asr
    from sb_rectifier.inference.model_card import model_card
    from sb_rectifier.kaldi import TransitionModel

    exp_dir, out_dir = os.fspath(exp_dir), os.fspath(out_dir)
    # A killed export leaves only a temporary folder; the next one removes it.
    clean_stale_temps(os.path.dirname(os.path.abspath(out_dir)))
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise FileExistsError(
            f"{out_dir}: already exists and is not empty (export writes a "
            "new folder)"
        )
    exp = read_experiment(exp_dir)
    summary, hparams, ckpt = exp["summary"], exp["hparams"], exp["checkpoint"]
    corpus = _corpus_info(summary)
    sample_rate = int(corpus["config"]["sample_rate"])
    feat_dim = int(corpus["config"]["num_mel_bins"])
    test_dir = os.path.join(summary["data_folder"], "data", "test")
    normalizer = _load_state(os.path.join(ckpt, "normalizer.ckpt"))
    priors = _load_state(os.path.join(ckpt, "priors.ckpt"))
    num_pdfs = int(priors["counts"].numel())
    if int(normalizer["mean"].numel()) != feat_dim:
        raise ExportError(
            f"{ckpt}/normalizer.ckpt: {normalizer['mean'].numel()} features, "
            f"but the corpus has {feat_dim} mel bins"
        )
    window = hparams["context_left"] + 1 + hparams["context_right"]
    model = hparams["model"](input_size=window * feat_dim, n_pdfs=num_pdfs)
    model.load_state_dict(_load_state(os.path.join(ckpt, "model.ckpt")))
    model.eval()
    specs, model_state = sequential_layers(model)
    tm_path = _need(summary.get("train_model", ""), "final.mdl", "rerun decode")
    transitions = TransitionModel.read(tm_path)
    lang_dir = _need(summary.get("lang_dir", ""), "lang dir", "rerun decode")
    settings = {
        "unit": str(hparams["unit_name"]),
        "layers": f"{hparams['num_layers']} x {hparams['neurons']}",
        "version": __version__,
        "cmvn": bool(hparams["apply_cmvn"]),
        "norm_vars": bool(hparams["cmvn_norm_vars"]),
        "context_left": hparams["context_left"],
        "context_right": hparams["context_right"],
        "prior_scale": float(hparams["prior_scale"]),
        "lm_weight": summary["lm_weight"],
        "word_ins_penalty": summary["word_ins_penalty"],
        "beam": float(hparams["beam"]),
        "max_active": int(hparams["max_active"]),
        "silence_phones": ["SIL"],
    }
    dims = {
        "sample_rate": sample_rate,
        "feat_dim": feat_dim,
        "input_size": window * feat_dim,
        "num_pdfs": num_pdfs,
        "num_transition_ids": transitions.num_transition_ids,
    }
    example = _example_wav(test_dir, example_wav)
    with atomic_folder(out_dir) as tmp:
        torch.save(model_state, os.path.join(tmp, "model.ckpt"))
        torch.save(normalizer, os.path.join(tmp, "normalizer.ckpt"))
        torch.save(priors, os.path.join(tmp, "priors.ckpt"))
        torch.save(
            _transition_tables(transitions),
            os.path.join(tmp, "transitions.ckpt"),
        )
        graph = with_word_insertion_penalty(
            read_graph(summary["graph"]), float(summary["word_ins_penalty"])
        )
        decoding = {
            "HCLG.fst": _fst_bytes(graph, tmp, "HCLG.fst"),
            "words.txt": _read_bytes(summary["words"]),
        }
        shutil.copyfile(summary["words"], os.path.join(tmp, "words.txt"))
        shutil.copyfile(tm_path, os.path.join(tmp, "final.mdl"))
        phones_txt = os.path.join(lang_dir, "phones.txt")
        lexicon_txt = os.path.join(lang_dir, "lexicon.txt")
        L = make_l(
            lexicon_txt,
            phones_txt,
            summary["words"],
            silence_phone="SIL",
            silence_prob=0.5,
            disambig=False,
        )
        scratch = os.path.join(tmp, ".scratch")
        os.mkdir(scratch)
        alignment = {
            "phones.txt": _read_bytes(phones_txt),
            "lexicon.txt": _read_bytes(lexicon_txt),
            "L.fst": _fst_bytes(L, scratch, "L.fst"),
            "H.fst": _fst_bytes(make_h(transitions), scratch, "H.fst"),
        }
        shutil.rmtree(scratch)
        FileBundle = hybrid_asr.FileBundle
        torch.save(
            FileBundle.state_of(decoding), os.path.join(tmp, "decoding.ckpt")
        )
        torch.save(
            FileBundle.state_of(alignment), os.path.join(tmp, "alignment.ckpt")
        )
        shutil.copyfile(example, os.path.join(tmp, "example.wav"))
        sparsity_png = _sparsity_figure(summary)
        if sparsity_png is not None:
            shutil.copyfile(sparsity_png, os.path.join(tmp, "sparsity.png"))
        write_text(
            os.path.join(tmp, "hyperparams.yaml"),
            _hub_yaml(specs, dims, settings),
        )
        write_json(
            os.path.join(tmp, "config.json"),
            {"speechbrain_interface": "HybridASR"},
        )
        shutil.copyfile(
            inspect.getsourcefile(hybrid_asr),
            os.path.join(tmp, "custom_interface.py"),
        )
        _check_same_outputs(tmp, model, specs)
        asr = hybrid_asr.HybridASR.from_hparams(source=tmp)
        transcript = asr.transcribe_file(os.path.join(tmp, "example.wav"))
        measured = test_set_wer(asr, test_dir)
        card = model_card(
            summary, corpus, hparams, settings, dims, transcript, tmp, measured
        )
        write_text(os.path.join(tmp, "README.md"), card)
    files = {
        name: os.path.getsize(os.path.join(out_dir, name))
        for name in sorted(os.listdir(out_dir))
    }
    return {
        "folder": os.path.abspath(out_dir),
        "files": files,
        "example_transcript": transcript,
        "test_wer": measured,
    }


def read_wav16(path):
    """A 16-bit mono WAV (as the corpus writes them) as float samples.

    Arguments
    ---------
    path : str
        The WAV file.

    Returns
    -------
    torch.Tensor
        1-D float32 samples in [-1, 1).
    """
    import wave

    import numpy as np

    with wave.open(path) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return torch.from_numpy(data.astype(np.float32) / 32768.0)


def pad_signals(signals):
    """A padded batch of 1-D signals, as SpeechBrain takes them.

    Arguments
    ---------
    signals : list of torch.Tensor
        1-D signals.

    Returns
    -------
    wavs : torch.Tensor
        ``[batch, time]``, zero-padded.
    wav_lens : torch.Tensor
        Relative lengths.

    Example
    -------
    >>> pad_signals([torch.ones(4), torch.ones(2)])[1].tolist()
    [1.0, 0.5]
    """
    wavs = torch.nn.utils.rnn.pad_sequence(signals, batch_first=True)
    return wavs, torch.tensor([len(s) / wavs.shape[1] for s in signals])


def test_set_wer(asr, data_dir, batch=16):
    """WER of a HybridASR on a Kaldi data dir of 16-bit WAVs, with CMVN
    per utterance and pooled per speaker (``utt2spk``).

    Arguments
    ---------
    asr : HybridASR
        The loaded model.
    data_dir : str
        ``wav.scp`` (file paths), ``text``, ``utt2spk``.
    batch : int
        Signals per call of ``transcribe_batch`` (per-utterance CMVN).

    Returns
    -------
    dict
        ``utterances``, ``per_utterance`` and ``per_speaker`` WER (%).
    """
    from sb_rectifier.files import read_table
    from sb_rectifier.scoring import score

    wavs = read_table(os.path.join(data_dir, "wav.scp"), "wav.scp")
    refs = read_table(os.path.join(data_dir, "text"), "text")
    utt2spk = read_table(os.path.join(data_dir, "utt2spk"), "utt2spk")
    utts = sorted(wavs)
    signals = {u: read_wav16(wavs[u]) for u in utts}
    per_utt = {}
    for start in range(0, len(utts), batch):
        chunk = utts[start : start + batch]
        texts = asr.transcribe_batch(*pad_signals([signals[u] for u in chunk]))
        per_utt.update(zip(chunk, texts, strict=True))
    groups = {}
    for u in utts:
        groups.setdefault(utt2spk[u], []).append(u)
    per_spk = {}
    for spk, chunk in groups.items():
        texts = asr.transcribe_batch(
            *pad_signals([signals[u] for u in chunk]),
            speakers=[spk] * len(chunk),
        )
        per_spk.update(zip(chunk, texts, strict=True))
    ref_words = {u: refs[u].split() for u in utts}
    return {
        "utterances": len(utts),
        "per_utterance": score(
            ref_words, {u: t.split() for u, t in per_utt.items()}
        ).wer,
        "per_speaker": score(
            ref_words, {u: t.split() for u, t in per_spk.items()}
        ).wer,
    }


def _sparsity_figure(summary):
    """The run's Fig. 2 plot: activation probability of the last hidden
    layer's units on test (else dev), if the run collected sparsity."""
    folder = summary.get("sparsity")
    for split in ("test", "dev"):
        path = os.path.join(folder or "", f"{split}_last_layer.png")
        if folder and os.path.isfile(path):
            return path
    return None


def _check_same_outputs(folder, model, specs):
    """The exported Sequential gives the training model's outputs."""
    from hyperpyyaml import load_hyperpyyaml

    text = sequential_yaml(specs)
    seq = load_hyperpyyaml(text)["model"]
    seq.load_state_dict(_load_state(os.path.join(folder, "model.ckpt")))
    seq.eval()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, model.input_size, generator=generator)
    with torch.no_grad():
        same = torch.equal(seq(x), model(x))
    if not same:
        raise ExportError(
            "the exported torch.nn.Sequential does not reproduce the "
            "model's outputs (an unsupported layer?)"
        )
