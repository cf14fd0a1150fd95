"""Decoding and scoring faults a user met, each with the error it now gives.

Every test runs the real CLI (``sb_rectifier.cli.main.main`` in-process,
or a subprocess where a process is killed) on a real graph, model and
archive built here, and checks the exit status and that the message
names the file, the utterance, the line or the word id.
"""

import logging
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import kaldifst as kf
import kaldiio
import numpy as np
import pytest
from faults import run_with_file_size_limit, sb_rectifier_command

from sb_rectifier.cli.main import main
from sb_rectifier.decoding import ParallelDecoder, tune_and_decode
from sb_rectifier.decoding.fst_io import write_graph
from sb_rectifier.decoding.hclg import compile_hclg
from sb_rectifier.decoding.lang import write_symbols
from sb_rectifier.files import TMP_MARK
from sb_rectifier.kaldi.hmm_topology import HmmTopology
from sb_rectifier.kaldi.transition_model import TransitionModel

LINUX = sys.platform.startswith("linux") and os.path.isdir("/proc")
PHONES = ["SIL"] + [f"p{i}" for i in range(1, 20)]
PHONE_IDS = {"<eps>": 0, **{p: i for i, p in enumerate(PHONES, 1)}}


def _build(folder, num_words, word_suffix="", grammar=None, seed=0):
    """A monophone model, a word-loop (or ``grammar``) HCLG and words.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    words = [f"w{i}{word_suffix}" for i in range(num_words)]
    lexicon = [
        (w, [str(p) for p in rng.choice(PHONES[1:], rng.integers(3, 6))])
        for w in words
    ]
    word_ids = {"<eps>": 0, **{w: i for i, w in enumerate(words, 1)}}
    if grammar is None:
        grammar = kf.StdVectorFst()
        state = grammar.add_state()
        grammar.start = state
        grammar.set_final(state, 0.0)
        for i in range(1, num_words + 1):
            grammar.add_arc(state, kf.StdArc(i, i, math.log(num_words), state))
    model = TransitionModel.monophone(
        HmmTopology.left_to_right(range(1, len(PHONES) + 1))
    )
    graph = compile_hclg(model, lexicon, PHONE_IDS, word_ids, grammar)
    paths = SimpleNamespace(
        transition_model=model,
        lexicon=dict(lexicon),
        folder=folder,
        graph=str(folder / "HCLG.fst"),
        words=str(folder / "words.txt"),
        model=str(folder / "final.mdl"),
        num_pdfs=model.num_pdfs,
        word_list=words,
    )
    write_graph(graph.hclg, paths.graph, const=True)
    write_symbols(graph.word_ids, paths.words)
    model.write(paths.model, binary=True)
    return paths


def _loglikes(setup, name, lengths, seed=0):
    """Random (flat) log-likelihoods: ``name.ark`` and ``name.scp``."""
    rng = np.random.default_rng(seed)
    mats = {
        f"{name}_{i:03d}": rng.normal(
            0.0, 0.1, size=(frames, setup.num_pdfs)
        ).astype(np.float32)
        for i, frames in enumerate(lengths)
    }
    ark, scp = setup.folder / f"{name}.ark", setup.folder / f"{name}.scp"
    kaldiio.save_ark(str(ark), mats, scp=str(scp))
    return str(ark), str(scp)


def _spoken(setup, name, num_utts, num_words, seed=0):
    """Log-likelihoods peaked on the pdfs of random word sequences."""
    rng = np.random.default_rng(seed)
    model = setup.transition_model
    mats = {}
    for i in range(num_utts):
        words = rng.choice(setup.word_list, num_words)
        phones = ["SIL"] + [p for w in words for p in setup.lexicon[w]]
        tids = model.alignment_from_durations(
            [(PHONE_IDS[p], [2, 2, 2]) for p in [*phones, "SIL"]]
        )
        loglik = rng.normal(-12.0, 1.0, (len(tids), model.num_pdfs))
        loglik[np.arange(len(tids)), model.ali_to_pdf(tids)] = -1.0
        mats[f"{name}_{i:03d}"] = loglik.astype(np.float32)
    ark, scp = setup.folder / f"{name}.ark", setup.folder / f"{name}.scp"
    kaldiio.save_ark(str(ark), mats, scp=str(scp))
    return str(ark), str(scp)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A few short utterances; long word names (big hypothesis files)."""
    setup = _build(tmp_path_factory.mktemp("small"), 20, "_" + "x" * 60)
    setup.ark, setup.scp = _spoken(setup, "ll", 12, 6)
    return setup


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """A 300-word loop on flat likelihoods: seconds of decoding."""
    setup = _build(tmp_path_factory.mktemp("slow"), 300)
    setup.ark, setup.scp = _loglikes(setup, "ll", [500] * 40)
    return setup


