"""Features from audio: wav.scp (files, pipes), segments, resampling,
fbank/MFCC, Kaldi's add-deltas, make_feats (cache, atomicity, jobs) and
the make-feats command."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import kaldiio
import numpy as np
import pytest
import soundfile
import torch
import torchaudio

from sb_rectifier.cli.main import main as cli_main
from sb_rectifier.features import (
    AudioReport,
    add_deltas,
    fbank,
    gmm_features,
    iter_audio,
    make_feats,
    mfcc,
    num_frames,
    read_audio_items,
)
from sb_rectifier.features.make_feats import needs_fbank
from sb_rectifier.files import is_temp_name
from sb_rectifier.kaldi import KaldiDataDir, apply_cmvn, compute_cmvn_stats


def _wave(seconds, rate, seed):
    """Noise with a tone, as int16 (the audio of one recording)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    signal_ = 3000 * np.sin(2 * np.pi * (300 + 50 * seed) * t)
    return np.clip(signal_ + rng.normal(0, 500, len(t)), -32768, 32767).astype(
        np.int16
    )


def _data_dir(root, recordings, speakers=None):
    """A wav-only data dir: ``recordings`` = [(id, seconds, rate)]."""
    root.mkdir(parents=True, exist_ok=True)
    wav_lines, spk_lines = [], []
    for index, (rec, seconds, rate) in enumerate(recordings):
        path = root / "wav" / f"{rec}.wav"
        path.parent.mkdir(exist_ok=True)
        soundfile.write(path, _wave(seconds, rate, index), rate)
        wav_lines.append(f"{rec} {path}\n")
        spk = (speakers or {}).get(rec, rec.split("-")[0])
        spk_lines.append(f"{rec} {spk}\n")
    (root / "wav.scp").write_text("".join(wav_lines))
    (root / "utt2spk").write_text("".join(spk_lines))
    return root


def _feats(folder):
    return {
        u: np.array(m)
        for u, m in kaldiio.load_scp(str(folder / "feats.scp")).items()
    }


# ---------------------------------------------------------------------------
# compute.py, deltas.py
# ---------------------------------------------------------------------------


def test_fbank_and_mfcc_share_the_framing():
    for rate in (8000, 16000):
        wave = _wave(1.234, rate, 1).astype(np.float32)
        f, m = fbank(wave, rate), mfcc(wave, rate)
        assert f.shape == (num_frames(len(wave), rate), 40)
        assert m.shape == (f.shape[0], 13)
        assert f.dtype == m.dtype == np.float32
    with pytest.raises(ValueError, match="shorter than one 25 ms frame"):
        fbank(np.zeros(199, np.float32), 8000)


def test_mfcc_is_kaldi_dct_of_log_mel_energies():
    """Kaldi's MFCC: orthonormal DCT-II of 23 log mel energies, liftered
    by 1 + 11 sin(pi i / 22); built here from the filterbanks."""
    rate = 8000
    wave = _wave(0.8, rate, 2).astype(np.float32)
    log_mel = fbank(wave, rate, num_mel_bins=23).astype(np.float64)
    n = 23
    k, j = np.meshgrid(np.arange(13), np.arange(n), indexing="ij")
    dct = np.sqrt(2.0 / n) * np.cos(np.pi / n * (j + 0.5) * k)
    dct[0] = np.sqrt(1.0 / n)
    lifter = 1.0 + 11.0 * np.sin(np.pi * np.arange(13) / 22.0)
    expected = (log_mel @ dct.T) * lifter
    np.testing.assert_allclose(mfcc(wave, rate), expected, rtol=1e-4, atol=2e-3)


