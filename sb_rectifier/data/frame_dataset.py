"""Minibatches of context windows gathered from a frame store.

Authors
 * sb_rectifier developers 2026
"""

from dataclasses import dataclass

import torch

from sb_rectifier.data.samplers import FrameShuffleSampler, UtteranceSampler


@dataclass
class FrameBatch:
    """One minibatch for a frame-level acoustic model.

    Arguments
    ---------
    feats : torch.Tensor
        ``[batch, window, feat_dim]`` context windows.
    targets : torch.Tensor or None
        ``[batch]`` pdf ids (None for data without alignments).
    utt_ids : list of str or None
        For utterance batches: the utterances, in order.
    lengths : torch.Tensor or None
        For utterance batches: frames per utterance.
    """

    feats: torch.Tensor
    targets: torch.Tensor = None
    utt_ids: list = None
    lengths: torch.Tensor = None

    def to(self, device, non_blocking=True):
        """Moves the tensors to ``device``.

        Arguments
        ---------
        device : str or torch.device
            Target device.
        non_blocking : bool
            Passed to ``Tensor.to``.

        Returns
        -------
        FrameBatch
            ``self`` (moved in place).
        """
        self.feats = self.feats.to(device, non_blocking=non_blocking)
        if self.targets is not None:
            self.targets = self.targets.to(device, non_blocking=non_blocking)
        return self

    def __len__(self):
        return self.feats.shape[0]


def _identity(batch):
    """Collate function for ``batch_size=None`` loaders (no-op)."""
    return batch


class FrameDataset(torch.utils.data.Dataset):
    """Map-style view of a frame store, indexed by whole minibatches.

    ``dataset[frame_positions]`` gathers the context windows of those
    frames; ``dataset[slice(u0, u1)]`` gives utterances ``u0..u1-1`` in
    order. Samplers from :mod:`sb_rectifier.data.samplers` yield exactly
    these keys; build loaders with :meth:`train_loader_kwargs` and
    :meth:`eval_loader_kwargs` (``HybridBrain`` does it for you).

    Arguments
    ---------
    store : FrameStore
        The frames (on any device).
    left : int
        Left context frames.
    right : int
        Right context frames.

    Example
    -------
    >>> from sb_rectifier.data.frame_store import FrameStore
    >>> store = FrameStore(
    ...     torch.randn(7, 3), [0, 3, 7], ["a", "b"], torch.arange(7)
    ... )
    >>> data = FrameDataset(store, left=2, right=2)
    >>> batch = data[torch.tensor([0, 6])]
    >>> batch.feats.shape, batch.targets.tolist()
    (torch.Size([2, 5, 3]), [0, 6])
    >>> data[slice(0, 2)].utt_ids
    ['a', 'b']
    """

    def __init__(self, store, left, right):
        self.store = store
        self.left = int(left)
        self.right = int(right)

    @property
    def window(self):
        """Frames per context window."""
        return self.left + 1 + self.right

    @property
    def input_size(self):
        """Flattened model input size: window x feature dim."""
        return self.window * self.store.feat_dim

    def __len__(self):
        return self.store.num_frames

    def __getitem__(self, key):
        store = self.store
        if isinstance(key, slice):
            start = int(store.offsets[key.start])
            end = int(store.offsets[key.stop])
            frames = torch.arange(start, end, device=store.device)
            batch = self._gather(frames)
            batch.utt_ids = store.utt_ids[key]
            batch.lengths = store.lengths[key]
            return batch
        return self._gather(key)

    def _gather(self, frames):
        store = self.store
        frames = frames.to(store.device)
        feats = store.gather(frames, self.left, self.right)
        targets = None if store.labels is None else store.labels[frames]
        return FrameBatch(feats, targets)

    def train_loader_kwargs(self, batch_size, seed, drop_last=False):
        """DataLoader arguments for shuffled frame minibatches.

        Arguments
        ---------
        batch_size : int
            Frames per minibatch.
        seed : int
            Shuffling seed.
        drop_last : bool
            Drop the final, smaller minibatch.

        Returns
        -------
        dict
            ``sampler``, ``batch_size=None`` and ``collate_fn``.
        """
        sampler = FrameShuffleSampler(
            len(self), batch_size, seed, drop_last, self.store.device
        )
        return {"sampler": sampler, "batch_size": None, "collate_fn": _identity}

    def eval_loader_kwargs(self, max_frames, rank=0, num_replicas=1):
        """DataLoader arguments for whole utterances in order.

        Arguments
        ---------
        max_frames : int
            Frame budget of one minibatch.
        rank : int
            This process' share of the utterances (DDP evaluation).
        num_replicas : int
            Number of processes sharing the utterances.

        Returns
        -------
        dict
            ``sampler``, ``batch_size=None`` and ``collate_fn``.
        """
        sampler = UtteranceSampler(
            self.store.lengths.tolist(), max_frames, rank, num_replicas
        )
        return {"sampler": sampler, "batch_size": None, "collate_fn": _identity}
