"""Makes the embedded synthetic corpus in Kaldi format.

``make_corpus(out_dir, CorpusConfig(hours=1.0, seed=0))`` writes::

    out_dir/
      corpus.json                  config, statistics (written last)
      wav/<split>/<utt>.wav        8 kHz 16-bit telephone-band speech
      data/<split>/                wav.scp text utt2spk spk2utt utt2dur
                                   utt2num_frames feats.scp cmvn.scp
      data/lang/                   phones.txt words.txt lexicon.txt topo
                                   G.fst (the grammar, see grammar_fst)
      exp/ali_<split>/             final.mdl (text) num_jobs ali.N.gz
                                   phone_alignment.txt
      feats/                       raw_fbank_<split>.ark cmvn_<split>.ark

Splits have disjoint speakers. Features are 40-dim Kaldi-compatible log
mel filterbanks (``torchaudio.compliance.kaldi.fbank``, 25 ms / 10 ms, no
dither so the bytes repeat). Alignments are transition-ids of a 3-state
left-to-right monophone HMM per phone (silence included), derived from
eSpeak's phoneme events (:mod:`sb_rectifier.corpus.alignment`).
``phone_alignment.txt`` lists, per phone, its frames and eSpeak's event
time, the ground truth the alignments are checked against.

Speed perturbation (``speed_perturb=(0.9, 1.0, 1.1)``, off by default) is
Kaldi's ``utils/data/perturb_data_dir_speed_3way.sh``: the training set
gets one copy per factor, the copy of factor ``f`` played ``f`` times
faster (``1 / f`` as long, its pitch scaled by ``f``), with utterance and
speaker ids prefixed ``sp<f>-`` (``sp0.9-spk001-train00000``, speaker
``sp0.9-spk001``); the 1.0 copy keeps the original ids. All copies of an
utterance are the same recording (an utterance that one copy cannot
align is synthesised again, more slowly, for all of them), each with its
own features, CMVN statistics (per perturbed speaker) and alignments.
Dev and test are never perturbed. (Releases before this one drew one factor per
utterance; their perturbed corpora are refused, not reused.)

The same config (seed included) gives byte-identical files, whatever the
number of worker processes (each shard of utterances is synthesised in a
fresh process, see :mod:`sb_rectifier.corpus.synthesis`).

``out_dir`` is never overwritten: an existing corpus made with the same
config is reused, an empty folder is filled, and anything else (a folder
with other files, a corpus made with other settings) is refused with an
error that says why, leaving it untouched. The corpus is built under a
temporary name next to ``out_dir``, tagged with the pid
(:func:`sb_rectifier.files.temp_sibling`), and renamed when complete (an
atomic rename that replaces an empty folder but never a non-empty one),
so a killed run never leaves a partial corpus under the real name; the
next run removes its temporaries
(:func:`sb_rectifier.files.clean_stale_temps`). A lock (``.<name>.lock`` next to
``out_dir``) makes a second run that asks for the same corpus wait for
the first and reuse its result.

Authors
 * sb_rectifier developers 2026
"""

import errno
import logging
import math
import numbers
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from sb_rectifier.corpus.alignment import SILENCE, state_durations
from sb_rectifier.corpus.audio import TELEPHONE_BAND_HZ, wav_bytes
from sb_rectifier.corpus.grammar import sample_sentence
from sb_rectifier.corpus.speakers import LANGUAGES, VARIANTS, make_speakers
from sb_rectifier.corpus.synthesis import UtteranceSpec, run_shard_subprocess
from sb_rectifier.files import (
    WriteError,
    atomic_folder,
    atomic_write,
    clean_stale_temps,
    read_json,
    read_table,
    write_json,
    write_table,
    write_text,
)
from sb_rectifier.locks import RunLock

logger = logging.getLogger(__name__)

