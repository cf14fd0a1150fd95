"""Forward hooks that collect activity statistics of hidden layers.

:class:`SparsityMonitor` attaches a forward hook to every selected
hidden-unit module of a model (by default every known nonlinearity outside
the output layer; for :class:`~sb_rectifier.lobes.rectifier_dnn.RectifierDNN`
these are ``layers.{i}.act``). Each hook feeds the module's output, the
hidden activations, into a
:class:`~sb_rectifier.sparsity.statistics.LayerStatistics`, which
accumulates on the activations' device without host synchronisation.

Typical use, over a dev set::

    with SparsityMonitor(model) as monitor:
        with torch.no_grad():
            for batch in loader:
                monitor.set_mask(batch.mask)  # optional: skip padding
                model(batch.feats)
    monitor.all_reduce()  # under DDP
    results = monitor.results()
    fig2 = results[monitor.last_hidden_layer()]

Authors
 * sb_rectifier developers 2026
"""

import fnmatch
from collections import OrderedDict

import torch

from sb_rectifier.activations import activation_name, registered_activations
from sb_rectifier.sparsity.definitions import (
    default_definitions,
    resolve_definitions,
)
from sb_rectifier.sparsity.statistics import LayerStatistics, Workspace

__all__ = ["DEFAULT_EXCLUDE", "HIDDEN_UNIT_TYPES", "SparsityMonitor"]

#: Module types that ``select="auto"`` treats as hidden units.
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

#: Qualified-name patterns never selected by type (the output layer).
DEFAULT_EXCLUDE = ("output", "output.*", "*.output", "*.output.*")


def _unwrap(model):
    """Returns the wrapped module of DistributedDataParallel/DataParallel."""
    wrappers = (
        torch.nn.parallel.DistributedDataParallel,
        torch.nn.DataParallel,
    )
    while isinstance(model, wrappers):
        model = model.module
    return model


def _is_hidden_unit(module):
    """True for known nonlinearities and registered hidden units."""
    if isinstance(module, HIDDEN_UNIT_TYPES):
        return True
    return activation_name(module).lower() in registered_activations()