def _decode(setup, loglikes, hyp, *extra, graph=None, words=None, model=None):
    return main(
        [
            "decode",
            graph or setup.graph,
            words or setup.words,
            model or setup.model,
            loglikes,
            f"ark,t:{hyp}",
            *extra,
        ]
    )


def _temporaries(folder):
    return [name for name in os.listdir(folder) if TMP_MARK in name]


# ------------------------------------------------ processes (Linux /proc)


def _state_and_parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None, None
    return fields[0], int(fields[1])


def _alive(pid):
    state, _ = _state_and_parent(pid)
    return state is not None and state not in ("Z", "X")


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            state, parent = _state_and_parent(int(entry))
            if parent == pid and state not in (None, "Z", "X"):
                kids.append(int(entry))
    return kids


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _workers(pid):
    """The ProcessPoolExecutor (spawn) workers among ``pid``'s children."""
    return [k for k in _children(pid) if "spawn_main" in _cmdline(k)]


def _wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _start_decode(setup, out_dir):
    """``sb-rectifier decode`` of an ark in a subprocess, 2 workers."""
    log = open(out_dir / "decode.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sb_rectifier.cli.main",
            "decode",
            setup.graph,
            setup.words,
            setup.model,
            f"ark:{setup.ark}",
            f"ark,t:{out_dir / 'hyp.txt'}",
            "--jobs",
            "2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()

    def started():
        if proc.poll() is not None:
            pytest.fail(
                "decode ended before its workers were seen: "
                + (out_dir / "decode.log").read_text()
            )
        workers = _workers(proc.pid)
        return workers if len(workers) == 2 else None

    workers = _wait_for(started, 120, "2 decoding workers")
    return proc, workers


def _kill_leftovers(pids):
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_workers_die_with_a_killed_decode(slow, tmp_path):
    """Case 1: kill -9 of the parent leaves no worker (nor anything) alive."""
    proc, workers = _start_decode(slow, tmp_path)
    family = _children(proc.pid)  # the workers and the resource tracker
    assert set(workers) <= set(family)
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(_alive, family)):
            time.sleep(0.05)
        survivors = [p for p in family if _alive(p)]
        assert not survivors, [(p, _cmdline(p)) for p in survivors]
    finally:
        _kill_leftovers(family)
    # The pid-tagged index folder of the killed run is all that is left;
    # the next run in that folder removes it.
    assert not (tmp_path / "hyp.txt").exists()
    (left,) = _temporaries(tmp_path)
    assert f"{TMP_MARK}{proc.pid}-" in left
    one = tmp_path / "one.scp"
    one.write_text(open(slow.scp).readline())
    assert (
        _decode(slow, f"scp:{one}", tmp_path / "again.txt", "--jobs", "1") == 0
    )
    assert _temporaries(tmp_path) == []


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_sigterm_removes_the_temporary_index(slow, tmp_path):
    """Case 9: kill (SIGTERM) during decoding removes the temporary folder."""
    proc, workers = _start_decode(slow, tmp_path)
    family = _children(proc.pid)
    try:
        assert len(_temporaries(tmp_path)) == 1  # the index of the ark
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        _wait_for(
            lambda: not any(map(_alive, workers)), 10, "the workers to end"
        )
    finally:
        _kill_leftovers(family)
    assert _temporaries(tmp_path) == []
    assert not (tmp_path / "hyp.txt").exists()


# ---------------------------------------------- graph, model, dead worker


def test_graph_that_is_not_an_fst(small, tmp_path, capsys):
    """Case 2: a non-FST graph or model is named before workers start."""
    hyp = tmp_path / "hyp.txt"
    args = (f"scp:{small.scp}", hyp, "--jobs", "2")
    assert _decode(small, *args, graph=small.words) == 1
    err = capsys.readouterr().err
    assert f"{small.words}: not an OpenFst binary FST" in err
    assert "BrokenProcessPool" not in err
    assert _decode(small, *args, model=small.words) == 1
    err = capsys.readouterr().err
    assert f"{small.words}: expected <TransitionModel>" in err
    missing = str(tmp_path / "nope.fst")
    assert _decode(small, *args, graph=missing) == 1
    assert f"{missing}: graph not found" in capsys.readouterr().err
    assert not hyp.exists()


