"""The figures of a sweep's finished runs, over seeds, and their tests.

A table cell is one unit at one depth (and one value of each further
axis); its seeds give the mean and the standard deviation. Whether two
cells' WERs differ is a paired bootstrap over test utterances
(:func:`sb_rectifier.scoring.paired_bootstrap`): each utterance's errors
are summed over the seeds both cells have, so a cell is judged on all its
runs and the pairing by utterance is kept.

Authors
 * sb_rectifier developers 2026
"""

import dataclasses
import math
import os

import numpy as np

from sb_rectifier.files import read_json
from sb_rectifier.scoring import paired_bootstrap, read_csid


@dataclasses.dataclass
class RunResult:
    """A finished run's files, read.

    Arguments
    ---------
    run : Run
        The run.
    summary : dict
        ``summary.json``.
    metrics : list of dict
        ``metrics.json``: one record per epoch.
    """

    run: object
    summary: dict
    metrics: list

    def per_utt(self, split="test"):
        """``decode/<split>/per_utt.txt`` counts: utt -> (C, S, I, D).

        Raises
        ------
        FileNotFoundError
            If the run was decoded without it (naming the file).
        """
        path = os.path.join(self.run.folder, "decode", split, "per_utt.txt")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: not found; decode the run again "
                f"(train.py ... --output_folder {self.run.folder} "
                "--stages=[decode])"
            )
        return read_csid(path)

    def last_layer_curves(self, split="dev"):
        """Fig. 2's curves of the run: per activity rule of the last hidden
        layer, the per-unit activation probabilities.

        Returns
        -------
        list or None
            ``[(label, probabilities)]`` (the paper's labels: ``ReL``,
            ``tanh neg``, ...), or None when the run has no sparsity
            statistics.
        """
        path = os.path.join(self.run.folder, "sparsity", f"{split}.json")
        if not os.path.isfile(path):
            return None
        from sb_rectifier.sparsity.export import read_json as read_sparsity
        from sb_rectifier.sparsity.plots import layer_curves

        layers = read_sparsity(path)["layers"]
        return layer_curves(layers[list(layers)[-1]])

    def last_layer_activity(self, split="dev"):
        """The first of :meth:`last_layer_curves` (the paper's rule for
        rectifiers, "tanh neg" for tanh), or None."""
        curves = self.last_layer_curves(split)
        return curves[0] if curves else None


def load_result(run):
    """The :class:`RunResult` of a finished run, or None.

    Arguments
    ---------
    run : Run
        A run of the sweep.

    Returns
    -------
    RunResult or None
        None when the run is not finished.
    """
    summary = run.summary()
    if summary is None:
        return None
    metrics = read_json(
        os.path.join(run.folder, "metrics.json"), "metrics file"
    )
    if isinstance(metrics, dict):
        metrics = metrics.get("epochs", [])
    return RunResult(run, summary, metrics)


def mean_std(values):
    """Mean and sample standard deviation (NaN std for one value).

    Example
    -------
    >>> mean_std([1.0, 3.0])
    (2.0, 1.4142135623730951)
    >>> mean_std([2.0])
    (2.0, nan)
    """
    values = [float(v) for v in values]
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, math.nan
    return mean, float(np.std(values, ddof=1))


@dataclasses.dataclass
class Cell:
    """One unit at one depth (and axes values): its runs over seeds.

    Arguments
    ---------
    axes : tuple
        ``((key, value), ...)``.
    unit : str
        Hidden unit.
    num_layers : int
        Depth.
    results : list of RunResult
        Its finished runs.
    """

    axes: tuple
    unit: str
    num_layers: int
    results: list

    @property
    def seeds(self):
        """Seeds of the finished runs."""
        return [r.run.seed for r in self.results]

    def stat(self, key):
        """Mean and std over seeds of a summary figure (NaN if absent)."""
        values = [r.summary[key] for r in self.results if key in r.summary]
        return mean_std(values)

    def subset_wers(self, split="test"):
        """``{subset: (mean, std)}`` of the WER by subset (``all`` first)."""
        names = []
        for r in self.results:
            for name in r.summary.get(f"{split}_wer_subsets", {}):
                if name not in names:
                    names.append(name)
        return {
            name: mean_std(
                [
                    r.summary[f"{split}_wer_subsets"][name]
                    for r in self.results
                    if name in r.summary.get(f"{split}_wer_subsets", {})
                ]
            )
            for name in names
        }

    def epoch_means(self, key="dev_ce"):
        """Mean over seeds of a per-epoch figure: ``[value per epoch]``."""
        epochs = min((len(r.metrics) for r in self.results), default=0)
        return [
            mean_std([r.metrics[e][key] for r in self.results])[0]
            for e in range(epochs)
        ]

    def activity(self):
        """The last hidden layer's activity on dev, per activity rule.

        Returns
        -------
        list of tuple
            ``(label, mean activation probability, fraction of units never
            active)``, each a mean over the seeds with statistics; empty
            when no run has them.
        """
        by_label = {}
        for r in self.results:
            for label, probs in r.last_layer_curves() or []:
                probs = np.asarray(probs, dtype=float)
                by_label.setdefault(label, []).append(
                    (probs.mean(), (probs == 0).mean())
                )
        return [
            (
                label,
                mean_std([m for m, _ in values])[0],
                mean_std([d for _, d in values])[0],
            )
            for label, values in by_label.items()
        ]


