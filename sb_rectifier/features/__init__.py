"""Acoustic features from audio: Kaldi-compatible filterbanks and MFCCs.

A Kaldi data directory with audio only (``wav.scp``, optional
``segments``) gets its features here, as Kaldi's ``make_fbank.sh`` /
``make_mfcc.sh`` and ``compute_cmvn_stats.sh`` would make them:

* :mod:`.audio`: the recordings of ``wav.scp`` (sound files or ``cmd |``
  pipes), cut by ``segments``, resampled to one rate;
* :mod:`.compute`: :func:`fbank` (the 40-dim features of the embedded
  corpus, bit for bit) and :func:`mfcc` (Kaldi MFCCs, same framing);
* :mod:`.deltas`: :func:`add_deltas`, Kaldi's ``add-deltas``;
* :mod:`.make_feats`: :func:`make_feats` writes ``feats.scp``,
  ``cmvn.scp`` and ``utt2num_frames`` (cached, atomic, parallel);
  :func:`gmm_features` gives the GMM trainer's MFCC + CMN + deltas.

The command line is ``sb-rectifier make-feats``; ``train.py`` calls
:func:`make_feats` for a data directory that has ``wav.scp`` but no
``feats.scp``.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.features.audio import (
    AudioItem,
    AudioReport,
    iter_audio,
    read_audio_items,
    read_recording,
)
from sb_rectifier.features.compute import fbank, mfcc, num_frames
from sb_rectifier.features.deltas import add_deltas
from sb_rectifier.features.make_feats import gmm_features, make_feats

__all__ = [
    "AudioItem",
    "AudioReport",
    "add_deltas",
    "fbank",
    "gmm_features",
    "iter_audio",
    "make_feats",
    "mfcc",
    "num_frames",
    "read_audio_items",
    "read_recording",
]
