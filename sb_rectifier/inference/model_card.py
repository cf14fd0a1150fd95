"""The model card (``README.md``) of an exported hub folder.

Every figure comes from the run's own ``summary.json`` (frame metrics of
the best checkpoint, WER with the LM weight and insertion penalty chosen
on dev) and from the exported folder itself (its example transcript).

Authors
 * sb_rectifier developers 2026
"""

import os

__all__ = ["model_card"]

PAPER = (
    "A. L. Maas, A. Y. Hannun and A. Y. Ng (2013), *Rectifier "
    "Nonlinearities Improve Neural Network Acoustic Models*, ICML Workshop "
    "on Deep Learning for Audio, Speech and Language Processing."
)


def _figure(summary, key, fmt):
    value = summary.get(key)
    return "n/a" if value is None else fmt.format(value)


def _data_description(corpus):
    """The training data, from the corpus's ``corpus.json``."""
    splits, config = corpus["splits"], corpus["config"]
    hours = ", ".join(
        f"{name} {splits[name]['hours']:.2f} h "
        f"({splits[name]['utterances']} utterances, "
        f"{splits[name]['speakers']} speakers)"
        for name in ("train", "dev", "test")
    )
    return (
        "The embedded synthetic corpus of sb_rectifier (`sb-rectifier "
        f"make-corpus`, seed {config['seed']}): digit strings and short "
        "everyday sentences synthesised with eSpeak NG voices, telephone "
        f"band, {config['sample_rate']} Hz, noise at "
        f"{config['snr_db'][0]:g} to {config['snr_db'][1]:g} dB SNR; "
        f"{hours}; disjoint speakers. Alignments come from the "
        "synthesiser's phoneme timings. It is a test bed, not a benchmark: "
        "this model will not recognise natural speech."
    )


def _hybrid_asr_rows(measured):
    """The test WER of the exported folder itself, measured at export."""
    if not measured:
        return ""
    return (
        "The exported folder itself, through `HybridASR.transcribe_batch` "
        f"on the same {measured['utterances']} test utterances (measured at "
        "export): WER "
        f"{measured['per_speaker']:.2f} % with CMVN pooled per speaker "
        "(`speakers=...`, as in training) and "
        f"{measured['per_utterance']:.2f} % with CMVN per utterance (the "
        "default, and all a single file can get).\n"
    )


