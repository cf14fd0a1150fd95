"""HybridASR: a pretrained DNN-HMM hybrid recogniser for SpeechBrain.

``HybridASR.from_hparams(source=..., savedir=...)`` loads a folder written
by ``sb-rectifier export`` (a local folder, a HuggingFace repository, or
its copy in the HuggingFace cache) and transcribes, scores and aligns
speech with it:

* :meth:`HybridASR.transcribe_file`, :meth:`HybridASR.transcribe_batch`:
  words, by Viterbi decoding on the exported HCLG;
* :meth:`HybridASR.log_posteriors`, :meth:`HybridASR.log_likelihoods`:
  per-frame pdf scores for decoding elsewhere (Kaldi's
  ``latgen-faster-mapped`` with the folder's ``final.mdl`` and
  ``HCLG.fst``);
* :meth:`HybridASR.align_file`: forced alignment of a known transcript
  through the model's own HMMs, as word and phone segments and CTM.

Features are computed as in training: Kaldi filterbanks
(``torchaudio.compliance.kaldi.fbank`` on 16-bit sample values), Kaldi's
CMVN (per speaker when the caller names the speakers, else per
utterance), the training set's global normalisation, and the context
window with edge frames replicated.

This module imports nothing from ``sb_rectifier``: ``sb-rectifier
export`` copies it, unchanged, into each exported folder as
``custom_interface.py``, so that
``speechbrain.inference.interfaces.foreign_class`` runs it for users who
have not installed the plugin (they need torch, torchaudio, speechbrain,
kaldifst and kaldi-decoder). ``hyperparams.yaml`` therefore names its
classes ``custom_interface.<Class>``; :meth:`HybridASR.from_hparams`
binds that name to this module while the YAML is built, so that plugin
users run the plugin's code and never the downloaded file.

Trust: a hub folder is input from strangers. ``hyperparams.yaml`` can
construct arbitrary objects (as for every SpeechBrain model), so before
anything is built :meth:`HybridASR.from_hparams` checks it
(:func:`check_hparams_file`): only ``torch.nn`` classes, SpeechBrain's
``Pretrainer`` and this module's classes may be constructed, nothing may
be called (``!apply``) or included, and every file name is a plain name
inside the folder. Checkpoints load with ``torch.load(weights_only=True)``
and strictly: a missing, unexpected or reshaped tensor is an error naming
the file and the key (:func:`load_strict`). ``foreign_class`` builds the
YAML before any of this code runs, so it gets the strict loading but not
the YAML check.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import dataclasses
import logging
import os
import pickle
import re
import sys

import kaldi_decoder as kd
import kaldifst as kf
import numpy as np
import torch
from speechbrain.inference.interfaces import Pretrained

logger = logging.getLogger(__name__)

__all__ = [
    "Alignment",
    "CheckpointError",
    "FileBundle",
    "GlobalNorm",
    "HybridASR",
    "KaldiFbank",
    "LogPriors",
    "TransitionTables",
    "check_hparams_file",
    "load_bundle",
    "load_strict",
]

# The module name hyperparams.yaml uses for the classes of this file.
HUB_MODULE = "custom_interface"
# What a hub hyperparams.yaml may construct (see check_hparams_file).
ALLOWED_PREFIXES = ("torch.nn.",)
ALLOWED_NAMES = {
    "speechbrain.utils.parameter_transfer.Pretrainer",
    *(f"{HUB_MODULE}.{name}" for name in __all__),
}
ALLOWED_TAGS = {"!ref", "!copy", "!tuple"}
# A file name of a hub folder: no directories, no hidden files.
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Kaldi's CMVN variance floor (apply-cmvn).
CMVN_VAR_FLOOR = 1.0e-20


class CheckpointError(ValueError):
    """A checkpoint of a hub folder that cannot be loaded as it is."""


class HubFolderError(ValueError):
    """A hub folder (or its hyperparams.yaml) that is refused."""


# ---------------------------------------------------------------------------
# Loading: strict tensors, plain files
# ---------------------------------------------------------------------------


def _torch_load(path):
    """``torch.load(weights_only=True)`` of a state dict; errors name it."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CheckpointError(
            f"{path}: refused: it holds more than tensors, so it cannot be "
            f"loaded with torch.load(weights_only=True) ({first})"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as err:
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({type(err).__name__}: "
            f"{' '.join(str(err).split())[:200]})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{path}: expected a state dict, got {type(state).__name__}"
        )
    return state


