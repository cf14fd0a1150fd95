"""Kaldi-compatible filterbank and MFCC features of one waveform.

:func:`fbank` computes the 40-dim log mel filterbanks exactly as the
embedded corpus does (:mod:`sb_rectifier.corpus.make_corpus`: the same
``torchaudio.compliance.kaldi.fbank`` options), so a corpus wav gives its
``feats.scp`` matrix bit for bit. :func:`mfcc` computes Kaldi MFCCs with
the options of a Kaldi recipe's ``conf/mfcc.conf`` (``--use-energy=false``,
no dither) on the same 25 ms / 10 ms framing, so both kinds have the same
number of frames. Waveforms are on the 16-bit integer scale, as Kaldi
reads them (:mod:`sb_rectifier.features.audio`).

Authors
 * sb_rectifier developers 2026
"""

import numpy as np

# The options of the embedded corpus (make_corpus.py) and torchaudio's
# Kaldi defaults otherwise (25 ms frames, 10 ms shift, povey window,
# snip_edges, preemphasis 0.97, remove_dc_offset).
FBANK_OPTIONS = {"num_mel_bins": 40, "dither": 0.0, "energy_floor": 0.0}
# Kaldi's MFCC defaults (23 mel bins, cepstral lifter 22), with the
# conf/mfcc.conf of Kaldi recipes (no energy) and no dither (repeatable).
MFCC_OPTIONS = {
    "num_ceps": 13,
    "num_mel_bins": 23,
    "use_energy": False,
    "dither": 0.0,
    "energy_floor": 0.0,
}
FRAME_LENGTH_MS = 25.0
FRAME_SHIFT_MS = 10.0
KINDS = ("fbank", "mfcc")


def num_frames(num_samples, sample_rate):
    """Frames of a waveform (Kaldi's ``snip_edges``: whole frames only).

    Arguments
    ---------
    num_samples : int
        Samples.
    sample_rate : int
        Samples per second.

    Returns
    -------
    int
        ``1 + (N - window) // shift``, or 0 when shorter than one window.

    Example
    -------
    >>> num_frames(8000, 8000), num_frames(199, 8000), num_frames(200, 8000)
    (98, 0, 1)
    """
    window = int(sample_rate * FRAME_LENGTH_MS / 1000)
    shift = int(sample_rate * FRAME_SHIFT_MS / 1000)
    if num_samples < window:
        return 0
    return 1 + (num_samples - window) // shift


def _wave(wave, sample_rate):
    import torch

    if isinstance(wave, torch.Tensor):
        wave = wave.detach().to("cpu", torch.float32)
    else:
        wave = torch.from_numpy(np.asarray(wave, dtype=np.float32))
    if wave.ndim == 2 and wave.shape[0] == 1:
        wave = wave[0]
    if wave.ndim != 1:
        raise ValueError(
            f"expected a mono waveform [samples], got shape {tuple(wave.shape)}"
        )
    count = num_frames(len(wave), sample_rate)
    if count == 0:
        raise ValueError(
            f"{len(wave)} samples at {sample_rate} Hz: shorter than one "
            f"{FRAME_LENGTH_MS:g} ms frame"
        )
    return wave.unsqueeze(0)


def fbank(wave, sample_rate, num_mel_bins=40):
    """Log mel filterbank energies, as the embedded corpus computes them.

    Arguments
    ---------
    wave : numpy.ndarray or torch.Tensor
        Mono samples ``[N]`` (or ``[1, N]``) on the 16-bit integer scale.
    sample_rate : int
        Samples per second.
    num_mel_bins : int
        Filterbank channels (the corpus: 40).

    Returns
    -------
    numpy.ndarray
        float32 ``[T, num_mel_bins]``; shorter than one frame is a
        ValueError.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> feats = fbank(rng.normal(0, 1000, 8000), 8000)
    >>> feats.shape, feats.dtype
    ((98, 40), dtype('float32'))
    """
    from torchaudio.compliance.kaldi import fbank as kaldi_fbank

    options = dict(FBANK_OPTIONS, num_mel_bins=int(num_mel_bins))
    return kaldi_fbank(
        _wave(wave, sample_rate), sample_frequency=sample_rate, **options
    ).numpy()


def mfcc(wave, sample_rate, num_ceps=13):
    """Kaldi MFCCs (``compute-mfcc-feats --use-energy=false --dither=0``).

    Arguments
    ---------
    wave : numpy.ndarray or torch.Tensor
        Mono samples ``[N]`` (or ``[1, N]``) on the 16-bit integer scale.
    sample_rate : int
        Samples per second.
    num_ceps : int
        Cepstra (including C0).

    Returns
    -------
    numpy.ndarray
        float32 ``[T, num_ceps]``, the same ``T`` as :func:`fbank`.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> wave = rng.normal(0, 1000, 8000)
    >>> mfcc(wave, 8000).shape == (fbank(wave, 8000).shape[0], 13)
    True
    """
    from torchaudio.compliance.kaldi import mfcc as kaldi_mfcc

    options = dict(MFCC_OPTIONS, num_ceps=int(num_ceps))
    if options["num_ceps"] > options["num_mel_bins"]:
        raise ValueError(
            f"mfcc: num_ceps={num_ceps} exceeds the {options['num_mel_bins']} "
            "mel bins"
        )
    return kaldi_mfcc(
        _wave(wave, sample_rate), sample_frequency=sample_rate, **options
    ).numpy()


def compute_features(kind, wave, sample_rate):
    """:func:`fbank` or :func:`mfcc` by name.

    Arguments
    ---------
    kind : str
        ``"fbank"`` or ``"mfcc"``.
    wave : numpy.ndarray
        Samples.
    sample_rate : int
        Samples per second.

    Returns
    -------
    numpy.ndarray
        float32 ``[T, D]``.

    Example
    -------
    >>> compute_features("mfcc", np.ones(400), 8000).shape
    (3, 13)
    """
    if kind == "fbank":
        return fbank(wave, sample_rate)
    if kind == "mfcc":
        return mfcc(wave, sample_rate)
    raise ValueError(f"unknown feature kind {kind!r} (choose from {KINDS})")


def feature_options(kind):
    """The options of a feature kind, for cache fingerprints and reports.

    Arguments
    ---------
    kind : str
        ``"fbank"`` or ``"mfcc"``.

    Returns
    -------
    dict
        The extractor's options (frame length and shift included).

    Example
    -------
    >>> feature_options("fbank")["num_mel_bins"]
    40
    """
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r} (choose from {KINDS})")
    options = dict(FBANK_OPTIONS if kind == "fbank" else MFCC_OPTIONS)
    options.update(
        frame_length_ms=FRAME_LENGTH_MS, frame_shift_ms=FRAME_SHIFT_MS
    )
    return options
