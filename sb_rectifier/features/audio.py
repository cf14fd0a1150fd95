"""The audio of a Kaldi data directory: ``wav.scp``, ``segments``, resampling.

A Kaldi data directory names its audio in ``wav.scp``, one recording a
line, either a sound file (``rec path``) or a command whose standard
output is a WAV file (``rec cmd args |``, run by the shell, as Kaldi
does). An optional ``segments`` file (``utt rec start end``, in seconds;
``end`` -1 means the end of the recording) cuts utterances out of the
recordings; without it every recording is one utterance.

Samples are returned as float32 on the 16-bit integer scale (a full-scale
sine peaks at 32767), which is what Kaldi's feature extractors see.
Recordings at another rate than the requested one are resampled
(``torchaudio.functional.resample``) before the segments are cut, as a
``sox`` pipe in ``wav.scp`` would; :class:`AudioReport` counts them.

NIST SPHERE (LDC corpora such as Switchboard, whose Kaldi ``wav.scp``
lines are ``sph2pipe -f wav -p -c 1 file.sph |``): a ``sph2pipe`` pipe is
run when ``sph2pipe`` is installed; when it is not, the file is read
in-process (libsndfile through soundfile reads SPHERE with PCM, µ-law and
A-law samples) with the channel of ``-c`` and the ``-t`` time range. A
shorten-compressed SPHERE file (``embedded-shorten``) needs ``sph2pipe``
and is an error that says so (:func:`read_sphere_pipe`).

Every bad input is an error naming the file and line (``wav.scp``,
``segments``), the utterance, and for pipes the command's standard error.

Authors
 * sb_rectifier developers 2026
"""

import collections
import io
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from sb_rectifier.files import iter_text_lines

INT16_SCALE = 32768.0  # soundfile's float samples -> Kaldi's integer scale
# A segment may end this far past its recording (times written to 10 ms);
# its end is then the recording's end (counted in the report).
SEGMENT_END_TOLERANCE = 0.02


@dataclass(frozen=True)
class AudioItem:
    """One utterance: where its audio comes from.

    Attributes
    ----------
    utt : str
        Utterance id.
    recording : str
        Recording id (the ``wav.scp`` key; the utterance id when there
        are no segments).
    source : str
        The ``wav.scp`` value: a file name or a command ending in ``|``.
    where : str
        ``<wav.scp>: line N``, for messages.
    start : float
        Segment start in seconds (0 without segments).
    end : float or None
        Segment end in seconds; None: the end of the recording.
    segment_where : str or None
        ``<segments>: line N`` (None without segments).

    Example
    -------
    >>> AudioItem("u1", "u1", "a.wav", "wav.scp: line 1").is_pipe
    False
    """

    utt: str
    recording: str
    source: str
    where: str
    start: float = 0.0
    end: float = None
    segment_where: str = None

    @property
    def is_pipe(self):
        """Whether the source is a command (``... |``)."""
        return self.source.endswith("|")


def _read_wav_scp(path):
    recordings = {}
    for number, line in iter_text_lines(path, "wav.scp"):
        where = f"{path}: line {number}"
        parts = line.strip().split(None, 1)
        if not parts:
            raise ValueError(f"{where}: empty line")
        if len(parts) != 2:
            raise ValueError(
                f"{where}: expected '<recording> <file>' or "
                f"'<recording> <command> |', got {line.strip()!r}"
            )
        rec, source = parts[0], parts[1].strip()
        if rec in recordings:
            raise ValueError(
                f"{where}: duplicate recording '{rec}' (first at "
                f"{recordings[rec][1]})"
            )
        if source == "|" or source.startswith("|"):
            raise ValueError(
                f"{where}: recording '{rec}': no command before '|' ("
                f"{source!r})"
            )
        recordings[rec] = (source, where)
    if not recordings:
        raise ValueError(f"{path}: no recordings")
    return recordings


