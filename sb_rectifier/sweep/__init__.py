"""Sweeps of the recipe: the paper's Table 1 and figures from one command.

* :mod:`.plan`: the grid (units x depths x seeds x further axes) and the
  ``train.py`` command line of each run (:class:`SweepPlan`, :class:`Run`);
* :mod:`.runner`: running the unfinished runs one or N at a time, with
  progress, resumable and safe under ``kill -9`` (:func:`run_sweep`);
* :mod:`.results`: the finished runs' figures, mean and std over seeds,
  and paired significance tests between units and depths;
* :mod:`.report`: ``table.md``, ``table.csv`` and the figures.

``sb-rectifier sweep`` (:mod:`sb_rectifier.cli.sweep`) wraps them.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.sweep.plan import Run, SweepPlan, parse_axis, parse_setting
from sb_rectifier.sweep.report import Report, write_report
from sb_rectifier.sweep.results import (
    Cell,
    Comparison,
    GainComparison,
    collect,
    comparisons,
    gain_comparisons,
)
from sb_rectifier.sweep.runner import (
    SweepMismatchError,
    claim_folder,
    run_sweep,
)

__all__ = [
    "Cell",
    "Comparison",
    "GainComparison",
    "Report",
    "Run",
    "SweepMismatchError",
    "SweepPlan",
    "claim_folder",
    "collect",
    "comparisons",
    "gain_comparisons",
    "parse_axis",
    "parse_setting",
    "run_sweep",
    "write_report",
]
