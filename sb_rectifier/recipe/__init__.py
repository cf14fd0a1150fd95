"""What ``train.py`` needs around the model: the experiment folder (lock,
name, identity), option checks and tidy logs.

Authors
 * sb_rectifier developers 2026
"""

from sb_rectifier.recipe.experiment import (
    DATA_KEYS,
    ExperimentMismatchError,
    check_experiment_identity,
    derive_data_name,
    lock_output_folder,
)
from sb_rectifier.recipe.logs import quiet_library_logs, report_log_errors_once
from sb_rectifier.recipe.options import check_options

__all__ = [
    "DATA_KEYS",
    "ExperimentMismatchError",
    "check_experiment_identity",
    "check_options",
    "derive_data_name",
    "lock_output_folder",
    "quiet_library_logs",
    "report_log_errors_once",
]
