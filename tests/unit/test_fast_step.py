"""HybridBrain's fast training step: sync-free bookkeeping, fused optimiser,
CUDA graph capture (the CUDA tests run only where a GPU is present)."""

import functools
import logging
import os

import pytest
import speechbrain as sb
import torch
import torch.nn.functional as F
import yaml

from sb_rectifier import RectifierDNN
from sb_rectifier.data import FrameDataset, FrameShuffleSampler, FrameStore
from sb_rectifier.nnet import GlobalNormalization
from sb_rectifier.training import EpochMetricsLogger, HybridBrain

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"
)
BATCH = 32
SEED = 7


class Interrupt(Exception):
    """Stands for a job killed in the middle of an epoch."""


class RecordingBrain(HybridBrain):
    """Records every epoch's figures; may crash or poison the loss."""

    crash_at = None  # (epoch, step)
    nan_steps = ()  # (epoch, step): the loss is NaN there, gradients are not

    def on_fit_batch_start(self, batch, should_step):
        if self.crash_at == (self.hparams.epoch_counter.current, self.step):
            raise Interrupt()
        self.seen.append(batch.targets.clone())

    def compute_objectives(self, predictions, batch, stage):
        loss = super().compute_objectives(predictions, batch, stage)
        epoch = self.hparams.epoch_counter.current
        if stage == sb.Stage.TRAIN and (epoch, self.step) in self.nan_steps:
            loss = loss + float("nan")  # a NaN value, finite gradients
        return loss

    def on_stage_end(self, stage, stage_loss, epoch=None):
        super().on_stage_end(stage, stage_loss, epoch)
        if stage == sb.Stage.TRAIN:
            self.record.append(("train", self.train_stats["loss"]))
            self.record.append(("nonfinite", self.nonfinite_count))
        elif stage == sb.Stage.VALID:
            stats = self.last_valid_stats
            self.record.append(("dev", stats["ce"], stats["frame_acc"]))
            self.record.append(("lr", self.optimizer.param_groups[0]["lr"]))


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


def _sgd(params, **kwargs):
    return torch.optim.SGD(
        params, lr=0.05, momentum=0.9, nesterov=True, **kwargs
    )


def _brain(
    folder,
    store,
    epochs=3,
    device="cpu",
    run_opts=None,
    checkpoint=False,
    opt_class=_sgd,
    brain_class=RecordingBrain,
    **options,
):
    """A small HybridBrain; ``options`` are its step hparams."""
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    model = RectifierDNN(
        input_size=3 * store.feat_dim, num_layers=2, neurons=16, n_pdfs=5
    )
    normalizer = GlobalNormalization(store.feat_dim).fit(store.feats)
    counter = sb.utils.epoch_loop.EpochCounter(epochs)
    # Anneals at every epoch: the learning rate changes between epochs.
    annealing = sb.nnet.schedulers.NewBobScheduler(
        initial_value=0.05, annealing_factor=0.5, improvement_threshold=1.0
    )
    checkpointer = None
    if checkpoint:
        checkpointer = sb.utils.checkpoints.Checkpointer(
            os.path.join(folder, "save"),
            recoverables={
                "model": model,
                "normalizer": normalizer,
                "counter": counter,
                "lr_annealing": annealing,
            },
        )
    brain = brain_class(
        modules={"model": model, "normalizer": normalizer},
        opt_class=opt_class,
        hparams={
            "train_logger": EpochMetricsLogger(
                os.path.join(folder, "log.txt"),
                os.path.join(folder, "metrics.json"),
            ),
            "lr_annealing": annealing,
            "epoch_counter": counter,
            **options,
        },
        run_opts={"device": device, "noprogressbar": True, **(run_opts or {})},
        checkpointer=checkpointer,
    )
    brain.seen, brain.record = [], []
    return brain


def _fit(brain, store):
    data = FrameDataset(store.to(brain.device), 1, 1)
    brain.fit(
        brain.hparams.epoch_counter,
        data,
        data,
        train_loader_kwargs={"batch_size": BATCH, "seed": SEED},
    )
    return brain


def _weights(brain):
    return {
        k: v.detach().cpu().clone()
        for k, v in brain.modules.model.state_dict().items()
    }


def _assert_same_weights(a, b, **tolerance):
    for name, value in a.items():
        if tolerance:
            assert torch.allclose(value, b[name], **tolerance), name
        else:
            assert torch.equal(value, b[name]), name


