"""Frame-level data for hybrid training: stores, samplers, Kaldi assembly."""

from sb_rectifier.data.frame_dataset import FrameBatch, FrameDataset
from sb_rectifier.data.frame_store import FrameStore, FrameStoreWriter
from sb_rectifier.data.kaldi_frames import FrameCache
from sb_rectifier.data.samplers import FrameShuffleSampler, UtteranceSampler

__all__ = [
    "FrameCache",
    "FrameBatch",
    "FrameDataset",
    "FrameShuffleSampler",
    "FrameStore",
    "FrameStoreWriter",
    "UtteranceSampler",
]
