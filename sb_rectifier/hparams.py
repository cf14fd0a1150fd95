"""Loading experiment YAML files that extend a shared base.

``hparams/relu.yaml`` holds only what makes the ReLU experiment differ
from the others (the hidden unit) and names its base::

    extends: base.yaml
    activation: relu

The base file is then loaded with HyperPyYAML, with the extending file's
keys and the command-line overrides applied on top (command line last).
A base may itself extend another file
(``hparams/paper/relu.yaml`` -> ``paper/base.yaml`` -> ``base.yaml``); the
file without ``extends:`` is loaded, the others applied in order. Every
overridden key must exist in that root file: a typo is an error naming
the key and the file, never a silently ignored setting. (A mapping that is
empty in the base, such as ``activation_kwargs: {}``, is free-form.) A file without
``extends:`` is loaded as plain HyperPyYAML.

Authors
 * sb_rectifier developers 2026
"""

import copy
import io
import os

import ruamel.yaml
from hyperpyyaml import load_hyperpyyaml

EXTENDS_KEY = "extends"


def _read_yaml(text, source):
    """Round-trip parses YAML (tags kept), naming ``source`` on errors."""
    try:
        return ruamel.yaml.YAML().load(text)
    except ruamel.yaml.YAMLError as err:
        raise ValueError(f"{source}: malformed YAML: {err}") from err


def _merge(base, update, source, path=""):
    """Recursively applies ``update`` to ``base``; keys must exist."""
    for key, value in update.items():
        if key not in base:
            known = ", ".join(str(k) for k in base)
            raise KeyError(
                f"{source}: unknown hyperparameter '{path}{key}' "
                f"(not in the base YAML; known keys: {known})"
            )
        if (
            isinstance(value, dict)
            and isinstance(base[key], dict)
            and base[key]
        ):
            _merge(base[key], value, source, f"{path}{key}.")
        else:
            # A scalar, or a free-form mapping that is empty in the base
            # (e.g. activation_kwargs: {}), is replaced as a whole.
            base[key] = value


def resolve_hparams_file(hparams_file, overrides=None):
    """Finds the base file and the merged overrides for an experiment.

    Arguments
    ---------
    hparams_file : str
        The experiment YAML (may contain ``extends: <base file>``).
    overrides : str or dict, optional
        Command-line overrides (YAML text or a mapping).

    Returns
    -------
    tuple
        ``(base_file, merged_overrides)``: the file HyperPyYAML loads and
        the overrides to load it with (a ruamel mapping).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = tmp.join("base.yaml").write(
    ...     "activation: !PLACEHOLDER\\nlayers: 2\\n"
    ... )
    >>> _ = tmp.join("relu.yaml").write(
    ...     "extends: base.yaml\\nactivation: relu\\n"
    ... )
    >>> base, merged = resolve_hparams_file(
    ...     tmp.join("relu.yaml").strpath, "layers: 3"
    ... )
    >>> os.path.basename(base), dict(merged)
    ('base.yaml', {'activation': 'relu', 'layers': 3})
    """
    chain = _extends_chain(hparams_file)
    if isinstance(overrides, str):
        overrides = _read_yaml(overrides, "command-line overrides") or {}
    overrides = overrides or {}
    if len(chain) == 1:
        return hparams_file, overrides
    root_file, root = chain[-1]
    # Every key set along the chain, and on the command line, must exist
    # in the root file (checked on a copy; HyperPyYAML reads the file).
    probe = copy.deepcopy(root)
    merged = type(chain[0][1])()
    for path, doc in reversed(chain[:-1]):
        _merge(probe, copy.deepcopy(doc), path)
        _overlay(merged, doc)
    _merge(probe, copy.deepcopy(overrides), "command-line overrides")
    for key, value in overrides.items():
        merged[key] = value
    return root_file, merged


def _extends_chain(hparams_file):
    """``[(path, parsed YAML)]`` from ``hparams_file`` to the file with no
    ``extends:`` (each file's ``extends`` key removed)."""
    if not os.path.isfile(hparams_file):
        raise FileNotFoundError(
            f"{hparams_file}: hyperparameter file not found"
        )
    chain, path = [], hparams_file
    seen = set()
    while True:
        seen.add(os.path.abspath(path))
        with open(path, encoding="utf-8") as fin:
            doc = _read_yaml(fin.read(), path)
        chain.append((path, doc))
        if not isinstance(doc, dict) or EXTENDS_KEY not in doc:
            return chain
        base_file = os.path.join(
            os.path.dirname(os.path.abspath(path)), str(doc.pop(EXTENDS_KEY))
        )
        if not os.path.isfile(base_file):
            raise FileNotFoundError(
                f"{path}: base file '{base_file}' (extends:) not found"
            )
        if os.path.abspath(base_file) in seen:
            raise ValueError(
                f"{path}: extends: {base_file}, which extends {path} again "
                "(a loop)"
            )
        path = base_file


def _overlay(merged, doc):
    """Applies ``doc`` on ``merged``, merging nested mappings."""
    for key, value in doc.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            _overlay(merged[key], value)
        else:
            merged[key] = value


def load_hparams(hparams_file, overrides=None):
    """Loads an experiment YAML (following ``extends:``) with overrides.

    Arguments
    ---------
    hparams_file : str
        The experiment YAML.
    overrides : str or dict, optional
        Command-line overrides.

    Returns
    -------
    tuple
        ``(hparams, base_file, merged_overrides)``; pass the last two to
        ``speechbrain.create_experiment_directory`` so the saved
        ``hyperparams.yaml`` is the fully resolved experiment.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = tmp.join("b.yaml").write("unit: !PLACEHOLDER\\nsize: 2\\n")
    >>> _ = tmp.join("e.yaml").write("extends: b.yaml\\nunit: tanh\\n")
    >>> hparams, _, _ = load_hparams(tmp.join("e.yaml").strpath)
    >>> hparams["unit"], hparams["size"]
    ('tanh', 2)
    """
    base_file, merged = resolve_hparams_file(hparams_file, overrides)
    with open(base_file, encoding="utf-8") as fin:
        text = fin.read()
    stream = io.StringIO(text)
    stream.name = base_file  # lets !include: resolve relative paths
    try:
        hparams = load_hyperpyyaml(stream, merged)
    except ruamel.yaml.YAMLError as err:
        raise ValueError(f"{base_file}: malformed YAML: {err}") from err
    except KeyError as err:
        raise KeyError(f"{hparams_file}: {err}") from err
    except ValueError as err:
        raise ValueError(f"{hparams_file}: {err}") from err
    return hparams, base_file, merged
