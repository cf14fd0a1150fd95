"""Forward hooks that count the activity of a model's hidden units.

:class:`SparsityMonitor` hooks every hidden-unit module outside the output
layer (for :class:`~sb_rectifier.lobes.rectifier_dnn.RectifierDNN`,
``layers.{i}.act``) and feeds its outputs to a
:class:`~sb_rectifier.sparsity.statistics.LayerStatistics` per layer.
:func:`collect` wraps a pass over the data::

    with collect(model, "exp/sparsity", "dev", {"epoch": 3}) as monitor:
        evaluate(model)  # any forward passes
    monitor.files  # {"json": "exp/sparsity/dev.json", "csv": ..., "plots": ...}

Authors
 * sb_rectifier developers 2026
"""

import contextlib

import torch
from speechbrain.utils.distributed import if_main_process

from sb_rectifier.activations import activation_name, registered_activations
from sb_rectifier.sparsity.definitions import (
    default_definitions,
    resolve_definitions,
)
from sb_rectifier.sparsity.statistics import LayerStatistics

__all__ = ["HIDDEN_UNIT_TYPES", "SparsityMonitor", "collect"]

#: Module types treated as hidden units (besides registered activations).
HIDDEN_UNIT_TYPES = (
    torch.nn.ReLU,
    torch.nn.LeakyReLU,
    torch.nn.PReLU,
    torch.nn.RReLU,
    torch.nn.Tanh,
    torch.nn.Sigmoid,
    torch.nn.ELU,
    torch.nn.SELU,
    torch.nn.CELU,
    torch.nn.GELU,
    torch.nn.SiLU,
    torch.nn.Mish,
    torch.nn.Softplus,
    torch.nn.Softsign,
    torch.nn.Hardtanh,  # includes ReLU6
    torch.nn.Hardsigmoid,
    torch.nn.Hardswish,
    torch.nn.LogSigmoid,
    torch.nn.Tanhshrink,
)


def _hidden_units(model):
    """Hidden-unit modules by qualified name, in model order, skipping any
    module named ``output`` (and what is inside it) and nested units."""
    found = {}
    for name, module in model.named_modules():
        if not name or "output" in name.split("."):
            continue
        if any(name.startswith(f"{parent}.") for parent in found):
            continue
        registered = activation_name(module).lower() in registered_activations()
        if isinstance(module, HIDDEN_UNIT_TYPES) or registered:
            found[name] = module
    if not found:
        names = ", ".join(n for n, _ in model.named_modules() if n)
        raise ValueError(f"No hidden-unit module found; module names: {names}")
    return found