def test_add_deltas_by_hand():
    """Order 2, window 2 on [0, 1, 4, 9]: filters [-2..2]/10 and its
    square /100 ([4, 4, 1, -4, -10, -4, 1, 4, 4]), frames clamped."""
    feats = np.array([[0.0], [1.0], [4.0], [9.0]], np.float32)
    expected = [
        [0.0, 0.9, 0.72],
        [1.0, 2.2, 0.55],
        [4.0, 2.6, 0.01],
        [9.0, 2.1, -0.60],
    ]
    out = add_deltas(feats)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert add_deltas(np.zeros((0, 3), np.float32)).shape == (0, 9)
    with pytest.raises(ValueError, match="expected features"):
        add_deltas(np.zeros(5))


def test_add_deltas_against_torchaudio():
    """Order 1 is torchaudio's compute_deltas (both replicate the edges);
    order 2 agrees only away from the edges (torchaudio takes deltas of
    deltas, Kaldi applies one 9-tap filter to clamped frames)."""
    feats = np.random.default_rng(0).normal(size=(30, 5)).astype(np.float32)
    ours = add_deltas(feats)
    torch_feats = torch.from_numpy(feats.T.copy())
    d1 = torchaudio.functional.compute_deltas(torch_feats, win_length=5)
    d2 = torchaudio.functional.compute_deltas(d1, win_length=5)
    np.testing.assert_allclose(ours[:, 5:10], d1.numpy().T, atol=1e-5)
    np.testing.assert_allclose(ours[4:-4, 10:], d2.numpy().T[4:-4], atol=1e-5)
    assert not np.allclose(ours[:2, 10:], d2.numpy().T[:2], atol=1e-3)


# ---------------------------------------------------------------------------
# audio.py
# ---------------------------------------------------------------------------


def test_pipe_gives_the_same_audio_and_features(tmp_path):
    data = _data_dir(tmp_path / "d", [("a-1", 1.0, 8000)])
    direct = make_feats(data, progress=False)
    before = _feats(data)
    wav = tmp_path / "d" / "wav" / "a-1.wav"
    (data / "wav.scp").write_text(f"a-1 cat {wav} |\n")
    piped = make_feats(data, progress=False)
    assert not piped["cached"] and "wav.scp changed" in piped["reason"]
    after = _feats(data)
    assert np.array_equal(before["a-1"], after["a-1"])
    assert direct["frames"] == piped["frames"] == 98


def test_pipe_errors_name_the_line_and_stderr(tmp_path):
    data = _data_dir(tmp_path, [("a-1", 0.5, 8000)])
    with open(data / "wav.scp", "a") as out:
        out.write("a-2 echo 'no such corpus' >&2; exit 4 |\n")
    (data / "utt2spk").write_text("a-1 a\na-2 a\n")
    with pytest.raises(
        OSError,
        match=r"wav.scp: line 2: recording 'a-2': command .*exit status 4.*no such corpus",
    ):
        make_feats(data, progress=False)
    (data / "wav.scp").write_text(f"a-1 {data}/wav/a-1.wav\na-2 true |\n")
    with pytest.raises(
        ValueError,
        match="line 2: recording 'a-2': command 'true' wrote no audio",
    ):
        make_feats(data, progress=False)
    assert not (data / "feats.scp").exists()


def test_segments_cut_the_recordings(tmp_path):
    data = _data_dir(tmp_path, [("rec1", 3.0, 8000), ("rec2", 2.0, 8000)])
    (data / "segments").write_text(
        "s-a rec1 0.0 1.0\ns-b rec2 0.25 -1\ns-c rec1 1.5 3.0\n"
    )
    (data / "utt2spk").write_text("s-a s\ns-b s\ns-c s\n")
    summary = make_feats(data, progress=False)
    assert summary["utterances"] == 3 and summary["recordings"] == 2
    feats = _feats(data)
    assert list(feats) == ["s-a", "s-b", "s-c"]  # the order of segments
    rec1, _ = soundfile.read(data / "wav" / "rec1.wav", dtype="int16")
    rec2, _ = soundfile.read(data / "wav" / "rec2.wav", dtype="int16")
    for utt, samples in [
        ("s-a", rec1[:8000]),
        ("s-b", rec2[2000:]),
        ("s-c", rec1[12000:24000]),
    ]:
        assert np.array_equal(
            feats[utt], fbank(samples.astype(np.float32), 8000)
        )
    order = [u for u, _, _ in iter_audio(data)]
    assert order == ["s-a", "s-b", "s-c"]


