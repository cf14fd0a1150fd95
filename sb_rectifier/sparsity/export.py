"""Sparsity statistics on disk: versioned JSON, per-unit CSV, plots.

The JSON file holds every monitored layer of one pass over the data::

    {"schema": "sb_rectifier.sparsity", "version": 2,
     "meta": {"epoch": 3, "unit": "relu", "frames": 10000,
              "last_hidden_layer": "layers.3.act", ...},
     "layers": {"layers.0.act": {...LayerStatistics.result()...}, ...}}

Version 2 stores the exact counts (``active_frames``, ``zero_frames``,
``sum``, ``sum_of_squares``) next to the figures derived from them, and no
longer min / max. Version 1 files are read too: every figure that the CLI,
plots and docs/regenerate.py use has the same name in both. Non-finite
numbers are written as ``null``. Every file is written atomically
(:mod:`sb_rectifier.files`).

Authors
 * sb_rectifier developers 2026
"""

import json
import math
import os
import re

from sb_rectifier import files

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "export_all",
    "read_json",
    "write_csv",
    "write_json",
]

#: Name of the JSON schema.
SCHEMA = "sb_rectifier.sparsity"

#: Version written; :func:`read_json` also reads version 1.
SCHEMA_VERSION = 2
_READABLE = (1, 2)


def _finite(value):
    """Non-finite floats -> None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _safe_name(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "layer"


def write_json(results, path, meta=None):
    """Writes layer results to a versioned JSON file; returns the path.

    ``meta`` gets ``last_hidden_layer`` (the last layer) and ``frames`` (its
    frame count) unless given.

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(2)
    >>> stats.update(torch.tensor([[0.0, 1.0]]))
    >>> path = getfixture("tmp_path") / "s.json"
    >>> _ = write_json({"layers.0.act": stats.result()}, path, {"split": "dev"})
    >>> read_json(path)["meta"]
    {'split': 'dev', 'last_hidden_layer': 'layers.0.act', 'frames': 1}
    """
    meta = dict(meta or {})
    if results:
        last = list(results)[-1]
        meta.setdefault("last_hidden_layer", last)
        meta.setdefault("frames", results[last]["frames"])
    doc = {"schema": SCHEMA, "version": SCHEMA_VERSION, "meta": meta}
    doc["layers"] = dict(results)
    text = json.dumps(_finite(doc), allow_nan=False) + "\n"
    files.write_text(path, text, makedirs=True)
    return path


def read_json(path):
    """Reads a sparsity JSON file (version 1 or 2); errors name the file.

    Example
    -------
    >>> path = getfixture("tmp_path") / "x.json"
    >>> _ = path.write_text('{"schema": "sb_rectifier.sparsity", "version": 9}')
    >>> read_json(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
     ...
    ValueError: .../x.json: schema version 9; this code reads versions 1, 2
    """
    doc = files.read_json(path, "sparsity statistics file")
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema != SCHEMA:
        raise ValueError(f"{path}: schema {schema!r}, expected {SCHEMA!r}")
    if doc.get("version") not in _READABLE:
        raise ValueError(
            f"{path}: schema version {doc.get('version')!r}; this code reads "
            "versions " + ", ".join(map(str, _READABLE))
        )
    if not isinstance(doc.get("layers"), dict):
        raise ValueError(f"{path}: missing 'layers'")
    doc.setdefault("meta", {})
    return doc


def write_csv(results, folder, tag):
    """Writes ``<folder>/<tag>_<layer>.csv`` per layer, one row per unit:
    ``unit``, ``activation_probability_<rule>`` per rule,
    ``exact_zero_fraction``, ``mean``, ``variance``. Returns layer -> path.

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(2)
    >>> stats.update(torch.tensor([[0.0, 1.0], [0.0, 3.0]]))
    >>> paths = write_csv({"l0": stats.result()}, getfixture("tmp_path"), "dev")
    >>> print(open(paths["l0"]).read().strip())
    unit,activation_probability_positive,exact_zero_fraction,mean,variance
    0,0.0,1.0,0.0,0.0
    1,1.0,0.0,2.0,1.0
    """
    paths = {}
    for layer, result in results.items():
        names = list(result["definitions"])
        columns = [
            result["definitions"][n]["activation_probability"] for n in names
        ]
        columns += [
            result[key]
            for key in ("exact_zero_fraction_per_unit", "mean", "variance")
        ]
        header = ["unit"] + [f"activation_probability_{n}" for n in names]
        header += ["exact_zero_fraction", "mean", "variance"]
        lines = [",".join(header)]
        for j in range(result["num_units"]):
            cells = ["" if c[j] is None else repr(float(c[j])) for c in columns]
            lines.append(",".join([str(j), *cells]))
        path = os.path.join(
            folder, f"{_safe_name(tag)}_{_safe_name(layer)}.csv"
        )
        files.write_text(path, "\n".join(lines) + "\n", makedirs=True)
        paths[layer] = path
    return paths


def export_all(results, folder, tag, meta=None):
    """Writes ``<tag>.json``, the per-layer CSV files and the plots
    ``<tag>_last_layer.png`` (Fig. 2), ``<tag>_layers.png`` and
    ``<tag>_histograms.png`` (if there are histograms) into ``folder``.

    Returns
    -------
    paths : dict
        ``json`` (str), ``csv`` (layer -> str), ``plots`` (name -> str).

    Example
    -------
    >>> import torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(3)
    >>> stats.update(torch.randn(50, 3))
    >>> folder = str(getfixture("tmp_path"))
    >>> paths = export_all({"layers.0.act": stats.result()}, folder, "dev")
    >>> os.path.basename(paths["json"]), sorted(paths["plots"])
    ('dev.json', ['histograms', 'last_layer', 'layers'])
    """
    from sb_rectifier.sparsity import plots

    base = os.path.join(folder, _safe_name(tag))
    paths = {
        "json": write_json(results, f"{base}.json", meta),
        "csv": write_csv(results, folder, tag),
        "plots": {},
    }
    if results:
        last = list(results)[-1]
        paths["plots"]["last_layer"] = plots.plot_sorted_activation_probability(
            plots.layer_curves(results[last]),
            f"{base}_last_layer.png",
            title=f"{tag}: {last}",
        )
        paths["plots"]["layers"] = plots.plot_layers(
            results, f"{base}_layers.png", title=str(tag)
        )
        if any(r.get("histogram") for r in results.values()):
            paths["plots"]["histograms"] = plots.plot_histograms(
                results, f"{base}_histograms.png", title=str(tag)
            )
    return paths