def load_strict(obj, path):
    """Loads a state dict into ``obj``: weights only, every key matching.

    SpeechBrain's default transfer calls ``load_state_dict(strict=False)``
    and only logs missing keys; a hub folder's ``Pretrainer`` names this
    function in ``custom_hooks`` instead.

    Arguments
    ---------
    obj : torch.nn.Module
        The module to load.
    path : str or os.PathLike
        The ``.ckpt`` file.

    Raises
    ------
    CheckpointError
        Naming the file (and key): not loadable with ``weights_only=True``
        (pickled objects other than tensors), not a state dict, a missing
        or unexpected key, a shape or dtype that differs.

    Example
    -------
    >>> tmp = getfixture("tmp_path")
    >>> torch.save({"weight": torch.ones(2, 3)}, tmp / "a.ckpt")
    >>> load_strict(torch.nn.Linear(3, 2, bias=False), tmp / "a.ckpt")
    >>> load_strict(torch.nn.Linear(3, 2), tmp / "a.ckpt")
    Traceback (most recent call last):
    sb_rectifier.inference.hybrid_asr.CheckpointError: .../a.ckpt: key 'bias' is missing (Linear expects 2 keys)
    """
    path = os.fspath(path)
    state = _torch_load(path)
    expected = obj.state_dict()
    what = type(obj).__name__
    for key in expected:
        if key not in state:
            raise CheckpointError(
                f"{path}: key {key!r} is missing ({what} expects "
                f"{len(expected)} keys)"
            )
    for key, value in state.items():
        if key not in expected:
            raise CheckpointError(
                f"{path}: unexpected key {key!r} (not a tensor of {what})"
            )
        want = expected[key]
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{path}: key {key!r} is a {type(value).__name__}, not a tensor"
            )
        if value.shape != want.shape:
            raise CheckpointError(
                f"{path}: key {key!r} has shape {tuple(value.shape)}, "
                f"{what} expects {tuple(want.shape)}"
            )
        if value.dtype.is_floating_point != want.dtype.is_floating_point:
            raise CheckpointError(
                f"{path}: key {key!r} has dtype {value.dtype}, {what} "
                f"expects {want.dtype}"
            )
    obj.load_state_dict(state, strict=True)


class FileBundle:
    """Files a hub folder ships inside one weights-only checkpoint.

    Pretrainer fetches a loadable only as ``<name>.ckpt``, so the graph,
    the symbol tables and the lexicon travel as byte tensors in a state
    dict (``{"words": uint8 tensor, ...}``), loaded with
    ``weights_only=True`` like the model (:func:`load_bundle`). The folder
    also holds the Kaldi files themselves (``HCLG.fst``, ``words.txt``,
    ``final.mdl``) for other tools.

    Arguments
    ---------
    names : list of str
        The files the bundle must hold, no more, no fewer.

    Example
    -------
    >>> bundle = FileBundle(["words"])
    >>> tmp = getfixture("tmp_path")
    >>> torch.save(
    ...     FileBundle.state_of({"words": b"<eps> 0\\n"}), tmp / "b.ckpt"
    ... )
    >>> load_bundle(bundle, tmp / "b.ckpt")
    >>> bundle.files["words"]
    b'<eps> 0\\n'
    """

    def __init__(self, names):
        self.names = list(names)
        self.files = None
        self.path = None

    @staticmethod
    def state_of(files):
        """The state dict of ``{name: bytes}`` (what export saves).

        Arguments
        ---------
        files : dict
            File name -> content.

        Returns
        -------
        dict
            Name -> 1-D uint8 tensor.
        """
        return {
            name: torch.frombuffer(bytearray(data), dtype=torch.uint8)
            for name, data in files.items()
        }

    def text(self, name):
        """A file of the bundle as UTF-8 text (errors name the file).

        Arguments
        ---------
        name : str
            The file's name in the bundle.

        Returns
        -------
        str
            The text.
        """
        try:
            return self.files[name].decode("utf-8")
        except UnicodeDecodeError as err:
            raise HubFolderError(
                f"{self.path}: {name}: not UTF-8 text ({err.reason} at byte "
                f"{err.start})"
            ) from None

    def symbols(self, name):
        """A Kaldi symbol table of the bundle: ``{symbol: id}``.

        Arguments
        ---------
        name : str
            The file's name in the bundle.

        Returns
        -------
        dict
            Symbol -> id.
        """
        ids = {}
        for number, line in enumerate(self.text(name).splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].isdigit():
                raise HubFolderError(
                    f"{self.path}: {name}:{number}: expected '<symbol> <id>', "
                    f"got {line.strip()!r}"
                )
            ids[fields[0]] = int(fields[1])
        return ids

    def lexicon(self, name):
        """A Kaldi ``lexicon.txt`` of the bundle: ``{word: [phones, ...]}``.

        Arguments
        ---------
        name : str
            The file's name in the bundle.

        Returns
        -------
        dict
            Word -> list of pronunciations (tuples of phones).
        """
        prons = {}
        for number, line in enumerate(self.text(name).splitlines(), 1):
            fields = line.split()
            if len(fields) == 1:
                raise HubFolderError(
                    f"{self.path}: {name}:{number}: word {fields[0]!r} has "
                    "no phones"
                )
            if fields:
                prons.setdefault(fields[0], []).append(tuple(fields[1:]))
        return prons

    def fst(self, name):
        """An OpenFst graph of the bundle (binary, as fstcompile writes).

        Arguments
        ---------
        name : str
            The file's name in the bundle.

        Returns
        -------
        kaldifst.StdVectorFst
            The graph.
        """
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "graph.fst")
            with open(path, "wb") as f:
                f.write(self.files[name])
            head = self.files[name][:64]
            fst = None
            if b"const" in head:
                const = kf.StdConstFst.read(path)
                if const is None:
                    # kaldifst 1.7.17 (the pinned release) reads no const
                    # FSTs; sb-rectifier export stores the vector form.
                    raise HubFolderError(
                        f"{self.path}: {name}: a const FST that kaldifst "
                        f"{getattr(kf, '__version__', '?')} cannot read "
                        "(1.7.17 reads only the vector form, which "
                        "sb-rectifier export stores)"
                    )
                fst = kf.StdVectorFst(const)
            elif b"vector" in head:
                fst = kf.StdVectorFst.read(path)
        if fst is None or fst.num_states == 0 or fst.start < 0:
            raise HubFolderError(
                f"{self.path}: {name}: not an OpenFst graph, or an empty one"
            )
        return fst