def test_truncated_graph_is_named_by_the_worker(small, tmp_path, capsys):
    """Case 2: a graph with a good header but cut short (read by workers)."""
    cut = tmp_path / "HCLG.fst"
    data = open(small.graph, "rb").read()
    cut.write_bytes(data[: len(data) // 2])
    hyp = tmp_path / "hyp.txt"
    argv = (f"scp:{small.scp}", hyp, "--jobs", "2")
    assert _decode(small, *argv, graph=str(cut)) == 1
    err = capsys.readouterr().err
    assert f"sb-rectifier decode: error: {cut}: could not read the FST" in err
    assert "BrokenProcessPool" not in err and not hyp.exists()


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_a_worker_that_dies_is_reported(slow, tmp_path, capsys):
    """Case 2: a worker killed (as by the OOM killer) gives a clear error."""
    killed = []

    def kill_one_worker():
        pids = _wait_for(lambda: _workers(os.getpid()), 120, "workers")
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    thread = threading.Thread(target=kill_one_worker, daemon=True)
    thread.start()
    hyp = tmp_path / "hyp.txt"
    status = _decode(slow, f"scp:{slow.scp}", hyp, "--jobs", "2")
    thread.join(timeout=130)
    assert killed and status == 1
    err = capsys.readouterr().err
    assert "error: a decoding worker process died while decoding" in err
    assert slow.scp in err and "--jobs 1" in err
    assert f"worker pid {killed[0]} was killed by SIGKILL" in err, err
    assert "BrokenProcessPool" not in err and not hyp.exists()


# ------------------------------------------------------------- words.txt


def test_truncated_words_txt(small, tmp_path, capsys):
    """Case 3: a word id of the graph missing from words.txt."""
    lines = open(small.words).read().splitlines()
    words = tmp_path / "words.txt"
    words.write_text("\n".join(lines[:3]) + "\n")  # <eps>, w0, w1
    hyp = tmp_path / "hyp.txt"
    assert _decode(small, f"ark:{small.ark}", hyp, words=str(words)) == 1
    err = capsys.readouterr().err
    assert f"error: {words}: no word with id " in err
    assert "for utterance 'll_0" in err
    assert f"the graph and {words} do not match" in err
    assert "truncated" in err and not hyp.exists()


def test_malformed_words_txt_names_the_line(small, tmp_path, capsys):
    """Case 3: a malformed line of words.txt."""
    words = tmp_path / "words.txt"
    words.write_text("<eps> 0\nw0 1\nw1\n")
    hyp = tmp_path / "hyp.txt"
    assert _decode(small, f"ark:{small.ark}", hyp, words=str(words)) == 1
    assert (
        f"error: {words}: line 3: expected 'symbol id', got 'w1'"
        in capsys.readouterr().err
    )


# ------------------------------------------------ log-likelihood archives


def _garbage(setup, kind, folder):
    """A bad ark, an scp into it, and the utterances the errors name.

    Returns ``(ark, scp_entries, utt_in_ark, utt_in_scp)``; ``utt_in_ark``
    is None where no utterance id can be read from the archive.
    """
    if kind == "random bytes":
        ark = folder / "random.ark"
        ark.write_bytes(np.random.default_rng(0).bytes(5000))
        return ark, [("u1", f"{ark}:0")], None, "u1"
    if kind == "text file":
        ark = folder / "text.ark"
        ark.write_text("this is not an archive\nat all\n")
        return ark, [("u1", str(ark))], "this", "u1"
    if kind == "truncated":  # cut inside the matrix of the 6th utterance
        entries = [line.split() for line in open(setup.scp).read().splitlines()]
        utt, rx = entries[5]
        ark = folder / "cut.ark"
        data = open(setup.ark, "rb").read()
        ark.write_bytes(data[: int(rx.rsplit(":", 1)[1]) + 100])
        entries = [(u, f"{ark}:{r.rsplit(':', 1)[1]}") for u, r in entries]
        return ark, entries, utt, utt
    mats = {
        "good": np.zeros((20, setup.num_pdfs), np.float32),
        "wide": np.zeros((20, setup.num_pdfs + 1), np.float32),
    }
    ark = folder / "wide.ark"
    scp = folder / "wide_index.scp"
    kaldiio.save_ark(str(ark), mats, scp=str(scp))
    entries = [tuple(line.split()) for line in scp.read_text().splitlines()]
    return ark, entries, "wide", "wide"


KINDS = ["random bytes", "text file", "truncated", "wrong columns"]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_ark_read_in_the_parent(small, tmp_path, capsys, kind):
    """Case 4: ``ark:`` input, checked while it is indexed."""
    ark, _, utt, _ = _garbage(small, kind, tmp_path)
    hyp = tmp_path / "hyp.txt"
    assert _decode(small, f"ark:{ark}", hyp, "--jobs", "2") == 1
    err = capsys.readouterr().err
    assert f"sb-rectifier decode: error: {ark}: " in err
    if utt is None:  # random bytes: no utterance id can be read
        assert "entry 1 (at its start)" in err and "not a Kaldi archive" in err
    else:
        assert f"utterance '{utt}'" in err
    if kind == "wrong columns":
        assert (
            f"{small.num_pdfs + 1} columns, but {small.model} has "
            f"{small.num_pdfs} pdfs" in err
        )
    elif utt is not None:
        assert "cannot read the log-likelihoods" in err
    assert "Traceback" not in err and not hyp.exists()
    assert _temporaries(tmp_path) == []


@pytest.mark.parametrize("kind", KINDS)
def test_bad_matrix_read_by_a_worker(small, tmp_path, capsys, kind):
    """Case 4: ``scp:`` input, each matrix read and checked in a worker."""
    ark, entries, _, utt = _garbage(small, kind, tmp_path)
    scp = tmp_path / "bad.scp"
    scp.write_text("".join(f"{u} {rx}\n" for u, rx in entries))
    hyp = tmp_path / "hyp.txt"
    assert _decode(small, f"scp:{scp}", hyp, "--jobs", "2") == 1
    err = capsys.readouterr().err
    assert f"sb-rectifier decode: error: {scp}: utterance '{utt}' ({ark}" in err
    if kind == "wrong columns":
        assert (
            f"{small.num_pdfs + 1} columns, but {small.model} has "
            f"{small.num_pdfs} pdfs" in err
        )
    else:
        assert "cannot read the log-likelihoods" in err
    assert "Traceback" not in err and not hyp.exists()


def test_bad_scp_line(small, tmp_path, capsys):
    scp = tmp_path / "bad.scp"
    scp.write_text(f"u1 {small.ark}:3\nu2\n")
    assert _decode(small, f"scp:{scp}", tmp_path / "hyp.txt") == 1
    assert (
        f"error: {scp}: line 2: expected 'utt-id rxfilename', got 'u2'"
        in capsys.readouterr().err
    )


# ----------------------------------------------- no final state, dev grid


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    """G accepts only "w0 w1 w2"; 5-frame utterances cannot finish it."""
    grammar = kf.make_linear_acceptor([1, 2, 3])
    setup = _build(tmp_path_factory.mktemp("linear"), 3, grammar=grammar)
    setup.dev = _loglikes(setup, "dev", [5, 200, 5, 200], seed=1)[1]
    setup.test = _loglikes(setup, "test", [5, 5, 5, 200], seed=2)[1]
    sentence = setup.word_list
    setup.refs = {
        split: {f"{split}_{i:03d}": list(sentence) for i in range(4)}
        for split in ("dev", "test")
    }
    setup.id2word = dict(enumerate(sentence, 1))
    return setup


def _tune(setup, out_dir, progress):
    with ParallelDecoder(setup.graph, setup.model, num_workers=1) as decoder:
        return tune_and_decode(
            decoder,
            {"dev": setup.dev, "test": setup.test},
            setup.refs,
            setup.id2word,
            str(out_dir),
            [5.0, 10.0],
            [0.0, 1.0, 2.0],
            progress=progress,
        )


def test_no_final_state_is_one_summary_line(linear, tmp_path, caplog):
    """Case 5: no per-utterance warning, one INFO line per split."""
    with caplog.at_level(logging.DEBUG):
        report = _tune(linear, tmp_path, progress=False)
    assert "no final state reached" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO and "reached no final state" in r.message
    ]
    assert lines == [
        "dev: 2 of 4 utterances reached no final state (best partial path "
        "used)",
        "test: 3 of 4 utterances reached no final state (best partial path "
        "used)",
    ]
    assert report["dev"]["not_reaching_final"] == 2
    assert report["test"]["not_reaching_final"] == 3
    assert all(g["not_reaching_final"] == 2 for g in report["dev_grid"])


def test_dev_grid_logs_one_info_line_and_a_bar(linear, tmp_path, caplog):
    """Case 6: the grid at DEBUG, one INFO summary, one progress bar."""
    with caplog.at_level(logging.DEBUG, logger="sb_rectifier"):
        report = _tune(linear, tmp_path, progress=True)
    points = [
        r for r in caplog.records if r.getMessage().startswith("dev: LM weight")
    ]
    assert len(points) == 6 and {r.levelno for r in points} == {logging.DEBUG}
    (summary,) = [
        r
        for r in caplog.records
        if r.levelno == logging.INFO and "dev grid" in r.getMessage()
    ]
    dev_wer = report["dev"]["wer"]
    assert summary.getMessage() == (
        "dev grid: 2 LM weights x 3 penalties = 6 points; chosen LM weight "
        f"{report['lm_weight']}, penalty {report['word_ins_penalty']}: dev "
        f"%WER {dev_wer:.2f}"
    )
    assert len(report["dev_grid"]) == 6


def test_dev_grid_progress_bar_only_when_asked(linear, tmp_path, capfd):
    _tune(linear, tmp_path / "quiet", progress=False)
    assert "dev grid" not in capfd.readouterr().err
    _tune(linear, tmp_path / "bar", progress=True)
    err = capfd.readouterr().err
    assert "dev grid: 100%" in err and "6/6" in err


# ----------------------------------------------------------- compute-wer


def _wer(ref, hyp, *extra):
    return main(["compute-wer", *extra, str(ref), str(hyp)])


def test_empty_reference_is_an_error(tmp_path, capsys):
    """Case 7: Kaldi prints -nan and exits 0; we refuse, naming REF."""
    ref, hyp = tmp_path / "ref.txt", tmp_path / "hyp.txt"
    hyp.write_text("u1 a b\n")
    ref.write_text("")
    assert _wer(ref, hyp) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        f"sb-rectifier compute-wer: error: {ref}: the reference has no "
        "utterances (empty file): the WER is undefined because the "
        "reference has no words" in captured.err
    )
    ref.write_text("u1\nu2\n")
    for mode in ("strict", "present", "all"):
        assert _wer(ref, hyp, f"--mode={mode}") == 1
        captured = capsys.readouterr()
        assert "-nan" not in captured.out
        assert (
            f"error: {ref}: the reference has no words (2 utterances, all "
            "empty): the WER is undefined" in captured.err
        )


