"""Senone priors for turning posteriors into scaled likelihoods.

Authors
 * sb_rectifier developers 2026
"""

import math

import numpy as np
import torch

from sb_rectifier.files import write_text


class SenonePriors(torch.nn.Module):
    """Senone (pdf) priors from training alignment counts, floored.

    ``prior[s] = max(count[s] / total, floor)``. The floor keeps pdfs that
    are rare or absent in the training alignments from getting an infinite
    scaled likelihood (PyTorch-Kaldi has no floor; Kaldi nnet1 disables
    pdfs under 1e-10; Espresso floors at 5e-6). Rare pdfs are logged.

    Hybrid decoding uses
    ``log p(x|s) ~ log p(s|x) - prior_scale * log prior[s]``
    (:meth:`forward`).

    Arguments
    ---------
    num_pdfs : int
        Number of pdfs (senones).
    floor : float
        Lower bound on every prior.

    Example
    -------
    >>> priors = SenonePriors(3, floor=0.1).fit(np.array([9, 1, 0]))
    >>> [round(p, 4) for p in priors.priors.tolist()]
    [0.9, 0.1, 0.1]
    """

    def __init__(self, num_pdfs, floor=1e-8):
        super().__init__()
        if not 0.0 < floor < 1.0:
            raise ValueError(f"prior floor must be in (0, 1), got {floor}")
        self.floor = floor
        self.register_buffer("counts", torch.zeros(num_pdfs, dtype=torch.long))
        self.register_buffer("log_priors", torch.zeros(num_pdfs))

    @property
    def priors(self):
        """Floored priors (float32)."""
        return self.log_priors.exp()

    @property
    def num_floored(self):
        """How many pdfs sit at the floor."""
        return int(
            (self.counts.double() / self.counts.sum() < self.floor).sum()
        )

    def fit(self, counts):
        """Sets the priors from per-pdf frame counts.

        Arguments
        ---------
        counts : array-like
            Frame count of every pdf in the training alignments.

        Returns
        -------
        SenonePriors
            ``self``.
        """
        counts = torch.as_tensor(np.asarray(counts), dtype=torch.long)
        if counts.shape != self.counts.shape:
            raise ValueError(
                f"got counts for {counts.numel()} pdfs, expected "
                f"{self.counts.numel()}"
            )
        total = int(counts.sum())
        if total == 0:
            raise ValueError("cannot estimate priors from zero frames")
        priors = (counts.double() / total).clamp_min(self.floor)
        self.counts.copy_(counts)
        self.log_priors.copy_(priors.log().float())
        return self

    def forward(self, log_posteriors, prior_scale=1.0):
        """Scaled log-likelihoods from log-posteriors.

        Arguments
        ---------
        log_posteriors : torch.Tensor
            ``[..., num_pdfs]`` log-softmax outputs.
        prior_scale : float
            Exponent of the prior.

        Returns
        -------
        torch.Tensor
            ``log_posteriors - prior_scale * log_priors``.
        """
        return log_posteriors - prior_scale * self.log_priors

    def write_kaldi_counts(self, path):
        """Writes the counts as Kaldi's ``ali_train_pdf.counts`` (text).

        The file is what ``analyze-counts`` writes and what
        ``nnet-forward --class-frame-counts`` reads.

        Arguments
        ---------
        path : str
            Output file (written atomically).
        """
        values = " ".join(str(int(c)) for c in self.counts.tolist())
        write_text(path, f" [ {values} ]\n", makedirs=True)

    def extra_repr(self):
        total = int(self.counts.sum())
        floor_exp = math.log10(self.floor)
        return (
            f"num_pdfs={self.counts.numel()}, frames={total}, "
            f"floor=1e{floor_exp:.0f}"
        )
