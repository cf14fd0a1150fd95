"""Makes the embedded synthetic corpus in Kaldi format.

``make_corpus(out_dir, CorpusConfig(hours=1.0, seed=0))`` writes::

    out_dir/
      corpus.json                  config, statistics (written last)
      wav/<split>/<utt>.wav        8 kHz 16-bit telephone-band speech
      data/<split>/                wav.scp text utt2spk spk2utt utt2dur
                                   utt2num_frames feats.scp cmvn.scp
      data/lang/                   phones.txt words.txt lexicon.txt topo
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

The corpus is built in a temporary folder and renamed when complete; the
same config (seed included) gives byte-identical files, whatever the
number of worker processes (each shard of utterances is synthesised in a
fresh process, see :mod:`sb_rectifier.corpus.synthesis`). An existing
corpus with the same config is reused.

Authors
 * sb_rectifier developers 2026
"""

import json
import logging
import math
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from sb_rectifier.corpus.alignment import SILENCE, state_durations
from sb_rectifier.corpus.audio import wav_bytes
from sb_rectifier.corpus.grammar import sample_sentence
from sb_rectifier.corpus.speakers import make_speakers
from sb_rectifier.corpus.synthesis import UtteranceSpec, run_shard_subprocess

logger = logging.getLogger(__name__)

CORPUS_VERSION = 2  # bump whenever the output changes: caches are rebuilt
SPLITS = ("train", "dev", "test")
MEAN_UTTERANCE_SECONDS = 2.3  # to turn hours into a number of utterances
NUM_ALI_JOBS = 2


@dataclass(frozen=True)
class CorpusConfig:
    """Everything that determines the corpus' content.

    Arguments
    ---------
    hours : float
        Training speech, in hours (dev and test get ``hours / 6`` each).
    seed : int
        Random seed.
    sample_rate : int
        Samples per second (8000: telephone).
    num_speakers : int
        Speakers in all (at least 30 by default: 36 train, 6 dev, 6 test).
    dev_speakers : int
        Speakers of the dev split.
    test_speakers : int
        Speakers of the test split.
    snr_db : tuple
        Range of the per-utterance signal-to-noise ratio.
    speed_perturb : tuple
        Speed factors to draw from (empty: no speed perturbation).
    num_mel_bins : int
        Filterbank channels.
    shard_size : int
        Utterances per worker task (part of the config: it fixes which
        utterances share an eSpeak process, hence the bytes).
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

    def to_dict(self):
        """The config as JSON-friendly data (with the corpus version)."""
        data = asdict(self)
        data["snr_db"] = list(self.snr_db)
        data["speed_perturb"] = list(self.speed_perturb)
        data["version"] = CORPUS_VERSION
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

    Returns ``split -> results`` in plan order (an :class:`UtteranceAudio`,
    or the message of an utterance that could not be aligned).
    """
    shards = []
    for split in SPLITS:
        specs = plan[split]
        for start in range(0, len(specs), config.shard_size):
            shards.append((split, specs[start : start + config.shard_size]))
    args = (
        config.sample_rate,
        tuple(config.snr_db),
        tuple(config.speed_perturb),
    )
    results = {split: [] for split in SPLITS}
    total = sum(len(specs) for _, specs in shards)
    with (
        ThreadPoolExecutor(max_workers=num_workers) as pool,
        tqdm(
            total=total, desc="synthesis", unit="utt", disable=not progress
        ) as bar,
    ):
        futures = [
            (split, pool.submit(run_shard_subprocess, specs, *args))
            for split, specs in shards
        ]
        for split, future in futures:
            shard_results = future.result()
            results[split].extend(shard_results)
            bar.update(len(shard_results))
    return results


