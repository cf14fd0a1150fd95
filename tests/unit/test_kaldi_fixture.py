"""The synthetic Kaldi dataset used by the integration tests."""

import gzip
import os

import numpy as np
import pytest
from kaldi_fixture import make_kaldi_dataset

from sb_rectifier.kaldi import (
    KaldiDataDir,
    TransitionModel,
    load_alignment_dir,
    read_int_vectors,
)


@pytest.mark.parametrize(
    "binary_model, text_alignments",
    [(False, False), (True, False), (False, True), (True, True)],
)
def test_alignments_round_trip(tmp_path, binary_model, text_alignments):
    ds = make_kaldi_dataset(
        tmp_path,
        binary_model=binary_model,
        text_alignments=text_alignments,
        utts_per_split={"train": 10, "dev": 4},
        seed=11,
    )
    with open(ds["model"], "rb") as f:
        assert (f.read(2) == b"\0B") == binary_model
    # Binary or text archives, as asked.
    archive = os.path.join(ds["ali"]["dev"], "ali.1.gz")
    utt, _ = next(read_int_vectors(archive))
    with gzip.open(archive) as f:
        raw = f.read()
    assert raw.startswith(f"{utt} ".encode())
    is_binary = raw[len(utt) + 1 : len(utt) + 3] == b"\0B"
    assert is_binary != text_alignments
    for split in ("train", "dev"):
        loaded = load_alignment_dir(ds["ali"][split])
        assert sorted(loaded) == sorted(ds["pdfs"][split])
        for utt, pdfs in ds["pdfs"][split].items():
            assert pdfs.dtype == np.int32
            np.testing.assert_array_equal(loaded[utt], pdfs)


def test_structure_and_counts(tmp_path):
    ds = make_kaldi_dataset(tmp_path)
    assert ds["num_pdfs"] == 18  # 6 phones x 3 states
    model = TransitionModel.read(ds["model"])
    assert model.num_pdfs == 18 and model.num_phones == 6
    speakers = {}
    for split, n in {"train": 40, "dev": 10, "test": 10}.items():
        data = KaldiDataDir(ds["data"][split])
        assert len(data) == n == len(ds["pdfs"][split])
        speakers[split] = set(data.utt2spk.values())
        for utt in data.utt_ids:
            assert utt.startswith(data.utt2spk[utt] + "-")
            # Every frame has a label, and every pdf id is valid.
            assert data.num_frames(utt) == len(ds["pdfs"][split][utt])
            assert ds["pdfs"][split][utt].max() < ds["num_pdfs"]
        ali_dir = ds["ali"][split]
        assert sorted(os.listdir(ali_dir)) == [
            "ali.1.gz",
            "ali.2.gz",
            "final.mdl",
            "num_jobs",
        ]
    assert not speakers["train"] & speakers["dev"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["dev"] & speakers["test"]
    train = np.concatenate(list(ds["pdfs"]["train"].values()))
    assert set(np.unique(train)) == set(range(18))
    # Silence (pdfs 0-2) starts and ends every utterance.
    for pdfs in ds["pdfs"]["train"].values():
        assert pdfs[0] == 0 and pdfs[-1] == 2


def test_deterministic_and_learnable(tmp_path):
    a = make_kaldi_dataset(tmp_path / "a", seed=3, utts_per_split={"train": 8})
    b = make_kaldi_dataset(tmp_path / "b", seed=3, utts_per_split={"train": 8})
    for name in ("feats.ark", "cmvn.ark", "text", "utt2spk"):
        with open(os.path.join(a["data"]["train"], name), "rb") as fa:
            with open(os.path.join(b["data"]["train"], name), "rb") as fb:
                assert fa.read() == fb.read(), name
    data = KaldiDataDir(a["data"]["train"])
    feats = np.concatenate([data.load_feats(u) for u in data.utt_ids])
    labels = np.concatenate([a["pdfs"]["train"][u] for u in data.utt_ids])
    # Nearest class mean on CMVN'd features is far above chance.
    means = np.stack([feats[labels == k].mean(axis=0) for k in range(18)])
    dist = ((feats[:, None, :] - means[None]) ** 2).sum(axis=-1)
    accuracy = (dist.argmin(axis=1) == labels).mean()
    assert accuracy > 0.8