def load_bundle(obj, path):
    """Loads a :class:`FileBundle` checkpoint (weights only, exact names).

    Arguments
    ---------
    obj : FileBundle
        The bundle to fill.
    path : str or os.PathLike
        The ``.ckpt`` file.

    Raises
    ------
    CheckpointError
        Naming the file (and entry): not weights-only, a missing or
        unexpected file, an entry that is not a 1-D byte tensor.
    """
    path = os.fspath(path)
    state = _torch_load(path)
    for name in obj.names:
        if name not in state:
            raise CheckpointError(f"{path}: file {name!r} is missing")
    for name, value in state.items():
        if name not in obj.names:
            raise CheckpointError(f"{path}: unexpected file {name!r}")
        if (
            not isinstance(value, torch.Tensor)
            or value.dtype != torch.uint8
            or value.ndim != 1
        ):
            raise CheckpointError(
                f"{path}: {name!r} is not a 1-D uint8 tensor (file bytes)"
            )
    obj.files = {name: state[name].numpy().tobytes() for name in obj.names}
    obj.path = path


# ---------------------------------------------------------------------------
# Tensors: normalisation, priors, HMM tables
# ---------------------------------------------------------------------------


class GlobalNorm(torch.nn.Module):
    """``(x - mean) / std`` with the training set's statistics.

    Same buffers as the training recipe's ``GlobalNormalization``, whose
    checkpoint it loads.

    Arguments
    ---------
    feat_dim : int
        Feature dimension.

    Example
    -------
    >>> GlobalNorm(2)(torch.ones(1, 2))
    tensor([[1., 1.]])
    """

    def __init__(self, feat_dim):
        super().__init__()
        self.register_buffer("mean", torch.zeros(feat_dim))
        self.register_buffer("std", torch.ones(feat_dim))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        """Normalises the last dimension of ``x``.

        Arguments
        ---------
        x : torch.Tensor
            ``[..., feat_dim]``.

        Returns
        -------
        torch.Tensor
            Normalised ``x``.
        """
        return (x - self.mean) / self.std


class LogPriors(torch.nn.Module):
    """The training alignments' pdf priors, as log-probabilities.

    Same buffers as the training recipe's ``SenonePriors``.

    Arguments
    ---------
    num_pdfs : int
        Number of pdfs.

    Example
    -------
    >>> LogPriors(2)(torch.zeros(1, 2), 1.0)
    tensor([[0., 0.]])
    """

    def __init__(self, num_pdfs):
        super().__init__()
        self.register_buffer("counts", torch.zeros(num_pdfs, dtype=torch.long))
        self.register_buffer("log_priors", torch.zeros(num_pdfs))

    def forward(self, log_posteriors, prior_scale):
        """``log_posteriors - prior_scale * log_priors``.

        Arguments
        ---------
        log_posteriors : torch.Tensor
            ``[..., num_pdfs]``.
        prior_scale : float
            Exponent of the priors.

        Returns
        -------
        torch.Tensor
            Scaled log-likelihoods.
        """
        return log_posteriors - prior_scale * self.log_priors


class TransitionTables(torch.nn.Module):
    """What decoding and alignment need of the transition model.

    Per transition-id (index 0 unused): its pdf, its phone, and whether it
    leaves the phone's HMM (a phone ends on that frame). Exported from
    ``final.mdl``, which the folder also holds for Kaldi's tools.

    Arguments
    ---------
    num_transition_ids : int
        Number of transition-ids.

    Example
    -------
    >>> TransitionTables(4).tid2pdf.shape
    torch.Size([5])
    """

    def __init__(self, num_transition_ids):
        super().__init__()
        size = num_transition_ids + 1
        self.register_buffer("tid2pdf", torch.zeros(size, dtype=torch.long))
        self.register_buffer("tid2phone", torch.zeros(size, dtype=torch.long))
        self.register_buffer("ends_phone", torch.zeros(size, dtype=torch.bool))


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------


class KaldiFbank:
    """Kaldi filterbanks and CMVN, as the training data was made.

    Arguments
    ---------
    sample_rate : int
        The model's sample rate (Hz).
    num_mel_bins : int
        Number of mel bins.
    cmvn : bool
        Apply Kaldi's CMVN (per speaker when speakers are named, else per
        utterance), as ``apply-cmvn`` with the training ``cmvn.scp``.
    norm_vars : bool
        Also normalise variances (``apply-cmvn --norm-vars``).
    fbank_options : dict
        Further ``torchaudio.compliance.kaldi.fbank`` options (Kaldi's
        names with underscores: ``dither``, ``energy_floor``,
        ``frame_length``, ``frame_shift``, ...).

    Example
    -------
    >>> fbank = KaldiFbank(8000, 23, fbank_options={"dither": 0.0})
    >>> fbank.features(torch.zeros(800) + 1.0).shape
    (8, 23)
    """

    def __init__(
        self,
        sample_rate,
        num_mel_bins,
        cmvn=True,
        norm_vars=False,
        fbank_options=None,
    ):
        self.sample_rate = int(sample_rate)
        self.num_mel_bins = int(num_mel_bins)
        self.cmvn = bool(cmvn)
        self.norm_vars = bool(norm_vars)
        self.options = dict(fbank_options or {})

    @property
    def frame_shift_ms(self):
        """Frame shift in milliseconds."""
        return float(self.options.get("frame_shift", 10.0))

    @property
    def min_samples(self):
        """Samples of one analysis window (shorter signals have no frame)."""
        length_ms = float(self.options.get("frame_length", 25.0))
        return int(self.sample_rate * length_ms / 1000)

    def features(self, samples):
        """Filterbank features of one signal of 16-bit sample values.

        Arguments
        ---------
        samples : torch.Tensor
            1-D float signal, scaled as 16-bit integers (Kaldi reads WAV
            files that way).

        Returns
        -------
        numpy.ndarray
            float32 ``[frames, num_mel_bins]``.
        """
        from torchaudio.compliance.kaldi import fbank

        return fbank(
            samples.to("cpu", torch.float32).unsqueeze(0),
            sample_frequency=self.sample_rate,
            num_mel_bins=self.num_mel_bins,
            **self.options,
        ).numpy()

    def normalize_utterances(self, feats, speakers=None):
        """Applies CMVN to a list of utterances' features.

        Arguments
        ---------
        feats : list of numpy.ndarray
            ``[frames, dim]`` per utterance.
        speakers : list of str, optional
            One speaker per utterance: statistics are pooled over each
            speaker's utterances (Kaldi's ``cmvn.scp`` keyed by speaker).
            Without it, every utterance is its own speaker.

        Returns
        -------
        list of numpy.ndarray
            float32 features.
        """
        if not self.cmvn:
            return [np.asarray(f, dtype=np.float32) for f in feats]
        if speakers is None:
            speakers = list(range(len(feats)))
        groups = {}
        for index, speaker in enumerate(speakers):
            groups.setdefault(speaker, []).append(index)
        out = [None] * len(feats)
        for indices in groups.values():
            stats = cmvn_stats([feats[i] for i in indices])
            for i in indices:
                out[i] = apply_cmvn(feats[i], stats, self.norm_vars)
        return out


