"""One synthetic utterance: text -> telephone-band audio + phone alignment.

Runs in worker processes (see :mod:`sb_rectifier.corpus.make_corpus`).
eSpeak NG keeps state across syntheses that re-initialising does not
reset, so its output depends on what the process synthesised before; each
shard of utterances is therefore made in a fresh process,
``python -m sb_rectifier.corpus.synthesis`` (a pickled shard on stdin,
pickled results on stdout), which keeps the corpus byte-identical
whatever the number of workers. A plain interpreter, rather than a
multiprocessing child of the caller, starts in a fraction of a second
even when the caller has imported torch.

Authors
 * sb_rectifier developers 2026
"""

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from sb_rectifier.corpus.alignment import (
    AlignmentError,
    align_phonemes,
    num_frames,
)
from sb_rectifier.corpus.audio import (
    add_noise,
    resample,
    telephone_band,
    to_int16,
)

MAX_ATTEMPTS = 4
SLOWER = 0.85  # rate factor per retry when a phone is too short to align
PAD_SECONDS = (0.1, 0.4)
PEAK_DBFS = (-12.0, -3.0)


@dataclass
class UtteranceSpec:
    """What to synthesise.

    Arguments
    ---------
    utt_id : str
        Utterance id (speaker id first, as Kaldi requires).
    speaker : str
        Speaker id.
    voice : Voice
        The speaker's voice.
    words : list of str
        The transcript.
    seed : list of int
        Seed of this utterance's random choices (noise, pads, speed).
    """

    utt_id: str
    speaker: str
    voice: object
    words: list
    seed: list


@dataclass
class UtteranceAudio:
    """A synthesised utterance.

    Arguments
    ---------
    spec : UtteranceSpec
        What was asked for.
    samples : numpy.ndarray
        int16 telephone-band audio.
    segments : list of tuple
        ``(phone, start_frame, num_frames, espeak_ms)`` covering all frames.
    words : list of tuple
        ``(text_position, start_ms)`` from eSpeak's word events (1-based
        character position; eSpeak gives unstressed function words such as
        "the" no event of their own).
    snr_db : float
        Signal-to-noise ratio of the added noise.
    speed : float
        Speed perturbation factor.
    attempts : int
        Syntheses needed (more than 1: slowed down to align).
    """

    spec: UtteranceSpec
    samples: np.ndarray
    segments: list
    words: list
    snr_db: float
    speed: float
    attempts: int


def synthesize_utterance(tts, spec, sample_rate, snr_db, speeds):
    """Synthesises, degrades and aligns one utterance.

    Arguments
    ---------
    tts : Espeak
        The synthesiser of this process.
    spec : UtteranceSpec
        The utterance.
    sample_rate : int
        Output rate (8000 for telephone speech).
    snr_db : tuple of float
        Range of the signal-to-noise ratio.
    speeds : sequence of float
        Speed perturbation factors to draw from (empty: none).

    Returns
    -------
    UtteranceAudio
        The utterance, or raises AlignmentError after MAX_ATTEMPTS.
    """
    rng = np.random.default_rng(spec.seed)
    speed = float(rng.choice(speeds)) if len(speeds) else 1.0
    snr = float(rng.uniform(*snr_db))
    lead, trail = rng.uniform(*PAD_SECONDS, size=2)
    brown = float(rng.uniform(0.0, 1.0))
    peak = float(rng.uniform(*PEAK_DBFS))
    text = " ".join(spec.words)
    error = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        voice = replace(
            spec.voice, rate=round(spec.voice.rate * SLOWER ** (attempt - 1))
        )
        out = tts.synthesize(text, voice)
        # Speed perturbation and resampling to the telephone rate in one go.
        ratio = Fraction(sample_rate, out.sample_rate) / Fraction(
            speed
        ).limit_denominator(100)
        speech = resample(out.samples.astype(np.float64), ratio)
        pad_lead = np.zeros(int(lead * sample_rate))
        audio = np.concatenate(
            [pad_lead, speech, np.zeros(int(trail * sample_rate))]
        )
        noisy = add_noise(
            audio, snr, np.random.default_rng([*spec.seed, 1]), brown,
            speech_power=float(np.mean(speech**2)),
        )  # fmt: skip
        samples = to_int16(telephone_band(noisy, sample_rate), peak)

        lead_ms = len(pad_lead) / sample_rate * 1000
        scale = 1000 / out.sample_rate / speed

        def to_ms(sample, lead_ms=lead_ms, scale=scale):
            return lead_ms + sample * scale

        phonemes = [("_", 0.0)] + [(name, to_ms(s)) for name, s in out.phonemes]
        total = num_frames(len(samples), sample_rate)
        try:
            segments = align_phonemes(
                phonemes, len(samples) / sample_rate * 1000, total
            )
        except AlignmentError as err:
            error = err
            continue
        words = [(pos, to_ms(s)) for pos, _, s in out.words]
        return UtteranceAudio(
            spec, samples, segments, words, snr, speed, attempt
        )
    raise AlignmentError(f"utterance '{spec.utt_id}' ({text!r}): {error}")


def synthesize_shard(specs, sample_rate, snr_db, speeds):
    """Synthesises a shard of utterances in this (fresh) process.

    Arguments
    ---------
    specs : list of UtteranceSpec
        The shard.
    sample_rate : int
        Output rate.
    snr_db : tuple of float
        SNR range.
    speeds : sequence of float
        Speed perturbation factors.

    Returns
    -------
    list
        One :class:`UtteranceAudio` per spec, or the ``AlignmentError``
        message (str) for an utterance that could not be aligned.
    """
    import ctypes

    from sb_rectifier.corpus.espeak import Espeak

    # eSpeak draws from libc's rand(): start every shard from the same state.
    ctypes.CDLL(None).srand(1)
    tts = Espeak()
    results = []
    for spec in specs:
        try:
            results.append(
                synthesize_utterance(tts, spec, sample_rate, snr_db, speeds)
            )
        except AlignmentError as err:
            results.append(str(err))
    return results


def run_shard_subprocess(specs, sample_rate, snr_db, speeds):
    """Runs :func:`synthesize_shard` in a fresh interpreter.

    Arguments
    ---------
    specs : list of UtteranceSpec
        The shard.
    sample_rate : int
        Output rate.
    snr_db : tuple of float
        SNR range.
    speeds : sequence of float
        Speed perturbation factors.

    Returns
    -------
    list
        What :func:`synthesize_shard` returns.
    """
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [package_root, os.environ.get("PYTHONPATH")])
    )
    result = subprocess.run(
        [sys.executable, "-m", "sb_rectifier.corpus.synthesis"],
        input=pickle.dumps((specs, sample_rate, snr_db, speeds)),
        capture_output=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"synthesis worker failed on {specs[0].utt_id}..{specs[-1].utt_id}: "
            + result.stderr.decode(errors="replace")[-2000:]
        )
    return pickle.loads(result.stdout)


if __name__ == "__main__":
    # Through the module, so results pickle as sb_rectifier classes.
    from sb_rectifier.corpus import synthesis

    shard = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(synthesis.synthesize_shard(*shard)))
