"""Kaldi data directories and CMVN (Kaldi's ApplyCmvn / AccCmvnStats)."""

import kaldiio
import numpy as np
import pytest
from kaldi_fixture import make_kaldi_dataset

from sb_rectifier.kaldi.data_dir import (
    KaldiDataDir,
    apply_cmvn,
    compute_cmvn_stats,
)


def _kaldi_acc(mats):
    """AccCmvnStats frame by frame, as in Kaldi's C++ loop."""
    dim = mats[0].shape[1]
    stats = np.zeros((2, dim + 1))
    for mat in mats:
        for frame in np.asarray(mat, dtype=np.float32):
            for d in range(dim):
                stats[0, d] += float(frame[d])
                stats[1, d] += float(frame[d] * frame[d])  # float product
            stats[0, dim] += 1.0
    return stats


def test_compute_cmvn_stats_matches_kaldi_loop():
    rng = np.random.default_rng(0)
    mats = [
        (rng.normal(size=(n, 3)) * 10 ** rng.uniform(-3, 3, (n, 1))).astype(
            np.float32
        )
        for n in (50, 1, 17)
    ]
    stats = compute_cmvn_stats(mats)
    assert stats.dtype == np.float64 and stats.shape == (2, 4)
    np.testing.assert_array_equal(stats, _kaldi_acc(mats))
    assert stats[0, 3] == 68 and stats[1, 3] == 0


def test_apply_cmvn_mean_only_and_variance():
    feats = np.array([[1.0, 10.0], [3.0, 14.0], [5.0, 12.0]], np.float32)
    stats = compute_cmvn_stats([feats])
    out = apply_cmvn(feats, stats)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[-2, -2], [0, 2], [2, 0]], atol=1e-6)
    out = apply_cmvn(feats, stats, norm_vars=True)
    std = np.sqrt([8.0 / 3.0, 8.0 / 3.0])
    np.testing.assert_allclose(
        out, [[-2, -2], [0, 2], [2, 0]] / std, rtol=1e-6, atol=1e-6
    )
    # Stats of other data (a speaker): mean = (2, 11), var = (1, 4).
    spk = np.array([[6, 33, 3], [15, 375, 0]], dtype=np.float64)
    np.testing.assert_allclose(
        apply_cmvn(feats, spk, norm_vars=True),
        [[-1.0, -0.5], [1.0, 1.5], [3.0, 0.5]],
        rtol=1e-6,
    )
    assert not np.shares_memory(out, feats)


def test_apply_cmvn_is_kaldis_float_arithmetic():
    rng = np.random.default_rng(1)
    feats = rng.normal(3.0, 2.0, (40, 5)).astype(np.float32)
    stats = compute_cmvn_stats([feats[:25]])
    count = stats[0, 5]
    # Kaldi: offset(float) = float(-1/count) * sums; feats += offset (float).
    offset = (np.float64(np.float32(-1.0 / count)) * stats[0, :5]).astype(
        np.float32
    )
    np.testing.assert_array_equal(apply_cmvn(feats, stats), feats + offset)


