"""In-process speech synthesis with eSpeak NG, with phoneme timings.

eSpeak NG (GPL-3.0) is loaded at run time from the ``espeakng-loader``
package through ctypes; no part of it is part of this project. Synthesis
runs synchronously; the callback receives 16-bit samples at 22050 Hz and
events, among them one PHONEME event at the start of each phoneme (its
eSpeak mnemonic and its audio position), which give the exact phone
segmentation of the synthetic audio.

eSpeak keeps global state, so use one :class:`Espeak` per process.

Authors
 * sb_rectifier developers 2026
"""

import ctypes
from dataclasses import dataclass, field

import numpy as np

# espeak_EVENT_TYPE
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_END = 5
EVENT_PHONEME = 7
# espeak_PARAMETER
PARAM_RATE = 1
PARAM_PITCH = 3
PARAM_RANGE = 4
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
CHARS_UTF8 = 1


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.POINTER(ctypes.c_short),
    ctypes.c_int,
    ctypes.POINTER(_Event),
)


@dataclass
class Synthesis:
    """Audio and timings of one synthesised text.

    Arguments
    ---------
    samples : numpy.ndarray
        int16 samples.
    sample_rate : int
        Samples per second (22050 for eSpeak NG).
    phonemes : list of tuple
        ``(mnemonic, start_sample)`` per phoneme, in order; eSpeak's
        mnemonics (stress marks included, pauses are ``_`` / ``_:``).
    words : list of tuple
        ``(text_position, length, start_sample)`` per word (1-based
        character positions in the text).
    """

    samples: np.ndarray
    sample_rate: int
    phonemes: list = field(default_factory=list)
    words: list = field(default_factory=list)

    @property
    def duration(self):
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Voice:
    """An eSpeak voice setting: language voice, variant, prosody.

    Arguments
    ---------
    language : str
        eSpeak voice name (``en-us``, ``en-gb-scotland``, ...).
    variant : str
        Voice variant (``m3``, ``f2``, ``klatt``, ...), or ``""``.
    rate : int
        Speaking rate in words per minute.
    pitch : int
        Base pitch, 0-100.
    pitch_range : int
        Pitch range, 0-100.
    """

    language: str
    variant: str = ""
    rate: int = 160
    pitch: int = 50
    pitch_range: int = 50

    @property
    def name(self):
        """The name given to ``espeak_SetVoiceByName``."""
        return (
            f"{self.language}+{self.variant}" if self.variant else self.language
        )


class Espeak:
    """eSpeak NG, loaded in this process, with phoneme events.

    Example
    -------
    >>> tts = Espeak()
    >>> out = tts.synthesize("nine", Voice("en-us", "m3", rate=150))
    >>> out.sample_rate, [p for p, _ in out.phonemes][:3]
    (22050, ['n', "'aI", 'n'])
    >>> 0.3 < out.duration < 1.0
    True
    """

    def __init__(self):
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        rate = self.lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, data, INITIALIZE_PHONEME_EVENTS
        )
        if rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise ({rate})")
        self.sample_rate = rate
        self._chunks = []
        self._events = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._voice = None

    def _on_audio(self, wav, num_samples, events):
        if wav and num_samples > 0:
            self._chunks.append(
                np.ctypeslib.as_array(wav, (num_samples,)).copy()
            )
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == EVENT_PHONEME:
                name = event.id.string.decode("utf-8", errors="replace")
                self._events.append((EVENT_PHONEME, name, event.sample))
            elif event.type == EVENT_WORD:
                self._events.append(
                    (
                        EVENT_WORD,
                        (event.text_position, event.length),
                        event.sample,
                    )
                )
            i += 1
        return 0

    def set_voice(self, voice):
        """Selects a voice (cached: only changes are sent to eSpeak).

        Arguments
        ---------
        voice : Voice
            The voice.
        """
        if voice == self._voice:
            return
        if self.lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice '{voice.name}'")
        self.lib.espeak_SetParameter(PARAM_RATE, int(voice.rate), 0)
        self.lib.espeak_SetParameter(PARAM_PITCH, int(voice.pitch), 0)
        self.lib.espeak_SetParameter(PARAM_RANGE, int(voice.pitch_range), 0)
        self._voice = voice

    def synthesize(self, text, voice):
        """Synthesises ``text`` with ``voice``.

        Arguments
        ---------
        text : str
            The text (plain words).
        voice : Voice
            The voice.

        Returns
        -------
        Synthesis
            Samples and phoneme/word timings.
        """
        self.set_voice(voice)
        self._chunks, self._events = [], []
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(
            data, len(data), 0, 0, 0, CHARS_UTF8, None, None
        )
        if status != 0:
            raise RuntimeError(f"eSpeak NG failed on {text!r} ({status})")
        self.lib.espeak_Synchronize()
        samples = (
            np.concatenate(self._chunks)
            if self._chunks
            else np.zeros(0, np.int16)
        )
        phonemes = [
            (n, s) for kind, n, s in self._events if kind == EVENT_PHONEME
        ]
        words = [
            (p[0], p[1], s) for kind, p, s in self._events if kind == EVENT_WORD
        ]
        return Synthesis(
            samples.astype(np.int16), self.sample_rate, phonemes, words
        )
