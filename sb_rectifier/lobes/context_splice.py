"""Context splicing of acoustic frames, with edge replication per utterance.

Hybrid DNN-HMM acoustic models classify each frame from a window of
neighbouring frames (Maas et al. 2013 use 5 frames of left and 5 frames of
right context around each 40-dimensional filterbank frame, i.e. 11 * 40 = 440
network inputs). This module builds such windows the way Kaldi's
``splice-feats`` does:

* the window of frame ``t`` is ``[x_{t-left}, ..., x_t, ..., x_{t+right}]``
  concatenated frame by frame (frame-major order);
* near the edges of an utterance the first / last frame is replicated, and a
  window never reaches into another utterance or into padding.

:func:`context_indices` computes the frame positions of the windows in a
concatenated frame store (all utterances one after the other), so that a
data loader can gather windows on the fly; :class:`ContextSplice` applies the
same rule to a padded ``[batch, time, feat]`` batch.

Difference from ``speechbrain.processing.features.ContextWindow``: that
module orders the output feature-major (all ``left + right + 1`` values of
feature 0, then of feature 1, ...), pads the edges with zeros instead of
replicating the edge frames, and ignores utterance lengths (padding frames
enter the windows of the last frames). Away from the edges the two agree up
to that reordering::

    ours.view(B, T, W, F).transpose(2, 3).reshape(B, T, F * W) == theirs

Authors
 * sb_rectifier developers 2026
"""

import torch

__all__ = ["ContextSplice", "context_indices"]


