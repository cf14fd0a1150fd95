"""Logs a user reads: no library chatter, one line per problem.

* :func:`quiet_library_logs` keeps third-party DEBUG output (matplotlib's
  font search: ~2,200 lines per run; SpeechBrain's ``pip freeze``, which is
  in ``env.log`` already) out of ``log.txt``, and drops SpeechBrain's
  "torchvision is not available - cannot save figures" notice (plots are
  written with matplotlib, torchvision is not needed).
* :func:`report_log_errors_once` makes a log file that can no longer be
  written (a full disk) say so once on stderr, instead of printing a
  traceback for every log record.

Authors
 * sb_rectifier developers 2026
"""

import logging
import sys

QUIET_LOGGERS = ("matplotlib", "PIL", "fsspec", "filelock", "urllib3", "httpx")
DROPPED_NOTICES = ("torchvision is not available",)


class _DropNotices(logging.Filter):
    """Drops records whose message starts with a known notice."""

    def filter(self, record):
        message = record.getMessage()
        return not any(message.startswith(n) for n in DROPPED_NOTICES)


def quiet_library_logs():
    """Keeps library DEBUG chatter out of the logs (idempotent).

    Example
    -------
    >>> quiet_library_logs()
    >>> logging.getLogger("matplotlib.font_manager").isEnabledFor(logging.DEBUG)
    False
    """
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # SpeechBrain logs its whole `pip freeze` at DEBUG (it is in env.log);
    # it resets that logger's level on every call, so a filter it is.
    _add_filter("speechbrain.utils.superpowers", _DropDebug())
    _add_filter("speechbrain.utils.train_logger", _DropNotices())


def _add_filter(name, new):
    log = logging.getLogger(name)
    if not any(type(f) is type(new) for f in log.filters):
        log.addFilter(new)


class _DropDebug(logging.Filter):
    """Drops DEBUG records."""

    def filter(self, record):
        return record.levelno > logging.DEBUG


def report_log_errors_once(logger=None):
    """Makes every file handler of ``logger`` report write errors once.

    Python's logging prints a full traceback to stderr for every record a
    handler fails to write; with a full disk that is one traceback per log
    line. After this call the first failure prints one line naming the file
    and the error, and later records for that file are dropped silently.

    Arguments
    ---------
    logger : logging.Logger, optional
        Default: the root logger.

    Example
    -------
    >>> import os
    >>> handler = logging.FileHandler(os.devnull)
    >>> log = logging.getLogger("example_once")
    >>> log.addHandler(handler)
    >>> report_log_errors_once(log)
    >>> handler.handleError.__name__
    'handle_error'
    >>> log.removeHandler(handler)
    >>> handler.close()
    """
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler) and not getattr(
            handler, "_sbr_once", False
        ):
            handler._sbr_once = True
            handler.handleError = _once(handler)


def _once(handler):
    state = {"reported": False}

    def handle_error(record):
        if state["reported"]:
            return
        state["reported"] = True
        err = sys.exc_info()[1]
        print(
            f"logging: cannot write {handler.baseFilename} ({err}); further "
            "log lines for this file are dropped",
            file=sys.stderr,
            flush=True,
        )

    return handle_error
