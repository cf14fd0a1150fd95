"""Kaldi data directories (``feats.scp``, ``utt2spk``, ``cmvn.scp``, ...) and CMVN.

:class:`KaldiDataDir` gives lazy access to the features of a Kaldi data
directory, with Kaldi's cepstral mean (and variance) normalisation applied
as ``apply-cmvn --utt2spk=... scp:cmvn.scp`` would. :func:`apply_cmvn` and
:func:`compute_cmvn_stats` are exact ports of Kaldi's ``ApplyCmvn`` and
``AccCmvnStats`` (same float32/float64 arithmetic, same summation order).

Authors
 * sb_rectifier developers 2026
"""

import collections
import os

import kaldiio
import numpy as np

from sb_rectifier.files import read_table

CMVN_VAR_FLOOR = 1.0e-20  # Kaldi's floor on the variance in ApplyCmvn.
PROBE_UTTERANCES = 16  # utterances read to find the feature dim


def compute_cmvn_stats(feats_list):
    """Accumulates CMVN statistics like Kaldi's ``compute-cmvn-stats``.

    Arguments
    ---------
    feats_list : iterable of array-like
        Feature matrices ``[T, D]`` (e.g. all utterances of one speaker).

    Returns
    -------
    numpy.ndarray
        float64 ``[2, D + 1]``: row 0 holds the sums and the frame count
        (last column), row 1 the sums of squares (Kaldi's layout).

    Example
    -------
    >>> compute_cmvn_stats([[[1.0, 2.0], [3.0, 4.0]]]).tolist()
    [[4.0, 6.0, 2.0], [10.0, 20.0, 0.0]]
    """
    stats = None
    for index, feats in enumerate(feats_list):
        feats = np.asarray(feats, dtype=np.float32)
        if feats.ndim != 2:
            raise ValueError(
                f"compute_cmvn_stats: matrix {index} has shape {feats.shape}, "
                "expected [frames, dim]"
            )
        dim = feats.shape[1]
        if stats is None:
            stats = np.zeros((2, dim + 1), dtype=np.float64)
        elif stats.shape[1] != dim + 1:
            raise ValueError(
                f"compute_cmvn_stats: matrix {index} has dim {dim}, expected "
                f"{stats.shape[1] - 1}"
            )
        # Kaldi adds frame by frame into double accumulators; the square is
        # computed in float. add.reduce along axis 0 adds rows sequentially.
        stats[0, :dim] = np.add.reduce(
            np.concatenate([stats[:1, :dim], feats.astype(np.float64)]), axis=0
        )
        squares = (feats * feats).astype(np.float64)
        stats[1, :dim] = np.add.reduce(
            np.concatenate([stats[1:2, :dim], squares]), axis=0
        )
        stats[0, dim] += feats.shape[0]
    if stats is None:
        raise ValueError("compute_cmvn_stats: no feature matrices given")
    return stats


