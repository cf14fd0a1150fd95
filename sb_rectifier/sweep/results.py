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


def pooled_errors(cells, split="test"):
    """Per-utterance errors of several cells, summed over their common seeds.

    Arguments
    ---------
    cells : list of Cell
        Cells decoded on the same utterances.
    split : str
        Which decoding.

    Returns
    -------
    errors : list of numpy.ndarray
        One array per cell: errors per utterance, summed over the seeds.
    words : numpy.ndarray
        Reference words per utterance, times the seeds.
    seeds : list of int
        The seeds used (those every cell has).

    Raises
    ------
    ValueError
        If the cells share no seed, or their runs were scored on other
        utterances or references (naming the run).
    """
    by_seed = [{r.run.seed: r for r in cell.results} for cell in cells]
    seeds = [s for s in cells[0].seeds if all(s in b for b in by_seed)]
    if not seeds:
        raise ValueError(
            " and ".join(
                f"{c.unit} {c.num_layers} layers (seeds {c.seeds})"
                for c in cells
            )
            + " share no seed"
        )
    utts, ref_words = None, None
    errors = None
    words = None
    for seed in seeds:
        for i, results in enumerate(by_seed):
            result = results[seed]
            counts = result.per_utt(split)
            if utts is None:
                utts = list(counts)
                ref_words = np.array([_words(counts[u]) for u in utts])
                errors = [np.zeros(len(utts), dtype=np.int64) for _ in cells]
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
            errors[i] += np.array([_errors(counts[u]) for u in utts])
        words += ref_words
    return errors, words, seeds


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
    """
    (errors_a, errors_b), words, seeds = pooled_errors([cell_a, cell_b], split)
    return errors_a, errors_b, words, seeds


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


@dataclasses.dataclass
class GainComparison:
    """Does unit b gain more than unit a from one more layer?

    Arguments
    ---------
    axes : tuple
        The axes values of the four cells.
    unit_a, unit_b : str
        The units.
    depth, deeper : int
        The two depths.
    seeds : list of int
        Seeds pooled (those all four cells have).
    gain_a, gain_b : float
        WER reductions (points) from ``depth`` to ``deeper`` layers.
    test : PairedBootstrap
        Its ``delta`` is ``gain_b - gain_a``, with the 95 % interval and
        the p-value of a paired bootstrap over utterances.
    """

    axes: tuple
    unit_a: str
    unit_b: str
    depth: int
    deeper: int
    seeds: list
    gain_a: float
    gain_b: float
    test: object


def gain_comparisons(cells, split="test", num_samples=10000):
    """The paper's "rectifiers gain more per layer", tested.

    For each axes value, each unit against the first one, and each pair of
    consecutive depths: the difference of the two units' WER gains, from
    the four cells' per-utterance errors. With ``e`` the errors of an
    utterance, ``gain_b - gain_a = (e_bL + e_aL1 - e_bL1 - e_aL) / words``,
    so the bootstrap of :func:`~sb_rectifier.scoring.paired_bootstrap` on
    ``(e_bL + e_aL1, e_bL1 + e_aL)`` gives its interval and p-value.

    Arguments
    ---------
    cells : list of Cell
        From :func:`collect`.
    split : str
        Which decoding.
    num_samples : int
        Bootstrap resamples.

    Returns
    -------
    list of GainComparison
        The tests.
    """
    found = []
    groups = {}
    for cell in _decoded(cells):
        groups.setdefault(cell.axes, []).append(cell)
    for group in groups.values():
        index = {(c.unit, c.num_layers): c for c in group}
        units = list(dict.fromkeys(c.unit for c in group))
        depths = sorted({c.num_layers for c in group})
        for unit_b in units[1:]:
            unit_a = units[0]
            for depth, deeper in zip(depths, depths[1:], strict=False):
                keys = [
                    (unit_a, depth),
                    (unit_a, deeper),
                    (unit_b, depth),
                    (unit_b, deeper),
                ]
                if not all(k in index for k in keys):
                    continue
                (e_a, e_a1, e_b, e_b1), words, seeds = pooled_errors(
                    [index[k] for k in keys], split
                )
                total = words.sum()
                test = paired_bootstrap(
                    e_b + e_a1, e_b1 + e_a, words, num_samples=num_samples
                )
                found.append(
                    GainComparison(
                        group[0].axes,
                        unit_a,
                        unit_b,
                        depth,
                        deeper,
                        seeds,
                        float(100.0 * (e_a - e_a1).sum() / total),
                        float(100.0 * (e_b - e_b1).sum() / total),
                        test,
                    )
                )
    return found


def _decoded(cells):
    return [c for c in cells if all("test_wer" in r.summary for r in c.results)]


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
    found = []
    groups = {}
    for cell in _decoded(cells):
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
