"""Running the runs of a sweep: one or N at a time, resumable.

Each run is the recipe's own ``train.py`` in a child process, started in
the recipe's folder, its output going to ``<sweep>/logs/<run>.log``. A run
whose ``summary.json`` is complete is skipped; any other is started again
and ``train.py`` resumes it from its last checkpoint. Children are killed
by the kernel when the sweep dies, even by ``kill -9``
(:func:`sb_rectifier.processes.die_with_parent`), and a second sweep over
the same folder is refused while the first one runs.

Authors
 * sb_rectifier developers 2026
"""

import dataclasses
import datetime
import functools
import os
import shlex
import subprocess
import sys
import time

from sb_rectifier.files import read_json, write_json
from sb_rectifier.locks import RunLock
from sb_rectifier.processes import die_with_parent

POLL_SECONDS = 0.5
TAIL_LINES = 8


class SweepMismatchError(ValueError):
    """The sweep folder holds a sweep with other settings."""


@dataclasses.dataclass
class RunOutcome:
    """How one run of this invocation ended.

    Arguments
    ---------
    run : Run
        The run.
    returncode : int
        ``train.py``'s exit status.
    seconds : float
        Wall time.
    log : str
        Its log file.
    finished : bool
        Whether it left a complete summary.
    """

    run: object
    returncode: int
    seconds: float
    log: str
    finished: bool


def format_seconds(seconds):
    """``3725`` -> ``"1 h 02 min"``; ``95`` -> ``"1 min 35 s"``.

    Example
    -------
    >>> format_seconds(3725), format_seconds(95), format_seconds(7)
    ('1 h 02 min', '1 min 35 s', '7 s')
    """
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def log_file(plan, run):
    """Where a run's output goes: ``<sweep>/logs/<run name>.log``."""
    return os.path.join(
        plan.output, "logs", run.name.replace("/", "__") + ".log"
    )


def claim_folder(plan):
    """Locks the sweep folder and checks (or records) its settings.

    Arguments
    ---------
    plan : SweepPlan
        The sweep.

    Returns
    -------
    RunLock
        The held lock (release it at the end).

    Raises
    ------
    SweepMismatchError
        If ``sweep.json`` records other settings (naming them).
    """
    lock = RunLock.for_folder(
        plan.output,
        "sweep folder",
        hint="Wait for that sweep to finish, or give this one another --output",
    ).acquire()
    try:
        check_description(plan)
    except BaseException:
        lock.release()
        raise
    return lock


def check_description(plan):
    """Records the sweep's settings, or checks them against the record.

    Arguments
    ---------
    plan : SweepPlan
        The sweep.

    Raises
    ------
    SweepMismatchError
        If the folder was made by a sweep with other settings.

    Example
    -------
    >>> from sb_rectifier.sweep.plan import SweepPlan
    >>> recipe = getfixture("tmp_path")
    >>> _ = (recipe / "train.py").write_text("")
    >>> (recipe / "hparams").mkdir()
    >>> _ = (recipe / "hparams" / "relu.yaml").write_text("")
    >>> def plan(**settings):
    ...     return SweepPlan(
    ...         str(recipe),
    ...         "hparams",
    ...         str(recipe / "sw"),
    ...         ["relu"],
    ...         [2],
    ...         [1],
    ...         settings=list(settings.items()),
    ...     )
    >>> check_description(plan(neurons="64"))
    >>> check_description(plan(neurons="64"))
    >>> check_description(plan(neurons="32"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    sb_rectifier.sweep.runner.SweepMismatchError: ...settings neurons: 64 there, 32 now...
    """
    path = os.path.join(plan.output, "sweep.json")
    new = plan.description()
    if not os.path.isfile(path):
        write_json(path, new, makedirs=True)
        return
    old = read_json(path, "sweep record")
    diffs = []
    for key in sorted(set(old) | set(new)):
        if key == "settings":
            continue
        if old.get(key) != new.get(key):
            diffs.append(f"{key}: {old.get(key)} there, {new.get(key)} now")
    old_set, new_set = old.get("settings", {}), new["settings"]
    for key in sorted(set(old_set) | set(new_set)):
        if old_set.get(key) != new_set.get(key):
            diffs.append(
                f"settings {key}: {old_set.get(key, '(not set)')} there, "
                f"{new_set.get(key, '(not set)')} now"
            )
    if diffs:
        raise SweepMismatchError(
            f"{plan.output}: holds a sweep with other settings ("
            + "; ".join(diffs)
            + "); its runs would mix with this one's. Give another --output, "
            "or the same --set options as before"
        )