@pytest.mark.parametrize(
    "segment, message",
    [
        (
            "s-a rec1 0.5 2.5",
            r"segments: line 1: utterance 's-a': segment 0.5-2.5 s ends past the end of recording 'rec1' \(2.000 s",
        ),
        (
            "s-a rec1 2.0 2.5",
            "line 1: utterance 's-a': segment 2.0-2.5 s starts past the end",
        ),
        (
            "s-a rec1 1.0 0.5",
            "line 1: utterance 's-a': end 0.5 is not after start 1.0",
        ),
        (
            "s-a rec9 0.0 1.0",
            "line 1: utterance 's-a': recording 'rec9' is not in",
        ),
        (
            "s-a rec1 0.0",
            "line 1: expected '<utterance> <recording> <start> <end>'",
        ),
        ("s-a rec1 x 1.0", "line 1: start 'x' is not a number"),
    ],
)
def test_bad_segments(tmp_path, segment, message):
    data = _data_dir(tmp_path, [("rec1", 2.0, 8000)])
    (data / "segments").write_text(segment + "\n")
    (data / "utt2spk").write_text("s-a s\n")
    with pytest.raises(ValueError, match=message):
        make_feats(data, progress=False)
    assert not (data / "feats.scp").exists()


def test_segment_end_within_tolerance_is_clamped_and_counted(tmp_path):
    data = _data_dir(tmp_path, [("rec1", 2.0, 8000)])
    (data / "segments").write_text("s-a rec1 1.0 2.01\n")
    (data / "utt2spk").write_text("s-a s\n")
    summary = make_feats(data, progress=False)
    assert summary["clamped_segments"] == 1
    assert "1 segment end(s) moved to the end" in summary["audio"]
    assert summary["frames"] == num_frames(8000, 8000)


def test_bad_wav_scp_lines_and_files(tmp_path):
    data = _data_dir(tmp_path, [("a-1", 0.5, 8000)])
    cases = [
        (
            "a-1\n",
            ValueError,
            r"wav.scp: line 1: expected '<recording> <file>'",
        ),
        (
            "a-1 /nonexistent/a.wav\n",
            FileNotFoundError,
            r"wav.scp: line 1: recording 'a-1': audio file /nonexistent/a.wav not found",
        ),
        ("a-1 | cat\n", ValueError, "no command before"),
        (
            f"a-1 {data}/wav/a-1.wav\na-1 {data}/wav/a-1.wav\n",
            ValueError,
            "line 2: duplicate recording 'a-1'",
        ),
        (
            f"a-1 {data}/utt2spk\n",
            ValueError,
            r"line 1: recording 'a-1': cannot read audio .*utt2spk",
        ),
    ]
    for text, error, message in cases:
        (data / "wav.scp").write_text(text)
        with pytest.raises(error, match=message):
            make_feats(data, progress=False)
    assert not (data / "feats.scp").exists()


def test_empty_and_multichannel_audio(tmp_path):
    data = _data_dir(tmp_path, [("a-1", 0.5, 8000)])
    soundfile.write(data / "empty.wav", np.zeros(0, np.int16), 8000)
    (data / "wav.scp").write_text(f"a-1 {data}/empty.wav\n")
    with pytest.raises(
        ValueError,
        match=r"line 1: recording 'a-1' \(utterance 'a-1'\): empty audio in .*empty.wav",
    ):
        make_feats(data, progress=False)
    stereo = np.stack([_wave(0.5, 8000, 1), _wave(0.5, 8000, 2)], axis=1)
    soundfile.write(data / "stereo.wav", stereo, 8000)
    (data / "wav.scp").write_text(f"a-1 {data}/stereo.wav\n")
    with pytest.raises(
        ValueError, match="has 2 channels; choose one with the channel option"
    ):
        make_feats(data, progress=False)
    with pytest.raises(ValueError, match="no channel 2"):
        make_feats(data, progress=False, channel=2)
    make_feats(data, progress=False, channel=1)
    expected = fbank(stereo[:, 1].astype(np.float32), 8000)
    assert np.array_equal(_feats(data)["a-1"], expected)


