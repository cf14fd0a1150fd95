#!/usr/bin/env python3
"""Real-time factor of an exported model: transcription and alignment.

    python benchmarks/pretrained_rtf.py MODEL_DIR DATA_DIR [--batch 16]

MODEL_DIR is a folder written by ``sb-rectifier export``; DATA_DIR a Kaldi
data directory with ``wav.scp`` and ``text`` (e.g. the embedded corpus's
``data/test``). Every utterance is transcribed with
``HybridASR.transcribe_batch`` (batches of ``--batch`` signals, one
network pass per batch), then aligned with ``align_file`` to its
reference transcript. Printed: audio seconds, wall seconds and RTF (wall /
audio) of the whole transcription, of its network pass alone
(``log_likelihoods``) and of the alignment, and the WER of the
transcripts with CMVN per utterance (what a single file gets) and, when
per speaker (``utt2spk``, as in training).

Authors
 * sb_rectifier developers 2026
"""

import argparse
import json
import time

import torch


def batches(items, size):
    """Consecutive slices of ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def main(argv=None):
    """Runs the benchmark; returns the figures."""
    from sb_rectifier.files import read_table, write_json
    from sb_rectifier.inference import HybridASR
    from sb_rectifier.inference.export import (
        pad_signals,
        read_wav16,
        test_set_wer,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("data_dir")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--align-utts", type=int, default=None)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    asr = HybridASR.from_hparams(source=args.model)
    wavs = read_table(f"{args.data_dir}/wav.scp", "wav.scp")
    refs = read_table(f"{args.data_dir}/text", "text")
    utts = sorted(wavs)
    signals = {u: read_wav16(wavs[u]) for u in utts}
    rate = asr.features.sample_rate
    audio = sum(len(s) for s in signals.values()) / rate

    t0 = time.perf_counter()
    for chunk in batches(utts, args.batch):
        asr.log_likelihoods(*pad_signals([signals[u] for u in chunk]))
    network = time.perf_counter() - t0

    t0 = time.perf_counter()
    for chunk in batches(utts, args.batch):
        asr.transcribe_batch(*pad_signals([signals[u] for u in chunk]))
    transcribe = time.perf_counter() - t0
    wer = test_set_wer(asr, args.data_dir, args.batch)

    aligned = utts[: args.align_utts] if args.align_utts else utts
    t0 = time.perf_counter()
    for u in aligned:
        asr.align_file(wavs[u], refs[u])
    align = time.perf_counter() - t0
    align_audio = sum(len(signals[u]) for u in aligned) / rate

    figures = {
        "utterances": len(utts),
        "audio_seconds": round(audio, 2),
        "torch_threads": torch.get_num_threads(),
        "batch": args.batch,
        "transcribe_seconds": round(transcribe, 3),
        "transcribe_rtf": round(transcribe / audio, 4),
        "network_seconds": round(network, 3),
        "network_rtf": round(network / audio, 4),
        "wer_cmvn_per_utterance": round(wer["per_utterance"], 2),
        "wer_cmvn_per_speaker": round(wer["per_speaker"], 2),
        "aligned_utterances": len(aligned),
        "align_seconds": round(align, 3),
        "align_rtf": round(align / align_audio, 4),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        write_json(args.json, figures)
    return figures


if __name__ == "__main__":
    main()
