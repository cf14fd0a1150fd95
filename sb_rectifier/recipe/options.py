"""Checks of the recipe's options, before anything runs.

A value out of range is an error naming the option (as given on the
command line or in the YAML) and what it accepts, before any data is read
or any model is trained: ``--length_tolerance -1`` or ``--num_layers 0``
stop the run at once with ``length_tolerance: must be an integer >= 0,
got -1``.

Authors
 * sb_rectifier developers 2026
"""

import numbers
import os

STORE_DEVICES = ("cpu", "cuda")
STAGES = ("data", "train", "evaluate", "decode")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# name -> (check, what it accepts)
_RULES = {
    "num_layers": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "neurons": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "number_of_epochs": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "batch_size": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "eval_max_frames": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "context_left": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "context_right": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "length_tolerance": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "max_skip_fraction": (
        lambda v: _is_number(v) and 0 <= v < 1,
        "a number in [0, 1)",
    ),
    "lr": (lambda v: _is_number(v) and v > 0, "a number > 0"),
    "momentum": (lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "lr_annealing_factor": (
        lambda v: _is_number(v) and 0 < v <= 1,
        "a number in (0, 1] (1: constant learning rate, as in the paper)",
    ),
    "dropout": (lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "prior_floor": (
        lambda v: _is_number(v) and 0 < v < 1,
        "a number in (0, 1)",
    ),
    "prior_scale": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    "beam": (lambda v: _is_number(v) and v > 0, "a number > 0"),
    "max_active": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "decode_jobs": (
        lambda v: v is None or (_is_int(v) and v >= 1),
        "null (all cores) or an integer >= 1",
    ),
    "corpus_hours": (lambda v: _is_number(v) and v > 0, "a number > 0"),
    "corpus_seed": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "n_pdfs": (
        lambda v: v is None or (_is_int(v) and v >= 2),
        "null (read from final.mdl) or an integer >= 2",
    ),
    "lm_weights": (
        lambda v: _nonempty_numbers(v, lambda x: x > 0),
        "a non-empty list of numbers > 0",
    ),
    "word_ins_penalties": (
        lambda v: _nonempty_numbers(v, lambda x: True),
        "a non-empty list of numbers",
    ),
    "store_device": (
        lambda v: (
            isinstance(v, str)
            and v.split(":")[0] in STORE_DEVICES
            and (":" not in v or v.split(":")[1].isdigit())
        ),
        "cpu, cuda or cuda:<n>",
    ),
    "stages": (
        lambda v: (
            isinstance(v, (list, tuple))
            and bool(v)
            and len(set(v)) == len(v)
            and all(isinstance(x, str) and x in STAGES for x in v)
        ),
        f"a non-empty list of distinct stages from [{', '.join(STAGES)}]",
    ),
    "data_name": (
        lambda v: (
            isinstance(v, str)
            and v.strip() not in ("", ".", "..")
            and os.sep not in v
        ),
        "a folder name (no '/')",
    ),
}


def _nonempty_numbers(values, test):
    try:
        values = list(values)
    except TypeError:
        return False
    return bool(values) and all(_is_number(x) and test(x) for x in values)


def check_options(hparams):
    """Raises ``ValueError`` naming the first option out of range.

    Only the options present in ``hparams`` are checked.

    Arguments
    ---------
    hparams : dict
        The loaded hyperparameters.

    Example
    -------
    >>> check_options({"num_layers": 4, "length_tolerance": 0})
    >>> check_options({"length_tolerance": -1})
    Traceback (most recent call last):
    ValueError: length_tolerance: must be an integer >= 0, got -1
    >>> check_options({"num_layers": 0})
    Traceback (most recent call last):
    ValueError: num_layers: must be an integer >= 1, got 0
    >>> check_options({"stages": ["decode", "score"]})
    Traceback (most recent call last):
    ValueError: stages: must be a non-empty list of distinct stages from [data, train, evaluate, decode], got ['decode', 'score']
    """
    for name, (check, accepts) in _RULES.items():
        if name in hparams and not check(hparams[name]):
            raise ValueError(
                f"{name}: must be {accepts}, got {hparams[name]!r}"
            )
    if hparams.get("store_mmap") and str(
        hparams.get("store_device", "cpu")
    ).startswith("cuda"):
        raise ValueError(
            "store_mmap: True memory-maps the frames in host memory; it "
            "cannot be combined with store_device: cuda"
        )
