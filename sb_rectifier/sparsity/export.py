"""Writing and reading activity statistics: JSON, CSV and plots.

The JSON file holds the results of every monitored layer of one pass over
the data, under a versioned schema::

    {
      "schema": "sb_rectifier.sparsity",
      "version": 1,
      "meta": {"epoch": 3, "split": "dev", "unit": "relu",
               "last_hidden_layer": "layers.3.act", "frames": 10000, ...},
      "layers": {"layers.0.act": {...LayerStatistics.result()...}, ...}
    }

Non-finite numbers (NaN, inf) are written as ``null`` so that the file is
strict JSON. The per-unit CSV files have one row per hidden unit: ``unit``,
``activation_probability_<rule>`` for each activity rule,
``exact_zero_fraction``, ``mean`` and ``variance``.

All files are written atomically (a temporary file, then ``os.replace``).

Authors
 * sb_rectifier developers 2026
"""

import csv
import json
import math
import os
import re

from sb_rectifier.files import atomic_write

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

#: Version of the JSON schema; bumped on incompatible changes.
SCHEMA_VERSION = 1


def _finite(value):
    """Replaces non-finite floats by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _number(value):
    """A CSV cell: the shortest exact repr of a float, empty for None."""
    return "" if value is None else repr(float(value))


def _safe_name(text):
    """A file-name-safe version of a layer name or tag."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "layer"


def write_json(results, path, meta=None):
    """Writes the results of all layers to a versioned JSON file.

    Arguments
    ---------
    results : dict
        Layer name -> result dict (e.g. ``SparsityMonitor.results()``).
    path : str
        Output file (parent folders are created).
    meta : dict, optional
        Free-form metadata (epoch, split, unit, ...). ``last_hidden_layer``
        (the last layer of ``results``) and ``frames`` (of that layer) are
        added unless given.

    Returns
    -------
    path : str
        The written file.

    Example
    -------
    >>> import os, tempfile, torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(2)
    >>> stats.update(torch.tensor([[0.0, 1.0]]))
    >>> path = os.path.join(tempfile.mkdtemp(), "s.json")
    >>> _ = write_json({"layers.0.act": stats.result()}, path, {"split": "dev"})
    >>> doc = read_json(path)
    >>> doc["meta"]
    {'split': 'dev', 'last_hidden_layer': 'layers.0.act', 'frames': 1}
    """
    meta = dict(meta or {})
    if results:
        last = list(results)[-1]
        meta.setdefault("last_hidden_layer", last)
        frames = results[last].get("frames")
        if frames is not None:
            meta.setdefault("frames", frames)
    doc = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "meta": meta,
        "layers": dict(results),
    }
    with atomic_write(path, "w", makedirs=True) as fout:
        json.dump(_finite(doc), fout, allow_nan=False)
        fout.write("\n")
    return path


def read_json(path):
    """Reads a file written by :func:`write_json` and checks its schema.

    Arguments
    ---------
    path : str
        The JSON file.

    Returns
    -------
    doc : dict
        ``schema``, ``version``, ``meta`` and ``layers`` (layer name ->
        result dict, in the written order).

    Raises
    ------
    ValueError
        If the file is not JSON or has another schema or version; the
        message names the file.

    Example
    -------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.json")
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"schema": "other", "version": 1}')
    >>> read_json(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
     ...
    ValueError: .../x.json: schema 'other', expected 'sb_rectifier.sparsity'
    """
    try:
        with open(path, encoding="utf-8") as fin:
            doc = json.load(fin)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a JSON file ({err})") from err
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a JSON object")
    if doc.get("schema") != SCHEMA:
        raise ValueError(
            f"{path}: schema {doc.get('schema')!r}, expected {SCHEMA!r}"
        )
    if doc.get("version") != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: schema version {doc.get('version')!r}, this code reads "
            f"version {SCHEMA_VERSION}"
        )
    if not isinstance(doc.get("layers"), dict):
        raise ValueError(f"{path}: missing 'layers'")
    doc.setdefault("meta", {})
    return doc


