"""make-corpus never loses data: folders it did not make, killed runs,
concurrent runs, bad options; and Kaldi-style 3-way speed perturbation.

Everything runs the real code on tiny corpora (hours=0.01, a few seconds
each); the test that runs two make-corpus commands at once is marked slow.
"""

import contextlib
import filecmp
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import kaldiio
import numpy as np
import pytest

from sb_rectifier.cli.main import main
from sb_rectifier.corpus.alignment import boundary_ms
from sb_rectifier.corpus.make_corpus import (
    CorpusConfig,
    CorpusError,
    existing_corpus,
    make_corpus,
)
from sb_rectifier.files import is_temp_name, temp_sibling
from sb_rectifier.kaldi import KaldiDataDir, load_alignment_dir

TINY = CorpusConfig(hours=0.01, seed=3)
TINY_ARGS = ["--hours", "0.01", "--seed", "3"]
FACTORS = (0.9, 1.0, 1.1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The tiny corpus, made in an empty folder with progress=False."""
    root = tmp_path_factory.mktemp("faults") / "tiny"
    root.mkdir()  # an empty folder is filled
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        info = make_corpus(root, TINY, num_workers=2, progress=False)
    return root, info, stderr.getvalue()


def _table(path):
    with open(path, encoding="utf-8") as fin:
        return [line.split() for line in fin if line.strip()]


def _snapshot(folder):
    """Every file and folder under ``folder``: size, mtime and content hash."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            state[os.path.relpath(path, folder)] = "dir"
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fin:
                digest = hashlib.sha1(fin.read()).hexdigest()
            stat = os.stat(path)
            state[os.path.relpath(path, folder)] = (
                stat.st_size,
                stat.st_mtime_ns,
                digest,
            )
    return state


def _cli(args, capsys):
    status = main(["make-corpus", *args])
    captured = capsys.readouterr()
    return status, captured.err


def _same_files(a_root, b_root, rel_paths):
    """Byte-compares files of two corpora (``*.scp``: paths replaced)."""
    for rel in rel_paths:
        a, b = os.path.join(a_root, rel), os.path.join(b_root, rel)
        if rel.endswith(".scp"):
            with open(a) as fa, open(b) as fb:
                assert fa.read().replace(str(a_root), "R") == fb.read().replace(
                    str(b_root), "R"
                ), rel
        else:
            assert filecmp.cmp(a, b, shallow=False), rel


def _all_files(root):
    return sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, _, files in os.walk(root)
        for f in files
    )


# --------------------------------------------------------------- folders


def test_empty_folder_is_filled_and_no_progress_bar_when_asked(corpus):
    root, info, stderr = corpus
    assert existing_corpus(root, TINY) == info  # complete, reusable
    assert info["splits"]["train"]["utterances"] == 36
    assert "synthesis" not in stderr and "utt/s" not in stderr, stderr


def test_folder_with_other_files_is_refused_and_left_alone(tmp_path, capsys):
    mydata = tmp_path / "mydata"
    mydata.mkdir()
    (mydata / "precious.txt").write_text("x\n")
    for i in range(6):
        (mydata / f"notes{i}.txt").write_text(str(i))
    before = _snapshot(mydata)
    status, err = _cli([str(mydata), "--hours", "0.05", "--seed", "1"], capsys)
    assert status == 1
    assert err.startswith(
        f"sb-rectifier make-corpus: error: {mydata} is not empty and is not "
        "a corpus made by make-corpus (it holds notes0.txt, notes1.txt, "
        "notes2.txt, notes3.txt, notes4.txt and 2 more); nothing was "
        "changed: give make-corpus a new or empty folder"
    ), err
    assert "Traceback" not in err
    assert _snapshot(mydata) == before
    assert (mydata / "precious.txt").read_text() == "x\n"
    assert os.listdir(tmp_path) == ["mydata"]  # no lock, no temporary


def test_the_precious_file_case_names_it(tmp_path, capsys):
    mydata = tmp_path / "mydata"
    mydata.mkdir()
    (mydata / "precious.txt").write_text("x\n")
    status, err = _cli([str(mydata), "--hours", "0.05", "--seed", "1"], capsys)
    assert status == 1 and "(it holds precious.txt)" in err, err
    assert (mydata / "precious.txt").read_text() == "x\n"
    assert os.listdir(mydata) == ["precious.txt"]


