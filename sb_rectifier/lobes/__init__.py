"""Neural network building blocks (lobes) of sb_rectifier.

* :class:`RectifierDNN`: the fully connected DNN acoustic model of
  Maas, Hannun & Ng (2013) with tanh, ReL or LReL hidden units.
* :class:`ContextSplice` and :func:`context_indices`: Kaldi-style context
  splicing with edge replication inside each utterance.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.lobes.context_splice import ContextSplice, context_indices
from sb_rectifier.lobes.rectifier_dnn import RectifierBlock, RectifierDNN

__all__ = ["ContextSplice", "RectifierBlock", "RectifierDNN", "context_indices"]
