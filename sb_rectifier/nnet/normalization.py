"""Global mean/variance normalisation estimated on training data only.

Authors
 * sb_rectifier developers 2026
"""

import torch


class GlobalNormalization(torch.nn.Module):
    """Per-dimension mean/variance normalisation with frozen statistics.

    The statistics are estimated once, from the training split only
    (:meth:`fit`), stored as buffers (so they are saved in checkpoints and
    exported with the model) and applied unchanged to train, dev and test.
    This avoids the transductive per-chunk normalisation of dev/test data
    that made PyTorch-Kaldi results depend on the chunk count.

    ``y = (x - mean) / max(std, std_floor)``, over the last dimension.

    Arguments
    ---------
    feat_dim : int
        Feature dimension.
    std_floor : float
        Lower bound on the standard deviation (constant dimensions).

    Example
    -------
    >>> norm = GlobalNormalization(2)
    >>> norm.fit(torch.tensor([[1.0, 10.0], [3.0, 30.0]]))
    GlobalNormalization(feat_dim=2, frames=2)
    >>> norm(torch.tensor([[2.0, 20.0]]))
    tensor([[0., 0.]])
    """

    def __init__(self, feat_dim, std_floor=1e-5):
        super().__init__()
        self.std_floor = std_floor
        self.register_buffer("mean", torch.zeros(feat_dim))
        self.register_buffer("std", torch.ones(feat_dim))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def fit(self, feats, chunk_frames=1 << 16):
        """Estimates mean and std from training frames.

        Accumulates in float64 over chunks, so memory-mapped stores of any
        size work.

        Arguments
        ---------
        feats : torch.Tensor
            ``[num_frames, feat_dim]`` training frames.
        chunk_frames : int
            Frames per accumulation chunk.

        Returns
        -------
        GlobalNormalization
            ``self``.
        """
        if feats.shape[0] == 0:
            raise ValueError("cannot estimate normalisation from 0 frames")
        total = torch.zeros(feats.shape[1], dtype=torch.float64)
        total_sq = torch.zeros_like(total)
        for start in range(0, feats.shape[0], chunk_frames):
            chunk = feats[start : start + chunk_frames].to("cpu", torch.float64)
            total += chunk.sum(0)
            total_sq += (chunk * chunk).sum(0)
        count = feats.shape[0]
        mean = total / count
        var = (total_sq / count - mean * mean).clamp_min(0.0)
        if not torch.isfinite(mean).all() or not torch.isfinite(var).all():
            raise ValueError("training features contain NaN or Inf")
        self.mean.copy_(mean.float())
        self.std.copy_(var.sqrt().float().clamp_min(self.std_floor))
        self.count.fill_(count)
        return self

    def forward(self, x):
        """Normalises ``x`` (any shape ending in ``feat_dim``).

        Arguments
        ---------
        x : torch.Tensor
            Features.

        Returns
        -------
        torch.Tensor
            Normalised features.
        """
        return (x - self.mean) / self.std

    def extra_repr(self):
        return f"feat_dim={self.mean.numel()}, frames={int(self.count)}"
