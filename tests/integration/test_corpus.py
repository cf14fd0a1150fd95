"""The embedded synthetic corpus: a tiny one made in seconds, checked."""

import filecmp
import gzip
import os
import wave

import kaldiio
import numpy as np
import pytest

from sb_rectifier.corpus.alignment import boundary_ms
from sb_rectifier.corpus.grammar import vocabulary
from sb_rectifier.corpus.make_corpus import (
    SPLITS,
    CorpusConfig,
    make_corpus,
    plan_utterances,
)
from sb_rectifier.files import is_temp_name
from sb_rectifier.kaldi import KaldiDataDir, TransitionModel, load_alignment_dir

TINY = CorpusConfig(hours=0.01, seed=3)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus") / "tiny"
    info = make_corpus(str(root), TINY, num_workers=2, progress=False)
    return root, info


def _table(path):
    with open(path, encoding="utf-8") as fin:
        return [line.split() for line in fin if line.strip()]


def test_default_task_size():
    plan = plan_utterances(CorpusConfig())
    speakers = {s: {u.speaker for u in plan[s]} for s in SPLITS}
    assert sum(len(v) for v in speakers.values()) >= 30
    assert not speakers["train"] & (speakers["dev"] | speakers["test"])
    assert not speakers["dev"] & speakers["test"]
    voices = {u.voice for s in SPLITS for u in plan[s]}
    assert len(voices) == 48  # every speaker sounds different
    words = vocabulary()
    assert len(words) >= 200
    assert {
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
    } <= set(words)


def test_speakers_disjoint_and_files_complete(corpus):
    root, info = corpus
    seen = {}
    for split in SPLITS:
        data = root / "data" / split
        for name in (
            "wav.scp",
            "text",
            "utt2spk",
            "spk2utt",
            "feats.scp",
            "cmvn.scp",
            "utt2num_frames",
        ):
            assert (data / name).is_file(), (split, name)
        seen[split] = {spk for _, spk in _table(data / "utt2spk")}
        assert info["splits"][split]["speakers"] == len(seen[split])
    assert not seen["train"] & seen["dev"] and not seen["train"] & seen["test"]
    assert not seen["dev"] & seen["test"]
    for name in ("phones.txt", "words.txt", "lexicon.txt", "topo"):
        assert (root / "data" / "lang" / name).is_file()


def test_kaldiio_and_our_readers_read_everything(corpus):
    root, info = corpus
    model = TransitionModel.read(str(root / "exp" / "ali_train" / "final.mdl"))
    assert model.num_pdfs == info["num_pdfs"] == 3 * info["phones"]
    for split in SPLITS:
        data = root / "data" / split
        feats = kaldiio.load_scp(str(data / "feats.scp"))
        cmvn = kaldiio.load_scp(str(data / "cmvn.scp"))
        spk = dict(_table(data / "utt2spk"))
        for utt, path in _table(data / "wav.scp"):
            with wave.open(path) as wav:
                assert wav.getframerate() == 8000 and wav.getsampwidth() == 2
                samples = wav.getnframes()
            mat = feats[utt]
            assert mat.shape[1] == 40 and np.isfinite(mat).all()
            assert (
                mat.shape[0] == 1 + (samples - 200) // 80
            )  # 25 ms / 10 ms at 8 kHz
            assert cmvn[spk[utt]].shape == (2, 41)
        ali_dir = root / "exp" / f"ali_{split}"
        with kaldiio.ReadHelper(
            f"ark:gunzip -c {ali_dir}/ali.1.gz |"
        ) as reader:
            assert sum(1 for _ in reader) > 0
        pdfs = load_alignment_dir(str(ali_dir))
        kaldi = KaldiDataDir(str(data))
        assert sorted(pdfs) == sorted(kaldi.utt_ids)


