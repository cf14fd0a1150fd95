"""Sparsity of hidden-layer activity (Maas, Hannun & Ng 2013, Fig. 2).

For every hidden unit: on how many frames it is active (``h > 0`` for
rectifiers; ``h > -0.95`` "tanh neg" and ``-0.95 < h < 0.95`` "tanh both"
for tanh), counted exactly while the model runs, and the figures derived
from the counts (activation probabilities, population sparsity,
dispersion, dead units, moments, histograms).

* :mod:`~sb_rectifier.sparsity.definitions`: the activity rules;
* :mod:`~sb_rectifier.sparsity.statistics`: :class:`LayerStatistics`;
* :mod:`~sb_rectifier.sparsity.monitor`: :class:`SparsityMonitor` (forward
  hooks) and :func:`collect` (monitor a block, then export);
* :mod:`~sb_rectifier.sparsity.export`: versioned JSON, per-unit CSV;
* :mod:`~sb_rectifier.sparsity.plots`: Fig. 2 style plots, histograms.

Example
-------
>>> import torch
>>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
>>> model = RectifierDNN(input_size=8, num_layers=2, neurons=16, n_pdfs=4)
>>> with SparsityMonitor(model) as monitor, torch.no_grad():
...     _ = model(torch.randn(64, 8))
>>> last = monitor.results()[monitor.last_hidden_layer()]
>>> p = last["definitions"]["positive"]["activation_probability"]
>>> len(p), all(0.0 <= x <= 1.0 for x in p)
(16, True)

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.sparsity.definitions import (
    ACTIVE_DEFINITIONS,
    ActiveDefinition,
    default_definitions,
    get_definition,
    paper_label,
    register_definition,
    resolve_definitions,
)
from sb_rectifier.sparsity.export import (
    SCHEMA,
    SCHEMA_VERSION,
    export_all,
    read_json,
    write_csv,
    write_json,
)
from sb_rectifier.sparsity.monitor import (
    HIDDEN_UNIT_TYPES,
    SparsityMonitor,
    collect,
)
from sb_rectifier.sparsity.plots import (
    layer_curves,
    plot_histograms,
    plot_layers,
    plot_sorted_activation_probability,
)
from sb_rectifier.sparsity.statistics import (
    LayerStatistics,
    gini_coefficient,
    normalized_entropy,
)

__all__ = [
    "ACTIVE_DEFINITIONS",
    "HIDDEN_UNIT_TYPES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "ActiveDefinition",
    "LayerStatistics",
    "SparsityMonitor",
    "collect",
    "default_definitions",
    "export_all",
    "get_definition",
    "gini_coefficient",
    "layer_curves",
    "normalized_entropy",
    "paper_label",
    "plot_histograms",
    "plot_layers",
    "plot_sorted_activation_probability",
    "read_json",
    "register_definition",
    "resolve_definitions",
    "write_csv",
    "write_json",
]
