"""Pretrained hybrid models: loading, transcription, alignment, export.

* :mod:`.hybrid_asr`: :class:`HybridASR`, SpeechBrain's ``Pretrained``
  interface of an exported model (self-contained: it is also the hub
  folder's ``custom_interface.py``);
* :mod:`.export`: a finished experiment -> a hub folder;
* :mod:`.model_card`: the folder's ``README.md``;
* :mod:`.hub`: uploading a folder to the HuggingFace hub.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.inference.hybrid_asr import Alignment, HybridASR

__all__ = ["Alignment", "HybridASR"]
