"""All frames of one data split in one contiguous array.

A :class:`FrameStore` holds the features of every utterance of a split
back to back (``[num_frames, feat_dim]``), the utterance offsets and,
for training and dev data, one senone (pdf) label per frame. Context
windows are gathered from it on the fly, inside each utterance, so no
spliced copy of the corpus is ever made. The store can live on the GPU.

A :class:`FrameStoreWriter` builds a store on disk one utterance at a
time (constant memory), so a corpus that does not fit in RAM can be
memory-mapped afterwards. Stores are written into a temporary folder
that is renamed when complete: nothing half-written is left behind.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import json
import os

import numpy as np
import torch

from sb_rectifier.files import (
    WriteError,
    atomic_folder,
    write_json,
    write_text,
)
from sb_rectifier.lobes.context_splice import context_indices

FORMAT_VERSION = 1


class FrameStore:
    """Frames, labels and utterance offsets of one data split.

    Arguments
    ---------
    feats : torch.Tensor
        Features of all utterances, ``[num_frames, feat_dim]``, float32.
    offsets : torch.Tensor
        Utterance ``u`` owns frames ``offsets[u]:offsets[u + 1]``
        (int64, ``[num_utts + 1]``, starting at 0).
    utt_ids : list of str
        Utterance ids, in store order.
    labels : torch.Tensor, optional
        One pdf id per frame (int64, ``[num_frames]``).

    Example
    -------
    >>> feats = torch.arange(10.0).unsqueeze(1)  # two utterances: 4 + 6
    >>> store = FrameStore(feats, torch.tensor([0, 4, 10]), ["a", "b"])
    >>> store.gather(torch.tensor([0, 4]), left=1, right=1).squeeze(-1)
    tensor([[0., 0., 1.],
            [4., 4., 5.]])
    """

    def __init__(self, feats, offsets, utt_ids, labels=None):
        offsets = torch.as_tensor(offsets, dtype=torch.long)
        if feats.dim() != 2:
            raise ValueError(
                f"FrameStore needs 2-D features, got {tuple(feats.shape)}"
            )
        if offsets[0] != 0 or offsets[-1] != feats.shape[0]:
            raise ValueError(
                "FrameStore offsets must start at 0 and end at num_frames "
                f"({feats.shape[0]}), got {offsets[0]}..{offsets[-1]}"
            )
        if len(utt_ids) != len(offsets) - 1:
            raise ValueError(
                f"FrameStore has {len(utt_ids)} utterance ids but "
                f"{len(offsets) - 1} offset ranges"
            )
        if labels is not None and labels.shape[0] != feats.shape[0]:
            raise ValueError(
                f"FrameStore has {feats.shape[0]} frames but "
                f"{labels.shape[0]} labels"
            )
        self.feats = feats
        self.offsets = offsets.to(feats.device)
        self.utt_ids = list(utt_ids)
        self.labels = labels
        lengths = self.offsets[1:] - self.offsets[:-1]
        self.utt_index = torch.repeat_interleave(
            torch.arange(len(self.utt_ids), device=feats.device),
            lengths,
        ).to(torch.int32)

    @property
    def num_frames(self):
        """Number of frames in the store."""
        return self.feats.shape[0]

    @property
    def num_utts(self):
        """Number of utterances in the store."""
        return len(self.utt_ids)

    @property
    def feat_dim(self):
        """Feature dimension."""
        return self.feats.shape[1]

    @property
    def device(self):
        """Device holding the frames."""
        return self.feats.device

    @property
    def lengths(self):
        """Frames per utterance (int64 tensor)."""
        return self.offsets[1:] - self.offsets[:-1]

    def to(self, device):
        """Returns the store with every tensor on ``device``.

        Arguments
        ---------
        device : str or torch.device
            Target device.

        Returns
        -------
        FrameStore
            ``self`` if already there, else a moved copy.
        """
        device = torch.device(device)
        if self.feats.device == device:
            return self
        labels = None if self.labels is None else self.labels.to(device)
        return FrameStore(
            self.feats.to(device), self.offsets, self.utt_ids, labels
        )

    def gather(self, frame_idx, left, right):
        """Context windows of the given frames, inside their utterances.

        Arguments
        ---------
        frame_idx : torch.Tensor
            Frame positions (int64, ``[batch]``).
        left : int
            Frames of left context.
        right : int
            Frames of right context.

        Returns
        -------
        torch.Tensor
            ``[batch, left + 1 + right, feat_dim]``, edges replicated.
        """
        utt = self.utt_index[frame_idx].long()
        positions = context_indices(
            frame_idx, self.offsets[utt], self.offsets[utt + 1], left, right
        )
        return self.feats[positions]

    def utterance(self, index):
        """Features and labels of one utterance.

        Arguments
        ---------
        index : int
            Utterance position in the store.

        Returns
        -------
        tuple
            ``(feats [T, F], labels [T] or None)``.
        """
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        labels = None if self.labels is None else self.labels[start:end]
        return self.feats[start:end], labels

    @classmethod
    def load(cls, folder, mmap=False):
        """Loads a store written by :class:`FrameStoreWriter`.

        Arguments
        ---------
        folder : str
            Store folder.
        mmap : bool
            Memory-map the features instead of reading them into RAM.

        Returns
        -------
        FrameStore
            The store, on the CPU.
        """
        meta = read_store_meta(folder)
        shape = (meta["num_frames"], meta["feat_dim"])
        feats_path = os.path.join(folder, "feats.f32")
        if mmap:
            # Copy-on-write: torch gets a writable view, the file is safe.
            array = np.memmap(feats_path, np.float32, mode="c", shape=shape)
        else:
            array = np.fromfile(feats_path, np.float32).reshape(shape)
        offsets = np.load(os.path.join(folder, "offsets.npy"))
        with open(os.path.join(folder, "utt_ids.txt"), encoding="utf-8") as fin:
            utt_ids = fin.read().split()
        labels = None
        if meta["has_labels"]:
            labels = torch.from_numpy(
                np.load(os.path.join(folder, "labels.npy")).astype(np.int64)
            )
        return cls(torch.from_numpy(array), offsets, utt_ids, labels)


def read_store_meta(folder):
    """Reads ``meta.json`` of a store folder.

    Arguments
    ---------
    folder : str
        Store folder.

    Returns
    -------
    dict
        The metadata, or raises ``FileNotFoundError`` naming the file.
    """
    path = os.path.join(folder, "meta.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: frame store metadata not found")
    with open(path, encoding="utf-8") as fin:
        return json.load(fin)


class FrameStoreWriter:
    """Writes a :class:`FrameStore` to disk one utterance at a time.

    The store is built in a temporary sibling folder and renamed to
    ``folder`` by :meth:`close`; on error (or when used as a context
    manager and an exception escapes) the temporary folder is removed.

    Arguments
    ---------
    folder : str
        Final store folder (replaced if it exists).
    with_labels : bool
        Whether every utterance comes with per-frame labels.
    extra_meta : dict, optional
        Added to ``meta.json`` (for example a fingerprint of the sources).

    Example
    -------
    >>> folder = getfixture("tmpdir").join("store").strpath
    >>> with FrameStoreWriter(folder, with_labels=True) as writer:
    ...     writer.add("utt1", np.ones((3, 2)), np.array([0, 1, 1]))
    ...     writer.add("utt2", np.zeros((2, 2)), np.array([2, 2]))
    >>> store = FrameStore.load(folder)
    >>> store.num_frames, store.num_utts, store.labels.tolist()
    (5, 2, [0, 1, 1, 2, 2])
    """

    def __init__(self, folder, with_labels, extra_meta=None):
        self.folder = os.path.abspath(folder)
        # Filled under a temporary name, renamed into place by close().
        self._building = atomic_folder(self.folder, replace=True)
        self.tmp = self._building.__enter__()
        self.with_labels = with_labels
        self.extra_meta = dict(extra_meta or {})
        self._feats = open(os.path.join(self.tmp, "feats.f32"), "wb")
        self._labels = []
        self._offsets = [0]
        self._utt_ids = []
        self._seen = set()
        self.feat_dim = None

    def add(self, utt_id, feats, labels=None):
        """Appends one utterance.

        Arguments
        ---------
        utt_id : str
            Utterance id (unique in the store).
        feats : numpy.ndarray
            ``[T, F]`` features.
        labels : numpy.ndarray, optional
            ``[T]`` pdf ids (required iff ``with_labels``).
        """
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        if feats.ndim != 2 or feats.shape[0] == 0:
            raise ValueError(
                f"utterance '{utt_id}': expected a non-empty [T, F] "
                f"feature matrix, got shape {feats.shape}"
            )
        if self.feat_dim is None:
            self.feat_dim = feats.shape[1]
        elif feats.shape[1] != self.feat_dim:
            raise ValueError(
                f"utterance '{utt_id}': feature dim {feats.shape[1]} "
                f"differs from the store's {self.feat_dim}"
            )
        if utt_id in self._seen:
            raise ValueError(f"utterance '{utt_id}' added twice")
        if self.with_labels != (labels is not None):
            raise ValueError(
                f"utterance '{utt_id}': labels "
                + ("missing" if self.with_labels else "given")
                + " for a store "
                + ("with" if self.with_labels else "without")
                + " labels"
            )
        if labels is not None:
            if len(labels) != feats.shape[0]:
                raise ValueError(
                    f"utterance '{utt_id}': {feats.shape[0]} frames but "
                    f"{len(labels)} labels"
                )
            self._labels.append(np.asarray(labels, dtype=np.int32))
        try:
            self._feats.write(feats.tobytes())
        except OSError as err:
            raise self._failed(err) from None
        self._seen.add(utt_id)
        self._utt_ids.append(utt_id)
        self._offsets.append(self._offsets[-1] + feats.shape[0])

    def close(self):
        """Finalises the store and moves it into place.

        On any error (a full disk included) the temporary folder is
        removed and the error names the store folder.

        Returns
        -------
        str
            The store folder.
        """
        try:
            return self._close()
        except OSError as err:
            raise self._failed(err) from None
        except BaseException:
            self.abort()
            raise

    def _close(self):
        self._feats.close()
        if not self._utt_ids:
            raise ValueError(f"{self.folder}: no utterance to store")
        np.save(
            os.path.join(self.tmp, "offsets.npy"),
            np.asarray(self._offsets, dtype=np.int64),
        )
        if self.with_labels:
            np.save(
                os.path.join(self.tmp, "labels.npy"),
                np.concatenate(self._labels),
            )
        write_text(
            os.path.join(self.tmp, "utt_ids.txt"),
            "\n".join(self._utt_ids) + "\n",
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "num_frames": self._offsets[-1],
            "num_utts": len(self._utt_ids),
            "feat_dim": self.feat_dim,
            "has_labels": self.with_labels,
            **self.extra_meta,
        }
        write_json(os.path.join(self.tmp, "meta.json"), meta, sort_keys=True)
        building, self._building = self._building, None
        building.__exit__(None, None, None)
        return self.folder

    def _failed(self, err):
        """Removes the temporary folder; the error to raise, naming the store."""
        self.abort()
        reason = err.strerror or str(err)
        return WriteError(
            err.errno, f"{self.folder}: cannot write the frame store: {reason}"
        )

    def abort(self):
        """Removes the temporary folder; nothing is left behind."""
        if not self._feats.closed:
            try:
                self._feats.close()
            except OSError:
                pass  # a full disk fails the final flush too
        if self._building is not None:
            building, self._building = self._building, None
            with contextlib.suppress(RuntimeError):
                building.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