class SparsityMonitor:
    """Collects activity statistics of hidden layers with forward hooks.

    Arguments
    ---------
    model : torch.nn.Module
        The network (a DistributedDataParallel / DataParallel wrapper is
        unwrapped; layer names are those of the wrapped module).
    select : str, type, tuple of types or list of str
        Which modules to monitor (their outputs are the activations):

        * ``"auto"``: every module of a known hidden-unit type
          (:data:`HIDDEN_UNIT_TYPES`) or of a unit registered in
          :mod:`sb_rectifier.activations`, except modules matching
          ``exclude`` (the output layer) and modules inside an already
          selected module;
        * a module type or tuple of types: modules of those types (same
          exclusions);
        * a list of qualified module names or ``fnmatch`` patterns, e.g.
          ``["layers.*.act"]`` (taken as given, no exclusions). Every entry
          must match at least one module.

        Layers keep the model's order; their keys are qualified names.
    definitions : list, dict or None
        Activity rules (names or
        :class:`~sb_rectifier.sparsity.definitions.ActiveDefinition`).
        None: :func:`~sb_rectifier.sparsity.definitions.default_definitions`
        of each layer's unit (ReL / LReL: ``h > 0``; tanh: the paper's
        "tanh neg" and "tanh both"). A list applies to every
        layer; a dict maps layer names to lists (missing layers: default).
    hist_bins : int
        Bins of the activation-value histogram (0 = no histogram).
    hist_range : tuple of float
        Range of the activation-value histogram.
    pop_bins : int
        Bins of the population-sparsity histogram.
    hist_stride : int
        Only every ``hist_stride``-th frame of a batch enters the value
        histogram (default 32; ``torch.histc`` is by far the most expensive
        statistic on CPUs). 1: every frame.
    value_stride : int
        Only every ``value_stride``-th frame of a batch enters the mean,
        variance, exact zeros and extrema (default 8). 1: every frame.
        The activity statistics (activation probabilities, population
        sparsity, dead units, dispersion) always use every frame; the
        strides only thin out the value statistics, which cost most of the
        hooks' time (see
        :class:`~sb_rectifier.sparsity.statistics.LayerStatistics`).
    exclude : sequence of str
        ``fnmatch`` patterns of qualified names that ``"auto"`` and type
        selection skip (default: anything named ``output``).

    Example
    -------
    >>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
    >>> model = RectifierDNN(input_size=8, num_layers=2, neurons=16, n_pdfs=4)
    >>> with SparsityMonitor(model) as monitor:
    ...     with torch.no_grad():
    ...         _ = model(torch.randn(100, 8))
    >>> list(monitor.results())
    ['layers.0.act', 'layers.1.act']
    >>> monitor.last_hidden_layer()
    'layers.1.act'
    >>> r = monitor.results()["layers.1.act"]
    >>> (
    ...     r["unit"],
    ...     r["frames"],
    ...     len(r["definitions"]["positive"]["activation_probability"]),
    ... )
    ('relu', 100, 16)
    >>> any(m._forward_hooks for m in model.modules())
    False
    """

    def __init__(
        self,
        model,
        select="auto",
        definitions=None,
        hist_bins=100,
        hist_range=(-5.0, 5.0),
        pop_bins=50,
        hist_stride=32,
        value_stride=8,
        exclude=DEFAULT_EXCLUDE,
    ):
        self.model = _unwrap(model)
        if not isinstance(self.model, torch.nn.Module):
            raise TypeError(
                f"model must be a torch.nn.Module, got {type(model).__name__}"
            )
        self.exclude = tuple(exclude or ())
        self.layers = self._select(select)
        self.units = OrderedDict(
            (name, activation_name(module))
            for name, module in self.layers.items()
        )
        self._definitions = {
            name: resolve_definitions(
                self._definitions_for(definitions, name, module)
            )
            for name, module in self.layers.items()
        }
        self.hist_bins = hist_bins
        self.hist_range = hist_range
        self.pop_bins = pop_bins
        self.hist_stride = hist_stride
        self.value_stride = value_stride
        # Validate the statistics set-up now rather than in the first hook.
        LayerStatistics(
            1,
            hist_bins=hist_bins,
            hist_range=hist_range,
            pop_bins=pop_bins,
            hist_stride=hist_stride,
            value_stride=value_stride,
        )
        #: Hooks do nothing while False.
        self.enabled = True
        #: LayerStatistics per layer, created at the layer's first forward.
        self.stats = OrderedDict()
        self._workspace = Workspace()
        self._handles = []
        self._mask = None

    # ------------------------------------------------------------------
    # Selection
    # ------------------------------------------------------------------
    def _select(self, select):
        """Returns the selected modules, name -> module, in model order."""
        named = [(n, m) for n, m in self.model.named_modules() if n]
        if isinstance(select, str) and select == "auto":
            return self._select_by(named, _is_hidden_unit)
        if isinstance(select, type):
            select = (select,)
        if isinstance(select, (tuple, list)) and select:
            if all(isinstance(s, type) for s in select):
                types = tuple(select)
                return self._select_by(named, lambda m: isinstance(m, types))
        if isinstance(select, str):
            select = [select]
        if (
            not isinstance(select, (tuple, list))
            or not select
            or not all(isinstance(s, str) for s in select)
        ):
            raise ValueError(
                "select must be 'auto', a module type or tuple of types, or "
                f"a list of module names / patterns; got {select!r}"
            )
        unknown = [
            p
            for p in select
            if not any(fnmatch.fnmatchcase(n, p) for n, _ in named)
        ]
        if unknown:
            raise ValueError(
                f"No module matches {unknown}; available module names: "
                + ", ".join(n for n, _ in named)
            )
        return OrderedDict(
            (n, m)
            for n, m in named
            if any(fnmatch.fnmatchcase(n, p) for p in select)
        )

    def _select_by(self, named, predicate):
        """Modules passing ``predicate``, minus exclusions and nested ones."""
        selected = OrderedDict()
        for name, module in named:
            if any(fnmatch.fnmatchcase(name, p) for p in self.exclude):
                continue
            if any(name.startswith(s + ".") for s in selected):
                continue
            if predicate(module):
                selected[name] = module
        if not selected:
            raise ValueError(
                "No hidden-unit module found to monitor; available module "
                "names: " + ", ".join(n for n, _ in named)
            )
        return selected

    @staticmethod
    def _definitions_for(definitions, name, module):
        """The activity rules of one layer."""
        if definitions is None:
            return default_definitions(module)
        if isinstance(definitions, dict):
            if name in definitions:
                return definitions[name]
            return default_definitions(module)
        return definitions

    def definitions(self, layer):
        """Returns the activity rules used for a layer.

        Arguments
        ---------
        layer : str
            Qualified layer name.

        Returns
        -------
        definitions : list of ActiveDefinition
            The rules, in order.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh())
        >>> [d.name for d in SparsityMonitor(model).definitions("1")]
        ['tanh_neg', 'tanh_both']
        """
        return list(self._definitions[layer])

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    @property
    def attached(self):
        """Whether the hooks are registered.

        Returns
        -------
        attached : bool
            True between :meth:`attach` and :meth:`remove`.

        Example
        -------
        >>> monitor = SparsityMonitor(torch.nn.Sequential(torch.nn.ReLU()))
        >>> monitor.attach().attached
        True
        >>> monitor.remove()
        >>> monitor.attached
        False
        """
        return bool(self._handles)

    def attach(self):
        """Registers the forward hooks (does nothing if already attached).

        Returns
        -------
        self : SparsityMonitor
            For chaining.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU())
        >>> monitor = SparsityMonitor(model).attach()
        >>> len(model[1]._forward_hooks)
        1
        >>> monitor.remove()
        """
        if self._handles:
            return self
        for name, module in self.layers.items():
            self._handles.append(
                module.register_forward_hook(self._make_hook(name))
            )
        # The mask set with set_mask() applies to one forward of the model.
        self._handles.append(
            self.model.register_forward_hook(self._clear_mask_hook)
        )
        return self

    def remove(self):
        """Removes every hook; the statistics are kept.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.ReLU())
        >>> monitor = SparsityMonitor(model).attach()
        >>> monitor.remove()
        >>> len(model._forward_hooks), len(model[0]._forward_hooks)
        (0, 0)
        """
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc):
        self.remove()
        return False

    def _make_hook(self, name):
        """The forward hook of one layer."""

        def hook(module, inputs, output):
            if not self.enabled:
                return None
            h = output
            if isinstance(h, (tuple, list)) and h:
                h = h[0]
            if not torch.is_tensor(h):
                raise TypeError(
                    f"SparsityMonitor: module '{name}' returned "
                    f"{type(output).__name__}, expected a tensor"
                )
            stats = self.stats.get(name)
            if stats is None:
                stats = LayerStatistics(
                    h.shape[-1],
                    self._definitions[name],
                    hist_bins=self.hist_bins,
                    hist_range=self.hist_range,
                    device=h.device,
                    pop_bins=self.pop_bins,
                    hist_stride=self.hist_stride,
                    value_stride=self.value_stride,
                    workspace=self._workspace,
                )
                self.stats[name] = stats
            try:
                stats.update(h, mask=self._mask)
            except ValueError as err:
                raise ValueError(
                    f"SparsityMonitor, layer '{name}': {err}"
                ) from err
            return None

        return hook

    def _clear_mask_hook(self, module, inputs, output):
        self._mask = None

    def set_mask(self, mask):
        """Sets the valid-frame mask for the next forward pass of the model.

        The mask is used by every hook until the model's forward returns
        (then it is cleared), or until ``set_mask`` is called again.

        Arguments
        ---------
        mask : torch.Tensor or None
            Bool or 0/1 tensor with one entry per frame of the activations
            (``[batch, time]`` for ``[batch, time, features]`` input, or
            ``[frames]``); nonzero = valid. None: all frames are valid.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.ReLU())
        >>> with SparsityMonitor(model, hist_bins=0) as monitor:
        ...     monitor.set_mask(torch.tensor([[1, 1, 0]]))
        ...     _ = model(torch.ones(1, 3, 2))  # padded frame ignored
        ...     _ = model(torch.ones(1, 3, 2))  # mask cleared: 3 frames
        >>> monitor.results()["0"]["frames"]
        5
        """
        self._mask = None if mask is None else mask.detach()

    def reset(self):
        """Sets the statistics of every layer back to zero.

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
        self._mask = None

    def all_reduce(self):
        """Sums the statistics over all ``torch.distributed`` processes.

        A collective: every rank must call it after running at least one
        forward pass (so that every layer has its statistics). Does nothing
        without an initialised process group.

        Returns
        -------
        self : SparsityMonitor
            For chaining.

        Example
        -------
        >>> model = torch.nn.Sequential(torch.nn.ReLU())
        >>> SparsityMonitor(model).all_reduce().stats
        OrderedDict()
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

    # ------------------------------------------------------------------
    # Results
    # ------------------------------------------------------------------
    def last_hidden_layer(self):
        """Returns the name of the last selected layer (the paper's Fig. 2).

        Returns
        -------
        name : str
            Qualified name of the last monitored module in model order.

        Example
        -------
        >>> from sb_rectifier.lobes.rectifier_dnn import RectifierDNN
        >>> model = RectifierDNN(
        ...     input_size=4, num_layers=4, neurons=8, n_pdfs=3
        ... )
        >>> SparsityMonitor(model).last_hidden_layer()
        'layers.3.act'
        """
        return next(reversed(self.layers))

    def results(self, skip_empty=False):
        """Returns the statistics of every layer, in model order.

        Arguments
        ---------
        skip_empty : bool
            Leave out layers that recorded no frame instead of raising.

        Returns
        -------
        results : OrderedDict
            Layer name -> the dict of
            :meth:`~sb_rectifier.sparsity.statistics.LayerStatistics.result`
            plus ``unit`` (the unit's name, see
            :func:`sb_rectifier.activations.activation_name`).

        Raises
        ------
        ValueError
            If a layer (any layer with ``skip_empty``) recorded no frame.

        Example
        -------
        >>> SparsityMonitor(torch.nn.Sequential(torch.nn.ReLU())).results()
        Traceback (most recent call last):
         ...
        ValueError: No frames recorded for layers ['0']; run the model with the monitor attached and enabled first
        """
        out = OrderedDict()
        empty = []
        for name in self.layers:
            stats = self.stats.get(name)
            if stats is None or stats.frames == 0:
                empty.append(name)
                continue
            result = stats.result()
            result["unit"] = self.units[name]
            out[name] = result
        if empty and (not skip_empty or not out):
            raise ValueError(
                f"No frames recorded for layers {empty}; run the model with "
                "the monitor attached and enabled first"
            )
        return out

    def __repr__(self):
        return (
            f"{type(self).__name__}(layers={list(self.layers)}, "
            f"attached={self.attached}, enabled={self.enabled})"
        )
