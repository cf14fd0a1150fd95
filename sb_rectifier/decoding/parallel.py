"""Decoding many utterances over worker processes.

kaldi-decoder holds the GIL while it decodes, so utterances are decoded
in parallel by worker processes. Each worker reads the graph once (from
``HCLG.fst``) and the log-likelihood matrices itself, from a Kaldi scp
(nothing big is pickled). A word insertion penalty is applied by adding
it to the cost of every word-emitting arc of a copy of the graph, as
Kaldi's ``lattice-add-penalty`` does to lattices; each worker keeps one
copy per penalty it has seen.

Failures are reported with the file and utterance they concern:

* the graph's header and the model are checked in the parent before
  any worker starts (:func:`check_graph_file`, ``TransitionModel.read``);
* a worker that cannot load them reports the error with its first
  utterance instead of dying (which would only give ``BrokenProcessPool``);
* each matrix is checked as it is read (:func:`~.decoder.check_loglikes`):
  unreadable data, a wrong number of columns (against the model's pdfs)
  or NaN/inf name the scp, the utterance and the archive;
* a worker that dies all the same (killed, out of memory, a crash in the
  decoder) raises :class:`WorkerDiedError`, which says so and how to see
  the cause;
* workers call :func:`sb_rectifier.processes.die_with_parent`, so they do
  not outlive a parent killed with ``kill -9``.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from tqdm import tqdm

from sb_rectifier.decoding.fst_io import check_graph_file
from sb_rectifier.files import iter_text_lines

_WORKER = {}


class WorkerDiedError(ChildProcessError):
    """A decoding worker process died (the message says how to see why)."""


def with_word_insertion_penalty(graph, penalty):
    """A copy of ``graph`` with ``penalty`` added to every word arc.

    Arguments
    ---------
    graph : kaldifst.StdVectorFst
        A decoding graph (word output labels).
    penalty : float
        Cost added per output word (positive: fewer insertions).

    Returns
    -------
    kaldifst.StdVectorFst
        The penalised copy (``graph`` itself when ``penalty`` is 0).

    Example
    -------
    >>> import kaldifst
    >>> g = kaldifst.StdVectorFst()
    >>> s = g.add_state()
    >>> g.start = s
    >>> g.set_final(s, 0.0)
    >>> g.add_arc(s, kaldifst.StdArc(1, 7, 0.5, s))
    >>> g.add_arc(s, kaldifst.StdArc(2, 0, 0.5, s))
    >>> p = with_word_insertion_penalty(g, 1.0)
    >>> [round(a.weight.value, 2) for a in _arcs(kaldifst.ArcIterator(p, 0))]
    [1.5, 0.5]
    >>> [round(a.weight.value, 2) for a in _arcs(kaldifst.ArcIterator(g, 0))]
    [0.5, 0.5]
    """
    import kaldifst

    if penalty == 0:
        return graph
    # The Python bindings have no mutable arc iterator: rewrite the arcs of
    # every state that emits a word.
    out = graph.copy()
    for state in range(out.num_states):
        arcs = _arcs(kaldifst.ArcIterator(out, state))
        if not any(arc.olabel for arc in arcs):
            continue
        out.delete_arcs(state, len(arcs))
        for arc in arcs:
            cost = arc.weight.value + (penalty if arc.olabel else 0.0)
            out.add_arc(
                state,
                kaldifst.StdArc(arc.ilabel, arc.olabel, cost, arc.nextstate),
            )
    return out


def _arcs(iterator):
    """All arcs of an arc iterator (helper for doctests and tests)."""
    arcs = []
    while not iterator.done:
        arcs.append(iterator.value)
        iterator.next()
    return arcs


def read_scp(path):
    """Reads a Kaldi scp: ``utt-id rxfilename`` per line.

    Arguments
    ---------
    path : str or os.PathLike
        The scp file.

    Returns
    -------
    list of tuple of (str, str)
        Utterance ids and rxfilenames (``ark:offset``, a pipe...), in
        file order.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file (and the line): missing file, a line without an
        rxfilename, a duplicate utterance id, bytes that are not UTF-8, or
        no utterance at all.

    Example
    -------
    >>> path = getfixture("tmp_path") / "ll.scp"
    >>> _ = path.write_text("u1 ll.ark:3\\n\\nu2 ll.ark:90\\n")
    >>> read_scp(path)
    [('u1', 'll.ark:3'), ('u2', 'll.ark:90')]
    >>> _ = path.write_text("u1 ll.ark:3\\nu2\\n")
    >>> read_scp(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../ll.scp: line 2: expected 'utt-id rxfilename', got 'u2'
    """
    path = os.fspath(path)
    entries, seen = [], {}
    for lineno, line in iter_text_lines(path, "scp file"):
        fields = line.split(maxsplit=1)
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(
                f"{path}: line {lineno}: expected 'utt-id rxfilename', got "
                f"{line.strip()!r}"
            )
        utt, rxfile = fields[0], fields[1].strip()
        if utt in seen:
            raise ValueError(
                f"{path}: line {lineno}: utterance {utt!r} is already on "
                f"line {seen[utt]}"
            )
        seen[utt] = lineno
        entries.append((utt, rxfile))
    if not entries:
        raise ValueError(f"{path}: no utterances (empty scp file)")
    return entries


def _ark_key(fd, path, count, last):
    """The next utterance id of an archive (None at its end)."""
    import kaldiio.matio

    after = f"after utterance {last!r}" if last else "at its start"
    where = f"entry {count + 1} ({after})"
    try:
        key = kaldiio.matio.read_token(fd)
    except UnicodeDecodeError:
        raise ValueError(
            f"{path}: {where}: the utterance id is not UTF-8 text: not a "
            "Kaldi archive, or a damaged one"
        ) from None
    if key is not None and (
        not key or not key.isprintable() or any(c.isspace() for c in key)
    ):
        raise ValueError(
            f"{path}: {where}: {key[:40]!r} is not an utterance id: not a "
            "Kaldi archive, or a damaged one"
        )
    return key


def index_ark(path, folder, num_pdfs, model_path=None):
    """Checks every matrix of a log-likelihood archive; returns an scp.

    Each matrix is read and checked (:func:`~.decoder.check_loglikes`)
    here, in the parent, so that a bad entry is reported with the
    archive and the utterance before decoding starts. The scp written to
    ``folder`` points into ``path`` itself when it is a regular file;
    a pipe or standard input is copied to ``folder/loglikes.ark``.

    Arguments
    ---------
    path : str
        The archive: a file, ``-`` (standard input) or a command ending
        in ``|`` (the part of an ``ark:`` rspecifier after the colon).
    folder : str
        An existing (temporary) folder for ``loglikes.scp`` and, for a
        pipe, the copy of the archive.
    num_pdfs : int
        Expected number of columns.
    model_path : str, optional
        Where ``num_pdfs`` comes from (named in messages).

    Returns
    -------
    str
        The scp file.

    Raises
    ------
    ValueError
        Naming the archive and the utterance (or the entry) that cannot
        be read or does not fit; or an archive with no utterance, or the
        same utterance twice.
    sb_rectifier.files.WriteError
        If ``folder`` cannot be written (naming the file).

    Example
    -------
    >>> import kaldiio, numpy as np
    >>> tmp = str(getfixture("tmp_path"))
    >>> kaldiio.save_ark(f"{tmp}/ll.ark", {"u1": np.zeros((4, 3), "f")})
    >>> scp = index_ark(f"{tmp}/ll.ark", tmp, 3)
    >>> read_scp(scp) == [("u1", f"{tmp}/ll.ark:3")]
    True
    >>> index_ark(f"{tmp}/ll.ark", tmp, 5, "final.mdl")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../ll.ark: utterance 'u1': the matrix has 3 columns, but final.mdl has 5 pdfs ...
    """
    import kaldiio
    import kaldiio.matio
    from kaldiio.utils import open_like_kaldi

    from sb_rectifier.decoding.decoder import check_loglikes
    from sb_rectifier.files import WriteError, write_table

    scp = os.path.join(folder, "loglikes.scp")
    copy = os.path.join(folder, "loglikes.ark")
    stream = path.strip() == "-" or path.strip().endswith("|")
    name = "standard input" if path.strip() == "-" else path
    if not stream and not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: log-likelihood archive not found")

    def write_failed(err):
        return WriteError(
            err.errno,
            f"{copy}: cannot write (the copy of {name}): {err.strerror or err}",
        )

    rows, seen, last = [], set(), None
    with open_like_kaldi(path, "rb") as fd:
        writer = None
        if stream:
            try:
                writer = open(copy, "wb")  # in a temporary folder
            except OSError as err:
                raise write_failed(err) from None
        try:
            while True:
                key = _ark_key(fd, name, len(rows), last)
                if key is None:
                    break
                if key in seen:
                    raise ValueError(f"{name}: utterance {key!r} occurs twice")
                where = f"{name}: utterance {key!r}"
                offset = None if stream else fd.tell()
                try:
                    matrix = kaldiio.matio.read_kaldi(fd)
                except Exception as err:  # kaldiio raises anything
                    raise ValueError(
                        f"{where}: cannot read the log-likelihoods: "
                        f"{_read_failure(err)}"
                    ) from None
                matrix = check_loglikes(matrix, num_pdfs, where, model_path)
                seen.add(key)
                last = key
                if stream:
                    offset = writer.tell() + len(key.encode()) + 1
                    try:
                        kaldiio.save_ark(writer, {key: matrix})
                    except OSError as err:
                        raise write_failed(err) from None
                    rows.append((key, f"{copy}:{offset}"))
                else:
                    rows.append((key, f"{os.path.abspath(path)}:{offset}"))
            if writer is not None:
                try:
                    writer.close()  # flushes: may fail too
                except OSError as err:
                    raise write_failed(err) from None
        finally:
            if writer is not None and not writer.closed:
                with contextlib.suppress(OSError):
                    writer.close()
    if not rows:
        raise ValueError(f"{name}: no utterances (empty archive)")
    write_table(scp, rows)
    return scp


def _load(graph_path, model_path, beam, max_active):
    from sb_rectifier.decoding.fst_io import read_graph
    from sb_rectifier.kaldi import TransitionModel

    model = TransitionModel.read(model_path)
    return {
        "graphs": {0.0: read_graph(graph_path)},
        "graph_path": os.fspath(graph_path),
        "tid2pdf": model.tid2pdf,
        "num_pdfs": model.num_pdfs,
        "model_path": os.fspath(model_path),
        "beam": beam,
        "max_active": max_active,
    }


def _init_worker(parent_pid, graph_path, model_path, beam, max_active):
    """Loads the graph and the model into this process.

    In a worker (``parent_pid`` given), first arranges to die with the
    parent; an error while loading is kept and raised by the first
    :func:`_decode_one`, so that it reaches the parent with its message
    (an initializer that raises only breaks the pool).
    """
    _WORKER.clear()
    if parent_pid is None:
        _WORKER.update(_load(graph_path, model_path, beam, max_active))
        return
    from sb_rectifier.processes import die_with_parent

    die_with_parent(parent_pid)
    try:
        _WORKER.update(_load(graph_path, model_path, beam, max_active))
    except (OSError, ValueError) as err:
        _WORKER["error"] = err
    except Exception as err:  # anything else, made picklable
        _WORKER["error"] = ValueError(
            f"a decoding worker could not load {graph_path} and "
            f"{model_path}: {type(err).__name__}: {err}"
        )


def _graph(penalty):
    graphs = _WORKER["graphs"]
    if penalty not in graphs:
        graphs[penalty] = with_word_insertion_penalty(graphs[0.0], penalty)
    return graphs[penalty]


def _read_failure(err):
    """Why kaldiio could not read a matrix, in words."""
    if isinstance(err, OSError):
        return err.strerror or str(err)
    detail = " ".join(str(err).split()) or "unexpected data"
    return (
        "not a Kaldi matrix, or a truncated archive "
        f"({type(err).__name__}: {detail})"
    )


def _decode_one(utt, rxfile, acoustic_scale, penalty, source):
    import kaldiio

    from sb_rectifier.decoding.decoder import check_loglikes, decode_utterance

    if "error" in _WORKER:
        raise _WORKER["error"]
    where = f"{source}: utterance {utt!r} ({rxfile})"
    try:
        matrix = kaldiio.load_mat(rxfile)
    except Exception as err:  # kaldiio raises anything on bad data
        raise ValueError(
            f"{where}: cannot read the log-likelihoods: {_read_failure(err)}"
        ) from None
    loglik = check_loglikes(
        matrix, _WORKER["num_pdfs"], where, _WORKER["model_path"]
    )
    try:
        result = decode_utterance(
            _graph(penalty),
            loglik,
            _WORKER["tid2pdf"],
            acoustic_scale=acoustic_scale,
            beam=_WORKER["beam"],
            max_active=_WORKER["max_active"],
        )
    except (ValueError, RuntimeError) as err:
        raise ValueError(f"{where}: {err}") from None
    return utt, result, loglik.shape[0]


def _read_checked(utt, rxfile, source):
    import kaldiio

    from sb_rectifier.decoding.decoder import check_loglikes

    if "error" in _WORKER:
        raise _WORKER["error"]
    where = f"{source}: utterance {utt!r} ({rxfile})"
    try:
        matrix = kaldiio.load_mat(rxfile)
    except Exception as err:  # kaldiio raises anything on bad data
        raise ValueError(
            f"{where}: cannot read the log-likelihoods: {_read_failure(err)}"
        ) from None
    loglik = check_loglikes(
        matrix, _WORKER["num_pdfs"], where, _WORKER["model_path"]
    )
    return where, loglik


def _graph_arrays():
    """The graph as arrays for the lattice search (read once per worker)."""
    if "graph_arrays" not in _WORKER:
        from sb_rectifier.decoding.fst_io import read_graph_arrays

        arrays = read_graph_arrays(_WORKER["graph_path"])
        _WORKER["graph_arrays"] = arrays
        _WORKER["scratch"] = np.full(arrays.num_states, -1, np.int32)
    return _WORKER["graph_arrays"]


def _rescore_one(
    utt, rxfile, lattice_lm_weight, lattice_beam, grid, source, one=False
):
    """Grid best paths of one utterance's lattice; with ``one`` (a single
    point), its :class:`~.decoder.DecodingResult` (alignment included)."""
    from sb_rectifier.decoding.decoder import DecodingResult
    from sb_rectifier.decoding.lattice_search import search_lattice
    from sb_rectifier.decoding.rescore import grid_best_paths

    where, loglik = _read_checked(utt, rxfile, source)
    graph = _graph_arrays()
    try:
        lattice, reached = search_lattice(
            graph,
            loglik,
            _WORKER["tid2pdf"],
            1.0 / lattice_lm_weight,
            beam=_WORKER["beam"],
            max_active=_WORKER["max_active"],
            lattice_beam=lattice_beam,
            scratch=_WORKER["scratch"],
        )
        paths = grid_best_paths(lattice, grid[0], grid[1], where, one)
    except (ValueError, RuntimeError) as err:
        msg = str(err)
        raise ValueError(
            msg if msg.startswith(where) else f"{where}: {msg}"
        ) from None
    if one:
        (path,) = paths
        (penalty,) = grid[1]
        result = DecodingResult(
            words=path.words,
            alignment=path.alignment,
            # as a decoding with the penalised graph reports it
            graph_cost=path.graph_cost + penalty * len(path.words),
            acoustic_cost=path.acoustic_cost,
            reached_final=reached,
        )
        return utt, result, loglik.shape[0]
    return utt, (paths, reached), loglik.shape[0]


def _exit_status(process):
    code = process.exitcode
    if code is None or code == 0:
        return None
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the out-of-memory killer sends it)" if -code == 9 else ""
        return f"worker pid {process.pid} was killed by {name}{hint}"
    return f"worker pid {process.pid} exited with status {code}"


class ParallelDecoder:
    """1-best decoding of a log-likelihood scp over worker processes.

    The graph's header and the model are checked when the decoder is
    entered, before any worker starts; workers die with this process.

    Arguments
    ---------
    graph_path : str
        ``HCLG.fst`` (vector or const), transition-id inputs.
    model_path : str
        The transition model (``final.mdl``): maps pdfs to transition-ids.
    num_workers : int
        Worker processes (1: decode in this process).
    beam : float
        Decoding beam.
    max_active : int
        Most active tokens per frame.

    Example
    -------
    Used as a context manager::

        with ParallelDecoder("graph/HCLG.fst", "final.mdl", 2) as decoder:
            hyps = decoder.decode("loglikes.scp", acoustic_scale=0.1)
    """

    def __init__(
        self,
        graph_path,
        model_path,
        num_workers=None,
        beam=13.0,
        max_active=7000,
    ):
        self.num_workers = num_workers or os.cpu_count() or 1
        self.graph_path = os.fspath(graph_path)
        self.model_path = os.fspath(model_path)
        self.init_args = (self.graph_path, self.model_path, beam, max_active)
        self.pool = None
        self.num_pdfs = None
        self.last_seconds = None
        self.last_frames = None
        self.last_not_final = None

    def __enter__(self):
        from sb_rectifier.kaldi import TransitionModel

        check_graph_file(self.graph_path)
        self.num_pdfs = TransitionModel.read(self.model_path).num_pdfs
        if self.num_workers > 1:
            # spawn: safe whatever the parent holds (torch threads, ...).
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(
                self.num_workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(os.getpid(), *self.init_args),
            )
        else:
            _init_worker(None, *self.init_args)
        return self

    def __exit__(self, exc_type, *exc):
        if self.pool is not None:
            # On an error, do not wait for the queued utterances.
            self.pool.shutdown(wait=True, cancel_futures=exc_type is not None)
            self.pool = None
        return False

    def _worker_died(self, scp):
        # The pool's (private) table of its processes, for the exit status.
        try:
            processes = list(
                (getattr(self.pool, "_processes", None) or {}).values()
            )
        except RuntimeError:  # changed by the pool's thread meanwhile
            processes = []
        # The pool's thread reaps them: wait for it to record their status.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(
            p.exitcode is None for p in processes
        ):
            time.sleep(0.05)
        statuses = [_exit_status(p) for p in processes]
        statuses = [s for s in statuses if s and "SIGTERM" not in s]
        why = f" ({statuses[0]})" if statuses else ""
        return WorkerDiedError(
            f"a decoding worker process died while decoding {scp}{why}; "
            "decode in one process (--jobs 1, or num_workers=1) to see the "
            "error, and check the memory: each worker holds a copy of the "
            f"graph {self.graph_path}"
        )

    def decode(
        self,
        scp,
        acoustic_scale,
        word_ins_penalty=0.0,
        progress=True,
        desc="decoding",
        source=None,
    ):
        """Decodes every utterance of a log-likelihood scp.

        Arguments
        ---------
        scp : str
            Kaldi scp of ``[frames, num_pdfs]`` log-likelihood matrices.
        acoustic_scale : float
            Scale of the acoustic log-likelihoods (1 / LM weight).
        word_ins_penalty : float
            Cost per output word.
        progress : bool
            Show a progress bar.
        desc : str
            Progress bar label.
        source : str, optional
            What to call the input in messages (default: ``scp``), e.g.
            the archive that a temporary scp indexes.

        Returns
        -------
        dict
            Utterance id -> ``DecodingResult``, in scp order. The decoding
            time, the number of frames and the number of utterances that
            reached no final state are kept in ``last_seconds``,
            ``last_frames`` and ``last_not_final``.

        Raises
        ------
        ValueError
            Naming the scp and the utterance, for a matrix that cannot be
            read or does not fit the model (see the module docstring).
        WorkerDiedError
            If a worker process died.
        """
        if self.num_pdfs is None:
            raise RuntimeError("ParallelDecoder.decode: use it in a 'with'")
        scp = os.fspath(scp)
        args = [
            (utt, rx, acoustic_scale, float(word_ins_penalty), source or scp)
            for utt, rx in read_scp(scp)
        ]
        results, frames = self._run(
            _decode_one, args, scp, progress, desc, source
        )
        self.last_frames = frames
        self.last_not_final = sum(not r.reached_final for r in results.values())
        return results

    def _run(self, function, args, scp, progress, desc, source):
        """Maps ``function`` over per-utterance ``args`` (in the pool)."""
        start = time.time()
        results, frames = {}, 0
        with tqdm(
            total=len(args), desc=desc, disable=not progress, unit="utt"
        ) as bar:
            try:
                if self.pool is None:
                    outputs = (function(*a) for a in args)
                else:
                    chunk = max(1, len(args) // (8 * self.num_workers))
                    outputs = self.pool.map(
                        function, *zip(*args, strict=True), chunksize=chunk
                    )
                for utt, result, num_frames in outputs:
                    results[utt] = result
                    frames += num_frames
                    bar.update(1)
            except BrokenProcessPool:
                raise self._worker_died(source or scp) from None
        self.last_seconds = time.time() - start
        return results, frames

    def rescore_grid(
        self,
        scp,
        lm_weights,
        penalties,
        lattice_lm_weight,
        lattice_beam=6.0,
        progress=True,
        desc="dev lattices",
        source=None,
    ):
        """Decodes an scp once into lattices; best paths of a whole grid.

        Each utterance is decoded into a raw lattice at acoustic scale
        ``1 / lattice_lm_weight`` (:func:`.lattice_search.search_lattice`,
        with the decoder's beam and max-active) and
        its best path is found for every ``(lm_weight, penalty)`` pair
        (:func:`.rescore.grid_best_paths`), in the worker.

        Arguments
        ---------
        scp : str
            Kaldi scp of log-likelihood matrices.
        lm_weights, penalties : list of float
            The grid.
        lattice_lm_weight : float
            LM weight (1 / acoustic scale) of lattice generation.
        lattice_beam : float
            Lattice beam.
        progress : bool
            Show a progress bar.
        desc : str
            Progress bar label.
        source : str, optional
            What to call the input in messages (default: ``scp``).

        Returns
        -------
        dict
            Utterance id -> ``(paths, reached_final)``: ``paths`` a list of
            :class:`.rescore.GridPath`, LM weight major. Time and frames
            are kept in ``last_seconds`` and ``last_frames``.
        """
        grid = (tuple(lm_weights), tuple(penalties))
        results = self._run_lattices(
            "rescore_grid", scp, grid, lattice_lm_weight, lattice_beam,
            False, progress, desc, source,
        )  # fmt: skip
        self.last_not_final = sum(not r[1] for r in results.values())
        return results

    def _run_lattices(
        self, name, scp, grid, lattice_lm_weight, lattice_beam, one,
        progress, desc, source,
    ):  # fmt: skip
        """:func:`_rescore_one` over an scp (``one``: a single point's
        :class:`~.decoder.DecodingResult`)."""
        if self.num_pdfs is None:
            raise RuntimeError(f"ParallelDecoder.{name}: use it in a 'with'")
        scp = os.fspath(scp)
        args = [
            (
                utt,
                rx,
                float(lattice_lm_weight),
                float(lattice_beam),
                grid,
                source or scp,
                one,
            )
            for utt, rx in read_scp(scp)
        ]
        results, frames = self._run(
            _rescore_one, args, scp, progress, desc, source
        )
        self.last_frames = frames
        return results

    def decode_lattices(
        self,
        scp,
        lm_weight,
        word_ins_penalty,
        lattice_lm_weight,
        lattice_beam=6.0,
        progress=True,
        desc="decoding",
        source=None,
    ):
        """Decodes an scp into lattices; the best paths at one point.

        What :meth:`decode` returns, with the search of
        :meth:`rescore_grid`: each utterance is decoded into a lattice at
        ``1 / lattice_lm_weight`` and its best path at ``(lm_weight,
        word_ins_penalty)`` taken, with its alignment (Kaldi's scoring of
        a lattice at one LM weight and penalty). A pair chosen on lattices
        is then applied with the same search that chose it, and no graph
        copy with the penalty is made.

        Arguments
        ---------
        scp : str
            Kaldi scp of log-likelihood matrices.
        lm_weight, word_ins_penalty : float
            The point.
        lattice_lm_weight : float
            LM weight (1 / acoustic scale) of lattice generation.
        lattice_beam : float
            Lattice beam.
        progress : bool
            Show a progress bar.
        desc : str
            Progress bar label.
        source : str, optional
            What to call the input in messages (default: ``scp``).

        Returns
        -------
        dict
            Utterance id -> ``DecodingResult``, in scp order; time, frames
            and not-final count as :meth:`decode` keeps them.
        """
        grid = ((float(lm_weight),), (float(word_ins_penalty),))
        results = self._run_lattices(
            "decode_lattices", scp, grid, lattice_lm_weight, lattice_beam,
            True, progress, desc, source,
        )  # fmt: skip
        self.last_not_final = sum(not r.reached_final for r in results.values())
        return results
