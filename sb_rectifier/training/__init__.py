"""Training of hybrid DNN-HMM acoustic models inside SpeechBrain."""

from sb_rectifier.training.checkpoints import SafeCheckpointer
from sb_rectifier.training.hybrid_brain import HybridBrain
from sb_rectifier.training.metrics_log import EpochMetricsLogger

__all__ = ["EpochMetricsLogger", "HybridBrain", "SafeCheckpointer"]