def cmvn_stats(feats_list):
    """Kaldi's ``compute-cmvn-stats``: ``[2, dim + 1]`` float64 sums.

    Arguments
    ---------
    feats_list : list of numpy.ndarray
        ``[frames, dim]`` float32 matrices of one speaker.

    Returns
    -------
    numpy.ndarray
        Row 0: sums and the frame count; row 1: sums of squares.

    Example
    -------
    >>> cmvn_stats([np.array([[1.0, 2.0], [3.0, 4.0]])]).tolist()
    [[4.0, 6.0, 2.0], [10.0, 20.0, 0.0]]
    """
    dim = feats_list[0].shape[1]
    stats = np.zeros((2, dim + 1), dtype=np.float64)
    for feats in feats_list:
        feats = np.asarray(feats, dtype=np.float32)
        # Kaldi adds frame by frame into double accumulators (the square
        # in float): add.reduce along axis 0 adds rows in order.
        stats[0, :dim] = np.add.reduce(
            np.concatenate([stats[:1, :dim], feats.astype(np.float64)]), axis=0
        )
        squares = (feats * feats).astype(np.float64)
        stats[1, :dim] = np.add.reduce(
            np.concatenate([stats[1:2, :dim], squares]), axis=0
        )
        stats[0, dim] += feats.shape[0]
    return stats


