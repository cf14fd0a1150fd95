"""Fully connected DNN acoustic model with selectable hidden units.

The DNN of the DNN-HMM hybrid of Maas, Hannun & Ng (2013), "Rectifier
Nonlinearities Improve Neural Network Acoustic Models": a stack of fully
connected hidden layers with tanh, rectified linear (ReL) or leaky
rectified linear (LReL) units, followed by a linear layer over the HMM
states (pdfs / senones). The paper's Switchboard models take 11 spliced
frames of 40 filterbank features (440 inputs) and have 2 to 4 hidden layers
of 2048 units and about 9000 outputs.

Authors
 * sb_rectifier developers 2026
"""

import math
from collections import OrderedDict

import torch
from speechbrain.nnet.linear import Linear
from speechbrain.nnet.normalization import BatchNorm1d, LayerNorm

from sb_rectifier.activations import activation_name, build_activation

__all__ = ["INIT_SCHEMES", "NORM_TYPES", "RectifierBlock", "RectifierDNN"]

#: Accepted values of the ``init`` argument of :class:`RectifierDNN`.
INIT_SCHEMES = ("glorot_uniform", "he_uniform", "pytorch")

#: Accepted values of the ``norm`` argument of :class:`RectifierDNN`.
NORM_TYPES = ("batchnorm", "layernorm")


class RectifierBlock(torch.nn.Sequential):
    """One hidden layer: linear -> [norm] -> activation -> [dropout].

    The children are named ``linear``, ``norm`` (only if a norm is used),
    ``act`` and ``dropout`` (only if dropout > 0); checkpoints and forward
    hooks rely on these names.

    Arguments
    ---------
    input_size : int
        Input feature dimension.
    n_neurons : int
        Number of hidden units.
    activation : torch.nn.Module
        The hidden-unit module (used as it is, not copied).
    dropout : float
        Dropout probability applied after the activation (0 = none).
    norm : str or None
        ``None``, ``"batchnorm"`` or ``"layernorm"``.

    Example
    -------
    >>> block = RectifierBlock(40, 64, torch.nn.ReLU(), dropout=0.1)
    >>> [name for name, _ in block.named_children()]
    ['linear', 'act', 'dropout']
    >>> block(torch.rand(8, 40)).shape
    torch.Size([8, 64])
    """

    def __init__(
        self, input_size, n_neurons, activation, dropout=0.0, norm=None
    ):
        layers = OrderedDict()
        layers["linear"] = Linear(
            n_neurons=n_neurons, input_size=input_size, bias=True
        )
        if norm == "batchnorm":
            # [B, T, F] is transposed to [B, F, T]: statistics over batch
            # and time. [N, F] frame minibatches work as they are.
            layers["norm"] = BatchNorm1d(input_size=n_neurons)
        elif norm == "layernorm":
            layers["norm"] = LayerNorm(input_size=n_neurons)
        elif norm is not None:
            raise ValueError(
                f"Unknown norm '{norm}'; choose None or one of "
                + ", ".join(NORM_TYPES)
            )
        layers["act"] = activation
        if dropout > 0:
            layers["dropout"] = torch.nn.Dropout(p=dropout)
        super().__init__(layers)


def _as_list(value, num_layers, what):
    """Expands a per-network value to a per-layer list and checks lengths."""
    if isinstance(value, (list, tuple)):
        if len(value) != num_layers:
            raise ValueError(
                f"Got {len(value)} {what} values for num_layers={num_layers}; "
                "the lengths must match"
            )
        return list(value)
    return [value] * num_layers