def test_resampling_is_reported(tmp_path):
    data = _data_dir(
        tmp_path,
        [("a-1", 1.0, 8000), ("a-2", 1.0, 16000), ("a-3", 1.0, 16000)],
    )
    summary = make_feats(data, progress=False, sample_rate=16000)
    assert summary["audio"] == "1 of 3 recordings resampled 8000 -> 16000 Hz"
    assert summary["resampled"] == {"8000 -> 16000": 1}
    assert summary["sample_rate"] == 16000
    assert set(KaldiDataDir(data).utt_ids) == {"a-1", "a-2", "a-3"}
    assert KaldiDataDir(data).num_frames("a-1") == num_frames(16000, 16000)
    # Default: the first recording's rate (8 kHz); the others come down.
    summary = make_feats(data, progress=False)
    assert (
        not summary["cached"]
        and "sample_rate 16000 there, 8000 asked" in summary["reason"]
    )
    assert summary["audio"] == "2 of 3 recordings resampled 16000 -> 8000 Hz"
    report = AudioReport()
    assert [r for _, _, r in iter_audio(data, 8000, report=report)] == [
        8000
    ] * 3
    assert report.resampled == {"16000 -> 8000": 2}


def test_read_audio_items_without_segments(tmp_path):
    data = _data_dir(tmp_path, [("a-1", 0.5, 8000), ("b-1", 0.5, 8000)])
    items = read_audio_items(data)
    assert [(i.utt, i.recording, i.start, i.end) for i in items] == [
        ("a-1", "a-1", 0.0, None),
        ("b-1", "b-1", 0.0, None),
    ]


# ---------------------------------------------------------------------------
# make_feats.py
# ---------------------------------------------------------------------------


def test_make_feats_tables_cmvn_and_cache(tmp_path):
    data = _data_dir(
        tmp_path / "train",
        [("s1-a", 1.0, 8000), ("s2-a", 0.7, 8000), ("s1-b", 1.2, 8000)],
    )
    summary = make_feats(data, progress=False)
    assert summary["cached"] is False and summary["reason"].startswith(
        "no feats.scp"
    )
    assert summary["speakers"] == 2 and summary["feat_dim"] == 40
    feats = _feats(data)
    assert list(feats) == ["s1-a", "s2-a", "s1-b"]
    frames = dict(
        line.split()
        for line in (data / "utt2num_frames").read_text().splitlines()
    )
    assert {u: int(n) for u, n in frames.items()} == {
        u: len(m) for u, m in feats.items()
    }
    cmvn = kaldiio.load_scp(str(data / "cmvn.scp"))
    assert np.array_equal(
        cmvn["s1"], compute_cmvn_stats([feats["s1-a"], feats["s1-b"]])
    )
    assert np.array_equal(cmvn["s2"], compute_cmvn_stats([feats["s2-a"]]))
    arks = sorted(p.name for p in (data / "data").iterdir())
    assert len(arks) == 2 and all(a.endswith(".ark") for a in arks)

    again = make_feats(data, progress=False)
    assert again["cached"] is True and again["reason"] == "up to date"
    assert again["frames"] == summary["frames"]
    assert needs_fbank(data)  # made here: train.py keeps it up to date

    # A changed speaker list recomputes, says why, and removes the old arks.
    (data / "utt2spk").write_text("s1-a s1\ns2-a s1\ns1-b s1\n")
    third = make_feats(data, progress=False)
    assert third["reason"] == "since the last computation: utt2spk changed"
    assert third["speakers"] == 1
    assert len(list((data / "data").iterdir())) == 2
    assert sorted(p.name for p in (data / "data").iterdir()) != arks
    # A missing archive is noticed.
    for ark in (data / "data").iterdir():
        ark.unlink()
    assert "is missing" in make_feats(data, progress=False)["reason"]