class SparsityMonitor:
    """Counts hidden-unit activity with forward hooks, while entered.

    Arguments
    ---------
    model : torch.nn.Module
        The network; a DistributedDataParallel / DataParallel wrapper is
        unwrapped (layer names are those of the wrapped module).
    definitions : list or dict, optional
        Activity rules for every layer, or a dict layer name -> rules. By
        default those of each layer's unit
        (:func:`~sb_rectifier.sparsity.definitions.default_definitions`).
    **options
        Passed to :class:`~sb_rectifier.sparsity.statistics.LayerStatistics`
        (``hist_bins``, ``hist_range``, ``value_stride``, ``hist_stride``,
        ``pop_bins``). Defaults: zeros and moments on every 8th frame, the
        histogram on every 32nd; activity counts always on every frame.

    Example
    -------
    >>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
    >>> model = RectifierDNN(input_size=8, num_layers=2, neurons=16, n_pdfs=4)
    >>> with SparsityMonitor(model) as monitor, torch.no_grad():
    ...     _ = model(torch.randn(100, 8))
    >>> monitor.last_hidden_layer(), monitor.units
    ('layers.1.act', {'layers.0.act': 'relu', 'layers.1.act': 'relu'})
    >>> r = monitor.results()["layers.1.act"]
    >>> (
    ...     r["unit"],
    ...     r["frames"],
    ...     len(r["definitions"]["positive"]["active_frames"]),
    ... )
    ('relu', 100, 16)
    >>> any(m._forward_hooks for m in model.modules())
    False
    """

    def __init__(self, model, definitions=None, **options):
        wrappers = (
            torch.nn.parallel.DistributedDataParallel,
            torch.nn.DataParallel,
        )
        self.model = model.module if isinstance(model, wrappers) else model
        self.layers = _hidden_units(self.model)
        self.units = {
            name: activation_name(m) for name, m in self.layers.items()
        }
        self.definitions = {}
        for name, module in self.layers.items():
            rules = definitions
            if isinstance(definitions, dict):
                rules = definitions.get(name)
            rules = default_definitions(module) if rules is None else rules
            self.definitions[name] = resolve_definitions(rules)
        self.options = {"value_stride": 8, "hist_stride": 32, **options}
        LayerStatistics(1, **self.options)  # checks the options now
        #: LayerStatistics by layer, made at the layer's first forward.
        self.stats = {}
        #: Exported files (set by :func:`collect`).
        self.files = {}
        self._handles = []

    def attach(self):
        """Registers the hooks (once); returns self.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU())
        >>> monitor = SparsityMonitor(model).attach().attach()
        >>> len(model[1]._forward_hooks)
        1
        >>> monitor.remove()
        >>> len(model[1]._forward_hooks)
        0
        """
        if not self._handles:
            self._handles = [
                module.register_forward_hook(self._hook(name))
                for name, module in self.layers.items()
            ]
        return self

    def remove(self):
        """Removes the hooks; the statistics are kept.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.ReLU())
        >>> monitor = SparsityMonitor(model).attach()
        >>> _ = model(torch.ones(3, 2))
        >>> monitor.remove()
        >>> _ = model(torch.ones(3, 2))
        >>> monitor.stats["0"].frames
        3
        """
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc):
        self.remove()

    def _hook(self, name):
        def hook(module, inputs, output):
            if name not in self.stats:
                self.stats[name] = LayerStatistics(
                    output.shape[-1],
                    self.definitions[name],
                    device=output.device,
                    **self.options,
                )
            self.stats[name].update(output)

        return hook

    def reset(self):
        """Sets every layer's statistics to zero.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.ReLU())
        >>> with SparsityMonitor(model) as monitor:
        ...     _ = model(torch.ones(4, 2))
        >>> monitor.reset()
        >>> monitor.stats["0"].frames
        0
        """
        for stats in self.stats.values():
            stats.reset()

    def all_reduce(self):
        """Sums the counts and moments over the ``torch.distributed`` ranks
        (a collective); a no-op without a process group. Returns self.

        Example
        -------
        >>> SparsityMonitor(
        ...     torch.nn.Sequential(torch.nn.ReLU())
        ... ).all_reduce().stats
        {}
        """
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()):
            return self
        missing = [name for name in self.layers if name not in self.stats]
        if missing:
            raise RuntimeError(
                f"Layers {missing} recorded nothing on this rank; every rank "
                "needs at least one forward pass before all_reduce()"
            )
        for stats in self.stats.values():
            stats.all_reduce()
        return self

    def last_hidden_layer(self):
        """The name of the last hidden layer (the paper's Fig. 2).

        Example
        -------
        >>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
        >>> model = RectifierDNN(input_size=4, num_layers=4, neurons=8)
        >>> SparsityMonitor(model).last_hidden_layer()
        'layers.3.act'
        """
        return list(self.layers)[-1]

    def results(self):
        """Layer name -> :meth:`LayerStatistics.result` plus ``unit``.

        Example
        -------
        >>> SparsityMonitor(torch.nn.Sequential(torch.nn.ReLU())).results()
        Traceback (most recent call last):
         ...
        ValueError: No frames recorded for layers ['0']; run the model with the monitor attached first
        """
        empty = [
            n
            for n in self.layers
            if n not in self.stats or not self.stats[n].frames
        ]
        if empty:
            raise ValueError(
                f"No frames recorded for layers {empty}; run the model with "
                "the monitor attached first"
            )
        return {
            name: {**self.stats[name].result(), "unit": self.units[name]}
            for name in self.layers
        }


@contextlib.contextmanager
def collect(model, folder, tag, meta=None, definitions=None):
    """Monitors ``model`` while the block runs, then exports the statistics.

    On normal exit: removes the hooks, sums over ranks
    (:meth:`SparsityMonitor.all_reduce`) and, on the main process, writes
    ``<folder>/<tag>.json`` (``meta`` plus ``frames``, the frames seen on
    all ranks), the CSV files and plots
    (:func:`~sb_rectifier.sparsity.export.export_all`); their paths are in
    ``monitor.files``. On an exception: removes the hooks, writes nothing.

    Example
    -------
    >>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
    >>> model = RectifierDNN(input_size=8, num_layers=2, neurons=16, n_pdfs=4)
    >>> folder = getfixture("tmp_path")
    >>> with collect(model, folder, "dev", {"epoch": 1}) as monitor:
    ...     _ = model(torch.randn(50, 8))
    >>> import json
    >>> json.loads(open(monitor.files["json"]).read())["meta"]
    {'epoch': 1, 'frames': 50, 'last_hidden_layer': 'layers.1.act'}
    """
    monitor = SparsityMonitor(model, definitions)
    with monitor:
        yield monitor
    monitor.all_reduce()
    if if_main_process():
        from sb_rectifier.sparsity.export import export_all

        results = monitor.results()
        meta = {
            **(meta or {}),
            "frames": results[monitor.last_hidden_layer()]["frames"],
        }
        monitor.files = export_all(results, folder, tag, meta)