# ---------------------------------------------------------------------------
# CPU: the default step and the sync-free step give the same training
# ---------------------------------------------------------------------------


def test_default_cpu_step_equals_a_plain_pytorch_loop(tmp_path):
    """The default CPU path is SpeechBrain's step on our data, bit for bit:
    the same shuffle, windows, normalisation, clipping and SGD, written out
    by hand, give identical weights and the identical running loss."""
    store = _store()
    brain = _fit(_brain(str(tmp_path), store, epochs=1), store)
    assert brain.sync_free_step is False  # "auto" on CPU

    torch.manual_seed(0)
    model = RectifierDNN(
        input_size=3 * store.feat_dim, num_layers=2, neurons=16, n_pdfs=5
    )
    norm = GlobalNormalization(store.feat_dim).fit(store.feats)
    opt = _sgd(model.parameters())
    sampler = FrameShuffleSampler(store.num_frames, BATCH, SEED)
    sampler.set_epoch(1)
    avg = 0.0
    for step, frames in enumerate(sampler, start=1):
        x = norm(store.gather(frames, 1, 1)).flatten(1)
        loss = F.cross_entropy(model(x), store.labels[frames])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(model.parameters()), 5.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        avg -= avg / step
        avg += float(loss.detach()) / step
    assert brain.record[0] == ("train", avg)
    brain_weights = _weights(brain)
    for name, value in model.state_dict().items():
        assert torch.equal(value, brain_weights[name]), name


def test_sync_free_step_is_bit_identical_on_cpu(tmp_path):
    """Three epochs with learning-rate annealing: the same training losses,
    dev metrics, learning rates and weights, to the last bit."""
    store = _store()
    plain = _fit(_brain(str(tmp_path / "plain"), store), store)
    fast = _fit(
        _brain(
            str(tmp_path / "fast"),
            store,
            sync_free_step=True,
            loss_check_steps=7,
        ),
        store,
    )
    assert fast.sync_free_step is True and plain.sync_free_step is False
    assert fast.record == plain.record
    lrs = [r[1] for r in plain.record if r[0] == "lr"]
    assert lrs == [0.05, 0.025, 0.0125]  # annealed after epochs 2 and 3
    _assert_same_weights(_weights(fast), _weights(plain))
    for got, want in zip(fast.seen, plain.seen, strict=True):
        assert torch.equal(got, want)


def test_sync_free_running_loss_skips_nonfinite_losses_like_speechbrain(
    tmp_path, caplog
):
    store = _store()
    nan_steps = {(1, 3), (1, 7), (2, 24)}  # 24: the epoch's last step
    runs = {}
    for mode in (False, True):
        brain = _brain(
            str(tmp_path / str(mode)),
            store,
            epochs=2,
            run_opts={"nonfinite_patience": 5},
            sync_free_step=mode,
            loss_check_steps=5,
        )
        brain.nan_steps = nan_steps
        with caplog.at_level(logging.WARNING):
            runs[mode] = _fit(brain, store)
    assert runs[True].record == runs[False].record
    assert ("nonfinite", 2) in runs[True].record
    assert ("nonfinite", 1) in runs[True].record
    warnings = [
        r.getMessage()
        for r in caplog.records
        if "patience not yet" in r.getMessage()
    ]
    assert (
        "1 non-finite loss(es) in epoch 1, between steps 6-10: patience not "
        "yet exhausted." in warnings
    )
    assert any("in epoch 2, between steps 21-24" in w for w in warnings)


def test_sync_free_patience_exhausted_names_the_steps(tmp_path):
    store = _store()
    for mode in (False, True):
        brain = _brain(
            str(tmp_path / str(mode)),
            store,
            run_opts={"nonfinite_patience": 1},
            sync_free_step=mode,
            loss_check_steps=5,
        )
        brain.nan_steps = {(1, 3), (1, 4)}
        with pytest.raises(
            ValueError, match="Loss is not finite and patience is exhausted"
        ) as err:
            _fit(brain, store)
        if mode:
            assert "2 non-finite loss(es) in epoch 1" in str(err.value)
            assert "the last between steps 1-5" in str(err.value)
            assert "loss_check_steps" in str(err.value)
            assert brain.step == 5  # stopped at the check
        else:
            assert brain.step == 4  # SpeechBrain stops at the bad step