def test_parallel_jobs_give_the_same_features(tmp_path):
    recs = [(f"s{i % 3}-u{i}", 0.3 + 0.1 * i, 8000) for i in range(8)]
    one = _data_dir(tmp_path / "one", recs)
    two = _data_dir(tmp_path / "two", recs)
    make_feats(one, progress=False, num_jobs=1)
    make_feats(two, progress=False, num_jobs=2)
    a, b = _feats(one), _feats(two)
    assert list(a) == list(b)
    assert all(np.array_equal(a[u], b[u]) for u in a)
    assert (one / "cmvn.scp").read_text().count("\n") == 3


def test_short_utterances_are_counted_not_dropped_silently(tmp_path):
    data = _data_dir(tmp_path, [("a-1", 1.0, 8000), ("a-2", 0.02, 8000)])
    summary = make_feats(data, progress=False)
    assert summary["skipped_too_short"] == ["a-2"]
    assert summary["utterances"] == 1
    assert list(_feats(data)) == ["a-1"]


def test_missing_speakers_are_an_error(tmp_path):
    data = _data_dir(tmp_path, [("a-1", 0.5, 8000), ("b-1", 0.5, 8000)])
    (data / "utt2spk").write_text("a-1 a\n")
    with pytest.raises(
        ValueError, match="utt2spk: utterance 'b-1' .* has no speaker"
    ):
        make_feats(data, progress=False)
    (data / "utt2spk").unlink()
    with pytest.raises(FileNotFoundError, match="utt2spk: not found"):
        make_feats(data, progress=False)


def test_a_failed_run_leaves_the_old_features(tmp_path):
    data = _data_dir(tmp_path, [("a-1", 0.5, 8000)])
    make_feats(data, progress=False)
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    with open(data / "wav.scp", "a") as out:
        out.write("a-2 /nonexistent/a-2.wav\n")
    (data / "utt2spk").write_text("a-1 a\na-2 a\n")
    with pytest.raises(FileNotFoundError, match="line 2"):
        make_feats(data, progress=False)
    for path, content in before.items():
        if path.name not in ("wav.scp", "utt2spk"):
            assert path.read_bytes() == content, path
    leftovers = [p for p in data.rglob("*") if is_temp_name(p.name)]
    assert leftovers == []