def test_no_reference_word_left_after_the_glm(tmp_path, capsys):
    """Case 7: words only in non-speech tokens, which the GLM filters."""
    ref, hyp, glm = (tmp_path / n for n in ("ref.txt", "hyp.txt", "x.glm"))
    ref.write_text("u1 [noise] <unk>\n")
    hyp.write_text("u1 yes\n")
    glm.write_text(";; empty\n")
    assert _wer(ref, hyp) == 0  # without the GLM: 2 words
    capsys.readouterr()
    assert _wer(ref, hyp, "--glm", str(glm)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        f"error: {ref}: no reference word was scored (the GLM {glm} and the "
        "filtering removed every word): the WER is undefined" in captured.err
    )


def test_empty_hypothesis_file(tmp_path, capsys):
    """Case 7: empty HYP: 100 % deletions (all), an error otherwise."""
    ref, hyp = tmp_path / "ref.txt", tmp_path / "hyp.txt"
    ref.write_text("u1 a b\nu2 c\n")
    hyp.write_text("")
    assert _wer(ref, hyp, "--mode=all") == 0
    assert capsys.readouterr().out == (
        "%WER 100.00 [ 3 / 3, 0 ins, 3 del, 0 sub ] [PARTIAL]\n"
        "%SER 100.00 [ 2 / 2 ]\n"
        "Scored 2 sentences, 2 not present in hyp.\n"
    )
    assert _wer(ref, hyp) == 1
    assert (
        f"error: {hyp}: the hypothesis file has no utterances: No hypothesis "
        "for key u1 and strict mode specifier." in capsys.readouterr().err
    )
    assert _wer(ref, hyp, "--mode=present") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        f"error: {ref}: no reference word was scored (none of the 2 "
        f"reference utterances is in {hyp} and --mode=present skips them): "
        "the WER is undefined" in captured.err
    )


