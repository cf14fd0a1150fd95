#!/usr/bin/env python3
"""CTC recipe whose encoder is built from sb_rectifier's lobes.

The acoustic pipeline is SpeechBrain's TIMIT CTC recipe with the CRDNN
replaced by ``sb_rectifier.ContextSplice`` (11 spliced Fbank frames) and
``sb_rectifier.RectifierDNN`` (fully connected ReL / LReL / tanh layers):

    wav -> Fbank -> InputNormalization -> ContextSplice -> RectifierDNN
        -> Linear -> log-softmax -> CTC

This file is an example: it holds the Brain class (``CTCBrain``) and, when
run, trains for a few epochs on tiny synthetic data (one tone per token),
which needs no download::

    python recipes/CTC_lobes/train.py recipes/CTC_lobes/hparams/ctc_rectifier.yaml

A real recipe replaces ``synthetic_dataset`` with SpeechBrain's data
preparation (e.g. ``timit_prepare.py`` and the ``dataio_prep`` of
recipes/TIMIT/ASR/CTC/train.py), whose datasets provide ``sig`` and the
encoded labels (here ``tokens``). Importing this file has no side effects.

Authors
 * sb_rectifier developers 2026
"""

import math
import sys

import speechbrain as sb
import torch
from hyperpyyaml import load_hyperpyyaml


class CTCBrain(sb.Brain):
    """Trains the spliced-frame DNN encoder with CTC.

    Expects ``modules`` with ``mean_var_norm``, ``splice``, ``encoder`` and
    ``ctc_lin``, and hparams with ``compute_features``, ``log_softmax``,
    ``ctc_cost``, ``blank_index`` and ``ter_stats`` (see
    hparams/ctc_rectifier.yaml). Batches provide ``sig`` (waveforms and
    relative lengths) and ``tokens`` (label indices and relative lengths,
    blank excluded).
    """

    def compute_forward(self, batch, stage):
        """Computes the log-probabilities of the tokens, frame by frame.

        Arguments
        ---------
        batch : speechbrain.dataio.batch.PaddedBatch
            A batch with ``sig``: (waveforms ``[B, samples]``, relative
            lengths ``[B]``).
        stage : speechbrain.Stage
            TRAIN, VALID or TEST.

        Returns
        -------
        p_ctc : torch.Tensor
            Log-probabilities, ``[B, frames, n_tokens]``.
        wav_lens : torch.Tensor
            Relative lengths ``[B]``, valid for the frames too.
        """
        batch = batch.to(self.device)
        wavs, wav_lens = batch.sig
        feats = self.hparams.compute_features(wavs)
        feats = self.modules.mean_var_norm(feats, wav_lens)
        # Windows are cut at each utterance's own end, never in padding.
        feats = self.modules.splice(feats, wav_lens)
        encoded = self.modules.encoder(feats)
        logits = self.modules.ctc_lin(encoded)
        p_ctc = self.hparams.log_softmax(logits)
        return p_ctc, wav_lens

    def compute_objectives(self, predictions, batch, stage):
        """Computes the CTC loss; outside training also the token errors.

        Arguments
        ---------
        predictions : tuple
            ``(p_ctc, wav_lens)`` from :meth:`compute_forward`.
        batch : speechbrain.dataio.batch.PaddedBatch
            The batch, with ``tokens``: (indices ``[B, L]``, lengths ``[B]``).
        stage : speechbrain.Stage
            TRAIN, VALID or TEST.

        Returns
        -------
        loss : torch.Tensor
            The CTC loss, averaged over the batch.
        """
        p_ctc, wav_lens = predictions
        tokens, token_lens = batch.tokens
        loss = self.hparams.ctc_cost(p_ctc, tokens, wav_lens, token_lens)
        if stage != sb.Stage.TRAIN:
            hyps = sb.decoders.ctc_greedy_decode(
                p_ctc, wav_lens, blank_id=self.hparams.blank_index
            )
            self.ter_metrics.append(
                batch.id, hyps, tokens, target_len=token_lens
            )
        return loss

    def on_stage_start(self, stage, epoch=None):
        """Resets the token error statistics before validation / test.

        Arguments
        ---------
        stage : speechbrain.Stage
            TRAIN, VALID or TEST.
        epoch : int, optional
            The current epoch.
        """
        if stage != sb.Stage.TRAIN:
            self.ter_metrics = self.hparams.ter_stats()

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs the losses and token error rate; checkpoints after VALID.

        Arguments
        ---------
        stage : speechbrain.Stage
            TRAIN, VALID or TEST.
        stage_loss : float
            The average loss of the stage.
        epoch : int, optional
            The current epoch.
        """
        if stage == sb.Stage.TRAIN:
            self.train_loss = stage_loss
            return
        stats = {"loss": stage_loss}
        stats["TER"] = self.ter_metrics.summarize("error_rate")
        if stage == sb.Stage.VALID:
            self.hparams.train_logger.log_stats(
                stats_meta={"epoch": epoch},
                train_stats={"loss": self.train_loss},
                valid_stats=stats,
            )
            self.checkpointer.save_and_keep_only(
                meta={"TER": stats["TER"]}, min_keys=["TER"]
            )
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current},
                test_stats=stats,
            )


def synthetic_dataset(n_utts, n_labels, sample_rate, seed=0):
    """Makes a toy dataset: each token is a tone, utterances are sequences.

    Token ``k`` (1..n_labels; 0 is the blank) is a 120 ms sine of its own
    frequency; tokens are separated by 40 ms of weak noise.

    Arguments
    ---------
    n_utts : int
        Number of utterances.
    n_labels : int
        Number of distinct tokens (blank excluded).
    sample_rate : int
        Sampling rate of the waveforms.
    seed : int
        Seed of the random token sequences and noise.

    Returns
    -------
    dataset : speechbrain.dataio.dataset.DynamicItemDataset
        Items with ``id``, ``sig`` and ``tokens``.
    """
    gen = torch.Generator().manual_seed(seed)
    tone = torch.arange(int(0.12 * sample_rate)) / sample_rate
    gap = int(0.04 * sample_rate)
    data = {}
    for i in range(n_utts):
        n_tok = int(torch.randint(2, 5, (1,), generator=gen))
        tokens = torch.randint(1, n_labels + 1, (n_tok,), generator=gen)
        pieces = [torch.zeros(gap)]
        for k in tokens.tolist():
            freq = sample_rate / 2 * k / (n_labels + 1)
            pieces += [0.5 * torch.sin(2 * math.pi * freq * tone)]
            pieces += [torch.zeros(gap)]
        wav = torch.cat(pieces)
        wav += 0.01 * torch.randn(wav.shape, generator=gen)
        data[f"utt{i}"] = {"sig": wav, "tokens": tokens}
    dataset = sb.dataio.dataset.DynamicItemDataset(data)
    dataset.set_output_keys(["id", "sig", "tokens"])
    return dataset


if __name__ == "__main__":
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )

    # A real recipe prepares TIMIT / LibriSpeech here (see the docstring).
    n_labels = min(hparams["n_tokens"] - 1, 4)
    rate = hparams["sample_rate"]
    train_data = synthetic_dataset(16, n_labels, rate, seed=0)
    valid_data = synthetic_dataset(4, n_labels, rate, seed=1)

    brain = CTCBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(
        brain.hparams.epoch_counter,
        train_data,
        valid_data,
        train_loader_kwargs=hparams["train_dataloader_opts"],
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )
    brain.evaluate(
        valid_data,
        min_key="TER",
        test_loader_kwargs=hparams["valid_dataloader_opts"],
    )
