"""A SpeechBrain train logger that also keeps one JSON record per epoch.

Authors
 * sb_rectifier developers 2026
"""

import os

from speechbrain.utils.distributed import main_process_only
from speechbrain.utils.train_logger import FileTrainLogger

from sb_rectifier.files import read_json, write_json


class EpochMetricsLogger(FileTrainLogger):
    """SpeechBrain's ``FileTrainLogger``, plus ``metrics.json``.

    Every call with an ``epoch`` in ``stats_meta`` and validation
    statistics also (re)writes that epoch's record in ``metrics_file``: a
    JSON list sorted by epoch, one object per epoch whose keys are the
    ``stats_meta`` keys, then ``train_<key>`` and ``dev_<key>`` for the
    training and validation statistics. A resumed run replaces the record
    of an epoch it repeats. Both files are written by the main process
    only; ``metrics.json`` atomically.

    Arguments
    ---------
    save_file : str
        The text log (``train_log.txt``).
    metrics_file : str
        The JSON records (``metrics.json``).
    precision : int
        Decimal places in the text log.

    Example
    -------
    >>> import json
    >>> folder = getfixture("tmp_path")
    >>> log = EpochMetricsLogger(folder / "log.txt", folder / "metrics.json")
    >>> log.log_stats(
    ...     {"epoch": 1, "lr": 0.1},
    ...     train_stats={"loss": 2.5},
    ...     valid_stats={"ce": 2.0, "frame_acc": 40.0},
    ...     verbose=False,
    ... )
    >>> json.loads((folder / "metrics.json").read_text())
    [{'epoch': 1, 'lr': 0.1, 'train_loss': 2.5, 'dev_ce': 2.0, 'dev_frame_acc': 40.0}]
    """

    def __init__(self, save_file, metrics_file, precision=2):
        super().__init__(save_file, precision)
        self.metrics_file = os.fspath(metrics_file)

    def log_stats(
        self,
        stats_meta,
        train_stats=None,
        valid_stats=None,
        test_stats=None,
        verbose=True,
    ):
        """Logs as ``FileTrainLogger`` does; records epochs in JSON.

        Arguments
        ---------
        stats_meta : dict
            E.g. ``{"epoch": 3, "lr": 0.01}``.
        train_stats : dict, optional
            Training statistics of the epoch.
        valid_stats : dict, optional
            Validation statistics of the epoch.
        test_stats : dict, optional
            Test statistics (text log only).
        verbose : bool
            Also log the line through ``logging``.
        """
        super().log_stats(
            stats_meta, train_stats, valid_stats, test_stats, verbose
        )
        if valid_stats is not None and "epoch" in stats_meta:
            self._record(stats_meta, train_stats or {}, valid_stats)

    @main_process_only
    def _record(self, stats_meta, train_stats, valid_stats):
        record = dict(stats_meta)
        record.update({f"train_{k}": v for k, v in train_stats.items()})
        record.update({f"dev_{k}": v for k, v in valid_stats.items()})
        records = []
        if os.path.isfile(self.metrics_file):
            records = read_json(self.metrics_file, "metrics file")
            if not isinstance(records, list):
                raise ValueError(
                    f"{self.metrics_file}: not a list of epoch records"
                )
        records = [r for r in records if r.get("epoch") != record["epoch"]]
        records.append(record)
        records.sort(key=lambda r: r["epoch"])
        write_json(self.metrics_file, records)