# ------------------------------------------------------------- not UTF-8


def test_non_utf8_inputs_name_the_line(small, tmp_path, capsys):
    """Case 8: reference, hypothesis, GLM and words.txt."""
    good = tmp_path / "good.txt"
    good.write_text("u1 a b\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"u1 a b\nu2 caf\xe9 x\n")
    for ref, hyp in ((bad, good), (good, bad)):
        assert _wer(ref, hyp) == 1
        assert (
            f"error: {bad}: line 2: not valid UTF-8 (byte 0xe9 at column 7)"
            in capsys.readouterr().err
        )
    glm = tmp_path / "x.glm"
    glm.write_bytes(b";; a GLM\nOK => { OK / \xffKAY }\n")
    assert _wer(good, good, "--glm", str(glm)) == 1
    assert (
        f"error: {glm}: line 2: not valid UTF-8 (byte 0xff at column 14)"
        in capsys.readouterr().err
    )
    words = tmp_path / "words.txt"
    words.write_bytes(b"<eps> 0\n\x80w 1\n")
    hyp = tmp_path / "hyp.txt"
    assert _decode(small, f"ark:{small.ark}", hyp, words=str(words)) == 1
    assert (
        f"error: {words}: line 2: not valid UTF-8 (byte 0x80 at column 1)"
        in capsys.readouterr().err
    )


# ------------------------------------------------ full disk (file size)


def _names_write_error(err, path):
    """The CLI's message for a write that failed with EFBIG, naming path."""
    return re.search(
        rf"error: (\[Errno \d+\] )?{re.escape(str(path))}: cannot write: "
        "File too large",
        err,
    )


def _decode_limited(setup, loglikes, hyp, max_bytes):
    return run_with_file_size_limit(
        sb_rectifier_command(
            "decode", setup.graph, setup.words, setup.model, loglikes,
            f"ark,t:{hyp}", "--jobs", "1",
        ),
        max_bytes,
    )  # fmt: skip


def test_full_disk_hypotheses(small, tmp_path):
    """Case 9: decode's hyp is never half-written; the error names it."""
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("previous\n")
    full = tmp_path / "full.txt"
    assert _decode(small, f"scp:{small.scp}", full, "--jobs", "1") == 0
    size = full.stat().st_size
    result = _decode_limited(small, f"scp:{small.scp}", hyp, size // 2)
    assert result.returncode == 1, result.stderr
    assert _names_write_error(result.stderr, hyp)
    assert "Traceback" not in result.stderr
    assert hyp.read_text() == "previous\n"
    assert _temporaries(tmp_path) == []


def test_full_disk_temporary_copy(small, tmp_path):
    """Case 9: the copy of a piped archive fails; its folder is removed."""
    hyp = tmp_path / "hyp.txt"
    result = _decode_limited(
        small, f"ark:cat {small.ark} |", hyp, os.path.getsize(small.ark) // 2
    )
    assert result.returncode == 1, result.stderr
    assert re.search(
        rf"error: (\[Errno \d+\] )?{re.escape(str(tmp_path))}/\.hyp\.txt"
        rf"{re.escape(TMP_MARK)}[^/]+/loglikes\.ark: cannot write \(the "
        rf"copy of cat {re.escape(small.ark)} \|\): File too large",
        result.stderr,
    )
    assert _temporaries(tmp_path) == [] and not hyp.exists()


def test_full_disk_compute_wer(tmp_path):
    """Case 9: --details and --json are written atomically."""
    ref, hyp = tmp_path / "ref.txt", tmp_path / "hyp.txt"
    ref.write_text("".join(f"u{i} a b c d e f g\n" for i in range(200)))
    hyp.write_text("".join(f"u{i} a x c d e f\n" for i in range(200)))
    details, report = tmp_path / "details.txt", tmp_path / "wer.json"

    def wer(*extra, limit):
        command = sb_rectifier_command("compute-wer", ref, hyp, *extra)
        return run_with_file_size_limit(command, limit)

    result = wer("--details", details, limit=4096)
    assert result.returncode == 1 and _names_write_error(result.stderr, details)
    assert not details.exists() and _temporaries(tmp_path) == []
    assert _wer(ref, hyp, "--subset", "A=u1", "--json", str(report)) == 0
    result = wer("--json", report, limit=100)
    assert result.returncode == 1 and _names_write_error(result.stderr, report)
    assert '"A": "u1"' in report.read_text()  # the previous one, intact
    assert _temporaries(tmp_path) == []