def test_a_file_is_not_a_corpus_folder(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    status, err = _cli([str(path), *TINY_ARGS], capsys)
    assert status == 1
    assert f"{path} exists and is not a folder" in err, err
    assert path.read_text() == "x"


def test_corpus_with_other_settings_is_refused_untouched(corpus, capsys):
    root, info, _ = corpus
    before = _snapshot(root)
    status, err = _cli([str(root), "--hours", "0.02", "--seed", "4"], capsys)
    assert status == 1
    assert err.strip() == (
        f"sb-rectifier make-corpus: error: {root} holds a synthetic corpus "
        "made with other settings (--hours 0.01 there, 0.02 asked; --seed 3 "
        "there, 4 asked); it is left as it is: use another folder, or "
        "delete this one to make the corpus again"
    ), err
    with pytest.raises(
        CorpusError,
        match=r"--snr 5.0 25.0 there, 0.0 10.0 asked; "
        r"--speed-perturb none there, 0.9 1.0 1.1 asked\)",
    ):
        make_corpus(
            root,
            CorpusConfig(
                hours=0.01, seed=3, snr_db=(0, 10), speed_perturb=FACTORS
            ),
            progress=False,
        )
    assert _snapshot(root) == before
    # The same settings still reuse it, untouched.
    assert make_corpus(root, TINY, progress=False) == info
    assert _snapshot(root) == before


def test_damaged_corpus_is_refused_not_replaced(corpus, tmp_path, capsys):
    root, _, _ = corpus
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    os.unlink(copy / "data" / "train" / "feats.scp")
    before = _snapshot(copy)
    status, err = _cli([str(copy), *TINY_ARGS], capsys)
    assert status == 1
    assert f"{copy}: the corpus there lacks data/train/feats.scp" in err, err
    assert _snapshot(copy) == before

    (copy / "corpus.json").write_text('{"config": ')
    status, err = _cli([str(copy), *TINY_ARGS], capsys)
    assert status == 1
    assert f"{copy} holds a corpus.json that make-corpus did not write" in err
    assert "corpus.json: not a valid corpus.json (line 1" in err, err


def test_old_style_perturbed_corpus_is_refused(corpus, tmp_path):
    """A corpus of an older release, whose --speed-perturb drew one factor
    per utterance, has the same config fields: it must not be reused."""
    root, _, _ = corpus
    old = tmp_path / "old"
    shutil.copytree(root, old)
    info = json.loads((old / "corpus.json").read_text())
    info["config"]["speed_perturb"] = [0.9, 1.0, 1.1]  # as written then
    (old / "corpus.json").write_text(json.dumps(info, indent=2))
    before = _snapshot(old)
    config = CorpusConfig(hours=0.01, seed=3, speed_perturb=FACTORS)
    with pytest.raises(CorpusError) as err:
        make_corpus(old, config, progress=False)
    assert (
        f"{old} holds a synthetic corpus made with other settings "
        "(--speed-perturb drew one factor per utterance there (an older "
        "release), makes one copy of train per factor now); it is left as it "
        "is" in str(err.value)
    ), err.value
    assert _snapshot(old) == before


def test_stale_temporaries_of_dead_runs_are_removed(corpus):
    root, info, _ = corpus
    parent = root.parent
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # fmt: skip
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # its pid is dead now
    try:

        def temp_of(pid):
            mine = temp_sibling(root)
            return mine.replace(f".sbrtmp-{os.getpid()}-", f".sbrtmp-{pid}-")

        dead, live = temp_of(finished.pid), temp_of(sleeper.pid)
        for path in (dead, live):
            os.makedirs(os.path.join(path, "wav", "train"))
            with open(os.path.join(path, "wav", "train", "a.wav"), "wb") as f:
                f.write(b"half")
        other = parent / ".notes.txt"  # not a temporary: kept
        other.write_text("mine")
        assert make_corpus(root, TINY, progress=False) == info  # reused
        assert not os.path.exists(dead)
        assert os.path.isdir(live) and other.read_text() == "mine"
    finally:
        sleeper.kill()
        sleeper.wait()
    shutil.rmtree(live)


# --------------------------------------------------------------- options


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--sample-rate", "4000"], "--sample-rate (CorpusConfig.sample_rate) must be at least 8000 Hz: the telephone band (300-3400 Hz) needs a sample rate above 6800 Hz; got 4000"),
        (["--sample-rate", "0"], "--sample-rate (CorpusConfig.sample_rate) must be at least 8000 Hz"),
        (["--sample-rate", "-8000"], "--sample-rate (CorpusConfig.sample_rate) must be at least 8000 Hz"),
        (["--sample-rate", "11025"], "--sample-rate (CorpusConfig.sample_rate) must be a multiple of 100 Hz"),
        (["--snr", "30", "5"], "--snr (CorpusConfig.snr_db) MIN 30 dB is above MAX 5 dB"),
        (["--speed-perturb", "0"], "--speed-perturb (CorpusConfig.speed_perturb) factors must be from 0.5 to 2.0 (e.g. 0.9 1.0 1.1), not 0.0"),
        (["--speed-perturb", "0.9", "-1.1"], "--speed-perturb (CorpusConfig.speed_perturb) factors must be from 0.5 to 2.0 (e.g. 0.9 1.0 1.1), not -1.1"),
        (["--speed-perturb", "2.5"], "--speed-perturb (CorpusConfig.speed_perturb) factors must be from 0.5 to 2.0 (e.g. 0.9 1.0 1.1), not 2.5"),
        (["--speed-perturb", "1.1", "1.10"], "--speed-perturb (CorpusConfig.speed_perturb) lists a factor twice: 1.1 1.1"),
        (["--speed-perturb", "1.001"], "--speed-perturb (CorpusConfig.speed_perturb) factors have at most 2 decimals"),
        (["--hours", "-1"], "--hours (CorpusConfig.hours) must be a positive number of hours, not -1.0"),
        (["--hours", "0"], "--hours (CorpusConfig.hours) must be a positive number of hours, not 0.0"),
        (["--hours", "nan"], "--hours (CorpusConfig.hours) must be a positive number of hours, not nan"),
        (["--speakers", "12"], "--speakers (CorpusConfig.num_speakers) must be from 13 (1 train + 6 dev + 6 test speakers) to 200 (the distinct eSpeak voices), not 12"),
        (["--speakers", "201"], "--speakers (CorpusConfig.num_speakers) must be from 13"),
        (["--jobs", "0"], "--jobs (num_workers) must be a positive number of processes, not 0"),
        (["--jobs", "-2"], "--jobs (num_workers) must be a positive number of processes, not -2"),
        (["--seed", "-1"], "--seed (CorpusConfig.seed) must be a non-negative integer, not -1"),
    ],
)  # fmt: skip
def test_bad_option_is_named(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    status, err = _cli([str(out), *args], capsys)
    assert status == 1
    assert err.startswith("sb-rectifier make-corpus: error: " + expected), err
    assert "Traceback" not in err
    assert os.listdir(tmp_path) == []  # nothing made


@pytest.mark.parametrize(
    "field, value, option",
    [
        ("hours", 0, "--hours"),
        ("seed", 1.5, "--seed"),
        ("sample_rate", 4000, "--sample-rate"),
        ("num_speakers", 12, "--speakers"),
        ("snr_db", (30, 5), "--snr"),
        ("speed_perturb", (0,), "--speed-perturb"),
        ("dev_speakers", 0, None),
        ("shard_size", 0, None),
    ],
)
def test_python_api_gets_the_same_checks(field, value, option):
    with pytest.raises(CorpusError) as err:
        CorpusConfig(**{field: value})
    assert f"CorpusConfig.{field}" in str(err.value)
    if option:
        assert str(err.value).startswith(f"{option} (CorpusConfig.{field})")


# --------------------------------------------------- speed perturbation


@pytest.fixture(scope="module")
def perturbed(corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("perturbed") / "sp"
    config = CorpusConfig(hours=0.01, seed=3, speed_perturb=(1.1, 0.9, 1.0))
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        info = make_corpus(root, config, num_workers=2, progress=True)
    return root, info, stderr.getvalue()


def test_progress_bar_shown_when_asked(perturbed):
    *_, stderr = perturbed
    assert "synthesis" in stderr and "48/48" in stderr, stderr


def test_train_gets_one_prefixed_copy_per_factor(corpus, perturbed):
    plain, plain_info, _ = corpus
    root, info, _ = perturbed
    assert info["config"]["speed_perturb"] == [0.9, 1.0, 1.1]
    base = dict(_table(plain / "data" / "train" / "utt2spk"))
    utt2spk = dict(_table(root / "data" / "train" / "utt2spk"))
    expected = {}
    for prefix in ("sp0.9-", "", "sp1.1-"):
        for utt, spk in base.items():
            expected[prefix + utt] = prefix + spk
    assert utt2spk == expected
    assert info["splits"]["train"]["utterances"] == 3 * len(base)
    assert info["splits"]["train"]["speakers"] == 3 * len(set(base.values()))
    assert info["splits"]["dev"] == plain_info["splits"]["dev"]
    assert info["splits"]["test"] == plain_info["splits"]["test"]
    data = KaldiDataDir(str(root / "data" / "train"))
    assert sorted(data.utt_ids) == sorted(expected)
    ids = [row[0] for row in _table(root / "data" / "train" / "text")]
    assert ids == sorted(ids)  # Kaldi order (C locale)
    spk2utt = {row[0]: row[1:] for row in _table(root / "data" / "train" / "spk2utt")}  # fmt: skip
    assert {u: s for s, us in spk2utt.items() for u in us} == expected
    cmvn = kaldiio.load_scp(str(root / "data" / "train" / "cmvn.scp"))
    assert sorted(cmvn) == sorted(set(expected.values()))  # per sp speaker
    feats = kaldiio.load_scp(str(root / "data" / "train" / "feats.scp"))
    for spk, utts in spk2utt.items():
        stats = cmvn[spk]
        assert stats[0, -1] == sum(feats[u].shape[0] for u in utts)
        total = sum(feats[u].astype(np.float64).sum(axis=0) for u in utts)
        np.testing.assert_allclose(stats[0, :-1], total, rtol=1e-5, atol=1e-3)


def test_dev_test_and_the_1_0_copy_are_the_unperturbed_bytes(corpus, perturbed):
    plain, _, _ = corpus
    root, _, _ = perturbed
    untouched = [
        rel
        for rel in _all_files(plain)
        if "dev" in rel or "test" in rel or rel.startswith("data/lang")
    ]
    assert len(untouched) > 20
    assert [r for r in _all_files(root) if r in set(untouched)] == untouched
    _same_files(plain, root, untouched)
    plain_wavs = sorted(os.listdir(plain / "wav" / "train"))
    _same_files(
        plain, root, [os.path.join("wav", "train", w) for w in plain_wavs]
    )
    plain_feats = kaldiio.load_scp(str(plain / "data" / "train" / "feats.scp"))
    feats = kaldiio.load_scp(str(root / "data" / "train" / "feats.scp"))
    for utt, mat in plain_feats.items():
        np.testing.assert_array_equal(feats[utt], mat)


def test_perturbed_copies_scale_durations_and_stay_aligned(perturbed):
    root, _, _ = perturbed
    train = root / "data" / "train"
    durations = {u: float(d) for u, d in _table(train / "utt2dur")}
    frames = {u: int(n) for u, n in _table(train / "utt2num_frames")}
    feats = kaldiio.load_scp(str(train / "feats.scp"))
    originals = [u for u in durations if not u.startswith(("sp0.9-", "sp1.1-"))]
    assert len(originals) == 36
    for utt in originals:
        for factor in (0.9, 1.1):
            copy = f"sp{factor}-{utt}"
            assert durations[copy] == pytest.approx(
                durations[utt] / factor, abs=0.002
            ), copy
    # Alignments: every utterance, one per frame, consistent with features.
    ali_dir = root / "exp" / "ali_train"
    pdfs = load_alignment_dir(str(ali_dir))
    assert sorted(pdfs) == sorted(durations)
    for utt, ali in pdfs.items():
        assert len(ali) == frames[utt] == feats[utt].shape[0], utt
    # Jobs are split by the real speaker: a speaker's copies in one job.
    utt2spk = dict(_table(train / "utt2spk"))
    job_of = {}
    for job in (1, 2):
        with gzip.open(ali_dir / f"ali.{job}.gz") as fin:
            utts = list(kaldiio.load_ark(fin))
        assert utts, job
        for utt, _ in utts:
            assert job_of.setdefault(utt2spk[utt], job) == job
    assert len(job_of) == 108
    # eSpeak's events scale by 1/factor, and boundaries stay within 20 ms.
    events = {}
    worst = 0.0
    for utt, phone, start, _, event_ms in _table(
        ali_dir / "phone_alignment.txt"
    ):
        events.setdefault(utt, []).append((phone, float(event_ms)))
        if int(start):
            worst = max(worst, abs(boundary_ms(int(start)) - float(event_ms)))
    assert worst <= 20.0
    for utt in originals:
        for factor in (0.9, 1.1):
            copy = events[f"sp{factor}-{utt}"]
            assert [p for p, _ in copy] == [p for p, _ in events[utt]]
            np.testing.assert_allclose(
                [t for _, t in copy],
                [t / factor for _, t in events[utt]],
                atol=0.01,
            )


# ------------------------------------------------ processes: kill, race


def _children(pid):
    """Pids of the live (not zombie) children of ``pid`` running synthesis."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fin:
                stat = fin.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fin:
                cmdline = fin.read()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z" and b"corpus.synthesis" in cmdline:
            found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fin:
            return fin.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_kill_9_leaves_no_synthesis_running_nor_a_partial_corpus(tmp_path):
    out = tmp_path / "corpus"
    code = (
        "from sb_rectifier.corpus.make_corpus import CorpusConfig, make_corpus\n"
        f"make_corpus({str(out)!r}, CorpusConfig(hours=0.3, seed=1, "
        "shard_size=1000), "
        "num_workers=2, progress=False)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 60
        workers = []
        while not workers and time.time() < deadline:
            assert parent.poll() is None, "make_corpus ended before synthesis"
            workers = _children(parent.pid)
            time.sleep(0.05)
        assert workers, "no synthesis worker started"
        time.sleep(1.0)  # into the shard (input read): 30 s of work left
        assert parent.poll() is None and all(map(_alive, workers))
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.time() + 5  # long before the shards could end
    while any(map(_alive, workers)) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, workers)), workers
    assert not out.exists()  # nothing under the real name


def _make_corpus_command(out):
    return [
        sys.executable,
        "-m",
        "sb_rectifier.cli.main",
        "make-corpus",
        str(out),
        *TINY_ARGS,
        "--jobs",
        "2",
    ]


@pytest.mark.slow
def test_two_runs_at_once_make_the_corpus_once(corpus, tmp_path):
    plain, info, _ = corpus
    out = tmp_path / "shared" / "tiny"
    runs = [
        subprocess.Popen(
            _make_corpus_command(out),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    errs = [err for _, err in results]
    made = [err for err in errs if "Made the synthetic corpus" in err]
    reused = [err for err in errs if "Reusing the synthetic corpus" in err]
    assert len(made) == 1 and len(reused) == 1, errs
    assert "this corpus folder is in use by another run" in reused[0]
    printed = [json.loads(out_text) for out_text, _ in results]
    assert printed[0] == printed[1]
    assert printed[0]["splits"] == info["splits"]
    # Complete and identical to the corpus made alone.
    assert _all_files(out) == _all_files(plain)
    _same_files(plain, out, _all_files(plain))
    leftovers = os.listdir(out.parent)
    assert "tiny" in leftovers
    assert not [n for n in leftovers if is_temp_name(n)], leftovers


def test_file_put_in_the_empty_folder_meanwhile_is_kept(tmp_path):
    """A file written into the empty OUT while the corpus is being written
    there is not replaced: the corpus is refused, its temporary removed."""
    out = tmp_path / "out"
    out.mkdir()
    small = CorpusConfig(hours=0.001, seed=2, num_speakers=13)
    outcome = {}

    def run():
        try:
            outcome["info"] = make_corpus(out, small, progress=False)
        except CorpusError as err:
            outcome["error"] = str(err)

    worker = threading.Thread(target=run)
    worker.start()
    while worker.is_alive():  # wait for the writing phase, then intrude
        if [n for n in os.listdir(tmp_path) if n.startswith(".out.sbrtmp-")]:
            (out / "mine.txt").write_text("mine")
            break
        time.sleep(0.001)
    worker.join()
    assert outcome.get("error", "").startswith(
        f"{out}: something was put there while the corpus was being made; "
        "it is left as it is"
    ), outcome
    assert os.listdir(out) == ["mine.txt"]
    assert (out / "mine.txt").read_text() == "mine"
    assert not [n for n in os.listdir(tmp_path) if is_temp_name(n)]
