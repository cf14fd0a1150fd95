"""Unit tests for context splicing (sb_rectifier.lobes.context_splice).

Authors
 * sb_rectifier developers 2026
"""

import pytest
import torch
from speechbrain.processing.features import ContextWindow

from sb_rectifier.lobes.context_splice import ContextSplice, context_indices


def reference_splice(utt, left, right):
    """Splices one unpadded utterance [T, F] with explicit Python loops."""
    T = utt.shape[0]
    rows = []
    for t in range(T):
        frames = [
            utt[min(max(t + k, 0), T - 1)] for k in range(-left, right + 1)
        ]
        rows.append(torch.cat(frames))
    return torch.stack(rows)


def test_hand_checked_example():
    # T=4, F=2, left=right=1; frames x_t = [t, 10 t].
    x = torch.tensor([[0.0, 0.0], [1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    expected = torch.tensor(
        [
            [0, 0, 0, 0, 1, 10],  # x0 replicated on the left
            [0, 0, 1, 10, 2, 20],
            [1, 10, 2, 20, 3, 30],
            [2, 20, 3, 30, 3, 30],  # x3 replicated on the right
        ],
        dtype=torch.float,
    )
    out = ContextSplice(left=1, right=1)(x.unsqueeze(0))
    assert out.shape == (1, 4, 6)
    assert torch.equal(out[0], expected)


def test_asymmetric_context_edges_replicated():
    torch.manual_seed(0)
    x = torch.randn(1, 7, 3)
    out = ContextSplice(left=3, right=1)(x)
    assert torch.equal(out[0], reference_splice(x[0], 3, 1))
    # Frame 0: the three left frames are all copies of frame 0.
    for k in range(4):
        assert torch.equal(out[0, 0, 3 * k : 3 * k + 3], x[0, 0])


def test_context_indices_two_utterances():
    # Store: utterance A = frames 0..2, utterance B = frames 3..6.
    frame_idx = torch.tensor([0, 1, 2, 3, 4, 6])
    start = torch.tensor([0, 0, 0, 3, 3, 3])
    end = torch.tensor([3, 3, 3, 7, 7, 7])
    idx = context_indices(frame_idx, start, end, left=2, right=2)
    expected = torch.tensor(
        [
            [0, 0, 0, 1, 2],
            [0, 0, 1, 2, 2],
            [0, 1, 2, 2, 2],
            [3, 3, 3, 4, 5],
            [3, 3, 4, 5, 6],
            [4, 5, 6, 6, 6],
        ]
    )
    assert idx.dtype == torch.long
    assert torch.equal(idx, expected)


def test_context_indices_single_frame_utterance_and_zero_context():
    idx = context_indices(
        torch.tensor([5]), torch.tensor([5]), torch.tensor([6]), 3, 2
    )
    assert torch.equal(idx, torch.full((1, 6), 5))
    frame_idx = torch.tensor([4, 9, 2])
    idx0 = context_indices(
        frame_idx, torch.zeros(3), torch.full((3,), 10), 0, 0
    )
    assert torch.equal(idx0, frame_idx.unsqueeze(1))


def test_context_indices_gathers_same_as_splice():
    torch.manual_seed(0)
    lens = [5, 1, 8]
    utts = [torch.randn(n, 4) for n in lens]
    store = torch.cat(utts)
    bounds = torch.tensor([0, 5, 6, 14])
    utt_of = torch.repeat_interleave(torch.arange(3), torch.tensor(lens))
    frame_idx = torch.arange(store.shape[0])
    idx = context_indices(
        frame_idx, bounds[utt_of], bounds[utt_of + 1], left=2, right=3
    )
    spliced = store[idx].reshape(store.shape[0], -1)
    expected = torch.cat([reference_splice(u, 2, 3) for u in utts])
    assert torch.equal(spliced, expected)


def test_context_indices_rejects_negative_context():
    with pytest.raises(ValueError):
        context_indices(
            torch.tensor([0]), torch.tensor([0]), torch.tensor([1]), -1, 0
        )
    with pytest.raises(ValueError):
        ContextSplice(left=2, right=-3)


def test_padded_batch_never_sees_padding_or_other_utterances():
    torch.manual_seed(0)
    T, F = 10, 3
    a, b = torch.randn(10, F), torch.randn(6, F)
    x = torch.full((2, T, F), 1e9)
    x[0], x[1, :6] = a, b
    lengths = torch.tensor([1.0, 0.6])
    out = ContextSplice(left=4, right=4)(x, lengths)
    assert out.shape == (2, T, 9 * F)
    assert out.abs().max() < 1e3  # no padding value anywhere
    assert torch.equal(out[0], reference_splice(a, 4, 4))
    assert torch.equal(out[1, :6], reference_splice(b, 4, 4))
    assert torch.equal(out[1, 6:], torch.zeros(4, 9 * F))


def test_relative_lengths_are_rounded():
    # T=3: 0.35 * 3 = 1.05 -> 1 frame (not ceil); 0.9 * 3 = 2.7 -> 3 (not
    # floor).
    x = torch.tensor([[[1.0], [5.0], [7.0]], [[2.0], [4.0], [6.0]]])
    out = ContextSplice(1, 1)(x, torch.tensor([0.35, 0.9]))
    expected = torch.tensor(
        [
            [[1.0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]],
            [[2.0, 2.0, 4.0], [2.0, 4.0, 6.0], [4.0, 6.0, 6.0]],
        ]
    )
    assert torch.equal(out, expected)


def test_empty_utterance_gives_zeros():
    x = torch.randn(2, 4, 2)
    out = ContextSplice(1, 1)(x, torch.tensor([1.0, 0.0]))
    assert torch.equal(out[1], torch.zeros(4, 6))
    assert torch.equal(out[0], reference_splice(x[0], 1, 1))


def test_zero_context_is_identity():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 4)
    splice = ContextSplice(left=0, right=0)
    assert splice.window == 1 and splice.output_size(4) == 4
    assert torch.equal(splice(x), x)


def test_two_dimensional_input():
    torch.manual_seed(0)
    x = torch.randn(6, 2)
    out = ContextSplice(2, 1)(x)
    assert out.shape == (6, 8)
    assert torch.equal(out, reference_splice(x, 2, 1))
    out_len = ContextSplice(2, 1)(x, torch.tensor([0.5]))
    assert torch.equal(out_len[:3], reference_splice(x[:3], 2, 1))
    assert torch.equal(out_len[3:], torch.zeros(3, 8))


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        ContextSplice()(torch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError):
        ContextSplice()(torch.randn(2, 3, 4), torch.tensor([1.0]))


def test_window_and_output_size():
    splice = ContextSplice()
    assert (splice.left, splice.right, splice.window) == (5, 5, 11)
    assert splice.output_size(40) == 440  # the paper's 11 x 40 inputs


@pytest.mark.parametrize("left, right", [(1, 1), (3, 3), (2, 4), (4, 1)])
def test_matches_speechbrain_context_window_away_from_edges(left, right):
    """SpeechBrain's ContextWindow is feature-major and zero-pads the edges.

    After reordering ours to feature-major, the two agree on every frame
    whose window lies inside the utterance.
    """
    torch.manual_seed(0)
    B, T, F = 2, 12, 5
    W = left + right + 1
    x = torch.randn(B, T, F)
    ours = ContextSplice(left, right)(x)
    theirs = ContextWindow(left_frames=left, right_frames=right)(x)
    assert theirs.shape == ours.shape
    ours_fm = ours.view(B, T, W, F).transpose(2, 3).reshape(B, T, F * W)
    inner = slice(left, T - right)
    torch.testing.assert_close(ours_fm[:, inner], theirs[:, inner])
    # Ordering really differs (frame-major vs feature-major) ...
    assert not torch.allclose(ours[:, inner], theirs[:, inner])
    # ... and so do the edges (replication vs zero padding).
    if left > 0:
        assert not torch.allclose(ours_fm[:, 0], theirs[:, 0])


def test_gradient_counts_frame_uses():
    # left=2, right=0, T=5: frame 0 fills 3 slots of window 0, 2 of window 1
    # and 1 of window 2; the last frame is only used by its own window.
    x = torch.randn(1, 5, 2, requires_grad=True)
    ContextSplice(left=2, right=0)(x).sum().backward()
    uses = torch.tensor([6.0, 3.0, 3.0, 2.0, 1.0])
    assert torch.equal(x.grad, uses.view(1, 5, 1).expand(1, 5, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda_like_on_cpu():
    torch.manual_seed(0)
    x = torch.randn(2, 9, 3)
    lengths = torch.tensor([1.0, 0.5])
    splice = ContextSplice(2, 3)
    expected = splice(x, lengths)
    got = splice(x.cuda(), lengths.cuda())
    assert got.device.type == "cuda"
    assert torch.equal(got.cpu(), expected)
    frame_idx = torch.arange(9).cuda()
    idx = context_indices(frame_idx, frame_idx * 0, frame_idx * 0 + 9, 2, 3)
    assert idx.device.type == "cuda"
