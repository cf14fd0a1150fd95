"""sb_rectifier: DNN-HMM hybrid acoustic models with rectifier units.

The public names are imported lazily, so that ``sb-rectifier`` commands
that need no torch (``hmm-info``, ``ali-to-pdf``) start quickly.

Authors
 * sb_rectifier developers 2026
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "RectifierDNN": "sb_rectifier.lobes",
    "ContextSplice": "sb_rectifier.lobes",
    "build_activation": "sb_rectifier.activations",
    "register_activation": "sb_rectifier.activations",
    "registered_activations": "sb_rectifier.activations",
    "HybridBrain": "sb_rectifier.training",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    """Imports a public name on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sb_rectifier' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