def test_alignments_cover_every_frame_with_states_in_order(corpus):
    root, _ = corpus
    model = TransitionModel.read(str(root / "exp" / "ali_train" / "final.mdl"))
    phones = {
        name: int(i)
        for name, i in _table(root / "data" / "lang" / "phones.txt")
    }
    for split in SPLITS:
        ali_dir = root / "exp" / f"ali_{split}"
        tids = {}
        for path in sorted(ali_dir.glob("ali.*.gz")):
            with gzip.open(path) as fin:
                tids.update(kaldiio.load_ark(fin))
        frames = {
            u: int(n)
            for u, n in _table(root / "data" / split / "utt2num_frames")
        }
        assert sorted(tids) == sorted(frames)
        rows = _table(ali_dir / "phone_alignment.txt")
        by_utt = {}
        for utt, phone, start, n, _ in rows:
            by_utt.setdefault(utt, []).append((phone, int(start), int(n)))
        for utt, ali in tids.items():
            ali = np.asarray(ali)
            assert len(ali) == frames[utt]  # every frame aligned
            segments = by_utt[utt]
            assert (
                segments[0][1] == 0
                and sum(n for *_, n in segments) == frames[utt]
            )
            for phone, start, n in segments:
                piece = ali[start : start + n]
                assert (model.tid2phone[piece] == phones[phone]).all(), (
                    utt,
                    phone,
                )
                states = model.tid2hmm_state[piece]
                assert (
                    states[0] == 0 and states[-1] == 2
                )  # enters at 0, leaves from 2
                assert (np.diff(states) >= 0).all() and (
                    np.diff(states) <= 1
                ).all()
                # Kaldi semantics: only the last frame of a state moves on.
                forward = ~model.tid_is_self_loop[piece]
                assert forward.sum() == 3 and forward[-1]


def test_phone_boundaries_within_20ms_of_espeak_events(corpus):
    root, _ = corpus
    worst = 0.0
    for split in SPLITS:
        for _utt, _phone, start, _n, event_ms in _table(
            root / "exp" / f"ali_{split}" / "phone_alignment.txt"
        ):
            if int(start) == 0:
                continue
            worst = max(worst, abs(boundary_ms(int(start)) - float(event_ms)))
    assert worst <= 20.0, worst


def test_same_seed_same_bytes_whatever_the_workers(corpus, tmp_path):
    root, _ = corpus
    again = tmp_path / "again"
    make_corpus(str(again), TINY, num_workers=1, progress=False)
    compared = 0
    for folder, _, files in os.walk(root):
        for name in files:
            a = os.path.join(folder, name)
            b = os.path.join(again, os.path.relpath(a, root))
            if name.endswith(".scp"):  # absolute paths inside
                with open(a) as fa, open(b) as fb:
                    assert fa.read().replace(
                        str(root), "R"
                    ) == fb.read().replace(str(again), "R")
            else:
                assert filecmp.cmp(a, b, shallow=False), os.path.relpath(
                    a, root
                )
            compared += 1
    files_again = sum(len(files) for _, _, files in os.walk(again))
    assert compared == files_again  # the same files, none missing
    assert compared > len(list((root / "wav").rglob("*.wav"))) > 0
    other = tmp_path / "other"
    make_corpus(str(other), CorpusConfig(hours=0.01, seed=4), progress=False)
    assert not filecmp.cmp(
        root / "feats" / "raw_fbank_dev.ark",
        other / "feats" / "raw_fbank_dev.ark",
        shallow=False,
    )


def test_corpus_is_reused(corpus):
    root, info = corpus
    stamp = os.stat(root / "corpus.json").st_mtime_ns
    assert make_corpus(str(root), TINY, progress=False) == info
    assert os.stat(root / "corpus.json").st_mtime_ns == stamp


def test_nothing_left_beside_the_corpus(corpus):
    root, _ = corpus
    names = os.listdir(root.parent)
    assert root.name in names
    assert not [n for n in names if is_temp_name(n)], names


def test_lexicon_covers_the_transcripts(corpus):
    root, _ = corpus
    lexicon = {row[0] for row in _table(root / "data" / "lang" / "lexicon.txt")}
    phones = {row[0] for row in _table(root / "data" / "lang" / "phones.txt")}
    for row in _table(root / "data" / "lang" / "lexicon.txt"):
        assert set(row[1:]) <= phones
    words = {
        w
        for split in SPLITS
        for row in _table(root / "data" / split / "text")
        for w in row[1:]
    }
    assert words <= lexicon


def test_make_corpus_command_reuses_and_reports(corpus, capsys):
    import json as _json

    from sb_rectifier.cli.main import main

    root, info = corpus
    args = [
        "make-corpus",
        str(root),
        "--hours",
        "0.01",
        "--seed",
        "3",
        "--jobs",
        "1",
    ]
    assert main(args) == 0
    printed = _json.loads(capsys.readouterr().out)
    assert (
        printed["splits"] == info["splits"]
        and printed["num_pdfs"] == info["num_pdfs"]
    )