def apply_cmvn(feats, stats, norm_vars=False):
    """Applies CMVN statistics to features (port of Kaldi's ``ApplyCmvn``).

    Arguments
    ---------
    feats : array-like
        Features ``[T, D]``.
    stats : array-like
        ``[2, D + 1]`` (or ``[1, D + 1]`` without variance normalisation)
        Kaldi CMVN statistics, see :func:`compute_cmvn_stats`.
    norm_vars : bool
        Also normalise the variance (Kaldi's ``--norm-vars``).

    Returns
    -------
    numpy.ndarray
        float32 ``[T, D]`` normalised features (a new array).

    Example
    -------
    >>> feats = np.array([[1.0, 2.0], [3.0, 6.0]])
    >>> stats = compute_cmvn_stats([feats])
    >>> apply_cmvn(feats, stats).tolist()
    [[-1.0, -2.0], [1.0, 2.0]]
    >>> apply_cmvn(feats, stats, norm_vars=True).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    feats = np.array(feats, dtype=np.float32)
    stats = np.asarray(stats, dtype=np.float64)
    if (
        feats.ndim != 2
        or stats.ndim != 2
        or stats.shape[0] not in (1, 2)
        or stats.shape[1] != feats.shape[1] + 1
    ):
        raise ValueError(
            f"apply_cmvn: dim mismatch: cmvn stats {stats.shape}, features "
            f"{feats.shape}"
        )
    if stats.shape[0] == 1 and norm_vars:
        raise ValueError(
            "apply_cmvn: variance normalisation requested but the stats have "
            "no variance row"
        )
    dim = feats.shape[1]
    count = stats[0, dim]
    if not count >= 1.0:
        raise ValueError(
            f"apply_cmvn: insufficient stats for CMVN: count = {count}"
        )
    if not norm_vars:
        alpha = np.float32(-1.0 / count)
        offset = (np.float64(alpha) * stats[0, :dim]).astype(np.float32)
        feats += offset
        return feats
    mean = stats[0, :dim] / count
    var = stats[1, :dim] / count - mean * mean
    var = np.where(var < CMVN_VAR_FLOOR, CMVN_VAR_FLOOR, var)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / np.sqrt(var)
        bad = ~np.isfinite(scale) | (1.0 / scale == 0.0)
    if bad.any():
        raise ValueError(
            "apply_cmvn: NaN or infinity in cepstral mean/variance computation"
        )
    offset = -(mean * scale)
    feats *= scale.astype(np.float32)
    feats += offset.astype(np.float32)
    return feats


class KaldiDataDir:
    """Lazy reader of a Kaldi data directory, with CMVN.

    Files: ``feats.scp`` (required); ``utt2spk`` (required when
    ``cmvn.scp`` exists; without it every utterance is its own speaker);
    ``cmvn.scp`` (optional; keyed by speaker, or by utterance for
    per-utterance CMVN); ``spk2utt``, ``text`` and ``utt2num_frames``
    (optional). Features are loaded on demand through ``kaldiio``;
    paths inside the scp files are used as written (relative paths are
    relative to the current directory, as in Kaldi recipes).

    Arguments
    ---------
    path : str or os.PathLike
        The data directory.
    apply_cmvn : bool
        Apply the CMVN stats of ``cmvn.scp`` (when present) in
        :meth:`load_feats`.
    norm_vars : bool
        Also normalise variances (Kaldi's ``apply-cmvn --norm-vars``).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> feats = {"s1-u1": np.ones((4, 2), np.float32)}
    >>> kaldiio.save_ark(
    ...     str(tmp / "feats.ark"), feats, scp=str(tmp / "feats.scp")
    ... )
    >>> _ = open(tmp / "utt2spk", "w").write("s1-u1 s1\\n")
    >>> data = KaldiDataDir(tmp)
    >>> len(data), data.feat_dim, data.num_frames("s1-u1"), data.has_cmvn
    (1, 2, 4, False)
    >>> data.load_feats("s1-u1").shape
    (4, 2)
    """

    def __init__(self, path, apply_cmvn=True, norm_vars=False):
        self.path = os.fspath(path)
        if not os.path.isdir(self.path):
            raise FileNotFoundError(
                f"{self.path}: Kaldi data directory not found"
            )
        self.use_cmvn = bool(apply_cmvn)
        self.norm_vars = bool(norm_vars)
        self.feats_scp = os.path.join(self.path, "feats.scp")
        feats_table = read_table(
            self.feats_scp, "feature list (feats.scp) of the data directory"
        )
        if not feats_table:
            raise ValueError(f"{self.feats_scp}: no utterances")
        self.utt_ids = list(feats_table)
        self._utt_set = set(self.utt_ids)
        self._feats = kaldiio.load_scp(self.feats_scp)

        self.utt2spk_file = os.path.join(self.path, "utt2spk")
        self.cmvn_scp = os.path.join(self.path, "cmvn.scp")
        self.has_cmvn = os.path.isfile(self.cmvn_scp)
        if os.path.isfile(self.utt2spk_file):
            self.utt2spk = read_table(
                self.utt2spk_file, "utt2spk", single_token=True
            )
            for utt in self.utt_ids:
                if utt not in self.utt2spk:
                    raise ValueError(
                        f"{self.utt2spk_file}: utterance '{utt}' of "
                        f"{self.feats_scp} has no speaker"
                    )
        elif self.has_cmvn:
            raise FileNotFoundError(
                f"{self.utt2spk_file}: utt2spk not found; it is required "
                f"because {self.cmvn_scp} exists"
            )
        else:
            self.utt2spk = {utt: utt for utt in self.utt_ids}

        spk2utt_file = os.path.join(self.path, "spk2utt")
        if os.path.isfile(spk2utt_file):
            table = read_table(spk2utt_file, "spk2utt")
            self.spk2utt = {spk: utts.split() for spk, utts in table.items()}
            for spk, utts in self.spk2utt.items():
                for utt in utts:
                    if self.utt2spk.get(utt, spk) != spk:
                        raise ValueError(
                            f"{spk2utt_file}: utterance '{utt}' listed under "
                            f"speaker '{spk}' but {self.utt2spk_file} says "
                            f"'{self.utt2spk[utt]}'"
                        )
        else:
            self.spk2utt = {}
            for utt, spk in self.utt2spk.items():
                self.spk2utt.setdefault(spk, []).append(utt)

        text_file = os.path.join(self.path, "text")
        self.text = (
            read_table(text_file, "text", allow_empty=True)
            if os.path.isfile(text_file)
            else {}
        )

        self._num_frames = {}
        self._utt2num_frames_file = os.path.join(self.path, "utt2num_frames")
        self._declared_frames = {}
        if os.path.isfile(self._utt2num_frames_file):
            table = read_table(
                self._utt2num_frames_file, "utt2num_frames", single_token=True
            )
            for utt, value in table.items():
                if not value.isdigit():
                    raise ValueError(
                        f"{self._utt2num_frames_file}: utterance '{utt}': "
                        f"expected a frame count, got {value!r}"
                    )
                self._declared_frames[utt] = int(value)

        self._cmvn_stats = {}
        self.cmvn_per_utt = False
        if self.has_cmvn:
            cmvn_keys = read_table(self.cmvn_scp, "cmvn.scp")
            speakers = {self.utt2spk[u] for u in self.utt_ids}
            if not speakers <= cmvn_keys.keys():
                if self._utt_set <= cmvn_keys.keys():
                    self.cmvn_per_utt = True
                else:
                    for utt in self.utt_ids:
                        spk = self.utt2spk[utt]
                        if spk not in cmvn_keys:
                            raise ValueError(
                                f"{self.cmvn_scp}: no CMVN stats for speaker "
                                f"'{spk}' (of utterance '{utt}' in "
                                f"{self.utt2spk_file})"
                            )
            self._cmvn = kaldiio.load_scp(self.cmvn_scp)
        self._feat_dim = None
        self._dim_source = None

    def __len__(self):
        return len(self.utt_ids)

    def __contains__(self, utt):
        return utt in self._utt_set

    def __iter__(self):
        return iter(self.utt_ids)

    def __repr__(self):
        return (
            f"KaldiDataDir({self.path!r}, {len(self)} utterances, "
            f"cmvn={'on' if self.has_cmvn and self.use_cmvn else 'off'})"
        )

    def _load_raw(self, utt):
        if utt not in self._utt_set:
            raise KeyError(f"{self.feats_scp}: no utterance '{utt}'")
        where = f"{self.feats_scp}: utterance '{utt}'"
        try:
            mat = self._feats[utt]
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{where}: {err}") from err
        except Exception as err:
            raise ValueError(
                f"{where}: cannot read features ({type(err).__name__}: {err})"
            ) from err
        mat = np.asarray(mat)
        if mat.ndim != 2 or mat.dtype.kind != "f":
            raise ValueError(
                f"{where}: expected a float matrix, got {mat.dtype} array of "
                f"shape {mat.shape}"
            )
        self._num_frames[utt] = mat.shape[0]
        declared = self._declared_frames.get(utt)
        if declared is not None and declared != mat.shape[0]:
            raise ValueError(
                f"{where}: {mat.shape[0]} frames but "
                f"{self._utt2num_frames_file} says {declared}"
            )
        return mat

    def probe_feat_dim(self, max_utts=PROBE_UTTERANCES):
        """The feature dim shared by most of the first readable utterances.

        A single bad utterance (missing archive, another dim) at the start
        of ``feats.scp`` then costs that utterance only, not the split.

        Arguments
        ---------
        max_utts : int
            How many readable utterances to look at.

        Returns
        -------
        tuple
            ``(dim, counts)``: the majority dim and ``{dim: utterances}``
            of the probed utterances.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> feats = {
        ...     "a": np.zeros((2, 3), np.float32),
        ...     "b": np.zeros((2, 5), np.float32),
        ...     "c": np.zeros((4, 5), np.float32),
        ... }
        >>> kaldiio.save_ark(
        ...     str(tmp / "f.ark"), feats, scp=str(tmp / "feats.scp")
        ... )
        >>> KaldiDataDir(tmp).probe_feat_dim()
        (5, {3: 1, 5: 2})
        """
        counts = collections.Counter()
        errors = []
        for utt in self.utt_ids:
            if sum(counts.values()) >= max_utts:
                break
            try:
                counts[int(self._load_raw(utt).shape[1])] += 1
            except (ValueError, OSError) as err:
                errors.append(str(err))
        if not counts:
            raise ValueError(
                f"{self.feats_scp}: none of the first {len(errors)} "
                f"utterances can be read (e.g. {errors[0]})"
            )
        dim = max(counts, key=lambda d: (counts[d], -d))
        return dim, dict(sorted(counts.items()))

    @property
    def feat_dim(self):
        """Feature dimension: the one set with :meth:`expect_feat_dim`,
        else that of most of the first utterances (:meth:`probe_feat_dim`).
        """
        if self._feat_dim is None:
            self._feat_dim, _ = self.probe_feat_dim()
            self._dim_source = "the dim of most utterances"
        return self._feat_dim

    def expect_feat_dim(self, dim, source):
        """Requires every utterance to have features of dim ``dim``.

        Arguments
        ---------
        dim : int
            The required dim.
        source : str
            Where it comes from, for messages (e.g. the training features).
        """
        self._feat_dim = int(dim)
        self._dim_source = source

    def num_frames(self, utt):
        """Number of frames of an utterance.

        Taken from ``utt2num_frames`` when the directory has it (checked
        against the matrix when the features are loaded); otherwise the
        matrix is loaded once (``kaldiio`` has no header-only read) and the
        count cached.

        Arguments
        ---------
        utt : str
            Utterance id.

        Returns
        -------
        int
            The number of frames.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> feats = {"u1": np.zeros((7, 3), np.float32)}
        >>> kaldiio.save_ark(
        ...     str(tmp / "f.ark"), feats, scp=str(tmp / "feats.scp")
        ... )
        >>> KaldiDataDir(tmp).num_frames("u1")
        7
        """
        if utt not in self._utt_set:
            raise KeyError(f"{self.feats_scp}: no utterance '{utt}'")
        if utt in self._declared_frames:
            return self._declared_frames[utt]
        if utt not in self._num_frames:
            self._load_raw(utt)
        return self._num_frames[utt]

    def cmvn_stats(self, utt):
        """The CMVN statistics that apply to an utterance.

        Arguments
        ---------
        utt : str
            Utterance id.

        Returns
        -------
        numpy.ndarray or None
            float64 ``[2, D + 1]`` stats of the utterance's speaker (or of
            the utterance, for per-utterance CMVN); None without cmvn.scp.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> feats = {"u1": np.zeros((7, 3), np.float32)}
        >>> kaldiio.save_ark(
        ...     str(tmp / "f.ark"), feats, scp=str(tmp / "feats.scp")
        ... )
        >>> print(KaldiDataDir(tmp).cmvn_stats("u1"))
        None
        """
        if utt not in self._utt_set:
            raise KeyError(f"{self.feats_scp}: no utterance '{utt}'")
        if not self.has_cmvn:
            return None
        key = utt if self.cmvn_per_utt else self.utt2spk[utt]
        if key not in self._cmvn_stats:
            kind = "utterance" if self.cmvn_per_utt else "speaker"
            where = f"{self.cmvn_scp}: {kind} '{key}'"
            try:
                stats = np.asarray(self._cmvn[key], dtype=np.float64)
            except FileNotFoundError as err:
                raise FileNotFoundError(f"{where}: {err}") from err
            except Exception as err:
                raise ValueError(
                    f"{where}: cannot read CMVN stats ({type(err).__name__}: "
                    f"{err})"
                ) from err
            if (
                stats.ndim != 2
                or stats.shape[0] not in (1, 2)
                or stats.shape[1] != self.feat_dim + 1
            ):
                raise ValueError(
                    f"{where}: CMVN stats of shape {stats.shape} do not fit "
                    f"features of dim {self.feat_dim} (expected "
                    f"[2, {self.feat_dim + 1}])"
                )
            if not np.all(np.isfinite(stats)):
                raise ValueError(f"{where}: CMVN stats contain NaN or Inf")
            self._cmvn_stats[key] = stats
        return self._cmvn_stats[key]

    def load_feats(self, utt):
        """Loads an utterance's features, with CMVN when present and enabled.

        Arguments
        ---------
        utt : str
            Utterance id.

        Returns
        -------
        numpy.ndarray
            float32 ``[T, D]``.

        Example
        -------
        >>> tmp = getfixture("tmpdir")
        >>> feats = {"s1-u1": np.array([[1.0], [3.0]], np.float32)}
        >>> kaldiio.save_ark(
        ...     str(tmp / "f.ark"), feats, scp=str(tmp / "feats.scp")
        ... )
        >>> stats = {"s1": compute_cmvn_stats(feats.values())}
        >>> kaldiio.save_ark(
        ...     str(tmp / "c.ark"), stats, scp=str(tmp / "cmvn.scp")
        ... )
        >>> _ = open(tmp / "utt2spk", "w").write("s1-u1 s1\\n")
        >>> KaldiDataDir(tmp).load_feats("s1-u1").tolist()
        [[-1.0], [1.0]]
        >>> KaldiDataDir(tmp, apply_cmvn=False).load_feats("s1-u1").tolist()
        [[1.0], [3.0]]
        """
        mat = self._load_raw(utt).astype(np.float32, copy=False)
        where = f"{self.feats_scp}: utterance '{utt}'"
        if mat.shape[1] != self.feat_dim:
            raise ValueError(
                f"{where}: feature dim {mat.shape[1]} differs from "
                f"{self.feat_dim} ({self._dim_source})"
            )
        finite = np.isfinite(mat)
        if not finite.all():
            frame = int(np.flatnonzero(~finite.all(axis=1))[0])
            raise ValueError(f"{where}: NaN or Inf in features (frame {frame})")
        if self.has_cmvn and self.use_cmvn:
            mat = apply_cmvn(mat, self.cmvn_stats(utt), self.norm_vars)
        return mat