CORPUS_VERSION = 2  # bump whenever the output changes (old ones refused)
# Speed perturbation as one copy of train per factor (Kaldi's 3-way); up to
# version 2 it drew one factor per utterance, with the same config. Only
# perturbed corpora record it, so unperturbed version-2 corpora still match.
SPEED_PERTURB_STYLE = "kaldi-copies"
SPLITS = ("train", "dev", "test")
MEAN_UTTERANCE_SECONDS = 2.3  # to turn hours into a number of utterances
NUM_ALI_JOBS = 2
MIN_SAMPLE_RATE = 8000  # above twice the top of the telephone band
MAX_SPEAKERS = len(LANGUAGES) * len(VARIANTS)  # distinct eSpeak voices
SPEED_RANGE = (0.5, 2.0)
# The command-line option of each CorpusConfig field, for messages.
OPTIONS = {
    "hours": "--hours",
    "seed": "--seed",
    "sample_rate": "--sample-rate",
    "num_speakers": "--speakers",
    "snr_db": "--snr",
    "speed_perturb": "--speed-perturb",
}


class CorpusError(ValueError):
    """A corpus setting or folder that make-corpus refuses (says why)."""


def _label(field):
    """``--hours (CorpusConfig.hours)``, or the field alone."""
    option = OPTIONS.get(field)
    name = f"CorpusConfig.{field}"
    return f"{option} ({name})" if option else name


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _as_tuple(value):
    if isinstance(value, str | bytes):
        return None
    try:
        return tuple(value)
    except TypeError:
        return None