class RectifierDNN(torch.nn.Module):
    """Fully connected DNN with tanh, ReL or LReL hidden units.

    Hidden layer ``i`` computes ``h_i = dropout(f(norm(W_i h_{i-1} + b_i)))``
    with hidden unit ``f`` (Maas et al. 2013, Eq. 1-3). If ``n_pdfs`` is
    given, a final linear layer produces one LOGIT per pdf (HMM state); no
    softmax is applied, the training code applies log-softmax /
    cross-entropy. The model works frame by frame: ``[B, T, F]`` gives
    ``[B, T, out]`` and ``[N, F]`` (a frame minibatch) gives ``[N, out]``.

    Layer names (stable, used by checkpoints and forward hooks):

    * ``layers``: a ``torch.nn.ModuleList`` of :class:`RectifierBlock`;
      block ``i`` has children ``linear``, ``norm`` (if used), ``act`` and
      ``dropout`` (if dropout > 0). The ``i``-th hidden unit module is
      ``model.layers[i].act``, qualified name ``layers.{i}.act``.
    * ``output``: the output layer (only if ``n_pdfs`` is given).

    Linear layers are ``speechbrain.nnet.linear.Linear`` (which wraps a
    ``torch.nn.Linear`` as ``.w``), so the state_dict keys are
    ``layers.{i}.linear.w.weight``, ``layers.{i}.linear.w.bias``,
    ``layers.{i}.norm.norm.{weight,bias,...}`` and ``output.w.weight``,
    ``output.w.bias``.

    Weight initialisation of all linear layers (``init``), with
    ``fan_in`` / ``fan_out`` the input / output size of the layer:

    * ``"glorot_uniform"`` (default; Glorot & Bengio 2010, the usual choice
      for the tanh networks of that time):
      ``W ~ U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``, ``b = 0``;
    * ``"he_uniform"`` (He et al. 2015, Kaiming uniform for rectifiers):
      ``W ~ U(-a, a)`` with ``a = sqrt(6 / fan_in)``, ``b = 0``;
    * ``"pytorch"``: PyTorch's default ``torch.nn.Linear`` initialisation,
      ``W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Only the torch RNG is used, so ``torch.manual_seed`` makes the
    initialisation reproducible. Norm layers start at scale 1, shift 0.

    Arguments
    ---------
    input_shape : tuple, optional
        SpeechBrain-style expected input shape, ``[None, None, F]`` or
        ``[None, F]``; only the last entry is used.
    input_size : int, optional
        Input feature dimension (alternative to ``input_shape``).
    num_layers : int or None
        Number of hidden layers. None takes the length of ``neurons``.
    neurons : int or list of int
        Hidden units per layer: one int for all layers or one per layer.
    activation : str, type, callable, torch.nn.Module or list
        Hidden-unit spec understood by
        :func:`sb_rectifier.activations.build_activation` (``"tanh"``,
        ``"relu"``, ``"leaky_relu"``, a module class, a ``!name:``
        partial, ...), or a list with one spec per layer. Every layer gets
        its own module instance.
    activation_kwargs : dict, optional
        Keyword arguments for every activation, e.g.
        ``{"negative_slope": 0.1}`` for ``"leaky_relu"`` (default 0.01).
    dropout : float
        Dropout probability after each hidden unit (0 = no dropout).
    norm : str or None
        ``None``, ``"batchnorm"`` or ``"layernorm"``, applied between the
        linear layer and the hidden unit. Batch norm on ``[B, T, F]`` input
        takes its statistics over batch and time (padding frames included).
    n_pdfs : int, optional
        Number of outputs (HMM states). None: no output layer; the model
        returns the last hidden layer.
    init : str
        ``"glorot_uniform"``, ``"he_uniform"`` or ``"pytorch"``.

    Example
    -------
    >>> model = RectifierDNN(
    ...     input_shape=[None, None, 440],
    ...     num_layers=2,
    ...     neurons=256,
    ...     activation="leaky_relu",
    ...     n_pdfs=100,
    ... )
    >>> model(torch.rand(4, 50, 440)).shape
    torch.Size([4, 50, 100])
    >>> model(torch.rand(32, 440)).shape
    torch.Size([32, 100])
    >>> model.layers[1].act
    LeakyReLU(negative_slope=0.01)
    >>> [len(h) for h in model.hidden_activations(torch.rand(3, 440))]
    [3, 3]
    >>> model.num_parameters()
    204388
    """

    def __init__(
        self,
        input_shape=None,
        input_size=None,
        num_layers=4,
        neurons=2048,
        activation="relu",
        activation_kwargs=None,
        dropout=0.0,
        norm=None,
        n_pdfs=None,
        init="glorot_uniform",
    ):
        super().__init__()
        self.input_size = self._infer_input_size(input_shape, input_size)

        if isinstance(neurons, (list, tuple)):
            if num_layers is None:
                num_layers = len(neurons)
            elif len(neurons) != num_layers:
                raise ValueError(
                    f"neurons has {len(neurons)} entries but "
                    f"num_layers={num_layers}; the lengths must match "
                    "(or pass num_layers=None)"
                )
        elif num_layers is None:
            raise ValueError(
                "num_layers=None needs a list of per-layer neurons"
            )
        if isinstance(num_layers, bool) or not isinstance(num_layers, int):
            raise ValueError(f"num_layers must be an int, got {num_layers!r}")
        if num_layers < 0:
            raise ValueError(f"num_layers must be >= 0, got {num_layers}")
        neurons = _as_list(neurons, num_layers, "neurons")
        for n in neurons:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(
                    f"neurons must be positive ints, got {neurons!r}"
                )
        activations = _as_list(activation, num_layers, "activation")

        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if isinstance(norm, str):
            norm = norm.lower()
        if norm is not None and norm not in NORM_TYPES:
            raise ValueError(
                f"Unknown norm '{norm}'; choose None or one of "
                + ", ".join(NORM_TYPES)
            )
        if init not in INIT_SCHEMES:
            raise ValueError(
                f"Unknown init '{init}'; choose one of "
                + ", ".join(INIT_SCHEMES)
            )
        if n_pdfs is not None and (
            isinstance(n_pdfs, bool)
            or not isinstance(n_pdfs, int)
            or n_pdfs < 1
        ):
            raise ValueError(f"n_pdfs must be a positive int, got {n_pdfs!r}")

        self.num_layers = num_layers
        self.neurons = neurons
        self.n_pdfs = n_pdfs
        self.dropout = dropout
        self.norm = norm
        self.init = init

        activation_kwargs = dict(activation_kwargs or {})
        self.layers = torch.nn.ModuleList()
        size = self.input_size
        for n, spec in zip(neurons, activations, strict=True):
            act = build_activation(spec, **activation_kwargs)
            self.layers.append(
                RectifierBlock(size, n, act, dropout=dropout, norm=norm)
            )
            size = n

        if n_pdfs is not None:
            self.output = Linear(n_neurons=n_pdfs, input_size=size, bias=True)
            size = n_pdfs
        else:
            self.output = None
        self.output_size = size

        # "pytorch": keep the initialisation torch.nn.Linear already drew
        # (same weights as a plain torch/SpeechBrain stack under one seed).
        if init != "pytorch":
            self.reset_parameters()

    @staticmethod
    def _infer_input_size(input_shape, input_size):
        """Returns the input dimension from input_shape or input_size."""
        if input_shape is None and input_size is None:
            raise ValueError(
                "RectifierDNN needs input_shape (e.g. [None, None, 440]) "
                "or input_size (e.g. 440)"
            )
        if input_shape is not None:
            if len(input_shape) == 0 or input_shape[-1] is None:
                raise ValueError(
                    "The last entry of input_shape must be the feature "
                    f"dimension, got {input_shape!r}"
                )
            from_shape = int(input_shape[-1])
            if input_size is not None and int(input_size) != from_shape:
                raise ValueError(
                    f"input_size={input_size} disagrees with "
                    f"input_shape={list(input_shape)}"
                )
            input_size = from_shape
        if int(input_size) < 1:
            raise ValueError(f"input_size must be positive, got {input_size}")
        return int(input_size)

    def linear_layers(self):
        """Returns all linear layers, hidden layers first, then the output.

        Returns
        -------
        linears : list of speechbrain.nnet.linear.Linear
            The linear layers in forward order.

        Example
        -------
        >>> model = RectifierDNN(
        ...     input_size=10, num_layers=2, neurons=8, n_pdfs=3
        ... )
        >>> len(model.linear_layers())
        3
        """
        linears = [block.linear for block in self.layers]
        if self.output is not None:
            linears.append(self.output)
        return linears

    def reset_parameters(self):
        """(Re-)initialises all parameters following ``self.init``.

        Example
        -------
        >>> model = RectifierDNN(input_size=10, num_layers=1, neurons=8)
        >>> model.reset_parameters()
        >>> bool((model.layers[0].linear.w.bias == 0).all())
        True
        """
        for layer in self.linear_layers():
            w = layer.w
            if self.init == "pytorch":
                w.reset_parameters()
                continue
            fan_out, fan_in = w.weight.shape
            if self.init == "glorot_uniform":
                bound = math.sqrt(6.0 / (fan_in + fan_out))
            else:  # he_uniform
                bound = math.sqrt(6.0 / fan_in)
            with torch.no_grad():
                w.weight.uniform_(-bound, bound)
                if w.bias is not None:
                    w.bias.zero_()
        for block in self.layers:
            if hasattr(block, "norm"):
                block.norm.norm.reset_parameters()

    def forward(self, x):
        """Returns the output of the network.

        Arguments
        ---------
        x : torch.Tensor
            Input features, ``[batch, time, input_size]`` or
            ``[frames, input_size]``.

        Returns
        -------
        out : torch.Tensor
            Logits ``[..., n_pdfs]`` if an output layer exists, else the
            last hidden layer ``[..., neurons[-1]]``.
        """
        self._check_input(x)
        for block in self.layers:
            x = block(x)
        if self.output is not None:
            x = self.output(x)
        return x

    def hidden_activations(self, x):
        """Returns the output of every hidden unit, for analysis.

        The outputs are taken right after each hidden unit (after the norm
        and the activation, before dropout). Gradients are not disabled; wrap
        the call in ``torch.no_grad()`` if they are not needed.

        Arguments
        ---------
        x : torch.Tensor
            Input features, ``[batch, time, input_size]`` or
            ``[frames, input_size]``.

        Returns
        -------
        activations : list of torch.Tensor
            One tensor per hidden layer, ``[..., neurons[i]]``.

        Example
        -------
        >>> model = RectifierDNN(input_size=10, num_layers=2, neurons=[8, 4])
        >>> [h.shape[-1] for h in model.hidden_activations(torch.rand(5, 10))]
        [8, 4]
        """
        self._check_input(x)
        outputs = []
        for block in self.layers:
            for name, module in block.named_children():
                x = module(x)
                if name == "act":
                    outputs.append(x)
        return outputs

    def _check_input(self, x):
        """Raises ValueError if the feature dimension does not match."""
        if x.ndim < 2 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"RectifierDNN expects [..., {self.input_size}] input, "
                f"got shape {tuple(x.shape)}"
            )

    @property
    def activation_names(self):
        """Names of the hidden units of each layer (for logs).

        Returns
        -------
        names : list of str
            ``activation_name(layers[i].act)`` for every hidden layer.
        """
        return [activation_name(block.act) for block in self.layers]

    def num_parameters(self, trainable_only=False):
        """Returns the number of parameters.

        Arguments
        ---------
        trainable_only : bool
            If True, only parameters with ``requires_grad`` are counted.

        Returns
        -------
        count : int
            Number of scalar parameters.

        Example
        -------
        >>> RectifierDNN(input_size=3, num_layers=1, neurons=4).num_parameters()
        16
        """
        return sum(
            p.numel()
            for p in self.parameters()
            if p.requires_grad or not trainable_only
        )