@pytest.mark.parametrize("sync_free", [False, True])
def test_mid_epoch_resume(tmp_path, sync_free):
    """Killed in epoch 2 with checkpoints every 4 steps: the resumed run
    sees the remaining minibatches, ends with the uninterrupted run's
    weights and (from the checkpointed running loss) its epoch-2 loss."""
    store = _store()
    steps = -(-store.num_frames // BATCH)
    opts = {"ckpt_interval_steps": 4}
    ref = _fit(
        _brain(str(tmp_path / "ref"), store, 2, sync_free_step=False), store
    )
    run = _brain(
        str(tmp_path / "run"),
        store,
        2,
        run_opts=opts,
        checkpoint=True,
        sync_free_step=sync_free,
        loss_check_steps=3,
    )
    run.crash_at = (2, 10)
    with pytest.raises(Interrupt):
        _fit(run, store)
    last = max(
        run.checkpointer.list_checkpoints(), key=lambda c: c.meta["unixtime"]
    )
    with open(os.path.join(last.path, "brain.ckpt")) as fin:
        saved = yaml.safe_load(fin)
    assert saved["step"] == 8
    assert saved["avg_train_loss"] > 0.0  # read from the device before saving

    resumed = _brain(
        str(tmp_path / "run"),
        store,
        2,
        run_opts=opts,
        checkpoint=True,
        sync_free_step=sync_free,
        loss_check_steps=3,
    )
    _fit(resumed, store)
    assert len(resumed.seen) == steps - 8
    for got, want in zip(resumed.seen, ref.seen[steps + 8 :], strict=True):
        assert torch.equal(got, want)
    assert resumed.record[0] == ref.record[4]  # epoch 2's training loss
    _assert_same_weights(_weights(resumed), _weights(ref), atol=1e-6)


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------


def test_cuda_graph_step_on_cpu_is_an_error_naming_the_option(tmp_path):
    store = _store()
    with pytest.raises(
        ValueError, match="cuda_graph_step: true needs a CUDA device"
    ):
        _brain(str(tmp_path), store, cuda_graph_step=True)
    with pytest.raises(ValueError, match="sync_free_step \\(it is false\\)"):
        _brain(str(tmp_path), store, cuda_graph_step=True, sync_free_step=False)
    with pytest.raises(ValueError, match="grad_accumulation_factor 1"):
        _brain(
            str(tmp_path),
            store,
            run_opts={"grad_accumulation_factor": 2},
            cuda_graph_step=True,
        )


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("sync_free_step", "yes", "sync_free_step must be 'auto', true or"),
        ("loss_check_steps", 0, "loss_check_steps must be an integer >= 1"),
        ("loss_check_steps", True, "loss_check_steps must be an integer"),
        ("cuda_graph_step", "true", "cuda_graph_step must be true or false"),
        ("fused_optimizer", 1, "fused_optimizer must be true or false"),
    ],
)
def test_bad_step_option_values_are_named(tmp_path, option, value, message):
    with pytest.raises(ValueError, match=message):
        _brain(str(tmp_path), _store(), **{option: value})


def test_fused_optimizer(tmp_path):
    """fused=True reaches the optimiser (SGD has a fused CPU kernel too) and
    trains like the unfused one; a checkpoint of an unfused run resumes
    fused; an opt_class without ``fused`` is an error naming the option."""
    store = _store()
    opt_class = functools.partial(
        torch.optim.SGD, lr=0.05, momentum=0.9, nesterov=True
    )
    plain = _fit(
        _brain(str(tmp_path / "plain"), store, 1, opt_class=opt_class), store
    )
    fused = _fit(
        _brain(
            str(tmp_path / "fused"),
            store,
            1,
            opt_class=opt_class,
            fused_optimizer=True,
            sync_free_step=True,
        ),
        store,
    )
    assert fused.optimizer.param_groups[0]["fused"] is True
    assert plain.optimizer.param_groups[0]["fused"] is not True
    _assert_same_weights(_weights(fused), _weights(plain), atol=1e-5)
    assert fused.record[0][1] == pytest.approx(plain.record[0][1], rel=1e-5)

    unfused = _brain(
        str(tmp_path / "resume"), store, 1, checkpoint=True, opt_class=opt_class
    )
    _fit(unfused, store)
    resumed = _brain(
        str(tmp_path / "resume"),
        store,
        2,
        checkpoint=True,
        opt_class=opt_class,
        fused_optimizer=True,
    )
    _fit(resumed, store)
    assert resumed.optimizer.param_groups[0]["fused"] is True

    brain = _brain(
        str(tmp_path / "bad"),
        store,
        1,
        opt_class=lambda params: torch.optim.SGD(params, lr=0.05),
        fused_optimizer=True,
    )
    with pytest.raises(ValueError, match="fused_optimizer: true, but"):
        _fit(brain, store)