def test_a_killed_run_leaves_no_half_written_features(tmp_path):
    """kill -9 while the archive is being written: no feats.scp, and the
    next run cleans up and completes."""
    # a-1's 2 s of features (31 KB) are flushed to the archive before
    # the pipe of a-2 sleeps.
    data = _data_dir(tmp_path, [("a-1", 2.0, 8000), ("a-2", 0.5, 8000)])
    wav2 = data / "wav" / "a-2.wav"
    (data / "wav.scp").write_text(
        f"a-1 {data}/wav/a-1.wav\na-2 sleep 60; cat {wav2} |\n"
    )
    code = (
        "import sys; from sb_rectifier.features import make_feats; "
        "make_feats(sys.argv[1], progress=False)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(data)], start_new_session=True
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            arks = data / "data"
            started = arks.is_dir() and [
                p for p in arks.iterdir() if is_temp_name(p.name)
            ]
            if started and started[0].stat().st_size > 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the archive was never written to")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (data / "feats.scp").exists()
    assert not any(p.name.endswith(".ark") for p in (data / "data").iterdir())
    (data / "wav.scp").write_text(f"a-1 {data}/wav/a-1.wav\na-2 cat {wav2} |\n")
    summary = make_feats(data, progress=False)
    assert summary["utterances"] == 2
    assert not any(is_temp_name(p.name) for p in data.rglob("*"))


def test_mfcc_goes_to_its_own_folder_and_gmm_features(tmp_path):
    data = _data_dir(
        tmp_path / "train",
        [("s1-a", 1.0, 8000), ("s1-b", 0.6, 8000), ("s2-a", 0.8, 8000)],
    )
    make_feats(data, progress=False)
    fbank_scp = (data / "feats.scp").read_bytes()
    with pytest.raises(ValueError, match="needs an out_dir"):
        make_feats(data, kind="mfcc", progress=False)
    with pytest.raises(ValueError, match="must not be the data directory"):
        make_feats(data, kind="mfcc", out_dir=data, progress=False)
    mfcc_dir = tmp_path / "mfcc" / "train"
    feats = gmm_features(data, mfcc_dir)
    assert (data / "feats.scp").read_bytes() == fbank_scp
    assert (mfcc_dir / "feats.scp").is_file() and (
        mfcc_dir / "utt2spk"
    ).is_file()
    raw = _feats(mfcc_dir)
    assert list(feats) == ["s1-a", "s1-b", "s2-a"]
    stats = compute_cmvn_stats([raw["s1-a"], raw["s1-b"]])
    for utt in ("s1-a", "s1-b"):
        assert feats[utt].shape == (len(raw[utt]), 39)
        expected = add_deltas(apply_cmvn(raw[utt], stats))
        assert np.array_equal(feats[utt], expected)
    both = np.concatenate([feats["s1-a"], feats["s1-b"]])[:, :13]
    assert np.abs(both.mean(axis=0)).max() < 1e-3
    assert (
        gmm_features(data, mfcc_dir, deltas=False, cmvn=False)["s2-a"].shape[1]
        == 13
    )
    assert make_feats(data, kind="mfcc", out_dir=mfcc_dir, progress=False)[
        "cached"
    ]


def test_cli_prints_the_summary(tmp_path, capsys):
    data = _data_dir(tmp_path, [("a-1", 0.5, 8000)])
    assert cli_main(["make-feats", str(data), "--jobs", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["utterances"] == 1 and summary["kind"] == "fbank"
    assert cli_main(["make-feats", str(data), "--kind", "mfcc"]) == 1
    assert "needs an out_dir" in capsys.readouterr().err
    out = tmp_path / "mfcc"
    assert (
        cli_main(
            [
                "make-feats",
                str(data),
                "--kind",
                "mfcc",
                "--out-dir",
                str(out),
                "--sample-rate",
                "16000",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["feat_dim"] == 13 and summary["sample_rate"] == 16000
    assert summary["audio"] == "1 of 1 recordings resampled 8000 -> 16000 Hz"


# ---------------------------------------------------------------------------
# NIST SPHERE: s5c's "sph2pipe -f wav -p -c N file.sph |" without sph2pipe
# ---------------------------------------------------------------------------


def _sphere_dir(root, subtype):
    """Two two-channel SPHERE recordings, wav.scp lines as s5c writes them
    (channel 1 = side A, channel 2 = side B), and segments on both sides."""
    root.mkdir(parents=True)
    sides = {}
    lines = []
    for index, rec in enumerate(("sw02001", "sw02005")):
        a, b = _wave(2.0, 8000, 2 * index), _wave(2.0, 8000, 2 * index + 1)
        path = root / f"{rec}.sph"
        soundfile.write(
            path, np.stack([a, b], 1), 8000, format="NIST", subtype=subtype
        )
        sides[f"{rec}-A"], sides[f"{rec}-B"] = a, b
        for side, channel in (("A", 1), ("B", 2)):
            lines.append(
                f"{rec}-{side} sph2pipe -f wav -p -c {channel} {path} |\n"
            )
    (root / "wav.scp").write_text("".join(lines))
    (root / "segments").write_text(
        "sw02001-A_000000-000100 sw02001-A 0.00 1.00\n"
        "sw02001-B_000050-000200 sw02001-B 0.50 2.00\n"
        "sw02005-A_000000-000200 sw02005-A 0.00 -1\n"
    )
    (root / "utt2spk").write_text(
        "sw02001-A_000000-000100 2001-A\n"
        "sw02001-B_000050-000200 2001-B\n"
        "sw02005-A_000000-000200 2005-A\n"
    )
    return root, sides


@pytest.mark.skipif(
    shutil.which("sph2pipe") is not None,
    reason="sph2pipe is installed: the pipe runs instead",
)
@pytest.mark.parametrize("subtype", ["PCM_16", "ULAW"])
def test_sph2pipe_lines_read_in_process(tmp_path, subtype):
    data, sides = _sphere_dir(tmp_path / "d", subtype)
    got = {u: x for u, x, _ in iter_audio(data)}
    cuts = {
        "sw02001-A_000000-000100": sides["sw02001-A"][:8000],
        "sw02001-B_000050-000200": sides["sw02001-B"][4000:16000],
        "sw02005-A_000000-000200": sides["sw02005-A"],
    }
    assert list(got) == list(cuts)
    for utt, want in cuts.items():
        want = want.astype(np.float32)
        if subtype == "PCM_16":
            assert np.array_equal(got[utt], want), utt
        else:  # G.711 mu-law: 8 bits, error within ~1/32 of the value
            err = np.abs(got[utt] - want)
            assert np.all(err <= np.abs(want) / 32 + 16), utt
            assert np.corrcoef(got[utt], want)[0, 1] > 0.999
    # make-feats through the same lines: fbank of the channel's samples
    make_feats(data, progress=False)
    feats = _feats(data)
    assert np.array_equal(
        feats["sw02001-A_000000-000100"],
        fbank(got["sw02001-A_000000-000100"], 8000),
    )


def test_shorten_sphere_names_sph2pipe(tmp_path):
    """LDC's shorten-compressed SPHERE cannot be read in-process: the
    error names the line, the file and sph2pipe."""
    header = (
        b"NIST_1A\n   1024\nsample_count -i 16\nsample_n_bytes -i 1\n"
        b"channel_count -i 2\nsample_byte_format -s1 1\n"
        b"sample_rate -i 8000\n"
        b"sample_coding -s26 ulaw,embedded-shorten-v2.00\nend_head\n"
    )
    path = tmp_path / "sw02001.sph"
    path.write_bytes(header.ljust(1024, b" ") + b"\x00" * 32)
    (tmp_path / "wav.scp").write_text(
        f"sw02001-A sph2pipe -f wav -p -c 1 {path} |\n"
    )
    (tmp_path / "utt2spk").write_text("sw02001-A 2001-A\n")
    if shutil.which("sph2pipe") is None:
        with pytest.raises(
            ValueError,
            match=r"wav\.scp: line 1.*sw02001\.sph is shorten-compressed.*"
            r"sph2pipe",
        ):
            list(iter_audio(tmp_path))
    # as a plain path in wav.scp: the error says to use a sph2pipe pipe
    (tmp_path / "wav.scp").write_text(f"sw02001-A {path}\n")
    with pytest.raises(
        ValueError, match=r"shorten-compressed.*sph2pipe -f wav"
    ):
        list(iter_audio(tmp_path))
    # a sph2pipe line with a channel SPHERE files do not have
    (tmp_path / "wav.scp").write_text(
        f"sw02001-A sph2pipe -f wav -p -c 3 {path} |\n"
    )
    if shutil.which("sph2pipe") is None:
        with pytest.raises(
            ValueError, match=r"line 1: .*-c 3 \(channel 1 or 2\)"
        ):
            list(iter_audio(tmp_path))