@dataclass(frozen=True)
class CorpusConfig:
    """Everything that determines the corpus' content.

    Every field is checked when the config is made: a bad value raises
    :class:`CorpusError` (a ``ValueError``) naming the field and its
    ``make-corpus`` option.

    Arguments
    ---------
    hours : float
        Training speech, in hours (dev and test get ``hours / 6`` each),
        before speed perturbation. Positive.
    seed : int
        Random seed (non-negative).
    sample_rate : int
        Samples per second (8000: telephone). At least 8000, as the
        telephone band (300-3400 Hz) needs, and a multiple of 100 (a
        whole number of samples per 10 ms frame shift).
    num_speakers : int
        Speakers in all, at most 200 (the distinct eSpeak voices): the
        dev and test speakers, the rest train (at least one).
    dev_speakers : int
        Speakers of the dev split.
    test_speakers : int
        Speakers of the test split.
    snr_db : tuple
        ``(min, max)`` range of the per-utterance signal-to-noise ratio.
    speed_perturb : tuple
        Speed factors (0.5 to 2.0, at most 2 decimals): one copy of the
        training set each, as Kaldi's ``perturb_data_dir_speed_3way.sh``
        does with ``(0.9, 1.0, 1.1)``; include 1.0 to keep the original.
        Empty (default): no perturbation. Kept sorted.
    num_mel_bins : int
        Filterbank channels.
    shard_size : int
        Utterances per worker task (part of the config: it fixes which
        utterances share an eSpeak process, hence the bytes).

    Example
    -------
    >>> CorpusConfig(hours=0.1, speed_perturb=(1.1, 0.9, 1.0)).speed_perturb
    (0.9, 1.0, 1.1)
    >>> CorpusConfig(sample_rate=4000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.corpus.make_corpus.CorpusError: --sample-rate (CorpusConfig.sample_rate) must be at least 8000 Hz...
    """

    hours: float = 1.0
    seed: int = 0
    sample_rate: int = 8000
    num_speakers: int = 48
    dev_speakers: int = 6
    test_speakers: int = 6
    snr_db: tuple = (5.0, 25.0)
    speed_perturb: tuple = ()
    num_mel_bins: int = 40
    shard_size: int = 100

    def __post_init__(self):
        def bad(field, why):
            return CorpusError(f"{_label(field)} {why}")

        if not _is_number(self.hours) or self.hours <= 0:
            raise bad(
                "hours",
                f"must be a positive number of hours, not {self.hours!r}",
            )
        if not _is_int(self.seed) or self.seed < 0:
            raise bad(
                "seed", f"must be a non-negative integer, not {self.seed!r}"
            )
        if not _is_int(self.sample_rate) or self.sample_rate < MIN_SAMPLE_RATE:
            low, high = (int(f) for f in TELEPHONE_BAND_HZ)
            raise bad(
                "sample_rate",
                f"must be at least {MIN_SAMPLE_RATE} Hz: the telephone band "
                f"({low}-{high} Hz) needs a sample rate above {2 * high} Hz; "
                f"got {self.sample_rate!r}",
            )
        if self.sample_rate % 100:
            raise bad(
                "sample_rate",
                "must be a multiple of 100 Hz (a whole number of samples "
                f"per 10 ms frame shift), not {self.sample_rate}",
            )
        for field in (
            "dev_speakers",
            "test_speakers",
            "num_mel_bins",
            "shard_size",
        ):
            value = getattr(self, field)
            if not _is_int(value) or value < 1:
                raise bad(field, f"must be a positive integer, not {value!r}")
        least = self.dev_speakers + self.test_speakers + 1
        if not _is_int(self.num_speakers) or not (
            least <= self.num_speakers <= MAX_SPEAKERS
        ):
            raise bad(
                "num_speakers",
                f"must be from {least} (1 train + {self.dev_speakers} dev + "
                f"{self.test_speakers} test speakers) to {MAX_SPEAKERS} (the "
                f"distinct eSpeak voices), not {self.num_speakers!r}",
            )
        snr = _as_tuple(self.snr_db)
        if snr is None or len(snr) != 2 or not all(map(_is_number, snr)):
            raise bad(
                "snr_db",
                f"must be two numbers MIN MAX in dB, not {self.snr_db!r}",
            )
        if snr[0] > snr[1]:
            raise bad(
                "snr_db",
                f"MIN {snr[0]:g} dB is above MAX {snr[1]:g} dB (give MIN first)",
            )
        object.__setattr__(self, "snr_db", tuple(float(x) for x in snr))
        factors = _as_tuple(self.speed_perturb)
        if factors is None:
            raise bad(
                "speed_perturb",
                f"must be a list of factors, not {self.speed_perturb!r}",
            )
        low, high = SPEED_RANGE
        for factor in factors:
            if not _is_number(factor) or not low <= factor <= high:
                raise bad(
                    "speed_perturb",
                    f"factors must be from {low} to {high} (e.g. 0.9 1.0 "
                    f"1.1), not {factor!r}",
                )
            if abs(round(factor, 2) - factor) > 1e-9:
                raise bad(
                    "speed_perturb",
                    f"factors have at most 2 decimals (e.g. 0.95), not {factor!r}",
                )
        factors = tuple(sorted(round(float(f), 2) for f in factors))
        if len(set(factors)) != len(factors):
            raise bad(
                "speed_perturb",
                f"lists a factor twice: {' '.join(map(str, factors))}",
            )
        object.__setattr__(self, "speed_perturb", factors)
        object.__setattr__(self, "hours", float(self.hours))
        for field in ("seed", "sample_rate", "num_speakers", "dev_speakers",
                      "test_speakers", "num_mel_bins", "shard_size"):  # fmt: skip
            object.__setattr__(self, field, int(getattr(self, field)))

    def to_dict(self):
        """The config as JSON-friendly data (with the corpus version).

        Returns
        -------
        dict
            The fields, tuples as lists, and ``version``.

        Example
        -------
        >>> CorpusConfig(hours=0.5).to_dict()["hours"]
        0.5
        """
        data = asdict(self)
        data["snr_db"] = list(self.snr_db)
        data["speed_perturb"] = list(self.speed_perturb)
        data["version"] = CORPUS_VERSION
        if self.speed_perturb:
            data["speed_perturb_style"] = SPEED_PERTURB_STYLE
        return data


