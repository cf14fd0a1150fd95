"""decoding.write_log_likelihoods: Kaldi ark/scp, written whole or not at all."""

import os

import kaldiio
import numpy as np
import pytest
import torch
from faults import python_command, run_with_file_size_limit, temporaries

from sb_rectifier.decoding.loglikes import write_log_likelihoods


def _batches(seed=0, sizes=((3, 5), (1,), (7, 2, 4))):
    rng = np.random.default_rng(seed)
    batches, expected, n = [], {}, 0
    for lengths in sizes:
        utts = [f"utt{n + i:03d}" for i in range(len(lengths))]
        n += len(lengths)
        scores = rng.standard_normal((sum(lengths), 6)).astype(np.float32)
        start = 0
        for utt, length in zip(utts, lengths, strict=True):
            expected[utt] = scores[start : start + length]
            start += length
        batches.append((utts, list(lengths), torch.from_numpy(scores)))
    return batches, expected


def test_every_utterance_reads_back_through_kaldiio(tmp_path):
    batches, expected = _batches()
    scp = write_log_likelihoods(batches, tmp_path / "dev" / "loglikes.ark")
    assert scp == str(tmp_path / "dev" / "loglikes.scp")
    loaded = kaldiio.load_scp(scp)
    assert list(loaded) == list(expected)
    for utt, matrix in expected.items():
        np.testing.assert_array_equal(loaded[utt], matrix)
    # The ark alone, read sequentially, holds the same matrices.
    arks = dict(kaldiio.load_ark(str(tmp_path / "dev" / "loglikes.ark")))
    assert list(arks) == list(expected)


def test_a_batch_that_does_not_add_up_leaves_nothing(tmp_path):
    batches, _ = _batches()
    utts, lengths, scores = batches[1]
    batches[1] = (utts, [lengths[0] + 1], scores)
    with pytest.raises(ValueError, match="a batch of 1 frames, but its"):
        write_log_likelihoods(batches, tmp_path / "loglikes.ark")
    assert os.listdir(tmp_path) == []


def test_a_full_disk_names_the_archive_and_leaves_nothing(tmp_path):
    code = (
        "import numpy as np\n"
        "from sb_rectifier.decoding.loglikes import write_log_likelihoods\n"
        "big = np.zeros((4000, 100), np.float32)\n"
        f"write_log_likelihoods([(['u1', 'u2'], [2000, 2000], big)], "
        f"{str(tmp_path / 'loglikes.ark')!r})\n"
    )
    result = run_with_file_size_limit(python_command(code), 200_000)
    assert result.returncode != 0
    assert f"{tmp_path / 'loglikes.ark'}: cannot write" in result.stderr
    assert os.listdir(tmp_path) == [] and temporaries(tmp_path) == []
