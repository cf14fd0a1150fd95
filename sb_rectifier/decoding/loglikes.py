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

from sb_rectifier.files import (
    read_table,
    temp_sibling,
    write_error,
    write_table,
)


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
    tmp_ark, tmp_scp = temp_sibling(ark_path), temp_sibling(scp_path)
    try:
        os.makedirs(os.path.dirname(ark_path), exist_ok=True)
        with kaldiio.WriteHelper(f"ark,scp:{tmp_ark},{tmp_scp}") as writer:
            for utt_ids, lengths, scores in batches:
                if hasattr(scores, "cpu"):
                    scores = scores.detach().cpu().numpy()
                scores = np.asarray(scores, dtype=np.float32)
                start = 0
                for utt, length in zip(utt_ids, lengths, strict=True):
                    length = int(length)
                    writer(utt, scores[start : start + length])
                    start += length
                if start != len(scores):
                    raise ValueError(
                        f"{ark_path}: a batch of {len(scores)} frames, but "
                        f"its utterances have {start}"
                    )
        offsets = read_table(tmp_scp, "scp file")
        os.replace(tmp_ark, ark_path)
    except OSError as err:
        raise write_error(ark_path, err) from None
    finally:
        for path in (tmp_ark, tmp_scp):
            if os.path.exists(path):
                os.unlink(path)
    write_table(
        scp_path,
        (
            (utt, ark_path + ":" + where.rsplit(":", 1)[1])
            for utt, where in offsets.items()
        ),
    )
    return scp_path