def _tail(path, lines=TAIL_LINES):
    try:
        with open(path, encoding="utf-8", errors="replace") as fin:
            return "".join(fin.readlines()[-lines:])
    except OSError:
        return ""


def _launch(plan, run, env):
    """Starts one run; returns ``(process, log path, start time)``."""
    launcher = shlex.split(plan.launcher)
    if launcher == ["python"]:
        launcher = [sys.executable]
    command = launcher + plan.arguments(run)
    path = log_file(plan, run)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as fout:
        fout.write(
            f"=== {datetime.datetime.now().isoformat(timespec='seconds')} "
            f"sb-rectifier sweep: {plan.command(run)}\n"
        )
        fout.flush()
        process = subprocess.Popen(
            command,
            cwd=plan.recipe,
            stdin=subprocess.DEVNULL,
            stdout=fout,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        )
    return process, path, time.time()


def child_environment(jobs):
    """The environment of the runs: CPU threads shared out between jobs.

    Arguments
    ---------
    jobs : int
        Runs at a time.

    Returns
    -------
    dict
        ``os.environ`` with ``OMP_NUM_THREADS`` (and MKL's) set to cores /
        jobs, unless the user set them.

    Example
    -------
    >>> env = child_environment(jobs=os.cpu_count() or 1)
    >>> "OMP_NUM_THREADS" in os.environ or env["OMP_NUM_THREADS"] == "1"
    True
    """
    env = dict(os.environ)
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, threads)
    return env


def run_sweep(plan, jobs=1, echo=print):
    """Runs every unfinished run of ``plan``, ``jobs`` at a time.

    Prints one line when a run starts and one when it ends, with the runs
    done / total and an estimate of the time left. A run that fails is
    reported with the end of its log; the others go on.

    Arguments
    ---------
    plan : SweepPlan
        The sweep (its folder must be claimed: :func:`claim_folder`).
    jobs : int
        Runs at a time.
    echo : callable
        Where progress lines go.

    Returns
    -------
    list of RunOutcome
        The runs started by this call, in the order they ended.
    """
    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    runs = plan.runs()
    queue = [r for r in runs if r.summary() is None]
    total, done = len(runs), len(runs) - len(queue)
    echo(
        f"sweep: {total} runs, {done} finished already, {len(queue)} to run, "
        f"{jobs} at a time (logs: {os.path.join(plan.output, 'logs')})"
    )
    env = child_environment(jobs)
    running, outcomes = [], []
    started = time.time()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                run = queue.pop(0)
                process, path, start = _launch(plan, run, env)
                running.append((run, process, path, start))
                echo(f"[{done}/{total}] started {run.name}")
            time.sleep(POLL_SECONDS)
            for item in list(running):
                run, process, path, start = item
                if process.poll() is None:
                    continue
                running.remove(item)
                seconds = time.time() - start
                summary = run.summary()
                finished = process.returncode == 0 and summary is not None
                outcomes.append(
                    RunOutcome(run, process.returncode, seconds, path, finished)
                )
                if finished:
                    done += 1
                    echo(
                        f"[{done}/{total}] finished {run.name} in "
                        f"{format_seconds(seconds)}: {_figures(summary)}"
                        f"{_eta(outcomes, len(queue) + len(running), jobs)}"
                    )
                else:
                    echo(
                        f"[{done}/{total}] FAILED {run.name} (exit status "
                        f"{process.returncode}, log {path}); its last lines:\n"
                        + _tail(path)
                    )
    except BaseException:
        for _, process, _, _ in running:
            process.terminate()
        for _, process, _, _ in running:
            process.wait()
        raise
    echo(
        f"sweep: {done}/{total} runs finished "
        f"({format_seconds(time.time() - started)} in this call)"
    )
    return outcomes


def _figures(summary):
    text = (
        f"dev CE {summary['dev_ce']:.4f}, dev frame acc. "
        f"{summary['dev_frame_acc']:.2f} %"
    )
    if "test_wer" in summary:
        text += (
            f", WER dev {summary['dev_wer']:.2f} % test "
            f"{summary['test_wer']:.2f} %"
        )
    return text


def _eta(outcomes, left, jobs):
    seconds = [o.seconds for o in outcomes if o.finished]
    if not left:
        return ""
    if not seconds:
        return f"; {left} left"
    eta = sum(seconds) / len(seconds) * left / jobs
    return f"; {left} left, about {format_seconds(eta)} to go"
