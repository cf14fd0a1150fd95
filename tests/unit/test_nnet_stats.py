"""Train-only normalisation and senone priors."""

import numpy as np
import pytest
import torch

from sb_rectifier.nnet import GlobalNormalization, SenonePriors


def test_normalization_matches_numpy_in_chunks():
    x = (
        torch.randn(1000, 5, dtype=torch.float64)
        * torch.tensor([1, 2, 3, 4, 5])
        + 7
    )
    norm = GlobalNormalization(5).fit(x.float(), chunk_frames=97)
    np.testing.assert_allclose(norm.mean.numpy(), x.mean(0).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        norm.std.numpy(), x.std(0, unbiased=False).numpy(), rtol=1e-4
    )
    y = norm(x.float())
    np.testing.assert_allclose(y.mean(0).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(0, unbiased=False).numpy(), 1.0, atol=1e-4)
    assert int(norm.count) == 1000


def test_normalization_is_saved_in_state_dict_and_floors_constant_dims():
    x = torch.ones(10, 2)
    x[:, 0] = torch.arange(10.0)
    norm = GlobalNormalization(2).fit(x)
    assert norm.std[1] == pytest.approx(1e-5)
    other = GlobalNormalization(2)
    other.load_state_dict(norm.state_dict())
    assert torch.equal(other.mean, norm.mean) and torch.equal(
        other.std, norm.std
    )


def test_normalization_rejects_nan():
    x = torch.randn(10, 2)
    x[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        GlobalNormalization(2).fit(x)


def test_priors_floor_and_likelihoods(tmp_path):
    priors = SenonePriors(4, floor=1e-3).fit([600, 399, 1, 0])
    np.testing.assert_allclose(
        priors.priors.numpy(), [0.6, 0.399, 1e-3, 1e-3], rtol=1e-5
    )
    assert priors.num_floored == 1  # count 1 -> exactly 1e-3 is not below
    log_post = torch.log(torch.tensor([[0.25, 0.25, 0.25, 0.25]]))
    ll = priors(log_post, prior_scale=0.5)
    expected = np.log(0.25) - 0.5 * np.log([0.6, 0.399, 1e-3, 1e-3])
    np.testing.assert_allclose(ll.numpy()[0], expected, rtol=1e-5)
    path = tmp_path / "ali_train_pdf.counts"
    priors.write_kaldi_counts(str(path))
    assert path.read_text() == " [ 600 399 1 0 ]\n"


def test_priors_errors():
    with pytest.raises(ValueError, match="counts for 2 pdfs, expected 3"):
        SenonePriors(3).fit([1, 2])
    with pytest.raises(ValueError, match="zero frames"):
        SenonePriors(2).fit([0, 0])
    with pytest.raises(ValueError, match="floor"):
        SenonePriors(2, floor=0.0)