def plan_utterances(config):
    """The utterances of every split: speaker, voice, words, seed.

    Arguments
    ---------
    config : CorpusConfig
        The corpus config.

    Returns
    -------
    dict
        ``split -> list of UtteranceSpec`` (sorted by utterance id).

    Example
    -------
    >>> plan = plan_utterances(CorpusConfig(hours=0.01))
    >>> [len(plan[s]) for s in SPLITS]
    [36, 6, 6]
    >>> speakers = [{u.speaker for u in plan[s]} for s in SPLITS]
    >>> bool(speakers[0] & speakers[1] or speakers[0] & speakers[2])
    False
    """
    speakers = make_speakers(config.seed, config.num_speakers)
    num_train = config.num_speakers - config.dev_speakers - config.test_speakers
    if num_train < 1 or config.dev_speakers < 1 or config.test_speakers < 1:
        raise ValueError("every split needs at least one speaker")
    by_split = {
        "train": speakers[:num_train],
        "dev": speakers[num_train : num_train + config.dev_speakers],
        "test": speakers[num_train + config.dev_speakers :],
    }
    hours = {
        "train": config.hours,
        "dev": config.hours / 6,
        "test": config.hours / 6,
    }
    plan = {}
    for index, split in enumerate(SPLITS):
        spk = by_split[split]
        count = max(
            len(spk), round(hours[split] * 3600 / MEAN_UTTERANCE_SECONDS)
        )
        rng = np.random.default_rng([config.seed, index])
        specs = []
        for i in range(count):
            speaker, voice = spk[i % len(spk)]
            words = sample_sentence(rng)
            specs.append(
                UtteranceSpec(
                    f"{speaker}-{split}{i:05d}", speaker, voice, words,
                    [config.seed, index, i],
                )
            )  # fmt: skip
        plan[split] = sorted(specs, key=lambda s: s.utt_id)
    return plan


def _synthesize_all(plan, config, num_workers, progress):
    """Runs every shard in a fresh interpreter, ``num_workers`` at a time.

    Returns ``split -> results`` in plan order: per utterance, the list of
    its :class:`UtteranceAudio` copies (one per speed factor for train,
    one for dev and test), or the message of an utterance that could not
    be aligned.
    """
    shards = []
    for split in SPLITS:
        specs = plan[split]
        for start in range(0, len(specs), config.shard_size):
            shards.append((split, specs[start : start + config.shard_size]))
    results = {split: [] for split in SPLITS}
    total = sum(len(specs) for _, specs in shards)
    with (
        ThreadPoolExecutor(max_workers=num_workers) as pool,
        tqdm(
            total=total, desc="synthesis", unit="utt", disable=not progress
        ) as bar,
    ):
        futures = [
            (
                split,
                pool.submit(
                    run_shard_subprocess,
                    specs,
                    config.sample_rate,
                    tuple(config.snr_db),
                    config.speed_perturb if split == "train" else (),
                ),
            )
            for split, specs in shards
        ]
        for split, future in futures:
            shard_results = future.result()
            results[split].extend(shard_results)
            bar.update(len(shard_results))
    return results


def _lexicon(utterances):
    """Pronunciations observed in synthesis: word -> set of phone tuples.

    eSpeak's word events carry the character position of their word; the
    phones between two events belong to the first word. Words without an
    event of their own (eSpeak attaches unstressed function words to a
    neighbour) make the span ambiguous, so a word gets a pronunciation only
    from utterances where it and the next word both have events.
    """
    lexicon = {}
    ambiguous = 0
    for utt in utterances:
        words = utt.spec.words
        offsets = np.cumsum([0] + [len(w) + 1 for w in words[:-1]]) + 1
        start_of = dict(utt.words)
        starts = [start_of.get(int(pos)) for pos in offsets] + [math.inf]
        for i, word in enumerate(words):
            if starts[i] is None or starts[i + 1] is None:
                ambiguous += 1
                continue
            phones = tuple(
                phone
                for phone, _, _, event_ms in utt.segments
                if phone != SILENCE and starts[i] <= event_ms < starts[i + 1]
            )
            if phones:
                lexicon.setdefault(word, set()).add(phones)
    return lexicon, ambiguous


def _write_lang(folder, phones, lexicon, words):
    os.makedirs(folder, exist_ok=True)
    write_table(
        os.path.join(folder, "phones.txt"),
        [("<eps>", 0)] + [(p, i) for i, p in enumerate(phones, 1)],
    )
    write_table(
        os.path.join(folder, "words.txt"),
        [("<eps>", 0)] + [(w, i) for i, w in enumerate(words, 1)],
    )
    rows = []
    for word in words:
        for pron in sorted(lexicon.get(word, ())):
            rows.append((word, *pron))
    write_table(os.path.join(folder, "lexicon.txt"), rows)


