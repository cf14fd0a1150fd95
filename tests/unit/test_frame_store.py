"""Frame store, samplers and frame dataset."""

import os

import numpy as np
import pytest
import torch

from sb_rectifier.data import (
    FrameDataset,
    FrameShuffleSampler,
    FrameStore,
    FrameStoreWriter,
    UtteranceSampler,
)


def _write_store(folder, lengths, feat_dim=3, seed=0):
    rng = np.random.default_rng(seed)
    utts = {}
    with FrameStoreWriter(folder, with_labels=True) as writer:
        for i, n in enumerate(lengths):
            feats = rng.normal(size=(n, feat_dim)).astype(np.float32)
            labels = rng.integers(0, 7, size=n)
            writer.add(f"u{i}", feats, labels)
            utts[f"u{i}"] = (feats, labels)
    return utts


@pytest.mark.parametrize("mmap", [False, True])
def test_store_round_trip(tmp_path, mmap):
    utts = _write_store(str(tmp_path / "s"), [5, 1, 9])
    store = FrameStore.load(str(tmp_path / "s"), mmap=mmap)
    assert (
        store.num_frames == 15 and store.num_utts == 3 and store.feat_dim == 3
    )
    assert store.utt_ids == ["u0", "u1", "u2"]
    for i, (feats, labels) in enumerate(utts.values()):
        got_feats, got_labels = store.utterance(i)
        np.testing.assert_array_equal(got_feats.numpy(), feats)
        np.testing.assert_array_equal(got_labels.numpy(), labels)


def test_gather_stays_inside_utterances(tmp_path):
    # Utterance u has frames valued 100*u + t: any leak is visible.
    lengths = [4, 1, 6]
    feats = torch.cat(
        [
            100.0 * u + torch.arange(n, dtype=torch.float32)
            for u, n in enumerate(lengths)
        ]
    ).unsqueeze(1)
    store = FrameStore(feats, [0, 4, 5, 11], ["a", "b", "c"])
    windows = store.gather(torch.arange(11), left=2, right=2).squeeze(-1)
    for frame, window in enumerate(windows.tolist()):
        utt = int(store.utt_index[frame])
        start = int(store.offsets[utt])
        end = int(store.offsets[utt + 1])
        t = frame - start
        expected = [
            100.0 * utt + min(max(t + k, 0), end - start - 1)
            for k in range(-2, 3)
        ]
        assert window == expected


def test_writer_leaves_nothing_behind_on_error(tmp_path):
    folder = str(tmp_path / "s")
    with pytest.raises(ValueError, match="utterance 'b': feature dim 4"):
        with FrameStoreWriter(folder, with_labels=False) as writer:
            writer.add("a", np.zeros((2, 3)))
            writer.add("b", np.zeros((2, 4)))
    assert os.listdir(tmp_path) == []


def test_writer_rejects_label_count_and_duplicates(tmp_path):
    writer = FrameStoreWriter(str(tmp_path / "s"), with_labels=True)
    with pytest.raises(ValueError, match="'a': 3 frames but 2 labels"):
        writer.add("a", np.zeros((3, 2)), np.zeros(2))
    writer.add("a", np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="'a' added twice"):
        writer.add("a", np.zeros((3, 2)), np.zeros(3))
    writer.abort()
    assert os.listdir(tmp_path) == []


def test_shuffle_sampler_reproducible_and_epoch_dependent():
    a = FrameShuffleSampler(1000, 64, seed=3)
    b = FrameShuffleSampler(1000, 64, seed=3)
    a.set_epoch(1)
    b.set_epoch(1)
    first = torch.cat(list(a))
    assert torch.equal(first, torch.cat(list(b)))
    assert sorted(first.tolist()) == list(range(1000))
    # Global, not blockwise: frames from the whole split in the first batch.
    assert next(iter(a)).max() - next(iter(a)).min() > 500
    a.set_epoch(2)
    assert not torch.equal(first, torch.cat(list(a)))
    c = FrameShuffleSampler(1000, 64, seed=4)
    c.set_epoch(1)
    assert not torch.equal(first, torch.cat(list(c)))


def test_shuffle_sampler_lengths():
    assert len(FrameShuffleSampler(10, 4)) == 3
    assert len(FrameShuffleSampler(10, 4, drop_last=True)) == 2
    assert [len(b) for b in FrameShuffleSampler(10, 4, drop_last=True)] == [
        4,
        4,
    ]
    with pytest.raises(ValueError):
        FrameShuffleSampler(10, 0)


def test_utterance_sampler_groups_in_order():
    groups = list(UtteranceSampler([2, 2, 2, 10, 1], max_frames=5))
    assert groups == [slice(0, 2), slice(2, 3), slice(3, 4), slice(4, 5)]


def test_dataset_utterance_batches_cover_everything_in_order(tmp_path):
    _write_store(str(tmp_path / "s"), [5, 1, 9, 3])
    store = FrameStore.load(str(tmp_path / "s"))
    data = FrameDataset(store, left=1, right=1)
    kwargs = data.eval_loader_kwargs(max_frames=7)
    loader = torch.utils.data.DataLoader(data, **kwargs)
    utt_ids, targets = [], []
    for batch in loader:
        assert batch.feats.shape[1:] == (3, 3)
        assert int(batch.lengths.sum()) == len(batch)
        utt_ids += batch.utt_ids
        targets.append(batch.targets)
    assert utt_ids == store.utt_ids
    assert torch.equal(torch.cat(targets), store.labels)


def test_dataset_train_loader_gives_every_frame_once_per_epoch(tmp_path):
    _write_store(str(tmp_path / "s"), [5, 1, 9, 3])
    store = FrameStore.load(str(tmp_path / "s"))
    data = FrameDataset(store, left=2, right=0)
    kwargs = data.train_loader_kwargs(batch_size=4, seed=0)
    kwargs["sampler"].set_epoch(1)
    loader = torch.utils.data.DataLoader(data, **kwargs)
    batches = list(loader)
    assert [len(b) for b in batches] == [4, 4, 4, 4, 2]
    # The centre (last) frame of each window is the labelled frame.
    centre = torch.cat([b.feats[:, -1] for b in batches])
    order = torch.cat(list(kwargs["sampler"]))
    assert torch.equal(centre, store.feats[order])
    assert data.input_size == 9


def test_ddp_ranks_get_disjoint_minibatches_covering_the_epoch():
    """SpeechBrain's DDP wrapper deals our minibatches out to the ranks."""
    from speechbrain.dataio.sampler import DistributedSamplerWrapper

    base = FrameShuffleSampler(1000, 32, seed=5)
    per_rank = []
    for rank in range(2):
        wrapper = DistributedSamplerWrapper(
            base, num_replicas=2, rank=rank, shuffle=False
        )
        wrapper.set_epoch(3)
        assert base.epoch == 3  # forwarded to our sampler
        per_rank.append(torch.cat(list(wrapper)).tolist())
    assert not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == list(range(1000))