def model_card(
    summary, corpus, hparams, settings, dims, transcript, folder, measured
):
    """The card's Markdown text.

    Arguments
    ---------
    summary : dict
        The run's ``summary.json``.
    corpus : dict
        The training corpus's ``corpus.json``.
    hparams : dict
        The run's hyperparameters.
    settings : dict
        The exported settings (unit, layers, LM weight, ...).
    dims : dict
        Sizes: sample rate, features, inputs, pdfs.
    transcript : str
        What the exported folder transcribes ``example.wav`` as.
    folder : str
        The folder being written (for the figure's presence).
    measured : dict or None
        The folder's own test WER (``utterances``, ``per_speaker``,
        ``per_utterance``), from :func:`.export.test_set_wer`.

    Returns
    -------
    str
        ``README.md``.

    Example
    -------
    >>> split = {"hours": 1.0, "utterances": 10, "speakers": 2}
    >>> corpus = {
    ...     "splits": {"train": split, "dev": split, "test": split},
    ...     "config": {"seed": 0, "sample_rate": 8000, "snr_db": [5, 25]},
    ... }
    >>> card = model_card(
    ...     {"dev_wer": 2.0, "lm_weight": 4, "word_ins_penalty": 0.5},
    ...     corpus,
    ...     {"number_of_epochs": 8},
    ...     {"unit": "relu", "layers": "4 x 512", "prior_scale": 1.0},
    ...     {
    ...         "sample_rate": 8000,
    ...         "feat_dim": 40,
    ...         "input_size": 440,
    ...         "num_pdfs": 204,
    ...     },
    ...     "FIVE",
    ...     getfixture("tmp_path"),
    ...     None,
    ... )
    >>> "| dev | n/a | n/a | 2.00 |" in card
    True
    """
    s, d = settings, dims
    rows = []
    for split in ("dev", "test"):
        rows.append(
            f"| {split} | {_figure(summary, f'{split}_ce', '{:.4f}')} | "
            f"{_figure(summary, f'{split}_frame_acc', '{:.2f}')} | "
            f"{_figure(summary, f'{split}_wer', '{:.2f}')} |"
        )
    figure = ""
    if os.path.isfile(os.path.join(folder, "sparsity.png")):
        figure = (
            "\n## Hidden-unit sparsity\n\n"
            "![Activation probability of the last hidden layer's units]"
            "(sparsity.png)\n\n"
            "How often each unit of the last hidden layer is active on the "
            "test set (as `sb_rectifier.sparsity` defines it for the unit), "
            "units sorted: the statistic of the paper's Fig. 2, measured "
            "while the best checkpoint was evaluated.\n"
        )
    return f"""---
language: en
license: apache-2.0
library_name: speechbrain
tags:
- speechbrain
- automatic-speech-recognition
- hybrid-dnn-hmm
- kaldi
- sb_rectifier
---

# DNN-HMM hybrid acoustic model: {s["unit"]}, {s["layers"]}

A frame classifier over HMM states (senones) for hybrid speech recognition,
as in {PAPER} Trained with [sb_rectifier](https://github.com/sb-rectifier/sb_rectifier)
inside SpeechBrain's `Brain`: frame cross-entropy on the pdf targets of HMM
alignments, frames shuffled over the whole training set.

## Task and data

Speech recognition (words) by Viterbi decoding of the network's scaled
log-likelihoods on an HCLG graph. {_data_description(corpus)}

## Architecture

- Input: {d["feat_dim"]} Kaldi log mel filterbanks ({d["sample_rate"]} Hz, 25 ms
  windows every 10 ms), Kaldi CMVN, global mean/variance normalisation
  estimated on the training set, {hparams.get("context_left", 5)} + 1 +
  {hparams.get("context_right", 5)} frames of context: {d["input_size"]} inputs.
- Hidden layers: {s["layers"]}, unit `{s["unit"]}`; output: softmax over
  {d["num_pdfs"]} pdfs.
- Decoding: log posteriors − {s.get("prior_scale", 1.0):g} × log priors (training
  alignment counts), Viterbi on HCLG (`decoding.ckpt`, also as `HCLG.fst`)
  with LM weight {summary.get("lm_weight")} and word insertion penalty
  {summary.get("word_ins_penalty")}, both chosen on dev.

## Results

From the training run's own summary (best checkpoint by dev cross-entropy;
test decoded once with the dev-chosen settings):

| split | cross-entropy (nats/frame) | frame accuracy (%) | WER (%) |
|---|---|---|---|
{rows[0]}
{rows[1]}

{_hybrid_asr_rows(measured)}
`example.wav` transcribes as: `{transcript}`.
{figure}
## Usage

```python
from sb_rectifier.inference import HybridASR

asr = HybridASR.from_hparams(source="<this repo or folder>")
print(asr.transcribe_file("example.wav"))
ali = asr.align_file("example.wav", "{transcript}")
print(ali.ctm("example"))
```

Without the plugin (needs `torch`, `torchaudio`, `speechbrain`, `kaldifst`,
`kaldi-decoder`):

```python
from speechbrain.inference.interfaces import foreign_class

asr = foreign_class(
    source="<this repo or folder>",
    pymodule_file="custom_interface.py",
    classname="HybridASR",
)
```

`asr.log_likelihoods(wavs, wav_lens)` gives the scaled log-likelihoods that
Kaldi's `latgen-faster-mapped` reads with this folder's `final.mdl` and
`HCLG.fst` (acoustic scale 1 / LM weight). Pass `speakers=[...]` to pool
CMVN statistics per speaker, as in training; by default each utterance is
normalised on its own.

## Trust

As for every SpeechBrain model, `hyperparams.yaml` constructs Python
objects, so load only repositories you trust. `HybridASR.from_hparams`
checks the file before it builds anything: only `torch.nn` classes,
SpeechBrain's `Pretrainer` and this folder's `custom_interface.*` classes,
no `!apply` or `!include`, and plain file names inside the folder. Every
checkpoint loads with `torch.load(weights_only=True)` and strictly (a
missing, unexpected or reshaped tensor is an error). `foreign_class` runs
`custom_interface.py` and builds the YAML without that check.

## Licence

Apache-2.0, as sb_rectifier. The voices used to synthesise the training
data are eSpeak NG's (GPL-3.0), run as a separate program; no eSpeak NG
code or data is part of this model.
"""