def _write_split(root, final_root, split, utterances, model, phone_ids, config):
    """Wavs, Kaldi data dir, features, CMVN and alignments of one split."""
    import kaldiio
    import torch
    from torchaudio.compliance.kaldi import fbank

    from sb_rectifier.kaldi import compute_cmvn_stats, write_int_vectors

    data = os.path.join(root, "data", split)
    ali = os.path.join(root, "exp", f"ali_{split}")
    wav_dir = os.path.join(root, "wav", split)
    feats_dir = os.path.join(root, "feats")
    for folder in (data, ali, wav_dir, feats_dir):
        os.makedirs(folder, exist_ok=True)

    def final(path):  # paths inside scp files point at the final corpus
        return os.path.join(final_root, os.path.relpath(path, root))

    feats_ark = os.path.join(feats_dir, f"raw_fbank_{split}.ark")
    feats = {}
    arcs = model.left_to_right_arcs()
    alignments = {}
    segment_rows = []
    for utt in utterances:
        uid = utt.spec.utt_id
        wav_path = os.path.join(wav_dir, f"{uid}.wav")
        with atomic_write(wav_path, "wb") as fout:
            fout.write(wav_bytes(utt.samples, config.sample_rate))
        mat = fbank(
            torch.from_numpy(utt.samples.astype(np.float32)).unsqueeze(0),
            sample_frequency=config.sample_rate,
            num_mel_bins=config.num_mel_bins,
            dither=0.0,
            energy_floor=0.0,
        ).numpy()
        total = sum(n for _, _, n, _ in utt.segments)
        if mat.shape[0] != total:
            raise RuntimeError(
                f"{uid}: {mat.shape[0]} feature frames but {total} aligned"
            )
        feats[uid] = mat
        alignments[uid] = model.alignment_from_durations(
            [(phone_ids[p], state_durations(n)) for p, _, n, _ in utt.segments],
            arcs,
        )
        for phone, start, n, event_ms in utt.segments:
            segment_rows.append((uid, phone, start, n, f"{event_ms:.2f}"))

    ids = [u.spec.utt_id for u in utterances]
    kaldiio.save_ark(feats_ark, feats, scp=os.path.join(data, "feats.scp"))
    spk2utt = {}
    for u in utterances:
        spk2utt.setdefault(u.spec.speaker, []).append(u.spec.utt_id)
    cmvn = {
        spk: compute_cmvn_stats([feats[u] for u in uids])
        for spk, uids in spk2utt.items()
    }
    kaldiio.save_ark(
        os.path.join(feats_dir, f"cmvn_{split}.ark"),
        cmvn,
        scp=os.path.join(data, "cmvn.scp"),
    )
    for name in ("feats.scp", "cmvn.scp"):
        path = os.path.join(data, name)
        table = read_table(path, name)
        write_table(
            path, ((k, v.replace(root, final_root)) for k, v in table.items())
        )
    write_table(
        os.path.join(data, "wav.scp"),
        [(uid, final(os.path.join(wav_dir, f"{uid}.wav"))) for uid in ids],
    )
    write_table(
        os.path.join(data, "text"),
        [(u.spec.utt_id, *u.spec.words) for u in utterances],
    )
    write_table(
        os.path.join(data, "utt2spk"),
        [(u.spec.utt_id, u.spec.speaker) for u in utterances],
    )
    write_table(
        os.path.join(data, "spk2utt"),
        [(s, *us) for s, us in sorted(spk2utt.items())],
    )
    write_table(
        os.path.join(data, "utt2dur"),
        [
            (u.spec.utt_id, f"{len(u.samples) / config.sample_rate:.3f}")
            for u in utterances
        ],
    )
    write_table(
        os.path.join(data, "utt2num_frames"),
        [(uid, len(feats[uid])) for uid in ids],
    )

    model.write(os.path.join(ali, "final.mdl"))
    speakers = sorted(spk2utt)
    utt2spk = {u.spec.utt_id: u.spec.speaker for u in utterances}
    for job in range(NUM_ALI_JOBS):  # split by speaker, as Kaldi does
        job_speakers = set(speakers[job::NUM_ALI_JOBS])
        items = [(u, alignments[u]) for u in ids if utt2spk[u] in job_speakers]
        write_int_vectors(os.path.join(ali, f"ali.{job + 1}.gz"), items)
    write_text(os.path.join(ali, "num_jobs"), f"{NUM_ALI_JOBS}\n")
    write_table(os.path.join(ali, "phone_alignment.txt"), segment_rows)
    frames = sum(len(m) for m in feats.values())
    return {
        "utterances": len(ids),
        "speakers": len(spk2utt),
        "hours": round(
            sum(len(u.samples) for u in utterances) / config.sample_rate / 3600,
            4,
        ),
        "frames": frames,
        "slowed_down_to_align": sum(u.attempts > 1 for u in utterances),
    }


