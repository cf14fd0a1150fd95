"""Per-frame pdf log-likelihoods as a Kaldi ark/scp pair.

What a hybrid model hands to the decoder: for each utterance a matrix
``[frames, num_pdfs]`` of ``log p(s|x) - prior_scale * log p(s)``, the
input of Kaldi's ``latgen-faster-mapped`` and of :mod:`.parallel`.

Authors
 * sb_rectifier developers 2026
"""

import os

import kaldiio
import numpy as np

from sb_rectifier.files import atomic_write, write_table


def write_log_likelihoods(batches, ark_path):
    """Writes utterance matrices to ``ark_path`` and ``<ark>.scp``.

    The matrices are streamed to disk (a large test set need not fit in
    memory) under temporary names; the archive is renamed into place when
    complete and the scp, which points into it, is written last, so an
    interrupted run leaves no usable half-file.

    Arguments
    ---------
    batches : iterable
        ``(utt_ids, lengths, scores)`` per minibatch: ``scores`` a
        ``[sum(lengths), num_pdfs]`` array (numpy or torch), the frames of
        the utterances one after the other.
    ark_path : str or os.PathLike
        The archive (``.ark``); the scp goes next to it.

    Returns
    -------
    str
        The scp path.

    Example
    -------
    >>> path = getfixture("tmp_path") / "dev" / "loglikes.ark"
    >>> scores = np.arange(10, dtype=np.float32).reshape(5, 2)
    >>> scp = write_log_likelihoods([(["u1", "u2"], [2, 3], scores)], path)
    >>> kaldiio.load_scp(scp)["u2"].tolist()
    [[4.0, 5.0], [6.0, 7.0], [8.0, 9.0]]
    """
    ark_path = os.path.abspath(os.fspath(ark_path))
    scp_path = os.path.splitext(ark_path)[0] + ".scp"
    offsets = []
    with atomic_write(ark_path, "wb", makedirs=True) as ark:
        for utt_ids, lengths, scores in batches:
            if hasattr(scores, "cpu"):
                scores = scores.detach().cpu().numpy()
            scores = np.asarray(scores, dtype=np.float32)
            start = 0
            for utt, length in zip(utt_ids, lengths, strict=True):
                length = int(length)
                # An ark entry is "<utt> " then the matrix; the scp points
                # at the matrix.
                where = ark.tell() + len(utt.encode("utf-8")) + 1
                kaldiio.save_ark(ark, {utt: scores[start : start + length]})
                offsets.append((utt, f"{ark_path}:{where}"))
                start += length
            if start != len(scores):
                raise ValueError(
                    f"{ark_path}: a batch of {len(scores)} frames, but "
                    f"its utterances have {start}"
                )
    write_table(scp_path, offsets)
    return scp_path
