"""The experiment folder: one run at a time, named by its data, never
resumed from another experiment's checkpoints.

* :func:`lock_output_folder`: a second ``train.py`` started into a folder
  in use stops at once, naming the run that holds it (the lock is a
  ``flock``, gone when its process dies however it dies).
* :func:`derive_data_name`: the output folder is
  ``results/<unit>_<L>x<N>/<data_name>/<seed>``. For the embedded corpus
  ``data_name`` says which corpus (``embedded_1.0h_seed0``); when the data
  directories are given (``--data_folder``, ``--train_dir``, ...) and
  ``data_name`` is not, it is made from the data folder's name and a hash
  of the absolute data paths, so two data sets never share a folder.
* :func:`check_experiment_identity`: ``experiment.json`` in the output
  folder records the data (paths, pdfs, feature dim, a digest of the
  training frames' labels) and the network's shape. A re-run with
  checkpoints from other data or another network is refused, naming what
  differs, instead of resuming (or crashing in ``load_state_dict``).

Authors
 * sb_rectifier developers 2026
"""

import hashlib
import json
import os
import re

import numpy as np

from sb_rectifier.files import read_json, write_json
from sb_rectifier.locks import RunLock

DATA_KEYS = (
    "data_folder",
    "train_dir",
    "train_ali_dir",
    "dev_dir",
    "dev_ali_dir",
    "test_dir",
    "test_ali_dir",
)
MODEL_KEYS = (
    "activation",
    "activation_kwargs",
    "num_layers",
    "neurons",
    "norm",
    "context_left",
    "context_right",
)
IDENTITY_FILE = "experiment.json"


class ExperimentMismatchError(ValueError):
    """The output folder holds checkpoints of another experiment."""


def lock_output_folder(folder):
    """Takes the output folder for this run (see :class:`RunLock`).

    Arguments
    ---------
    folder : str
        The output folder (created).

    Returns
    -------
    RunLock
        The held lock; release it when the run ends.

    Example
    -------
    >>> out = getfixture("tmp_path") / "exp"
    >>> lock = lock_output_folder(out)
    >>> lock_output_folder(out)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.locks.FolderInUseError: ...in use by another run (pid ...
    >>> lock.release()
    """
    return RunLock.for_folder(
        folder,
        "output folder",
        hint="Wait for it to finish, or give this run another --output_folder",
    ).acquire()


def derive_data_name(overrides):
    """A ``data_name`` for data given by path, or None.

    Arguments
    ---------
    overrides : dict
        The experiment's overrides (YAML file keys and command line).

    Returns
    -------
    str or None
        ``<name of the data folder>-<8 hex digits>`` when data
        directories are overridden and ``data_name`` is not; else None.

    Example
    -------
    >>> name = derive_data_name({"data_folder": "/corpora/swbd/s5c"})
    >>> re.fullmatch(r"s5c-[0-9a-f]{8}", name) is not None
    True
    >>> derive_data_name({"data_folder": "x", "data_name": "mine"}) is None
    True
    >>> derive_data_name({"lr": 0.1}) is None
    True
    """
    given = {k: str(overrides[k]) for k in DATA_KEYS if k in overrides}
    if not given or "data_name" in overrides:
        return None
    anchor = given.get("data_folder") or given.get("train_dir") or "data"
    base = os.path.basename(os.path.normpath(os.path.abspath(anchor)))
    base = re.sub(r"[^A-Za-z0-9._+-]+", "_", base).strip("._") or "data"
    key = json.dumps(
        {k: os.path.abspath(v) for k, v in sorted(given.items())},
        sort_keys=True,
    )
    return f"{base}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def labels_digest(store):
    """A digest of a labelled store's utterances, lengths and labels.

    Arguments
    ---------
    store : sb_rectifier.data.FrameStore
        The training frames.

    Returns
    -------
    str
        Hex digest.

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.data import FrameStore
    >>> store = FrameStore(
    ...     torch.zeros(3, 1), [0, 3], ["u"], torch.tensor([0, 1, 1])
    ... )
    >>> len(labels_digest(store))
    40
    """
    digest = hashlib.sha1()
    digest.update("\n".join(store.utt_ids).encode())
    digest.update(np.asarray(store.offsets.cpu(), dtype=np.int64).tobytes())
    if store.labels is not None:
        labels = np.asarray(store.labels.cpu(), dtype=np.int32)
        digest.update(labels.tobytes())
    return digest.hexdigest()


def experiment_identity(hparams, train_store, num_pdfs, input_size):
    """What makes two runs the same experiment (see module docs).

    Arguments
    ---------
    hparams : dict
        The hyperparameters.
    train_store : sb_rectifier.data.FrameStore
        The training frames.
    num_pdfs : int
        Number of pdfs.
    input_size : int
        The network's input size.

    Returns
    -------
    dict
        ``{"data": {...}, "model": {...}}``.
    """
    data = {
        key: os.path.abspath(str(hparams[key]))
        for key in DATA_KEYS
        if key != "data_folder" and hparams.get(key) is not None
    }
    data.update(
        num_pdfs=int(num_pdfs),
        feat_dim=int(train_store.feat_dim),
        train_utterances=train_store.num_utts,
        train_frames=int(train_store.num_frames),
        train_labels_sha1=labels_digest(train_store),
    )
    model = {key: _plain(hparams.get(key)) for key in MODEL_KEYS}
    model["input_size"] = int(input_size)
    return {"data": data, "model": model}


def _plain(value):
    """JSON-friendly form of a hyperparameter (a class becomes its name)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    name = getattr(value, "__qualname__", None) or type(value).__name__
    return f"{getattr(value, '__module__', '')}.{name}".lstrip(".")


def _differences(old, new, prefix=""):
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} there, {b!r} now")
    return out


def check_experiment_identity(output_folder, save_folder, identity):
    """Refuses to resume checkpoints of another experiment; records this one.

    Arguments
    ---------
    output_folder : str
        The experiment folder (``experiment.json`` goes there).
    save_folder : str
        The checkpoint folder.
    identity : dict
        From :func:`experiment_identity`.

    Example
    -------
    >>> out = getfixture("tmp_path")
    >>> (out / "save" / "CKPT+1").mkdir(parents=True)
    >>> check_experiment_identity(out, out / "save", {"data": {"pdfs": 9}})
    >>> check_experiment_identity(out, out / "save", {"data": {"pdfs": 6}})
    Traceback (most recent call last):
    sb_rectifier.recipe.experiment.ExperimentMismatchError: ...
    """
    path = os.path.join(output_folder, IDENTITY_FILE)
    has_checkpoints = os.path.isdir(save_folder) and any(
        name.startswith("CKPT+") for name in os.listdir(save_folder)
    )
    if has_checkpoints and os.path.isfile(path):
        old = read_json(path, "experiment record")
        # What changed in the network or the data first, then the paths.
        differences = sorted(
            _differences(old, identity), key=lambda d: "/" in d
        )
        if differences:
            raise ExperimentMismatchError(
                f"{output_folder}: holds checkpoints of another experiment "
                f"({'; '.join(differences[:4])}). Resuming them would mix "
                "the two. Give this run another --output_folder (or "
                "--data_name), or delete that folder to start afresh."
            )
    write_json(path, identity)