# Files every complete corpus has (corpus.json is written last).
REQUIRED_FILES = (
    *(
        os.path.join("data", split, name)
        for split in SPLITS
        for name in ("wav.scp", "text", "utt2spk", "spk2utt", "feats.scp",
                     "cmvn.scp", "utt2num_frames")
    ),
    *(
        os.path.join("exp", f"ali_{split}", name)
        for split in SPLITS
        for name in ("final.mdl", "num_jobs")
    ),
    *(
        os.path.join("data", "lang", name)
        for name in ("phones.txt", "words.txt", "lexicon.txt", "topo")
    ),
)  # fmt: skip


def read_corpus_info(out_dir):
    """The ``corpus.json`` of a complete corpus, or None.

    Arguments
    ---------
    out_dir : str
        Corpus folder.

    Returns
    -------
    dict or None
        Config and statistics (None if there is no ``corpus.json``; an
        unreadable one is a ValueError naming it).

    Example
    -------
    >>> read_corpus_info(getfixture("tmp_path")) is None
    True
    """
    path = os.path.join(out_dir, "corpus.json")
    if not os.path.isfile(path):
        return None
    return read_json(path, "corpus.json")


def _show(value):
    if isinstance(value, list):
        return " ".join(str(x) for x in value) or "none"
    return str(value)


def _differences(there, asked):
    """``--hours 0.05 there, 0.1 asked; ...`` for the settings that differ."""
    diffs = []
    keys = list(asked) + sorted(set(there) - set(asked))
    for key in keys:
        if key == "version" or there.get(key) == asked.get(key):
            continue
        if key == "speed_perturb_style" and (
            there.get("speed_perturb") != asked.get("speed_perturb")
        ):
            continue  # the factors differ: said already
        if key not in asked:
            diffs.append(f"{key} {_show(there[key])} there, unknown here")
            continue
        if key == "speed_perturb_style" and key not in there:
            diffs.append(
                "--speed-perturb drew one factor per utterance there (an "
                "older release), makes one copy of train per factor now"
            )
            continue
        label = OPTIONS.get(key, key)
        shown = _show(there[key]) if key in there else "unset"
        diffs.append(f"{label} {shown} there, {_show(asked[key])} asked")
    if there.get("version") != asked["version"]:
        diffs.append(
            f"corpus version {there.get('version')} there (another release "
            f"of sb_rectifier), {asked['version']} made now"
        )
    return "; ".join(diffs)