def _check_context(left, right):
    """Raises ValueError unless left and right are non-negative ints."""
    for name, value in (("left", left), ("right", right)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(
                f"{name} context must be a non-negative int, got {value!r}"
            )


def context_indices(frame_idx, utt_start, utt_end, left, right):
    """Returns the frame positions of the context window of each frame.

    Position ``k`` (``k = -left .. right``) of the window of frame ``i`` is
    ``clamp(frame_idx[i] + k, utt_start[i], utt_end[i] - 1)``: the window is
    cut at the boundaries of the frame's own utterance and the edge frame is
    replicated there. Pure tensor operations on the device of ``frame_idx``
    (no Python loop), so it can run on CPU or GPU inside a data loader.

    Arguments
    ---------
    frame_idx : torch.Tensor
        Absolute positions of the frames in a concatenated frame store,
        integer tensor of shape ``[N]``.
    utt_start : torch.Tensor or int
        Start (inclusive) of each frame's utterance, shape ``[N]``
        (anything that broadcasts against ``frame_idx`` works).
    utt_end : torch.Tensor or int
        End (exclusive) of each frame's utterance, shape ``[N]``. Must be
        larger than ``utt_start``.
    left : int
        Number of left (past) context frames.
    right : int
        Number of right (future) context frames.

    Returns
    -------
    indices : torch.LongTensor
        Shape ``[N, left + right + 1]``; row ``i`` holds the positions of
        ``[x_{t-left}, ..., x_t, ..., x_{t+right}]`` for ``t = frame_idx[i]``.

    Example
    -------
    >>> # Two utterances in one store: frames 0..2 and frames 3..6.
    >>> frame_idx = torch.tensor([0, 2, 3, 5])
    >>> utt_start = torch.tensor([0, 0, 3, 3])
    >>> utt_end = torch.tensor([3, 3, 7, 7])
    >>> context_indices(frame_idx, utt_start, utt_end, left=2, right=1)
    tensor([[0, 0, 0, 1],
            [0, 1, 2, 2],
            [3, 3, 3, 4],
            [3, 4, 5, 6]])
    """
    _check_context(left, right)
    frame_idx = torch.as_tensor(frame_idx).long()
    device = frame_idx.device
    lo = torch.as_tensor(utt_start, device=device).long().unsqueeze(-1)
    hi = torch.as_tensor(utt_end, device=device).long().unsqueeze(-1) - 1
    offsets = torch.arange(-left, right + 1, device=device)
    indices = frame_idx.unsqueeze(-1) + offsets
    return torch.minimum(torch.maximum(indices, lo), hi)


class ContextSplice(torch.nn.Module):
    """Splices each frame with its left and right context frames.

    Maps ``[batch, time, feat]`` to ``[batch, time, (left+right+1) * feat]``
    in frame-major order, like Kaldi's ``splice-feats``: output frame ``t``
    is ``[x_{t-left}, ..., x_t, ..., x_{t+right}]`` concatenated. Edges are
    replicated using each utterance's own length, so no window sees another
    utterance or padding; output frames at padded positions are zero.
    It has no parameters.

    See the module docstring for the difference from SpeechBrain's
    ``ContextWindow``.

    Arguments
    ---------
    left : int
        Number of left (past) context frames.
    right : int
        Number of right (future) context frames.

    Example
    -------
    >>> splice = ContextSplice(left=5, right=5)
    >>> x = torch.rand(4, 100, 40)
    >>> out = splice(x, lengths=torch.tensor([1.0, 0.8, 0.5, 0.25]))
    >>> out.shape
    torch.Size([4, 100, 440])
    >>> splice.output_size(40)
    440
    >>> ContextSplice(1, 1)(torch.tensor([[1.0], [2.0], [3.0]]))
    tensor([[1., 1., 2.],
            [1., 2., 3.],
            [2., 3., 3.]])
    """

    def __init__(self, left=5, right=5):
        super().__init__()
        _check_context(left, right)
        self.left = left
        self.right = right
        self.window = left + right + 1

    def output_size(self, input_size):
        """Returns the feature dimension of the spliced output.

        Arguments
        ---------
        input_size : int
            Feature dimension of the input frames.

        Returns
        -------
        size : int
            ``(left + right + 1) * input_size``.

        Example
        -------
        >>> ContextSplice(left=2, right=3).output_size(13)
        78
        """
        return self.window * input_size

    def forward(self, x, lengths=None):
        """Returns the spliced frames.

        Arguments
        ---------
        x : torch.Tensor
            Frames, ``[batch, time, feat]``, or ``[time, feat]`` for one
            utterance.
        lengths : torch.Tensor, optional
            SpeechBrain relative lengths (0..1), shape ``[batch]``; the
            actual length of utterance ``b`` is ``round(lengths[b] * time)``.
            None means every utterance fills the whole time axis.

        Returns
        -------
        out : torch.Tensor
            ``[batch, time, window * feat]`` (or ``[time, window * feat]``),
            with zeros at padded positions.
        """
        squeeze = x.ndim == 2
        if squeeze:
            x = x.unsqueeze(0)
        if x.ndim != 3:
            raise ValueError(
                "ContextSplice expects [batch, time, feat] or [time, feat] "
                f"input, got shape {tuple(x.shape)}"
            )
        batch, time, feat = x.shape
        t = torch.arange(time, device=x.device)

        if lengths is None:
            abs_len = torch.full((batch,), time, device=x.device)
        else:
            lengths = torch.as_tensor(lengths, device=x.device).reshape(-1)
            if lengths.numel() != batch:
                raise ValueError(
                    f"Got {lengths.numel()} lengths for a batch of {batch}"
                )
            abs_len = torch.round(lengths * time).long().clamp(0, time)

        # [batch, time, window]; clamp(min=1) keeps empty utterances valid.
        end = abs_len.clamp(min=1).unsqueeze(1)
        idx = context_indices(t.unsqueeze(0), 0, end, self.left, self.right)
        idx = idx.reshape(batch, time * self.window, 1).expand(-1, -1, feat)
        out = x.gather(1, idx).reshape(batch, time, self.window * feat)

        if lengths is not None:
            pad = t.unsqueeze(0) >= abs_len.unsqueeze(1)
            out = out.masked_fill(pad.unsqueeze(-1), 0.0)

        return out.squeeze(0) if squeeze else out
