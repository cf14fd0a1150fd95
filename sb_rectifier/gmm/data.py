"""Features and transcripts of a data folder, ready for GMM training.

:func:`load_training_data` computes (or reuses) the MFCC + deltas features
of :func:`sb_rectifier.features.make_feats.gmm_features` and reads the
transcripts as word ids of the lang folder (OOV words mapped to its OOV
word and counted); utterances that cannot be trained on are listed with
their reason, never dropped silently.

Authors
 * sb_rectifier developers 2026
"""

import os

__all__ = ["TrainingData", "load_training_data"]


class TrainingData:
    """What training and alignment read from a data folder.

    Attributes
    ----------
    feats : dict
        Utterance -> float32 ``(T, 39)`` features.
    transcripts : dict
        Utterance -> word ids (only utterances that can be aligned).
    oov_report : OovReport or None
        OOV counts of the transcripts.
    failed : dict
        Utterance -> why it cannot be aligned (no features, empty
        transcript, transcript only OOV).

    Example
    -------
    >>> data = TrainingData({}, {}, None, {"u": "no features"})
    >>> data.summary()
    '0 utterances with transcripts and features (0 frames); 1 left out'
    """

    def __init__(self, feats, transcripts, oov_report, failed):
        self.feats = feats
        self.transcripts = transcripts
        self.oov_report = oov_report
        self.failed = failed

    def summary(self):
        """One line describing the data.

        Returns
        -------
        str
            The line.
        """
        frames = sum(len(self.feats[u]) for u in self.transcripts)
        line = (
            f"{len(self.transcripts)} utterances with transcripts and "
            f"features ({frames} frames); {len(self.failed)} left out"
        )
        if self.oov_report is not None:
            line += f"; {self.oov_report.summary()}"
        return line


def load_training_data(data_dir, lang, feats_dir, num_jobs=1, progress=False):
    """Features and word-id transcripts of a Kaldi data folder.

    Arguments
    ---------
    data_dir : str or os.PathLike
        The data folder (``wav.scp``, ``utt2spk``, ``text``).
    lang : sb_rectifier.gmm.graphs.Lang
        The lang folder (word ids, OOV word).
    feats_dir : str or os.PathLike
        Where the MFCCs are written (reused when up to date).
    num_jobs : int
        Worker processes for the MFCC computation.
    progress : bool
        Progress bar.

    Returns
    -------
    TrainingData
        The data.

    Example
    -------
    >>> load_training_data(getfixture("tmp_path") / "none", None, "x")
    Traceback (most recent call last):
     ...
    FileNotFoundError: ...none: data folder not found
    """
    from sb_rectifier.features.make_feats import gmm_features
    from sb_rectifier.kaldi.transcripts import read_transcript_ids

    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"{data_dir}: data folder not found")
    text = os.path.join(data_dir, "text")
    if not os.path.isfile(text):
        raise FileNotFoundError(f"{text}: transcripts not found")
    feats = gmm_features(
        data_dir, feats_dir, num_jobs=num_jobs, progress=progress
    )
    ids, report = read_transcript_ids(text, lang.word_ids, lang.oov_word)
    oov = lang.word_ids.get(lang.oov_word)
    failed, transcripts = {}, {}
    for utt, words in ids.items():
        if utt not in feats:
            failed[utt] = "no features"
        elif not words:
            failed[utt] = "empty transcript"
        elif all(w == oov for w in words):
            failed[utt] = f"transcript only OOV ({lang.oov_word})"
        elif len(feats[utt]) == 0:
            failed[utt] = "no features (0 frames)"
        else:
            transcripts[utt] = words
    return TrainingData(feats, transcripts, report, failed)