def existing_corpus(out_dir, config):
    """Checks what ``out_dir`` holds before a corpus is made there.

    Arguments
    ---------
    out_dir : str
        The corpus folder.
    config : CorpusConfig
        The corpus asked for.

    Returns
    -------
    dict or None
        The info of the complete corpus with this config found there, to
        reuse; None when ``out_dir`` does not exist or is an empty folder
        (the corpus can be made there).

    Raises
    ------
    CorpusError
        For anything else, with a message that says what is there (the
        first few files of a folder that is not a corpus, the settings of
        a corpus made with another config); nothing is changed.

    Example
    -------
    >>> folder = getfixture("tmp_path")
    >>> existing_corpus(folder, CorpusConfig()) is None  # empty: fill it
    True
    >>> _ = (folder / "precious.txt").write_text("mine")
    >>> existing_corpus(folder, CorpusConfig())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.corpus.make_corpus.CorpusError: ... is not empty and is not a corpus made by make-corpus (it holds precious.txt)...
    """
    out_dir = os.fspath(out_dir)
    if not os.path.lexists(out_dir):
        return None
    if not os.path.isdir(out_dir):
        raise CorpusError(
            f"{out_dir} exists and is not a folder; nothing was changed: "
            "give make-corpus a new or empty folder"
        )
    names = sorted(os.listdir(out_dir))
    if not names:
        return None
    if "corpus.json" not in names:
        shown = ", ".join(names[:5])
        if len(names) > 5:
            shown += f" and {len(names) - 5} more"
        raise CorpusError(
            f"{out_dir} is not empty and is not a corpus made by make-corpus "
            f"(it holds {shown}); nothing was changed: give make-corpus a new "
            "or empty folder"
        )
    try:
        info = read_corpus_info(out_dir)
        there = info["config"]
        if not isinstance(there, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError) as err:
        detail = f" ({err})" if isinstance(err, OSError | ValueError) else ""
        raise CorpusError(
            f"{out_dir} holds a corpus.json that make-corpus did not write"
            f"{detail}; nothing was changed: use another folder"
        ) from None
    asked = config.to_dict()
    if there != asked:
        raise CorpusError(
            f"{out_dir} holds a synthetic corpus made with other settings "
            f"({_differences(there, asked)}); it is left as it is: use "
            "another folder, or delete this one to make the corpus again"
        )
    missing = [
        name
        for name in REQUIRED_FILES
        if not os.path.isfile(os.path.join(out_dir, name))
    ]
    if missing:
        raise CorpusError(
            f"{out_dir}: the corpus there lacks {', '.join(missing[:3])}"
            + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            + " (removed after it was made); delete the folder to make the "
            "corpus again"
        )
    return info


def make_corpus(
    out_dir, config=CorpusConfig(), num_workers=None, progress=True
):
    """Makes (or reuses) the synthetic corpus in ``out_dir``.

    Arguments
    ---------
    out_dir : str
        Corpus folder: new, empty, or holding this very corpus (reused).
        Anything else is refused (:class:`CorpusError`) and left as it is.
    config : CorpusConfig
        What to make.
    num_workers : int, optional
        Worker processes (default: all cores). Does not change the bytes.
    progress : bool
        Show a progress bar (on stderr); False shows none.

    Returns
    -------
    dict
        The corpus info (``corpus.json``).

    Example
    -------
    >>> folder = getfixture("tmp_path") / "corpus"
    >>> make_corpus(folder, CorpusConfig(hours=0.01), num_workers=0)
    Traceback (most recent call last):
    sb_rectifier.corpus.make_corpus.CorpusError: --jobs (num_workers) must be a positive number of processes, not 0
    >>> folder.exists()
    False
    """
    if num_workers is not None and (
        not _is_int(num_workers) or num_workers < 1
    ):
        raise CorpusError(
            "--jobs (num_workers) must be a positive number of processes, "
            f"not {num_workers!r}"
        )
    if not isinstance(config, CorpusConfig):
        raise TypeError(f"config must be a CorpusConfig, not {config!r}")
    out_dir = os.path.abspath(os.fspath(out_dir))
    if os.path.islink(out_dir):  # make it where the link points
        out_dir = os.path.realpath(out_dir)
    # Temporaries of killed runs (their pid is dead) go, whatever follows.
    clean_stale_temps(os.path.dirname(out_dir))
    info = existing_corpus(out_dir, config)  # refuse early, before waiting
    if info is not None:
        return _reuse(out_dir, info)
    lock = RunLock.for_path(out_dir, "corpus folder").acquire(wait=True)
    try:
        info = existing_corpus(out_dir, config)  # made by the run waited for?
        if info is not None:
            return _reuse(out_dir, info)
        return _make(out_dir, config, num_workers, progress)
    finally:
        lock.release()


def _reuse(out_dir, info):
    """Reuses a complete corpus; one made before ``data/lang/G.fst`` was
    part of a corpus gets it now (written atomically)."""
    from sb_rectifier.corpus.grammar_fst import write_grammar_g

    lang = os.path.join(out_dir, "data", "lang")
    if not os.path.isfile(os.path.join(lang, "G.fst")):
        write_grammar_g(lang)
        logger.info(f"Added the grammar G.fst to {lang} (an older corpus)")
    logger.info(f"Reusing the synthetic corpus in {out_dir}")
    return info


