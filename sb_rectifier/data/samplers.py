"""Samplers over a :class:`~sb_rectifier.data.frame_store.FrameStore`.

Each item a sampler yields is one whole minibatch, handed by a
``DataLoader(batch_size=None)`` to :class:`FrameDataset`:

* :class:`FrameShuffleSampler` (training): a global frame-level shuffle
  of the whole split each epoch, seeded and reproducible, cut into
  minibatches of frame positions. SpeechBrain's ``SaveableDataLoader``
  stores how many minibatches an epoch has yielded, and on recovery
  fast-forwards this sampler, so an interrupted epoch resumes where it
  stopped. Under DDP, SpeechBrain's ``DistributedSamplerWrapper`` deals
  the minibatches out to the ranks and forwards ``set_epoch``.
* :class:`UtteranceSampler` (dev and test): whole utterances in store
  order, grouped up to a frame budget.

Authors
 * sb_rectifier developers 2026
"""

import bisect
import itertools

import torch


class FrameShuffleSampler(torch.utils.data.Sampler):
    """Minibatches of frame positions, shuffled over the whole split.

    Arguments
    ---------
    num_frames : int
        Number of frames in the store.
    batch_size : int
        Frames per minibatch.
    seed : int
        Base seed; epoch ``e`` uses the permutation seeded by
        ``seed + e``, so every epoch differs and every run repeats.
    drop_last : bool
        Drop the final, smaller minibatch.
    device : str or torch.device
        Where the frame positions are put (the store's device), once
        per epoch, so no host-to-device copy happens per minibatch.

    Example
    -------
    >>> sampler = FrameShuffleSampler(10, batch_size=4, seed=0)
    >>> sampler.set_epoch(1)
    >>> [len(b) for b in sampler]
    [4, 4, 2]
    >>> sorted(torch.cat(list(sampler)).tolist()) == list(range(10))
    True
    """

    def __init__(
        self, num_frames, batch_size, seed=0, drop_last=False, device="cpu"
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.num_frames = int(num_frames)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.drop_last = drop_last
        self.device = torch.device(device)
        self.epoch = 0
        self._perm = None
        self._perm_epoch = None

    def set_epoch(self, epoch):
        """Selects the permutation of this epoch.

        Arguments
        ---------
        epoch : int
            Epoch number (SpeechBrain counts from 1).
        """
        self.epoch = int(epoch)

    def permutation(self):
        """The frame order of the current epoch (cached).

        Returns
        -------
        torch.Tensor
            A permutation of ``range(num_frames)`` on ``device``.
        """
        if self._perm_epoch != self.epoch:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            self._perm = torch.randperm(
                self.num_frames, generator=generator
            ).to(self.device)
            self._perm_epoch = self.epoch
        return self._perm

    def __iter__(self):
        perm = self.permutation()
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield perm[start : start + self.batch_size]

    def __len__(self):
        if self.drop_last:
            return self.num_frames // self.batch_size
        return -(-self.num_frames // self.batch_size)


class UtteranceSampler(torch.utils.data.Sampler):
    """Whole utterances in order, grouped up to ``max_frames`` frames.

    Yields ``slice(first_utt, end_utt)`` objects; a group always holds at
    least one utterance, however long. With ``num_replicas > 1`` (DDP
    evaluation) the utterances are cut into ``num_replicas`` contiguous
    blocks of about equal frames and this sampler yields the groups of
    block ``rank`` only: every utterance is evaluated by exactly one
    process.

    Arguments
    ---------
    lengths : sequence of int
        Frames per utterance, in store order.
    max_frames : int
        Frame budget of one group.
    rank : int
        This process' block.
    num_replicas : int
        Number of processes.

    Example
    -------
    >>> list(UtteranceSampler([3, 3, 5, 1], max_frames=6))
    [slice(0, 2, None), slice(2, 4, None)]
    >>> [list(UtteranceSampler([3, 3, 5, 1], 6, r, 2)) for r in (0, 1)]
    [[slice(0, 2, None)], [slice(2, 4, None)]]
    """

    def __init__(self, lengths, max_frames, rank=0, num_replicas=1):
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        lengths = [int(n) for n in lengths]
        if num_replicas > len(lengths):
            raise ValueError(
                f"{len(lengths)} utterance(s) cannot be shared by "
                f"{num_replicas} processes: use fewer processes"
            )
        start, end = _block(lengths, rank, num_replicas)
        self.groups = []
        total = 0
        for i in range(start, end):
            n = lengths[i]
            if total and total + n > max_frames:
                self.groups.append(slice(start, i))
                start, total = i, 0
            total += n
        if end > start:
            self.groups.append(slice(start, end))

    def __iter__(self):
        return iter(self.groups)

    def __len__(self):
        return len(self.groups)


def _block(lengths, rank, num_replicas):
    """Utterances ``[start, end)`` of block ``rank`` of ``num_replicas``
    contiguous blocks with about equal frames, none empty."""
    n = len(lengths)
    if num_replicas == 1:
        return 0, n
    cumulative = list(itertools.accumulate(lengths))
    total = cumulative[-1]
    cuts = [0]
    for k in range(1, num_replicas):
        cut = bisect.bisect_left(cumulative, total * k / num_replicas) + 1
        # Keep every block non-empty.
        cuts.append(min(max(cut, cuts[-1] + 1), n - (num_replicas - k)))
    cuts.append(n)
    return cuts[rank], cuts[rank + 1]
