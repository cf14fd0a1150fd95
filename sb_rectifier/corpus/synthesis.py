"""One synthetic utterance: text -> telephone-band audio + phone alignment.

Runs in worker processes (see :mod:`sb_rectifier.corpus.make_corpus`).
eSpeak NG keeps state across syntheses that re-initialising does not
reset, so its output depends on what the process synthesised before; each
shard of utterances is therefore made in a fresh process,
``python -m sb_rectifier.corpus.synthesis`` (a pickled shard on stdin,
pickled results on stdout), which keeps the corpus byte-identical
whatever the number of workers. A plain interpreter, rather than a
multiprocessing child of the caller, starts in a fraction of a second
even when the caller has imported torch. The worker is told its parent's
pid and dies with it (:func:`sb_rectifier.processes.die_with_parent`), so
``kill -9`` of ``make-corpus`` or ``train.py`` leaves no synthesis
running.

Speed perturbation follows Kaldi's ``perturb_data_dir_speed_3way.sh``:
every factor gives one copy of the utterance, the finished recording
(pads and noise included) played faster or slower by resampling, as
``sox speed`` does; its phone events are scaled by ``1 / factor`` and
aligned to its own frames. The copies of factor ``f != 1`` get the
utterance and speaker ids prefixed with ``sp<f>-`` (``sp0.9-spk001``),
the copy of factor 1 keeps the original ids and bytes.

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
        Seed of this utterance's random choices (noise, pads, level).
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
        Speed perturbation factor of this copy (1.0: the original).
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


def speed_prefix(factor):
    """The id prefix of a speed-perturbed copy, as Kaldi writes it.

    Arguments
    ---------
    factor : float
        Speed factor.

    Returns
    -------
    str
        ``""`` for 1.0, else ``"sp<factor>-"``.

    Example
    -------
    >>> [speed_prefix(f) for f in (0.9, 1.0, 1.1, 1.05)]
    ['sp0.9-', '', 'sp1.1-', 'sp1.05-']
    """
    return "" if factor == 1.0 else f"sp{factor:g}-"


def _speed_copy(spec, samples, sample_rate, phonemes, words, factor):
    """One speed-perturbed copy of a finished recording, aligned.

    Returns ``(spec, samples, segments, words)``; raises AlignmentError.
    """
    if factor != 1.0:
        prefix = speed_prefix(factor)
        spec = replace(
            spec, utt_id=prefix + spec.utt_id, speaker=prefix + spec.speaker
        )
        ratio = 1 / Fraction(factor).limit_denominator(100)
        samples = np.clip(
            np.round(resample(samples.astype(np.float64), ratio)),
            -32768,
            32767,
        ).astype(np.int16)
        phonemes = [(name, ms / factor) for name, ms in phonemes]
        words = [(pos, ms / factor) for pos, ms in words]
    total = num_frames(len(samples), sample_rate)
    segments = align_phonemes(
        phonemes, len(samples) / sample_rate * 1000, total
    )
    return spec, samples, segments, words


def synthesize_utterance(tts, spec, sample_rate, snr_db, speeds=()):
    """Synthesises, degrades and aligns one utterance (and its copies).

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
        Speed perturbation factors, one copy each (empty: the original
        only). Every copy is the same recording; when one of them cannot
        be aligned, all are synthesised again, more slowly.

    Returns
    -------
    list of UtteranceAudio
        One per factor, in the order of ``speeds``; raises
        AlignmentError after MAX_ATTEMPTS.

    Example
    -------
    >>> from sb_rectifier.corpus.espeak import Espeak, Voice
    >>> spec = UtteranceSpec("spk1-u1", "spk1", Voice("en-us", "m1"),
    ...                      ["call", "home"], [0, 1])  # fmt: skip
    >>> slow, same = synthesize_utterance(
    ...     Espeak(), spec, 8000, (20.0, 20.0), (0.9, 1.0)
    ... )
    >>> slow.spec.utt_id, slow.spec.speaker, same.spec.utt_id
    ('sp0.9-spk1-u1', 'sp0.9-spk1', 'spk1-u1')
    >>> round(len(slow.samples) / len(same.samples), 2)
    1.11
    """
    factors = tuple(speeds) or (1.0,)
    rng = np.random.default_rng(spec.seed)
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
        speech = resample(
            out.samples.astype(np.float64),
            Fraction(sample_rate, out.sample_rate),
        )
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
        scale = 1000 / out.sample_rate

        def to_ms(sample, lead_ms=lead_ms, scale=scale):
            return lead_ms + sample * scale

        phonemes = [("_", 0.0)] + [(name, to_ms(s)) for name, s in out.phonemes]
        words = [(pos, to_ms(s)) for pos, _, s in out.words]
        try:
            copies = [
                _speed_copy(spec, samples, sample_rate, phonemes, words, f)
                for f in factors
            ]
        except AlignmentError as err:
            error = err
            continue
        return [
            UtteranceAudio(
                copy_spec,
                copy_samples,
                segments,
                copy_words,
                snr,
                factor,
                attempt,
            )  # fmt: skip
            for (copy_spec, copy_samples, segments, copy_words), factor in zip(
                copies, factors, strict=True
            )
        ]
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
        Speed perturbation factors, one copy each (empty: none).

    Returns
    -------
    list
        Per spec, the list of its :class:`UtteranceAudio` copies (see
        :func:`synthesize_utterance`), or the ``AlignmentError`` message
        (str) for an utterance that could not be aligned.

    Example
    -------
    >>> from sb_rectifier.corpus.espeak import Voice
    >>> spec = UtteranceSpec("spk1-u1", "spk1", Voice("en-us", "m1"),
    ...                      ["call", "home"], [0, 1])  # fmt: skip
    >>> [[u.spec.utt_id for u in copies] for copies in synthesize_shard(
    ...     [spec], 8000, (20.0, 20.0), (1.0, 1.1))]  # fmt: skip
    [['spk1-u1', 'sp1.1-spk1-u1']]
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
        Speed perturbation factors, one copy each (empty: none).

    Returns
    -------
    list
        What :func:`synthesize_shard` returns.

    Example
    -------
    >>> from sb_rectifier.corpus.espeak import Voice
    >>> spec = UtteranceSpec("spk1-u1", "spk1", Voice("en-us", "m1"),
    ...                      ["nine"], [0, 2])  # fmt: skip
    >>> [copies] = run_shard_subprocess([spec], 8000, (20.0, 20.0), ())
    >>> [(u.spec.utt_id, u.speed) for u in copies]
    [('spk1-u1', 1.0)]
    """
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [package_root, os.environ.get("PYTHONPATH")])
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sb_rectifier.corpus.synthesis",
            str(os.getpid()),  # the worker dies with this process
        ],
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
    from sb_rectifier.processes import die_with_parent

    # First thing: no synthesis outlives make-corpus, even killed by -9.
    die_with_parent(int(sys.argv[1]))

    # Through the module, so results pickle as sb_rectifier classes.
    from sb_rectifier.corpus import synthesis

    shard = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(synthesis.synthesize_shard(*shard)))
