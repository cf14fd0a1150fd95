"""sb_rectifier: DNN-HMM hybrid acoustic models with rectifier units.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.activations import (
    build_activation,
    register_activation,
    registered_activations,
)
from sb_rectifier.lobes import ContextSplice, RectifierDNN

__all__ = [
    "ContextSplice",
    "RectifierDNN",
    "build_activation",
    "register_activation",
    "registered_activations",
]