def test_train_minibatches_are_slices_of_one_permutation_per_epoch():
    """The shuffle is made (and put on the store's device) once per epoch;
    every minibatch is a view of it: no per-step copy."""
    sampler = FrameShuffleSampler(100, 16, seed=1, device="cpu")
    sampler.set_epoch(1)
    perm = sampler.permutation()
    batches = list(sampler)
    assert sampler.permutation() is perm
    for batch in batches:
        assert batch._base is perm
    sampler.set_epoch(2)
    assert sampler.permutation() is not perm


# ---------------------------------------------------------------------------
# CUDA (run where a GPU is present)
# ---------------------------------------------------------------------------


class _NoSyncWindow(RecordingBrain):
    """Fails any host sync between the ends of steps ``first`` and
    ``last`` of epoch 1 (data loading included)."""

    first, last = 2, 12

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        if self.hparams.epoch_counter.current == 1:
            if self.step == self.first:
                torch.cuda.set_sync_debug_mode("error")
            elif self.step == self.last:
                torch.cuda.set_sync_debug_mode("default")


@needs_cuda
@pytest.mark.parametrize("graph", [False, True])
def test_cuda_steps_do_not_sync(tmp_path, graph):
    store = _store()
    brain = _brain(
        str(tmp_path),
        store,
        1,
        device="cuda",
        brain_class=_NoSyncWindow,
        loss_check_steps=1000,
        cuda_graph_step=graph,
    )
    if graph:  # the capture itself synchronises
        brain.first = 5
    try:
        _fit(brain, store)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert brain.sync_free_step is True  # "auto" on CUDA
    assert len(brain.seen) == -(-store.num_frames // BATCH)


@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_graph_step_trains_like_the_eager_step(tmp_path, precision):
    """Three epochs (warm-up, capture, replays, the short last minibatch
    eagerly, a new learning rate each epoch): the graphed step trains as
    the eager one does."""
    store = _store()
    opts = {"precision": precision}
    eager = _fit(
        _brain(str(tmp_path / "eager"), store, device="cuda", run_opts=opts),
        store,
    )
    graphed = _fit(
        _brain(
            str(tmp_path / "graph"),
            store,
            device="cuda",
            run_opts=opts,
            cuda_graph_step=True,
        ),
        store,
    )
    assert len(graphed.seen) == len(eager.seen)
    assert graphed.optimizer_step == eager.optimizer_step
    tol = {"rtol": 1e-4, "atol": 1e-5} if precision == "fp32" else {}
    tol = tol or {"rtol": 2e-2, "atol": 2e-3}
    for got, want in zip(graphed.record, eager.record, strict=True):
        assert got[0] == want[0]
        assert got[1:] == pytest.approx(want[1:], **{"rel": tol["rtol"]})
    _assert_same_weights(_weights(graphed), _weights(eager), **tol)
    assert graphed.last_valid_stats["frame_acc"] > 80.0


@needs_cuda
def test_cuda_graph_step_is_recaptured_when_the_learning_rate_changes(
    tmp_path,
):
    store = _store()

    class Halving(RecordingBrain):
        def on_fit_batch_end(self, batch, outputs, loss, should_step):
            if self.step == 12:
                for group in self.optimizer.param_groups:
                    group["lr"] *= 0.5

    brains = {}
    for graph in (False, True):
        brain = _brain(
            str(tmp_path / str(graph)),
            store,
            1,
            device="cuda",
            brain_class=Halving,
            cuda_graph_step=graph,
        )
        brains[graph] = _fit(brain, store)
    # A graph still stepping with the old learning rate would differ.
    _assert_same_weights(
        _weights(brains[True]), _weights(brains[False]), rtol=1e-4, atol=1e-5
    )