def test_apply_cmvn_variance_floor_and_errors():
    feats = np.full((4, 1), 5.0, np.float32)
    out = apply_cmvn(feats, compute_cmvn_stats([feats]), norm_vars=True)
    assert np.all(np.isfinite(out)) and np.all(out == 0.0)
    with pytest.raises(ValueError, match="dim mismatch"):
        apply_cmvn(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="insufficient stats"):
        apply_cmvn(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no variance row"):
        apply_cmvn(np.zeros((2, 2)), np.array([[1.0, 1.0, 2.0]]), True)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_kaldi_dataset(
        tmp_path_factory.mktemp("kaldi"),
        utts_per_split={"train": 12, "dev": 3},
        seed=5,
    )


def test_reads_fixture_data_dir(dataset):
    data = KaldiDataDir(dataset["data"]["train"])
    assert len(data) == 12 and list(data) == data.utt_ids
    assert data.utt_ids == sorted(dataset["pdfs"]["train"])
    assert data.has_cmvn and not data.cmvn_per_utt and data.feat_dim == 13
    utt = data.utt_ids[0]
    assert utt in data and "nope" not in data
    assert data.utt2spk[utt] == utt.split("-")[0]
    assert data.text[utt].startswith("w")
    assert data.num_frames(utt) == len(dataset["pdfs"]["train"][utt])

    raw = KaldiDataDir(dataset["data"]["train"], apply_cmvn=False)
    spk = data.utt2spk[utt]
    mats = [raw.load_feats(u) for u in data.spk2utt[spk]]
    stats = compute_cmvn_stats(mats)
    np.testing.assert_array_equal(data.cmvn_stats(utt), stats)
    np.testing.assert_array_equal(
        data.load_feats(utt), apply_cmvn(raw.load_feats(utt), stats)
    )
    # After CMVN each speaker's frames have zero mean (the offset is gone).
    normed = np.concatenate([data.load_feats(u) for u in data.spk2utt[spk]])
    np.testing.assert_allclose(normed.mean(axis=0), 0.0, atol=1e-5)
    assert np.abs(np.concatenate(mats).mean(axis=0)).max() > 0.5
    var = KaldiDataDir(dataset["data"]["train"], norm_vars=True)
    normed = np.concatenate([var.load_feats(u) for u in var.spk2utt[spk]])
    np.testing.assert_allclose(normed.std(axis=0), 1.0, rtol=1e-4)


def _write_dir(folder, feats, utt2spk=None, cmvn=None, extra=None):
    folder.mkdir(parents=True, exist_ok=True)
    kaldiio.save_ark(
        str(folder / "feats.ark"), feats, scp=str(folder / "feats.scp")
    )
    if utt2spk is not None:
        (folder / "utt2spk").write_text(
            "".join(f"{u} {s}\n" for u, s in utt2spk.items())
        )
    if cmvn is not None:
        kaldiio.save_ark(
            str(folder / "cmvn.ark"), cmvn, scp=str(folder / "cmvn.scp")
        )
    for name, content in (extra or {}).items():
        (folder / name).write_text(content)
    return folder


def test_per_utterance_cmvn_and_no_utt2spk(tmp_path):
    feats = {
        "a": np.array([[1.0], [3.0]], np.float32),
        "b": np.array([[10.0], [20.0]], np.float32),
    }
    stats = {u: compute_cmvn_stats([m]) for u, m in feats.items()}
    folder = _write_dir(tmp_path / "d", feats, {"a": "s", "b": "s"}, stats)
    data = KaldiDataDir(folder)
    assert data.cmvn_per_utt
    assert data.load_feats("b").ravel().tolist() == [-5.0, 5.0]
    plain = _write_dir(tmp_path / "p", feats)
    data = KaldiDataDir(plain)
    assert not data.has_cmvn and data.utt2spk == {"a": "a", "b": "b"}
    assert data.text == {} and data.spk2utt == {"a": ["a"], "b": ["b"]}
    assert data.load_feats("a").ravel().tolist() == [1.0, 3.0]


def test_missing_files_and_inconsistent_maps(tmp_path):
    with pytest.raises(FileNotFoundError, match="data directory"):
        KaldiDataDir(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="feats.scp"):
        KaldiDataDir(tmp_path / "empty")
    feats = {"s1-a": np.ones((2, 1), np.float32)}
    stats = {"s1": compute_cmvn_stats(feats.values())}
    folder = _write_dir(tmp_path / "d", feats, cmvn=stats)
    with pytest.raises(FileNotFoundError, match="utt2spk.*cmvn.scp"):
        KaldiDataDir(folder)
    (folder / "utt2spk").write_text("other s1\n")
    with pytest.raises(ValueError) as err:
        KaldiDataDir(folder)
    assert "utterance 's1-a'" in str(err.value)
    assert "utt2spk" in str(err.value) and "feats.scp" in str(err.value)
    (folder / "utt2spk").write_text("s1-a s2\n")
    with pytest.raises(ValueError) as err:
        KaldiDataDir(folder)
    assert "speaker 's2'" in str(err.value) and "cmvn.scp" in str(err.value)
    assert "utt2spk" in str(err.value)
    (folder / "utt2spk").write_text("s1-a s1\ns1-a s1\n")
    with pytest.raises(ValueError, match=r"utt2spk: duplicate key 's1-a'"):
        KaldiDataDir(folder)
    (folder / "utt2spk").write_text("s1-a s1\n")
    (folder / "feats.scp").write_text((folder / "feats.scp").read_text() * 2)
    with pytest.raises(ValueError, match=r"feats\.scp: duplicate key 's1-a'"):
        KaldiDataDir(folder)


def test_bad_feature_matrices_name_utterance(tmp_path):
    bad = np.ones((3, 2), np.float32)
    bad[1, 0] = np.nan
    feats = {
        "u1": np.ones((3, 2), np.float32),
        "u2": bad,
        "u3": np.ones((3, 4), np.float32),
        "u4": np.ones(5, np.float32),
    }
    data = KaldiDataDir(_write_dir(tmp_path / "d", feats))
    assert data.load_feats("u1").shape == (3, 2)
    with pytest.raises(ValueError) as err:
        data.load_feats("u2")
    assert "utterance 'u2'" in str(err.value) and "feats.scp" in str(err.value)
    assert "NaN or Inf" in str(err.value) and "frame 1" in str(err.value)
    with pytest.raises(ValueError, match="'u3': feature dim 4 differs from 2"):
        data.load_feats("u3")
    with pytest.raises(ValueError, match="'u4': expected a float matrix"):
        data.load_feats("u4")
    with pytest.raises(KeyError, match="no utterance 'u9'"):
        data.load_feats("u9")


def test_utt2num_frames_is_used_and_checked(tmp_path):
    feats = {"u1": np.ones((3, 2), np.float32)}
    folder = _write_dir(
        tmp_path / "d", feats, extra={"utt2num_frames": "u1 4\n"}
    )
    data = KaldiDataDir(folder)
    assert data.num_frames("u1") == 4
    with pytest.raises(
        ValueError, match="3 frames but .*utt2num_frames says 4"
    ):
        data.load_feats("u1")


def test_text_is_parsed_like_kaldi(tmp_path):
    feats = {
        "u1": np.ones((1, 1), np.float32),
        "u2": np.ones((1, 1), np.float32),
    }
    folder = _write_dir(
        tmp_path / "d", feats, extra={"text": "u1   hello   big world \nu2\n"}
    )
    data = KaldiDataDir(folder)
    assert data.text == {"u1": "hello   big world", "u2": ""}