def _parse_time(text, what, where):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {what} {text!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{where}: {what} {text!r} is not finite")
    return value


def read_audio_items(data_dir):
    """The utterances of a data directory and where their audio is.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory with ``wav.scp`` (and optionally
        ``segments``).

    Returns
    -------
    list of AudioItem
        In the order of ``segments`` (or of ``wav.scp`` without it).

    Example
    -------
    >>> tmp = getfixture("tmp_path")
    >>> _ = (tmp / "wav.scp").write_text(
    ...     "r1 r1.wav\\nr2 sox r2.flac -t wav - |\\n"
    ... )
    >>> _ = (tmp / "segments").write_text("u1 r1 0.0 1.5\\nu2 r2 0.5 -1\\n")
    >>> [(i.utt, i.recording, i.end, i.is_pipe) for i in read_audio_items(tmp)]
    [('u1', 'r1', 1.5, False), ('u2', 'r2', None, True)]
    >>> _ = (tmp / "segments").write_text("u1 r3 0.0 1.5\\n")
    >>> read_audio_items(tmp)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../segments: line 1: utterance 'u1': recording 'r3' is not in .../wav.scp
    """
    data_dir = os.fspath(data_dir)
    wav_scp = os.path.join(data_dir, "wav.scp")
    recordings = _read_wav_scp(wav_scp)
    segments = os.path.join(data_dir, "segments")
    if not os.path.isfile(segments):
        return [
            AudioItem(rec, rec, source, where)
            for rec, (source, where) in recordings.items()
        ]
    items = []
    seen = {}
    for number, line in iter_text_lines(segments, "segments"):
        where = f"{segments}: line {number}"
        parts = line.split()
        if len(parts) != 4:
            raise ValueError(
                f"{where}: expected '<utterance> <recording> <start> <end>', "
                f"got {line.strip()!r}"
            )
        utt, rec = parts[0], parts[1]
        if utt in seen:
            raise ValueError(
                f"{where}: duplicate utterance '{utt}' (first at {seen[utt]})"
            )
        seen[utt] = where
        if rec not in recordings:
            raise ValueError(
                f"{where}: utterance '{utt}': recording '{rec}' is not in "
                f"{wav_scp}"
            )
        start = _parse_time(parts[2], "start", where)
        end = _parse_time(parts[3], "end", where)
        if start < 0:
            raise ValueError(
                f"{where}: utterance '{utt}': negative start time {start}"
            )
        if end == -1:
            end = None
        elif end <= start:
            raise ValueError(
                f"{where}: utterance '{utt}': end {end} is not after start "
                f"{start}"
            )
        source, rec_where = recordings[rec]
        items.append(AudioItem(utt, rec, source, rec_where, start, end, where))
    if not items:
        raise ValueError(f"{segments}: no segments")
    return items


def group_by_recording(items):
    """The items grouped by recording, in order of first appearance.

    Arguments
    ---------
    items : list of AudioItem
        Utterances.

    Returns
    -------
    list of list of AudioItem
        One list per recording (each recording is read once).

    Example
    -------
    >>> a, b, c = (AudioItem(u, r, "x", "w") for u, r in ["ar", "bs", "cr"])
    >>> [[i.utt for i in g] for g in group_by_recording([a, b, c])]
    [['a', 'c'], ['b']]
    """
    groups = collections.OrderedDict()
    for item in items:
        groups.setdefault(item.recording, []).append(item)
    return list(groups.values())


def _soundfile_read(handle, name, where, channel):
    import soundfile

    try:
        data, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises its own LibsndfileError
        raise ValueError(
            f"{where}: cannot read audio {name} ({type(err).__name__}: "
            f"{str(err).strip()})"
        ) from None
    channels = data.shape[1]
    if channel is None:
        if channels != 1:
            raise ValueError(
                f"{where}: {name} has {channels} channels; choose one with "
                "the channel option (0-based)"
            )
        channel = 0
    elif not 0 <= channel < channels:
        raise ValueError(
            f"{where}: {name} has {channels} channel(s), no channel {channel} "
            "(0-based)"
        )
    samples = np.ascontiguousarray(data[:, channel]) * np.float32(INT16_SCALE)
    return samples, int(rate)


def sphere_header(path, where):
    """The fields of a NIST SPHERE header (``NIST_1A``), or None.

    Arguments
    ---------
    path : str
        The file.
    where : str
        For messages.

    Returns
    -------
    dict or None
        Field -> value (text), None when the file is not SPHERE.

    Example
    -------
    >>> import soundfile
    >>> path = getfixture("tmp_path") / "a.sph"
    >>> x = np.zeros((8, 2), np.int16)
    >>> soundfile.write(path, x, 8000, format="NIST", subtype="ULAW")
    >>> h = sphere_header(str(path), "wav.scp: line 1")
    >>> h["sample_coding"], h["channel_count"], h["sample_rate"]
    ('ulaw', '2', '8000')
    """
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            if not head.startswith(b"NIST_1A"):
                return None
            size = int(head[8:16])
            head += f.read(max(0, size - 16))
    except ValueError:
        raise ValueError(f"{where}: {path}: bad NIST SPHERE header") from None
    except OSError as err:
        raise OSError(f"{where}: cannot read {path}: {err}") from None
    fields = {}
    for line in head.decode("latin-1").splitlines()[2:]:
        parts = line.split(None, 2)
        if parts[:1] == ["end_head"]:
            break
        if len(parts) == 3:
            fields[parts[0]] = parts[2].strip()
    return fields


def _sph2pipe_options(command, where):
    """(file, channel 0-based or None, (start, end) seconds or None)."""
    try:
        words = shlex.split(command)
    except ValueError as err:
        raise ValueError(f"{where}: cannot parse {command!r}: {err}") from None
    path, channel, span = None, None, None
    i = 1
    while i < len(words):
        word = words[i]
        if word in ("-f", "-c", "-t", "-s"):
            if i + 1 == len(words):
                raise ValueError(f"{where}: {command!r}: {word} needs a value")
            value = words[i + 1]
            if word == "-c":
                if value not in ("1", "2"):
                    raise ValueError(
                        f"{where}: {command!r}: -c {value} (channel 1 or 2)"
                    )
                channel = int(value) - 1
            elif word == "-t":
                try:
                    start, end = (value.split(":") + [""])[:2]
                    span = (float(start or 0), float(end) if end else None)
                except ValueError:
                    raise ValueError(
                        f"{where}: {command!r}: -t {value} (seconds "
                        "START:END are read in-process)"
                    ) from None
            elif word == "-s":
                raise ValueError(
                    f"{where}: {command!r}: -s (sample ranges) needs sph2pipe"
                )
            i += 2
        elif word.startswith("-"):
            i += 1  # -p, -u, -a: output coding; samples come out as PCM
        else:
            if path is not None:
                raise ValueError(
                    f"{where}: {command!r}: more than one input file"
                )
            path = word
            i += 1
    if path is None:
        raise ValueError(f"{where}: {command!r}: no input file")
    return path, channel, span


def read_sphere_pipe(command, where, channel=None):
    """A ``sph2pipe ... |`` line of ``wav.scp``, read without sph2pipe.

    Arguments
    ---------
    command : str
        The command (without the final ``|``).
    where : str
        For messages.
    channel : int or None
        The channel when the command has no ``-c``.

    Returns
    -------
    tuple
        ``(samples, sample_rate)`` as :func:`read_recording`.

    Example
    -------
    >>> import soundfile
    >>> path = getfixture("tmp_path") / "sw02001.sph"
    >>> x = np.array([[1000, -8], [-2000, 16], [3000, 0]], np.int16)
    >>> soundfile.write(path, x, 8000, format="NIST", subtype="PCM_16")
    >>> read_sphere_pipe(f"sph2pipe -f wav -p -c 2 {path}", "wav.scp: line 1")
    (array([-8., 16.,  0.], dtype=float32), 8000)
    """
    path, option_channel, span = _sph2pipe_options(command, where)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{where}: audio file {path} not found")
    header = sphere_header(path, where)
    if header is None:
        raise ValueError(f"{where}: {path} is not a NIST SPHERE file")
    coding = header.get("sample_coding", "pcm")
    if "shorten" in coding:
        raise ValueError(
            f"{where}: {path} is shorten-compressed SPHERE "
            f"(sample_coding {coding}), which only sph2pipe decodes: it is "
            "not on PATH; install it (the wav.scp pipe then runs as is) or "
            "convert the file to WAV"
        )
    if option_channel is not None:
        channel = option_channel
    samples, rate = _soundfile_read(path, path, where, channel)
    if span is not None:
        start = int(round(span[0] * rate))
        end = len(samples) if span[1] is None else int(round(span[1] * rate))
        samples = samples[start:end]
    return samples, rate


def _is_sph2pipe(command):
    words = command.split(None, 1)
    return bool(words) and os.path.basename(words[0]) == "sph2pipe"


def read_recording(source, where, channel=None):
    """Reads one recording of ``wav.scp``: a sound file or a pipe.

    Arguments
    ---------
    source : str
        A file name, or a shell command ending in ``|`` that writes a WAV
        file to its standard output.
    where : str
        ``<wav.scp>: line N``, for messages.
    channel : int or None
        The channel to take (0-based); None: the audio must be mono.

    Returns
    -------
    tuple
        ``(samples, sample_rate)``: float32 ``[N]`` on the 16-bit
        integer scale, and the file's rate.

    Example
    -------
    >>> import soundfile
    >>> path = getfixture("tmp_path") / "a.wav"
    >>> soundfile.write(path, np.array([0, 100, -7], np.int16), 8000)
    >>> read_recording(str(path), "wav.scp: line 1")
    (array([  0., 100.,  -7.], dtype=float32), 8000)
    >>> read_recording(f"cat {path} |", "wav.scp: line 1")[0].tolist()
    [0.0, 100.0, -7.0]
    >>> read_recording("exit 3 |", "wav.scp: line 2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    OSError: wav.scp: line 2: command 'exit 3' failed (exit status 3)...
    """
    if source.endswith("|"):
        command = source[:-1].strip()
        if _is_sph2pipe(command) and shutil.which(command.split()[0]) is None:
            return read_sphere_pipe(command, where, channel)
        try:
            result = subprocess.run(
                command,
                shell=True,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except OSError as err:
            raise OSError(f"{where}: cannot run {command!r}: {err}") from None
        stderr = result.stderr.decode("utf-8", "replace").strip()
        if result.returncode != 0:
            raise OSError(
                f"{where}: command {command!r} failed (exit status "
                f"{result.returncode})" + (f": {stderr}" if stderr else "")
            )
        if not result.stdout:
            raise ValueError(
                f"{where}: command {command!r} wrote no audio"
                + (f" (its stderr: {stderr})" if stderr else "")
            )
        return _soundfile_read(
            io.BytesIO(result.stdout), f"the output of {command!r}", where,
            channel,
        )  # fmt: skip
    if not os.path.isfile(source):
        raise FileNotFoundError(f"{where}: audio file {source} not found")
    _refuse_shorten(source, where)
    return _soundfile_read(source, source, where, channel)


def _refuse_shorten(path, where):
    """A shorten-compressed SPHERE file named in wav.scp: a clear error."""
    header = sphere_header(path, where)
    if header is not None and "shorten" in header.get("sample_coding", ""):
        raise ValueError(
            f"{where}: {path} is shorten-compressed SPHERE; read it through "
            f"a sph2pipe pipe in wav.scp (sph2pipe -f wav -p -c 1 {path} |)"
        )


def resample(samples, from_rate, to_rate):
    """Resamples a signal (``torchaudio.functional.resample``, its defaults).

    Arguments
    ---------
    samples : numpy.ndarray
        float32 ``[N]``.
    from_rate : int
        Its rate.
    to_rate : int
        The wanted rate.

    Returns
    -------
    numpy.ndarray
        float32 ``[round(N * to_rate / from_rate)]`` (the same array when
        the rates are equal).

    Example
    -------
    >>> resample(np.zeros(800, np.float32), 8000, 16000).shape
    (1600,)
    """
    if from_rate == to_rate:
        return samples
    import torch
    import torchaudio.functional

    wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    return torchaudio.functional.resample(wave, from_rate, to_rate).numpy()


def cut_segment(samples, sample_rate, item):
    """The samples of an utterance: its segment of the recording.

    Sample indices are ``round(time * sample_rate)``, as Kaldi's
    ``extract-segments``. An end past the recording by at most
    :data:`SEGMENT_END_TOLERANCE` seconds is the recording's end; further
    is an error naming the segments line, and so is a start at or past
    the end.

    Arguments
    ---------
    samples : numpy.ndarray
        The recording.
    sample_rate : int
        Its rate.
    item : AudioItem
        The utterance.

    Returns
    -------
    tuple
        ``(samples, clamped)``: the segment, and whether its end was
        moved to the recording's end.

    Example
    -------
    >>> item = AudioItem(
    ...     "u1", "r", "r.wav", "wav.scp: line 1", 0.5, 1.0, "segments: line 1"
    ... )
    >>> cut, clamped = cut_segment(
    ...     np.arange(8000, dtype=np.float32), 8000, item
    ... )
    >>> float(cut[0]), len(cut), clamped
    (4000.0, 4000, False)
    >>> late = AudioItem(
    ...     "u2", "r", "r.wav", "wav.scp: line 1", 0.5, 2.0, "segments: line 2"
    ... )
    >>> cut_segment(np.zeros(8000, np.float32), 8000, late)
    Traceback (most recent call last):
    ValueError: segments: line 2: utterance 'u2': segment 0.5-2.0 s ends past the end of recording 'r' (1.000 s, r.wav)
    """
    if item.segment_where is None:
        return samples, False
    num = len(samples)
    duration = num / sample_rate
    start = int(round(item.start * sample_rate))
    what = (
        f"{item.segment_where}: utterance '{item.utt}': segment "
        f"{item.start}-{item.end if item.end is not None else 'end'} s"
    )
    recording = (
        f"recording '{item.recording}' ({duration:.3f} s, {item.source})"
    )
    if start >= num:
        raise ValueError(f"{what} starts past the end of {recording}")
    clamped = False
    if item.end is None:
        end = num
    else:
        end = int(round(item.end * sample_rate))
        if end > num:
            if item.end - duration > SEGMENT_END_TOLERANCE:
                raise ValueError(f"{what} ends past the end of {recording}")
            end, clamped = num, True
    return samples[start:end], clamped


class AudioReport:
    """Counts what reading the audio did: resampled recordings, clamps.

    Example
    -------
    >>> report = AudioReport()
    >>> report.add_recording(8000, 16000)
    >>> report.add_recording(16000, 16000)
    >>> report.summary()
    '1 of 2 recordings resampled 8000 -> 16000 Hz'
    """

    def __init__(self):
        self.recordings = 0
        self.rates = collections.Counter()  # (from, to) -> recordings
        self.clamped = []  # utterances whose segment end was clamped

    def add_recording(self, from_rate, to_rate):
        """Counts one recording read at ``from_rate``, used at ``to_rate``."""
        self.recordings += 1
        self.rates[(int(from_rate), int(to_rate))] += 1

    def merge(self, other):
        """Adds the counts of another report (of a worker process)."""
        self.recordings += other.recordings
        self.rates.update(other.rates)
        self.clamped += other.clamped

    @property
    def resampled(self):
        """``{"8000 -> 16000": recordings}`` of the resampled recordings."""
        return {
            f"{a} -> {b}": n
            for (a, b), n in sorted(self.rates.items())
            if a != b
        }

    def summary(self):
        """One line: what was resampled (or that nothing was)."""
        parts = [
            f"{n} of {self.recordings} recordings resampled {a} -> {b} Hz"
            for (a, b), n in sorted(self.rates.items())
            if a != b
        ]
        if not parts:
            rates = sorted({b for _, b in self.rates})
            rate = "/".join(str(r) for r in rates) or "?"
            parts = [
                f"{self.recordings} recordings at {rate} Hz, none resampled"
            ]
        if self.clamped:
            parts.append(
                f"{len(self.clamped)} segment end(s) moved to the end of their "
                f"recording (at most {SEGMENT_END_TOLERANCE} s past it, e.g. "
                f"{self.clamped[0]})"
            )
        return "; ".join(parts)


def load_group(items, sample_rate=None, channel=None, report=None):
    """Reads one recording and yields its utterances' samples.

    Arguments
    ---------
    items : list of AudioItem
        Utterances of one recording (see :func:`group_by_recording`).
    sample_rate : int or None
        The rate to return (resampling when the file's differs); None:
        the file's.
    channel : int or None
        Channel to take (0-based); None: the audio must be mono.
    report : AudioReport or None
        Counts resampled recordings and clamped segments.

    Yields
    ------
    tuple
        ``(item, samples, sample_rate)``; empty audio is an error naming
        the utterance and the file.

    Example
    -------
    >>> import soundfile
    >>> tmp = getfixture("tmp_path")
    >>> soundfile.write(tmp / "r.wav", np.ones(8000, np.int16), 8000)
    >>> item = AudioItem("u", "r", str(tmp / "r.wav"), "wav.scp: line 1")
    >>> report = AudioReport()
    >>> [
    ...     (i.utt, len(s), r)
    ...     for i, s, r in load_group([item], 16000, None, report)
    ... ]
    [('u', 16000, 16000)]
    >>> report.summary()
    '1 of 1 recordings resampled 8000 -> 16000 Hz'
    """
    first = items[0]
    where = f"{first.where}: recording '{first.recording}'"
    samples, rate = read_recording(first.source, where, channel)
    if len(samples) == 0:
        raise ValueError(
            f"{first.where}: recording '{first.recording}' "
            f"(utterance '{first.utt}'): empty audio in {first.source}"
        )
    target = rate if sample_rate is None else int(sample_rate)
    samples = resample(samples, rate, target)
    if report is not None:
        report.add_recording(rate, target)
    for item in items:
        cut, clamped = cut_segment(samples, target, item)
        if clamped and report is not None:
            report.clamped.append(item.utt)
        if len(cut) == 0:
            raise ValueError(
                f"{item.segment_where or item.where}: utterance '{item.utt}': "
                f"empty audio in {item.source}"
            )
        yield item, cut, target


def first_sample_rate(data_dir, channel=None):
    """The sample rate of a data directory's first recording.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory with ``wav.scp``.
    channel : int or None
        Channel option, passed on to the reader of pipes.

    Returns
    -------
    int
        Samples per second (read from the header of a file; a pipe is run).

    Example
    -------
    >>> import soundfile
    >>> tmp = getfixture("tmp_path")
    >>> soundfile.write(tmp / "r.wav", np.zeros(80, np.int16), 8000)
    >>> _ = (tmp / "wav.scp").write_text(f"r {tmp / 'r.wav'}\\n")
    >>> first_sample_rate(tmp)
    8000
    """
    item = read_audio_items(data_dir)[0]
    if not item.is_pipe and os.path.isfile(item.source):
        import soundfile

        _refuse_shorten(
            item.source, f"{item.where}: recording '{item.recording}'"
        )
        try:
            return int(soundfile.info(item.source).samplerate)
        except Exception as err:
            raise ValueError(
                f"{item.where}: recording '{item.recording}': cannot read "
                f"audio {item.source} "
                f"({type(err).__name__}: {str(err).strip()})"
            ) from None
    where = f"{item.where}: recording '{item.recording}'"
    return read_recording(item.source, where, channel)[1]


def iter_audio(data_dir, sample_rate=None, channel=None, report=None):
    """Yields every utterance's samples of a data directory, in order.

    Arguments
    ---------
    data_dir : str or os.PathLike
        Kaldi data directory (``wav.scp``, optional ``segments``).
    sample_rate : int or None
        Rate to return; None: the first recording's (others resampled).
    channel : int or None
        Channel (0-based); None: the audio must be mono.
    report : AudioReport or None
        Counts resampled recordings and clamped segments.

    Yields
    ------
    tuple
        ``(utt, samples, sample_rate)``: float32 samples on the 16-bit
        integer scale.

    Example
    -------
    >>> import soundfile
    >>> tmp = getfixture("tmp_path")
    >>> soundfile.write(tmp / "r.wav", np.ones(16000, np.int16), 8000)
    >>> _ = (tmp / "wav.scp").write_text(f"r {tmp / 'r.wav'}\\n")
    >>> _ = (tmp / "segments").write_text("a r 0 1\\nb r 1.5 2\\n")
    >>> [(u, len(s), r) for u, s, r in iter_audio(tmp)]
    [('a', 8000, 8000), ('b', 4000, 8000)]
    """
    items = read_audio_items(data_dir)
    if sample_rate is None:
        sample_rate = first_sample_rate(data_dir, channel)
    order = {item.utt: index for index, item in enumerate(items)}
    pending = {}
    next_index = 0
    for group in group_by_recording(items):
        for item, samples, rate in load_group(
            group, sample_rate, channel, report
        ):
            pending[order[item.utt]] = (item.utt, samples, rate)
        while next_index in pending:
            yield pending.pop(next_index)
            next_index += 1
