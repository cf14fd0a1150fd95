"""HybridBrain: training, frame metrics, mid-epoch resume, precision."""

import os

import pytest
import speechbrain as sb
import torch

from sb_rectifier import RectifierDNN
from sb_rectifier.data import FrameDataset, FrameStore
from sb_rectifier.nnet import GlobalNormalization
from sb_rectifier.training import (
    EpochMetricsLogger,
    HybridBrain,
    SafeCheckpointer,
)


class Interrupt(Exception):
    """Stands for a job killed in the middle of an epoch."""


class RecordingBrain(HybridBrain):
    """Records the targets of every training minibatch; may crash."""

    crash_at = None  # (epoch, step)

    def on_fit_batch_start(self, batch, should_step):
        if self.crash_at == (self.hparams.epoch_counter.current, self.step):
            raise Interrupt()
        self.seen.append(batch.targets.clone())


def _store(num_utts=20, frames=37, feat_dim=4, n_pdfs=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, n_pdfs, (num_utts * frames,), generator=gen)
    means = torch.randn(n_pdfs, feat_dim, generator=gen) * 2
    feats = means[labels] + 0.3 * torch.randn(
        len(labels), feat_dim, generator=gen
    )
    offsets = [i * frames for i in range(num_utts + 1)]
    return FrameStore(
        feats, offsets, [f"u{i:02d}" for i in range(num_utts)], labels
    )


def _brain(folder, store, run_opts=None, epochs=2):
    os.makedirs(folder, exist_ok=True)  # train.py's experiment directory
    torch.manual_seed(0)
    model = RectifierDNN(
        input_size=3 * store.feat_dim, num_layers=2, neurons=16, n_pdfs=5
    )
    normalizer = GlobalNormalization(store.feat_dim).fit(store.feats)
    counter = sb.utils.epoch_loop.EpochCounter(epochs)
    checkpointer = SafeCheckpointer(
        os.path.join(folder, "save"),
        recoverables={
            "model": model,
            "normalizer": normalizer,
            "counter": counter,
        },
    )
    brain = RecordingBrain(
        modules={"model": model, "normalizer": normalizer},
        opt_class=lambda p: torch.optim.SGD(
            p, lr=0.05, momentum=0.9, nesterov=True
        ),
        hparams={
            "train_logger": EpochMetricsLogger(
                os.path.join(folder, "log.txt"),
                os.path.join(folder, "metrics.json"),
            ),
            "lr_annealing": None,
            "epoch_counter": counter,
        },
        run_opts={"device": "cpu", "noprogressbar": True, **(run_opts or {})},
        checkpointer=checkpointer,
    )
    brain.seen = []
    return brain, counter


def _fit(brain, counter, store):
    data = FrameDataset(store, 1, 1)
    brain.fit(
        counter, data, data, train_loader_kwargs={"batch_size": 32, "seed": 7}
    )


def test_trains_and_reports_frame_weighted_metrics(tmp_path):
    store = _store()
    brain, counter = _brain(str(tmp_path), store, epochs=3)
    _fit(brain, counter, store)
    stats = brain.last_valid_stats
    assert stats["frame_acc"] > 80.0  # 5 separable classes; chance is ~20 %
    # The frame metrics equal a direct, whole-set computation.
    model, norm = brain.modules.model, brain.modules.normalizer
    with torch.no_grad():
        logits = model(
            norm(store.gather(torch.arange(store.num_frames), 1, 1)).flatten(1)
        )
    ce = torch.nn.functional.cross_entropy(logits, store.labels).item()
    acc = 100.0 * (logits.argmax(-1) == store.labels).float().mean().item()
    assert stats["ce"] == pytest.approx(ce, rel=1e-4)
    assert stats["frame_acc"] == pytest.approx(acc, abs=1e-6)
    records = __import__("json").load(open(tmp_path / "metrics.json"))
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[-1]["dev_ce"] < records[0]["dev_ce"]


def test_a_missing_hparam_is_an_error_naming_it(tmp_path):
    model = RectifierDNN(input_size=3, num_layers=1, neurons=4, n_pdfs=2)
    log = sb.utils.train_logger.FileTrainLogger(str(tmp_path / "log.txt"))
    with pytest.raises(ValueError, match="hparams lack lr_annealing"):
        HybridBrain(
            modules={"model": model},
            hparams={"train_logger": log, "epoch_counter": None},
            run_opts={"device": "cpu"},
        )


def test_interrupted_epoch_resumes_where_it_stopped(tmp_path):
    store = _store()
    # Reference: two epochs, uninterrupted.
    ref, ref_counter = _brain(str(tmp_path / "ref"), store)
    _fit(ref, ref_counter, store)
    steps = -(-store.num_frames // 32)  # minibatches per epoch
    assert len(ref.seen) == 2 * steps

    # Killed at the 10th minibatch of epoch 2; checkpoints every 4 steps.
    opts = {"ckpt_interval_steps": 4}
    run, counter = _brain(str(tmp_path / "run"), store, opts)
    run.crash_at = (2, 10)
    with pytest.raises(Interrupt):
        _fit(run, counter, store)
    assert len(run.seen) == steps + 9

    resumed, counter = _brain(str(tmp_path / "run"), store, opts)
    _fit(resumed, counter, store)
    # The last checkpoint was after step 8 of epoch 2: the resumed run sees
    # exactly the reference's remaining minibatches, in the same order ...
    assert len(resumed.seen) == steps - 8
    for got, want in zip(resumed.seen, ref.seen[steps + 8 :], strict=True):
        assert torch.equal(got, want)
    # ... and ends with the same weights as the uninterrupted run.
    ref_state = ref.modules.model.state_dict()
    for name, value in resumed.modules.model.state_dict().items():
        assert torch.allclose(value, ref_state[name], atol=1e-6), name


def test_bf16_precision_trains(tmp_path):
    store = _store()
    brain, counter = _brain(
        str(tmp_path), store, {"precision": "bf16"}, epochs=2
    )
    _fit(brain, counter, store)
    assert brain.last_valid_stats["frame_acc"] > 60.0


def test_missing_alignments_is_a_clear_error(tmp_path):
    store = _store()
    unlabelled = FrameStore(store.feats, store.offsets, store.utt_ids)
    brain, counter = _brain(str(tmp_path), store)
    with pytest.raises(ValueError, match="no alignments"):
        brain.evaluate(FrameDataset(unlabelled, 1, 1))