def apply_cmvn(feats, stats, norm_vars=False):
    """Kaldi's ``ApplyCmvn``: subtract the mean (and scale the variance).

    Arguments
    ---------
    feats : numpy.ndarray
        ``[frames, dim]``.
    stats : numpy.ndarray
        :func:`cmvn_stats` of the speaker.
    norm_vars : bool
        Also normalise the variance.

    Returns
    -------
    numpy.ndarray
        float32 features.

    Example
    -------
    >>> f = np.array([[1.0, 2.0], [3.0, 6.0]])
    >>> apply_cmvn(f, cmvn_stats([f]), norm_vars=True).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    feats = np.array(feats, dtype=np.float32)
    dim = feats.shape[1]
    count = stats[0, dim]
    if not norm_vars:
        alpha = np.float32(-1.0 / count)
        feats += (np.float64(alpha) * stats[0, :dim]).astype(np.float32)
        return feats
    mean = stats[0, :dim] / count
    var = stats[1, :dim] / count - mean * mean
    var = np.where(var < CMVN_VAR_FLOOR, CMVN_VAR_FLOOR, var)
    scale = 1.0 / np.sqrt(var)
    offset = -(mean * scale)
    return (
        feats * scale.astype(np.float32) + offset.astype(np.float32)
    ).astype(np.float32)


def splice(feats, left, right):
    """Context windows with the edge frames replicated (``splice-feats``).

    Arguments
    ---------
    feats : torch.Tensor
        ``[frames, dim]``.
    left : int
        Left context frames.
    right : int
        Right context frames.

    Returns
    -------
    torch.Tensor
        ``[frames, left + 1 + right, dim]``.

    Example
    -------
    >>> splice(torch.tensor([[1.0], [2.0]]), 1, 1)[:, :, 0].tolist()
    [[1.0, 1.0, 2.0], [1.0, 2.0, 2.0]]
    """
    frames = torch.arange(feats.shape[0])
    offsets = torch.arange(-left, right + 1)
    index = (frames[:, None] + offsets[None, :]).clamp(0, feats.shape[0] - 1)
    return feats[index]


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Alignment:
    """A forced alignment: word and phone segments, in seconds.

    Arguments
    ---------
    words : list of tuple
        ``(word, start, end)``.
    phones : list of tuple
        ``(phone, start, end)``, silence included.
    transition_ids : list of int
        The frame-level alignment (Kaldi's ``ali`` format).
    log_like : float
        Acoustic log-likelihood of the path.

    Example
    -------
    >>> ali = Alignment([("yes", 0.12, 0.5)], [], [], 0.0)
    >>> print(ali.ctm("utt1"), end="")
    utt1 1 0.12 0.38 yes
    """

    words: list
    phones: list
    transition_ids: list
    log_like: float

    def ctm(self, utt_id, channel="1", phones=False):
        """The segments as CTM lines (``utt channel start dur token``).

        Arguments
        ---------
        utt_id : str
            Recording / utterance id of the lines.
        channel : str
            Channel field.
        phones : bool
            Phone segments instead of words.

        Returns
        -------
        str
            One line per segment.
        """
        rows = self.phones if phones else self.words
        return "".join(
            f"{utt_id} {channel} {start:.2f} {end - start:.2f} {token}\n"
            for token, start, end in rows
        )


# ---------------------------------------------------------------------------
# Checking a hub folder before anything is built
# ---------------------------------------------------------------------------


def _walk_tags(node, path, out):
    """Collects ``(yaml path, tag, line)`` of every tagged node."""
    tag = getattr(getattr(node, "tag", None), "value", None)
    line = getattr(getattr(node, "lc", None), "line", None)
    if tag is not None:
        out.append((path, tag, line))
    if isinstance(node, dict):
        for key, value in node.items():
            _walk_tags(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk_tags(value, f"{path}[{index}]", out)
    return out


def _plain_names(node, what, where):
    """The values of a mapping of file names; each must be a plain name."""
    names = []
    if node is None:
        return names
    if not isinstance(node, dict):
        raise HubFolderError(f"{where}: {what} must be a mapping")
    for key, value in node.items():
        for name in (str(key), str(value)):
            if not PLAIN_NAME.match(name) or ".." in name:
                raise HubFolderError(
                    f"{where}: {what}: {name!r} is not a plain file name in "
                    "the folder (no directories, no '..', no leading dot)"
                )
        names.append(str(value))
    return names


def check_hparams_file(path):
    """Checks a hub ``hyperparams.yaml`` before it constructs anything.

    Only ``torch.nn`` classes, SpeechBrain's ``Pretrainer`` and the
    classes and loaders of this module (as ``custom_interface.<name>``)
    may be constructed or named; nothing may be called (``!apply``) or
    included (``!include``); the ``Pretrainer``'s loadables and paths are
    plain file names, so nothing is read or linked outside the folder.

    Arguments
    ---------
    path : str or os.PathLike
        The ``hyperparams.yaml``.

    Raises
    ------
    HubFolderError
        Naming the file, the key and the line.

    Example
    -------
    >>> tmp = getfixture("tmp_path")
    >>> _ = (tmp / "h.yaml").write_text("x: !apply:os.system [ls]\\n")
    >>> check_hparams_file(tmp / "h.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.inference.hybrid_asr.HubFolderError: .../h.yaml:1: x: '!apply:os.system' is not allowed ...
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            tree = YAML(typ="rt").load(f)
    except (YAMLError, UnicodeDecodeError) as err:
        message = " ".join(str(err).split())
        raise HubFolderError(f"{path}: not a YAML file: {message}") from None
    if not isinstance(tree, dict):
        raise HubFolderError(f"{path}: expected a mapping of hyperparameters")
    for key, tag, line in _walk_tags(tree, "", []):
        where = f"{path}:{line + 1}" if line is not None else path
        kind, _, target = tag.partition(":")
        allowed = tag in ALLOWED_TAGS or (
            kind in ("!new", "!name")
            and (
                target in ALLOWED_NAMES
                or any(target.startswith(p) for p in ALLOWED_PREFIXES)
            )
        )
        if not allowed:
            raise HubFolderError(
                f"{where}: {key}: {tag!r} is not allowed in a model folder "
                "loaded by HybridASR (only torch.nn classes, SpeechBrain's "
                f"Pretrainer and {HUB_MODULE}.* may be built); if you trust "
                "this folder, load it with hyperpyyaml yourself"
            )
    for required in ("modules", "pretrainer"):
        if required not in tree:
            raise HubFolderError(f"{path}: no {required!r} key")
    pretrainer = tree["pretrainer"]
    where = f"{path}: pretrainer"
    if not isinstance(pretrainer, dict):
        raise HubFolderError(f"{where}: expected a Pretrainer mapping")
    _plain_names(pretrainer.get("paths"), "paths", where)
    for name in pretrainer.get("loadables") or {}:
        if not PLAIN_NAME.match(str(name)):
            raise HubFolderError(
                f"{where}: loadable name {name!r} is not a plain name"
            )


@contextlib.contextmanager
def _bound_as_hub_module():
    """Makes ``custom_interface`` name this module while a YAML is built."""
    missing = object()
    previous = sys.modules.get(HUB_MODULE, missing)
    sys.modules[HUB_MODULE] = sys.modules[__name__]
    try:
        yield
    finally:
        if previous is missing:
            del sys.modules[HUB_MODULE]
        else:
            sys.modules[HUB_MODULE] = previous


# ---------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------


class HybridASR(Pretrained):
    """A DNN-HMM hybrid recogniser exported by ``sb-rectifier export``.

    Arguments
    ---------
    *args, **kwargs
        As :class:`speechbrain.inference.interfaces.Pretrained`; use
        :meth:`from_hparams`.

    Example
    -------
    >>> asr = HybridASR.from_hparams(source="model_dir")  # doctest: +SKIP
    >>> asr.transcribe_file("model_dir/example.wav")  # doctest: +SKIP
    'FIVE THREE NINE'
    """

    HPARAMS_NEEDED = [
        "features",
        "context_left",
        "context_right",
        "prior_scale",
        "lm_weight",
        "beam",
        "max_active",
        "transitions",
        "decoding",
        "alignment",
        "silence_phones",
    ]
    MODULES_NEEDED = ["model", "normalizer", "priors"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hp = self.hparams
        self.features = hp.features
        self.tables = hp.transitions
        self.tid2pdf = hp.transitions.tid2pdf.numpy()
        self.graph = hp.decoding.fst("HCLG.fst")
        self.word_ids = hp.decoding.symbols("words.txt")
        self.id2word = {i: w for w, i in self.word_ids.items()}
        phone_ids = hp.alignment.symbols("phones.txt")
        self.id2phone = {i: p for p, i in phone_ids.items()}
        self.lexicon = hp.alignment.lexicon("lexicon.txt")
        self.lexicon_fst = hp.alignment.fst("L.fst")
        self.hmm_fst = hp.alignment.fst("H.fst")
        self.eval_max_frames = int(getattr(hp, "eval_max_frames", 20000))
        self._align_graphs = {}

    @classmethod
    def from_hparams(
        cls, source, hparams_file="hyperparams.yaml", savedir=None, **kwargs
    ):
        """Loads a hub folder after checking its ``hyperparams.yaml``.

        Arguments
        ---------
        source : str or os.PathLike
            A local folder or a HuggingFace repository id (found in the
            HuggingFace cache when offline).
        hparams_file : str
            The hyperparameter file of the folder.
        savedir : str or os.PathLike, optional
            Where the files are linked or copied (default: none; they are
            read where they are).
        **kwargs : dict
            Passed to ``Pretrained.from_hparams`` (``run_opts``, ...).

        Returns
        -------
        HybridASR
            The loaded recogniser.
        """
        from speechbrain.utils.fetching import fetch

        if not PLAIN_NAME.match(str(hparams_file)):
            raise HubFolderError(
                f"{hparams_file!r}: not a plain file name in the folder"
            )
        text = os.fspath(source) if isinstance(source, os.PathLike) else source
        looks_local = (
            isinstance(source, os.PathLike)
            or text.startswith((".", "/", "~"))
            or text.count("/") != 1
        )
        if looks_local or os.path.exists(text):
            source = os.path.expanduser(text)
            if not os.path.isdir(source):
                raise FileNotFoundError(
                    f"{source}: model folder not found (a HuggingFace "
                    "repository id is 'namespace/name')"
                )
            local = os.path.join(source, hparams_file)
            if not os.path.isfile(local):
                raise FileNotFoundError(
                    f"{local}: not found (is {source} a folder written by "
                    "sb-rectifier export?)"
                )
        try:
            path = fetch(
                filename=hparams_file,
                source=source,
                savedir=savedir,
                save_filename=None,
            )
        except (OSError, ValueError) as err:
            raise FileNotFoundError(
                f"{source}: cannot fetch {hparams_file} (no such repository, "
                "or offline and not in the HuggingFace cache): "
                f"{' '.join(str(err).split())}"
            ) from None
        check_hparams_file(path)
        with _bound_as_hub_module():
            return super().from_hparams(
                source, hparams_file=hparams_file, savedir=savedir, **kwargs
            )

    # -- audio -------------------------------------------------------------

    def load_audio(self, path, savedir=None):
        """Reads a mono audio file as 16-bit-scaled samples at the model's
        rate (resampled, with a log line, when the file's rate differs).

        Arguments
        ---------
        path : str or os.PathLike
            The audio file (any format libsndfile reads).
        savedir : None
            Unused (SpeechBrain's signature).

        Returns
        -------
        torch.Tensor
            1-D float32 signal in [-1, 1).

        Raises
        ------
        FileNotFoundError, ValueError
            Naming the file: missing, unreadable, not mono, empty or
            shorter than one analysis window.
        """
        import soundfile as sf

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: audio file not found")
        try:
            samples, rate = sf.read(path, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, TypeError) as err:
            raise ValueError(
                f"{path}: cannot read audio ({' '.join(str(err).split())})"
            ) from None
        if samples.shape[1] != 1:
            raise ValueError(
                f"{path}: {samples.shape[1]} channels; HybridASR takes mono "
                "speech (pick or mix the channel you want first, e.g. "
                "`sox in.wav -c 1 out.wav remix 1`)"
            )
        signal = torch.from_numpy(samples[:, 0].copy())
        expected = self.features.sample_rate
        if rate != expected:
            import torchaudio.functional as AF

            logger.info(
                f"{path}: resampled from {rate} Hz to the model's {expected} Hz"
            )
            signal = AF.resample(signal, rate, expected)
        self._check_length(signal.numel(), path)
        return signal

    def _check_length(self, num_samples, where):
        if num_samples == 0:
            raise ValueError(f"{where}: empty signal (0 samples)")
        needed = self.features.min_samples
        if num_samples < needed:
            rate = self.features.sample_rate
            raise ValueError(
                f"{where}: {num_samples / rate * 1000:.1f} ms of audio is "
                f"too short: at least {needed / rate * 1000:.0f} ms (one "
                "analysis window) is needed"
            )

    # -- scores --------------------------------------------------------------

    def _signals(self, wavs, wav_lens):
        """Unpads a batch; checks shapes and lengths."""
        if not isinstance(wavs, torch.Tensor) or wavs.ndim not in (1, 2):
            raise ValueError(
                "wavs: expected a [batch, time] tensor of mono signals, got "
                f"{getattr(wavs, 'shape', type(wavs).__name__)}"
            )
        if wavs.ndim == 1:
            wavs = wavs.unsqueeze(0)
        if wav_lens is None:
            wav_lens = torch.ones(wavs.shape[0])
        wav_lens = torch.as_tensor(wav_lens, dtype=torch.float64).cpu()
        if wav_lens.shape != (wavs.shape[0],):
            raise ValueError(
                f"wav_lens: expected {wavs.shape[0]} relative lengths, got "
                f"shape {tuple(wav_lens.shape)}"
            )
        if ((wav_lens <= 0) | (wav_lens > 1)).any():
            raise ValueError("wav_lens: relative lengths must be in (0, 1]")
        signals = []
        for index in range(wavs.shape[0]):
            n = int(torch.round(wav_lens[index] * wavs.shape[1]))
            self._check_length(n, f"wavs[{index}]")
            signals.append(wavs[index, :n].detach().float().cpu() * 32768.0)
        return signals

    def _normalized_feats(self, signals, speakers):
        if speakers is not None and len(speakers) != len(signals):
            raise ValueError(
                f"speakers: {len(speakers)} names for {len(signals)} signals"
            )
        feats = [self.features.features(s) for s in signals]
        return self.features.normalize_utterances(feats, speakers)

    @torch.no_grad()
    def _scores(self, wavs, wav_lens, speakers, likelihoods):
        """Per-utterance log posteriors (or log-likelihoods), batched."""
        feats = self._normalized_feats(self._signals(wavs, wav_lens), speakers)
        left, right = self.hparams.context_left, self.hparams.context_right
        lengths = [f.shape[0] for f in feats]
        outputs = []
        start = 0
        # Whole utterances, up to eval_max_frames frames per network pass.
        while start < len(feats):
            stop, frames = start, 0
            while stop < len(feats) and (
                stop == start or frames + lengths[stop] <= self.eval_max_frames
            ):
                frames += lengths[stop]
                stop += 1
            windows = torch.cat(
                [
                    splice(torch.from_numpy(f), left, right)
                    for f in feats[start:stop]
                ]
            ).to(self.device)
            logits = self.mods.model(self.mods.normalizer(windows).flatten(1))
            scores = torch.log_softmax(logits.float(), dim=-1)
            if likelihoods:
                scores = self.mods.priors(scores, self.hparams.prior_scale)
            outputs.extend(scores.cpu().split(lengths[start:stop]))
            start = stop
        return list(outputs)

    def log_posteriors(self, wavs, wav_lens=None, speakers=None):
        """Per-frame log posteriors ``log p(pdf | x)`` of each signal.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` mono signals in [-1, 1) at the model's rate.
        wav_lens : torch.Tensor, optional
            Relative lengths (SpeechBrain's convention); default all 1.
        speakers : list of str, optional
            The speaker of each signal: CMVN statistics are pooled per
            speaker, as in training. Default: per utterance.

        Returns
        -------
        list of torch.Tensor
            ``[frames, num_pdfs]`` per signal.
        """
        return self._scores(wavs, wav_lens, speakers, likelihoods=False)

    def log_likelihoods(self, wavs, wav_lens=None, speakers=None):
        """Scaled log-likelihoods ``log p(pdf | x) - prior_scale * log
        p(pdf)``: what Kaldi's ``latgen-faster-mapped`` reads.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` mono signals in [-1, 1) at the model's rate.
        wav_lens : torch.Tensor, optional
            Relative lengths; default all 1.
        speakers : list of str, optional
            See :meth:`log_posteriors`.

        Returns
        -------
        list of torch.Tensor
            ``[frames, num_pdfs]`` per signal.
        """
        return self._scores(wavs, wav_lens, speakers, likelihoods=True)

    # -- decoding ------------------------------------------------------------

    def _viterbi(self, graph, loglik, acoustic_scale, beam):
        """Best path: ``(word ids, transition-ids, reached final, cost)``."""
        matrix = np.asarray(loglik, dtype=np.float32)
        mapped = float(acoustic_scale) * matrix[:, self.tid2pdf[1:]]
        decodable = kd.DecodableCtc(np.ascontiguousarray(mapped, np.float32))
        options = kd.FasterDecoderOptions(
            beam=float(beam), max_active=int(self.hparams.max_active)
        )
        decoder = kd.FasterDecoder(graph, options)
        decoder.decode(decodable)
        reached = decoder.reached_final()
        ok, best = decoder.get_best_path(use_final_probs=reached)
        if not ok:
            return None
        ok, tids, words, weight = kf.get_linear_symbol_sequence(best)
        acoustic = float(weight.value2) / float(acoustic_scale)
        return (
            [int(w) for w in words],
            [int(t) for t in tids],
            reached,
            acoustic,
        )

    def decode_log_likelihoods(self, logliks):
        """Words of each utterance from its log-likelihoods.

        Arguments
        ---------
        logliks : list of torch.Tensor
            :meth:`log_likelihoods` of the utterances.

        Returns
        -------
        list of list of str
            The words of each utterance.
        """
        graph = self.graph
        scale = 1.0 / float(self.hparams.lm_weight)
        hyps = []
        for loglik in logliks:
            best = self._viterbi(
                graph, loglik.numpy(), scale, self.hparams.beam
            )
            words = [] if best is None else best[0]
            hyps.append([self.id2word[w] for w in words])
        return hyps

    def transcribe_batch(self, wavs, wav_lens=None, speakers=None):
        """Transcribes a batch of signals.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` mono signals in [-1, 1) at the model's rate.
        wav_lens : torch.Tensor, optional
            Relative lengths; default all 1.
        speakers : list of str, optional
            See :meth:`log_posteriors`.

        Returns
        -------
        list of str
            One transcript per signal (words joined by spaces).
        """
        logliks = self.log_likelihoods(wavs, wav_lens, speakers)
        return [" ".join(w) for w in self.decode_log_likelihoods(logliks)]

    def transcribe_file(self, path):
        """Transcribes one audio file.

        Arguments
        ---------
        path : str or os.PathLike
            A mono audio file.

        Returns
        -------
        str
            The transcript.
        """
        return self.transcribe_batch(self.load_audio(path).unsqueeze(0))[0]

    def forward(self, wavs, wav_lens=None):
        """Transcribes a batch (see :meth:`transcribe_batch`)."""
        return self.transcribe_batch(wavs, wav_lens)

    # -- alignment -----------------------------------------------------------

    def _alignment_graph(self, word_ids):
        """H o L o (linear acceptor of the words), cached per transcript."""
        key = tuple(word_ids)
        if key not in self._align_graphs:
            G = kf.StdVectorFst()
            states = [G.add_state() for _ in range(len(word_ids) + 1)]
            G.start = states[0]
            for i, wid in enumerate(word_ids):
                G.add_arc(states[i], kf.StdArc(wid, wid, 0.0, states[i + 1]))
            G.set_final(states[-1], 0.0)
            L = kf.StdVectorFst(self.lexicon_fst)
            H = kf.StdVectorFst(self.hmm_fst)
            kf.arcsort(L, sort_type="olabel")
            LG = kf.compose(L, G)
            kf.arcsort(H, sort_type="olabel")
            kf.arcsort(LG, sort_type="ilabel")
            HLG = kf.compose(H, LG)
            kf.rmepsilon(HLG)
            kf.arcsort(HLG, sort_type="ilabel")
            self._align_graphs = {key: HLG}  # keep one
        return self._align_graphs[key]

    def align_file(self, path, text, beam=10.0, retry_beam=40.0):
        """Forced alignment of a known transcript (Kaldi's ``align-mapped``).

        Arguments
        ---------
        path : str or os.PathLike
            A mono audio file.
        text : str
            Its transcript: words of the model's lexicon.
        beam : float
            Viterbi beam.
        retry_beam : float
            Wider beam tried when the first finds no complete path.

        Returns
        -------
        Alignment
            Word and phone segments (seconds) and the transition-ids.

        Raises
        ------
        ValueError
            A word that is not in the lexicon, an empty transcript, or
            audio that does not fit the transcript even with the wider
            beam (naming the file).
        """
        path = os.fspath(path)
        words = text.split()
        if not words:
            raise ValueError(f"{path}: empty transcript")
        lexicon = self.lexicon
        word_ids = self.word_ids
        unknown = [w for w in words if w not in lexicon or w not in word_ids]
        if unknown:
            raise ValueError(
                f"{path}: not in the model's lexicon ({len(lexicon)} words): "
                + " ".join(dict.fromkeys(unknown))
            )
        signal = self.load_audio(path)
        loglik = self.log_likelihoods(signal.unsqueeze(0))[0].numpy()
        graph = self._alignment_graph([word_ids[w] for w in words])
        scale = float(getattr(self.hparams, "align_acoustic_scale", 0.1))
        best = None
        for b in (beam, retry_beam):
            best = self._viterbi(graph, loglik, scale, b)
            if best is not None and best[2]:
                break
            logger.info(f"{path}: no alignment with beam {b:g}")
        if best is None or not best[2]:
            raise ValueError(
                f"{path}: the audio does not fit the transcript "
                f"{text!r} (no complete path with beam {retry_beam:g})"
            )
        tids = best[1]
        phones = self._phone_segments(tids)
        return Alignment(
            words=self._word_segments(words, phones, path),
            phones=phones,
            transition_ids=tids,
            log_like=-best[3],
        )

    def _phone_segments(self, tids):
        """Phone segments of an alignment, ``(phone, start s, end s)``."""
        shift = self.features.frame_shift_ms / 1000.0
        tid2phone = self.tables.tid2phone
        ends = self.tables.ends_phone
        segments, start = [], 0
        for t, tid in enumerate(tids):
            if bool(ends[tid]) or t == len(tids) - 1:
                phone = self.id2phone[int(tid2phone[tids[start]])]
                segments.append(
                    (phone, round(start * shift, 3), round((t + 1) * shift, 3))
                )
                start = t + 1
        return segments

    def _word_segments(self, words, phones, where):
        """Groups non-silence phone segments into the words, following
        each word's pronunciations (Kaldi's lexicon-based word alignment)."""
        silence = set(self.hparams.silence_phones)
        spoken = [seg for seg in phones if seg[0] not in silence]
        names = [seg[0] for seg in spoken]
        prons = self.lexicon
        memo = {}

        def split(i, j):  # pronunciation lengths of words[i:] on names[j:]
            if i == len(words):
                return [] if j == len(names) else None
            if (i, j) not in memo:
                memo[(i, j)] = None
                for pron in prons[words[i]]:
                    if tuple(names[j : j + len(pron)]) == pron:
                        rest = split(i + 1, j + len(pron))
                        if rest is not None:
                            memo[(i, j)] = [len(pron), *rest]
                            break
            return memo[(i, j)]

        sizes = split(0, 0)
        if sizes is None:
            raise ValueError(
                f"{where}: the aligned phones {' '.join(names)} do not spell "
                "the transcript with the lexicon"
            )
        out, j = [], 0
        for word, size in zip(words, sizes, strict=True):
            out.append((word, spoken[j][1], spoken[j + size - 1][2]))
            j += size
        return out