def write_csv(results, folder, tag):
    """Writes one per-unit CSV file per layer.

    File ``<folder>/<tag>_<layer>.csv`` with columns ``unit``,
    ``activation_probability_<rule>`` (one per activity rule),
    ``exact_zero_fraction``, ``mean``, ``variance``.

    Arguments
    ---------
    results : dict
        Layer name -> result dict.
    folder : str
        Output folder (created if needed).
    tag : str
        Name of the pass, e.g. ``"dev_epoch3"``.

    Returns
    -------
    paths : dict
        Layer name -> written file.

    Example
    -------
    >>> import tempfile, torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(2)
    >>> stats.update(torch.tensor([[0.0, 1.0], [0.0, 3.0]]))
    >>> paths = write_csv(
    ...     {"layers.0.act": stats.result()}, tempfile.mkdtemp(), "dev"
    ... )
    >>> print(open(paths["layers.0.act"]).read().strip())
    unit,activation_probability_positive,exact_zero_fraction,mean,variance
    0,0.0,1.0,0.0,0.0
    1,1.0,0.0,2.0,1.0
    """
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for layer, result in results.items():
        names = list(result["definitions"])
        path = os.path.join(
            folder, f"{_safe_name(tag)}_{_safe_name(layer)}.csv"
        )
        with atomic_write(path, "w") as fout:
            writer = csv.writer(fout, lineterminator="\n")
            writer.writerow(
                ["unit"]
                + [f"activation_probability_{n}" for n in names]
                + ["exact_zero_fraction", "mean", "variance"]
            )
            columns = [
                result["definitions"][n]["activation_probability"]
                for n in names
            ]
            for j in range(result["num_units"]):
                writer.writerow(
                    [j]
                    + [_number(c[j]) for c in columns]
                    + [
                        _number(result["exact_zero_fraction_per_unit"][j]),
                        _number(result["mean"][j]),
                        _number(result["variance"][j]),
                    ]
                )
        paths[layer] = path
    return paths


def export_all(results, folder, tag, meta=None):
    """Writes the JSON file, the per-unit CSV files and the plots.

    Files (``<tag>`` made file-name safe):

    * ``<tag>.json`` (:func:`write_json`);
    * ``<tag>_<layer>.csv`` per layer (:func:`write_csv`);
    * ``<tag>_last_layer.png``: the paper's Fig. 2 for the last
      layer, one curve per activity rule;
    * ``<tag>_layers.png``: sorted activation probabilities of
      every layer;
    * ``<tag>_histograms.png``: activation-value histograms (only
      if the results have histograms).

    Arguments
    ---------
    results : dict
        Layer name -> result dict, in model order.
    folder : str
        Output folder (created if needed).
    tag : str
        Name of the pass, e.g. ``"dev_epoch3"``.
    meta : dict, optional
        Metadata for the JSON file.

    Returns
    -------
    paths : dict
        ``json`` (str), ``csv`` (layer -> str) and ``plots`` (name -> str).

    Example
    -------
    >>> import tempfile, torch
    >>> from sb_rectifier.sparsity.statistics import LayerStatistics
    >>> stats = LayerStatistics(3)
    >>> stats.update(torch.randn(50, 3))
    >>> paths = export_all(
    ...     {"layers.0.act": stats.result()}, tempfile.mkdtemp(), "dev"
    ... )
    >>> sorted(paths["plots"])
    ['histograms', 'last_layer', 'layers']
    """
    from sb_rectifier.sparsity.plots import (
        layer_curves,
        plot_histograms,
        plot_layers,
        plot_sorted_activation_probability,
    )

    os.makedirs(folder, exist_ok=True)
    base = os.path.join(folder, _safe_name(tag))
    paths = {
        "json": write_json(results, f"{base}.json", meta),
        "csv": write_csv(results, folder, tag),
        "plots": {},
    }
    if results:
        last = list(results)[-1]
        paths["plots"]["last_layer"] = plot_sorted_activation_probability(
            layer_curves(results[last]),
            f"{base}_last_layer.png",
            title=f"{tag}: {last}",
        )
        paths["plots"]["layers"] = plot_layers(
            results, f"{base}_layers.png", title=str(tag)
        )
        if any(r.get("histogram") for r in results.values()):
            paths["plots"]["histograms"] = plot_histograms(
                results, f"{base}_histograms.png", title=str(tag)
            )
    return paths