def _make(out_dir, config, num_workers, progress):
    """Synthesises the corpus and writes it to the new or empty ``out_dir``."""
    from sb_rectifier.corpus.grammar_fst import write_grammar_g
    from sb_rectifier.kaldi import HmmTopology, TransitionModel

    start = time.time()
    num_workers = num_workers or os.cpu_count() or 1
    plan = plan_utterances(config)
    results = _synthesize_all(plan, config, num_workers, progress)
    failed = [
        r for split in SPLITS for r in results[split] if isinstance(r, str)
    ]
    recordings = {
        s: [r for r in results[s] if not isinstance(r, str)] for s in SPLITS
    }
    done = {
        s: sorted(
            (copy for copies in recordings[s] for copy in copies),
            key=lambda u: u.spec.utt_id,
        )
        for s in SPLITS
    }
    # One copy per recording (the closest to the original speed).
    originals = [
        min(copies, key=lambda u: abs(u.speed - 1.0))
        for s in SPLITS
        for copies in recordings[s]
    ]
    everything = [u for s in SPLITS for u in done[s]]
    for message in failed:
        logger.warning(f"skipped: {message}")
    if len(failed) > 0.01 * (len(failed) + len(originals)):
        hint = ""
        if config.speed_perturb and max(config.speed_perturb) > 1.0:
            hint = (
                "; speed factors above 1 shorten the phones: try smaller "
                "--speed-perturb factors"
            )
        raise CorpusError(
            f"{len(failed)} of {len(failed) + len(originals)} utterances "
            "could not be aligned (phones shorter than 3 frames, even "
            f"synthesised more slowly), e.g. {failed[0]}{hint}"
        )

    phones = [SILENCE] + sorted(
        {p for u in everything for p, *_ in u.segments} - {SILENCE}
    )
    phone_ids = {p: i for i, p in enumerate(phones, 1)}
    model = TransitionModel.monophone(
        HmmTopology.left_to_right(range(1, len(phones) + 1))
    )
    lexicon, ambiguous = _lexicon(originals)
    words = sorted({w for u in originals for w in u.spec.words})

    # Built under a temporary name carrying our pid (removed on error, or
    # by the next run if this one is killed), then renamed into place:
    # rename(2) atomically replaces an empty out_dir and refuses one that
    # is not empty, so nothing that appeared there meanwhile is lost.
    try:
        with atomic_folder(out_dir) as tmp:
            stats = {
                split: _write_split(
                    tmp, out_dir, split, done[split], model, phone_ids, config
                )
                for split in SPLITS
            }
            lang = os.path.join(tmp, "data", "lang")
            _write_lang(lang, phones, lexicon, words)
            write_text(os.path.join(lang, "topo"), model.topology.to_text())
            write_grammar_g(lang)
            info = {
                "config": config.to_dict(),
                "splits": stats,
                "phones": len(phones),
                "num_pdfs": model.num_pdfs,
                "words": len(words),
                "lexicon_entries": sum(len(v) for v in lexicon.values()),
                "failed_to_align": failed,
                "word_tokens_without_own_event": ambiguous,
                "words_without_pronunciation": sorted(
                    set(words) - set(lexicon)
                ),
            }
            write_json(os.path.join(tmp, "corpus.json"), info, sort_keys=True)
    except OSError as err:
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise CorpusError(
                f"{out_dir}: something was put there while the corpus was "
                "being made; it is left as it is: use another folder"
            ) from None
        if isinstance(err, WriteError):
            raise
        raise WriteError(
            err.errno,
            f"{out_dir}: cannot write the corpus: {err.strerror or err}"
            + (f" ({err.filename})" if err.filename else ""),
        ) from None
    logger.info(
        f"Made the synthetic corpus in {out_dir} in {time.time() - start:.1f} s: "
        + ", ".join(f"{s} {stats[s]['hours']:.2f} h" for s in SPLITS)
    )
    return info
