"""Signal processing for the synthetic telephone corpus.

Authors
 * sb_rectifier developers 2026
"""

import io
import math
import wave
from fractions import Fraction

import numpy as np
from scipy import signal

TELEPHONE_BAND_HZ = (300.0, 3400.0)


def resample(samples, ratio):
    """Polyphase resampling by a rational ``ratio`` (output/input rate).

    Arguments
    ---------
    samples : numpy.ndarray
        float signal.
    ratio : float or Fraction
        Output samples per input sample.

    Returns
    -------
    numpy.ndarray
        The resampled float64 signal.

    Example
    -------
    >>> len(resample(np.zeros(22050), Fraction(8000, 22050)))
    8000
    """
    ratio = Fraction(ratio).limit_denominator(10000)
    return signal.resample_poly(
        np.asarray(samples, dtype=np.float64),
        ratio.numerator,
        ratio.denominator,
    )


def telephone_band(samples, sample_rate, band=TELEPHONE_BAND_HZ):
    """Zero-phase band-pass to the telephone band (no time shift).

    Arguments
    ---------
    samples : numpy.ndarray
        float signal.
    sample_rate : int
        Samples per second.
    band : tuple of float
        Pass band in Hz.

    Returns
    -------
    numpy.ndarray
        The filtered signal.

    Example
    -------
    >>> t = np.arange(8000) / 8000
    >>> low = telephone_band(np.sin(2 * np.pi * 100 * t), 8000)
    >>> mid = telephone_band(np.sin(2 * np.pi * 1000 * t), 8000)
    >>> bool(np.std(low) < 0.2 * np.std(mid))
    True
    """
    sos = signal.butter(4, band, btype="bandpass", fs=sample_rate, output="sos")
    return signal.sosfiltfilt(sos, samples)


def colored_noise(num_samples, rng, brown_mix):
    """Unit-variance noise: a mix of white and brown (1/f^2) noise.

    Arguments
    ---------
    num_samples : int
        Length.
    rng : numpy.random.Generator
        Random source.
    brown_mix : float
        0 (white) to 1 (brown).

    Returns
    -------
    numpy.ndarray
        Noise with unit standard deviation.

    Example
    -------
    >>> n = colored_noise(1000, np.random.default_rng(0), 0.5)
    >>> round(float(n.std()), 6)
    1.0
    """
    white = rng.standard_normal(num_samples)
    brown = np.cumsum(rng.standard_normal(num_samples))
    brown -= np.convolve(brown, np.ones(401) / 401, mode="same")  # no drift
    mix = (1 - brown_mix) * white / white.std() + brown_mix * brown / (
        brown.std() + 1e-12
    )
    return mix / mix.std()


def add_noise(samples, snr_db, rng, brown_mix=0.5, speech_power=None):
    """Adds noise at a signal-to-noise ratio.

    Arguments
    ---------
    samples : numpy.ndarray
        float signal.
    snr_db : float
        Speech-to-noise power ratio in dB.
    rng : numpy.random.Generator
        Random source.
    brown_mix : float
        Noise colour (see :func:`colored_noise`).
    speech_power : float, optional
        Power of the speech (default: of ``samples``).

    Returns
    -------
    numpy.ndarray
        ``samples + noise``.

    Example
    -------
    >>> x = np.sin(np.arange(8000) / 3)
    >>> y = add_noise(x, 10.0, np.random.default_rng(0))
    >>> round(float(10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))), 1)
    10.0
    """
    power = np.mean(samples**2) if speech_power is None else speech_power
    noise = colored_noise(len(samples), rng, brown_mix)
    return samples + noise * math.sqrt(power / 10 ** (snr_db / 10))


def to_int16(samples, peak_dbfs):
    """Scales to a peak level and converts to 16-bit PCM.

    Arguments
    ---------
    samples : numpy.ndarray
        float signal.
    peak_dbfs : float
        Peak level in dB relative to full scale (negative).

    Returns
    -------
    numpy.ndarray
        int16 samples.

    Example
    -------
    >>> int(to_int16(np.array([0.5, -1.0]), -6.0).min())
    -16422
    """
    peak = np.max(np.abs(samples)) or 1.0
    scaled = samples / peak * 32767 * 10 ** (peak_dbfs / 20)
    return np.clip(np.round(scaled), -32768, 32767).astype(np.int16)


def wav_bytes(samples, sample_rate):
    """A mono 16-bit PCM WAV file, as bytes.

    Arguments
    ---------
    samples : numpy.ndarray
        int16 samples.
    sample_rate : int
        Samples per second.

    Returns
    -------
    bytes
        The file content.

    Example
    -------
    >>> wav_bytes(np.zeros(10, np.int16), 8000)[:4]
    b'RIFF'
    """
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()