def collect(plan):
    """The cells of a sweep, and the runs that are not finished.

    Arguments
    ---------
    plan : SweepPlan
        The sweep.

    Returns
    -------
    cells : list of Cell
        In the plan's order (axes, unit, depth); cells without any
        finished run are left out.
    missing : list of Run
        Runs without a complete summary.
    """
    cells, missing = {}, []
    for run in plan.runs():
        result = load_result(run)
        if result is None:
            missing.append(run)
            continue
        key = run.cell
        if key not in cells:
            cells[key] = Cell(run.axes, run.unit, run.num_layers, [])
        cells[key].results.append(result)
    return list(cells.values()), missing


def paired_errors(cell_a, cell_b, split="test"):
    """Per-utterance errors of two cells, summed over their common seeds.

    Arguments
    ---------
    cell_a, cell_b : Cell
        Two cells decoded on the same utterances.
    split : str
        Which decoding.

    Returns
    -------
    errors_a, errors_b, words : numpy.ndarray
        Per utterance; ``words`` is the reference words times the seeds.
    seeds : list of int
        The seeds used.

    Raises
    ------
    ValueError
        If the cells share no seed, or their runs were scored on other
        utterances or references (naming the run).
    """
    by_seed_b = {r.run.seed: r for r in cell_b.results}
    pairs = [
        (r, by_seed_b[r.run.seed])
        for r in cell_a.results
        if r.run.seed in by_seed_b
    ]
    if not pairs:
        raise ValueError(
            f"{cell_a.unit} {cell_a.num_layers} layers (seeds "
            f"{cell_a.seeds}) and {cell_b.unit} {cell_b.num_layers} layers "
            f"(seeds {cell_b.seeds}) share no seed"
        )
    utts, errors_a, errors_b, words = None, None, None, None
    for result_a, result_b in pairs:
        for result in (result_a, result_b):
            counts = result.per_utt(split)
            if utts is None:
                utts = list(counts)
                ref_words = np.array([_words(counts[u]) for u in utts])
                errors_a = np.zeros(len(utts), dtype=np.int64)
                errors_b = np.zeros(len(utts), dtype=np.int64)
                words = np.zeros(len(utts), dtype=np.int64)
            if sorted(counts) != sorted(utts) or any(
                _words(counts[u]) != w
                for u, w in zip(utts, ref_words, strict=True)
            ):
                raise ValueError(
                    f"{result.run.folder}: its {split} set is not scored on "
                    "the same utterances and references as the other runs "
                    "of the sweep"
                )
        counts_a, counts_b = result_a.per_utt(split), result_b.per_utt(split)
        errors_a += np.array([_errors(counts_a[u]) for u in utts])
        errors_b += np.array([_errors(counts_b[u]) for u in utts])
        words += ref_words
    return errors_a, errors_b, words, [a.run.seed for a, _ in pairs]


def _words(csid):
    correct, subs, _, dels = csid
    return correct + subs + dels


def _errors(csid):
    _, subs, ins, dels = csid
    return subs + ins + dels


@dataclasses.dataclass
class Comparison:
    """A paired test between two cells.

    Arguments
    ---------
    kind : str
        ``"units"`` (same depth) or ``"depth"`` (same unit, one layer
        more).
    a, b : Cell
        The cells (``b`` is the candidate: the other unit, the deeper net).
    seeds : list of int
        Seeds pooled.
    test : PairedBootstrap
        WERs of a and b, ``delta = wer_a - wer_b`` (positive: b better),
        95 % interval, p-value.
    """

    kind: str
    a: Cell
    b: Cell
    seeds: list
    test: object


def comparisons(cells, split="test", num_samples=10000):
    """Every paired test of a sweep.

    For each axes value and depth, every pair of units (in the plan's
    order); for each unit, each depth against the next one.

    Arguments
    ---------
    cells : list of Cell
        From :func:`collect`.
    split : str
        Which decoding to test.
    num_samples : int
        Bootstrap resamples.

    Returns
    -------
    list of Comparison
        The tests (cells without a decoded WER are left out).
    """
    decoded = [
        c for c in cells if all("test_wer" in r.summary for r in c.results)
    ]
    found = []
    groups = {}
    for cell in decoded:
        groups.setdefault(cell.axes, []).append(cell)
    for group in groups.values():
        depths = sorted({c.num_layers for c in group})
        units = list(dict.fromkeys(c.unit for c in group))
        index = {(c.unit, c.num_layers): c for c in group}
        for depth in depths:
            row = [index[(u, depth)] for u in units if (u, depth) in index]
            for i, a in enumerate(row):
                for b in row[i + 1 :]:
                    found.append(_compare("units", a, b, split, num_samples))
        for unit in units:
            column = [index[(unit, d)] for d in depths if (unit, d) in index]
            for a, b in zip(column, column[1:], strict=False):
                found.append(_compare("depth", a, b, split, num_samples))
    return found


def _compare(kind, a, b, split, num_samples):
    errors_a, errors_b, words, seeds = paired_errors(a, b, split)
    test = paired_bootstrap(errors_a, errors_b, words, num_samples=num_samples)
    return Comparison(kind, a, b, seeds, test)
