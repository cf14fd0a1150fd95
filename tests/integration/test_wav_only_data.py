"""train.py on data directories that have audio but no features: the 40-dim
fbank + CMVN are computed from wav.scp (equal, bit for bit, to the ones
the embedded corpus wrote), then a short training run uses them."""

import json
import shutil

import kaldiio
import numpy as np
import pytest
from train_runner import run_train

from sb_rectifier.corpus.make_corpus import SPLITS, CorpusConfig, make_corpus
from sb_rectifier.features import make_feats

REMOVED = ("feats.scp", "cmvn.scp", "utt2num_frames")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """A tiny embedded corpus, and a copy of it without features."""
    root = tmp_path_factory.mktemp("wav_only")
    original = root / "corpus"
    make_corpus(
        str(original), CorpusConfig(hours=0.01, seed=3), num_workers=1,
        progress=False,
    )  # fmt: skip
    copy = root / "wav_only"
    shutil.copytree(original / "data", copy / "data")
    shutil.copytree(original / "exp", copy / "exp")
    for split in SPLITS:
        for name in REMOVED:
            (copy / "data" / split / name).unlink()
    return root, original, copy


def _matrices(scp):
    return {u: np.array(m) for u, m in kaldiio.load_scp(str(scp)).items()}


def test_features_from_wav_equal_the_corpus_features(corpora, tmp_path):
    _, original, copy = corpora
    work = tmp_path / "data"
    shutil.copytree(copy / "data" / "dev", work)
    summary = make_feats(work, progress=False, num_jobs=2)
    assert summary["sample_rate"] == 8000 and summary["resampled"] == {}
    for name in REMOVED:
        assert (work / name).is_file(), name
    for table in ("feats.scp", "cmvn.scp"):
        ours = _matrices(work / table)
        theirs = _matrices(original / "data" / "dev" / table)
        assert list(ours) == list(theirs), table
        for key in theirs:
            assert ours[key].dtype == theirs[key].dtype
            assert np.array_equal(ours[key], theirs[key]), (table, key)
    assert (work / "utt2num_frames").read_bytes() == (
        original / "data" / "dev" / "utt2num_frames"
    ).read_bytes()


def test_train_computes_missing_features(corpora):
    root, original, copy = corpora
    summary, out = run_train(
        root, "relu", copy, ["--number_of_epochs", "1", "--decode", "False"]
    )
    for split in SPLITS:
        data = copy / "data" / split
        for name in REMOVED:
            assert (data / name).is_file(), (split, name)
        ours = _matrices(data / "feats.scp")
        theirs = _matrices(original / "data" / split / "feats.scp")
        assert list(ours) == list(theirs)
        assert all(np.array_equal(ours[u], theirs[u]) for u in theirs)
        record = json.loads((data / "make_feats_fbank.json").read_text())
        assert record["options"]["sample_rate"] == 8000
    log = (out / "log.txt").read_text()
    assert "train: fbank features computed from" in log
    assert "Computing fbank features of" in log and ": no feats.scp in" in log
    assert summary["dev_ce"] > 0 and np.isfinite(summary["dev_ce"])

    # A second run reuses them.
    run_train(
        root,
        "relu",
        copy,
        ["--number_of_epochs", "1", "--decode", "False", "--stages", "[data]"],
    )
    log = (out / "log.txt").read_text()
    assert "dev: fbank features reused from" in log