def _write_table(path, rows):
    with open(path, "w", encoding="utf-8") as fout:
        for row in rows:
            fout.write(" ".join(str(x) for x in row) + "\n")


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
    _write_table(
        os.path.join(folder, "phones.txt"),
        [("<eps>", 0)] + [(p, i) for i, p in enumerate(phones, 1)],
    )
    _write_table(
        os.path.join(folder, "words.txt"),
        [("<eps>", 0)] + [(w, i) for i, w in enumerate(words, 1)],
    )
    rows = []
    for word in words:
        for pron in sorted(lexicon.get(word, ())):
            rows.append((word, *pron))
    _write_table(os.path.join(folder, "lexicon.txt"), rows)


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
        with open(wav_path, "wb") as fout:
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
        with open(path, encoding="utf-8") as fin:
            text = fin.read().replace(root, final_root)
        with open(path, "w", encoding="utf-8") as fout:
            fout.write(text)
    _write_table(
        os.path.join(data, "wav.scp"),
        [(uid, final(os.path.join(wav_dir, f"{uid}.wav"))) for uid in ids],
    )
    _write_table(
        os.path.join(data, "text"),
        [(u.spec.utt_id, *u.spec.words) for u in utterances],
    )
    _write_table(
        os.path.join(data, "utt2spk"),
        [(u.spec.utt_id, u.spec.speaker) for u in utterances],
    )
    _write_table(
        os.path.join(data, "spk2utt"),
        [(s, *us) for s, us in sorted(spk2utt.items())],
    )
    _write_table(
        os.path.join(data, "utt2dur"),
        [
            (u.spec.utt_id, f"{len(u.samples) / config.sample_rate:.3f}")
            for u in utterances
        ],
    )
    _write_table(
        os.path.join(data, "utt2num_frames"),
        [(uid, len(feats[uid])) for uid in ids],
    )

    model.write(os.path.join(ali, "final.mdl"))
    speakers = sorted(spk2utt)
    for job in range(NUM_ALI_JOBS):  # split by speaker, as Kaldi does
        job_speakers = set(speakers[job::NUM_ALI_JOBS])
        items = [
            (u, alignments[u]) for u in ids if u.split("-")[0] in job_speakers
        ]
        write_int_vectors(os.path.join(ali, f"ali.{job + 1}.gz"), items)
    with open(os.path.join(ali, "num_jobs"), "w", encoding="utf-8") as fout:
        fout.write(f"{NUM_ALI_JOBS}\n")
    _write_table(os.path.join(ali, "phone_alignment.txt"), segment_rows)
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


def read_corpus_info(out_dir):
    """The ``corpus.json`` of a complete corpus, or None.

    Arguments
    ---------
    out_dir : str
        Corpus folder.

    Returns
    -------
    dict or None
        Config and statistics.
    """
    path = os.path.join(out_dir, "corpus.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as fin:
        return json.load(fin)


def make_corpus(
    out_dir, config=CorpusConfig(), num_workers=None, progress=True
):
    """Makes (or reuses) the synthetic corpus in ``out_dir``.

    Arguments
    ---------
    out_dir : str
        Corpus folder (created; replaced if it holds another config).
    config : CorpusConfig
        What to make.
    num_workers : int, optional
        Worker processes (default: all cores). Does not change the bytes.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        The corpus info (``corpus.json``).
    """
    from sb_rectifier.kaldi import HmmTopology, TransitionModel

    out_dir = os.path.abspath(out_dir)
    info = read_corpus_info(out_dir)
    if info is not None and info["config"] == config.to_dict():
        logger.info(f"Reusing the synthetic corpus in {out_dir}")
        return info
    start = time.time()
    num_workers = num_workers or os.cpu_count() or 1
    plan = plan_utterances(config)
    results = _synthesize_all(plan, config, num_workers, progress)
    failed = [
        r for split in SPLITS for r in results[split] if isinstance(r, str)
    ]
    done = {
        s: [r for r in results[s] if not isinstance(r, str)] for s in SPLITS
    }
    everything = [u for s in SPLITS for u in done[s]]
    for message in failed:
        logger.warning(f"skipped: {message}")
    if len(failed) > 0.01 * (len(failed) + len(everything)):
        raise RuntimeError(
            f"{len(failed)} of {len(failed) + len(everything)} utterances failed to align"
        )

    phones = [SILENCE] + sorted(
        {p for u in everything for p, *_ in u.segments} - {SILENCE}
    )
    phone_ids = {p: i for i, p in enumerate(phones, 1)}
    model = TransitionModel.monophone(
        HmmTopology.left_to_right(range(1, len(phones) + 1))
    )
    lexicon, ambiguous = _lexicon(everything)
    words = sorted({w for u in everything for w in u.spec.words})

    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-corpus-", dir=parent)
    try:
        stats = {
            split: _write_split(
                tmp, out_dir, split, done[split], model, phone_ids, config
            )
            for split in SPLITS
        }
        lang = os.path.join(tmp, "data", "lang")
        _write_lang(lang, phones, lexicon, words)
        with open(os.path.join(lang, "topo"), "w", encoding="utf-8") as fout:
            fout.write(model.topology.to_text())
        info = {
            "config": config.to_dict(),
            "splits": stats,
            "phones": len(phones),
            "num_pdfs": model.num_pdfs,
            "words": len(words),
            "lexicon_entries": sum(len(v) for v in lexicon.values()),
            "failed_to_align": failed,
            "word_tokens_without_own_event": ambiguous,
            "words_without_pronunciation": sorted(set(words) - set(lexicon)),
        }
        with open(
            os.path.join(tmp, "corpus.json"), "w", encoding="utf-8"
        ) as fout:
            json.dump(info, fout, indent=2, sort_keys=True)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info(
        f"Made the synthetic corpus in {out_dir} in {time.time() - start:.1f} s: "
        + ", ".join(f"{s} {stats[s]['hours']:.2f} h" for s in SPLITS)
    )
    return info
