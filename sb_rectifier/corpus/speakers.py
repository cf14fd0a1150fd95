"""Synthetic speakers: eSpeak voices x variants x pitch, range and rate.

Authors
 * sb_rectifier developers 2026
"""

import numpy as np

from sb_rectifier.corpus.espeak import Voice

# English voices of eSpeak NG 1.52 (accents), and its voice variants with a
# human quality. Left out: robotic, whispering and novelty variants, and the
# "breath" variants (f2, f3, f5), whose breath noise is random in a way that
# no seed controls, which would make the corpus differ from run to run.
LANGUAGES = (
    "en-us",
    "en",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-us-nyc",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
)
VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
    "f1", "f4",
    "klatt", "klatt2", "klatt3",
    "Andy", "Annie", "david", "ed", "john", "linda", "max", "paul",
    "robert", "steph", "travis", "zac",
)  # fmt: skip
RATE_WPM = (130, 175)
PITCH = (25, 75)
PITCH_RANGE = (20, 90)


def make_speakers(seed, num_speakers):
    """Distinct speakers, each a fixed voice setting.

    Every speaker has its own (accent, variant) pair, so no two speakers
    share a voice, plus its own base pitch, pitch range and rate.

    Arguments
    ---------
    seed : int
        Random seed.
    num_speakers : int
        How many (at most ``len(LANGUAGES) * len(VARIANTS)``).

    Returns
    -------
    list of tuple
        ``(speaker_id, Voice)``.

    Example
    -------
    >>> speakers = make_speakers(0, 40)
    >>> len({voice for _, voice in speakers}), speakers[0][0]
    (40, 'spk001')
    """
    pairs = [(lang, var) for lang in LANGUAGES for var in VARIANTS]
    if num_speakers > len(pairs):
        raise ValueError(
            f"at most {len(pairs)} speakers, asked for {num_speakers}"
        )
    rng = np.random.default_rng([seed, 7919])
    chosen = rng.choice(len(pairs), size=num_speakers, replace=False)
    speakers = []
    for i, index in enumerate(chosen):
        lang, var = pairs[index]
        voice = Voice(
            lang,
            var,
            rate=int(rng.integers(RATE_WPM[0], RATE_WPM[1] + 1)),
            pitch=int(rng.integers(PITCH[0], PITCH[1] + 1)),
            pitch_range=int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
        )
        speakers.append((f"spk{i + 1:03d}", voice))
    return speakers
