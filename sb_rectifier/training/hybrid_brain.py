"""``HybridBrain``: frame-level cross-entropy training on senone targets.

Authors
 * sb_rectifier developers 2026
"""

import contextlib
import logging
import time

import speechbrain as sb
import torch
import torch.nn.functional as F
from speechbrain.nnet.schedulers import update_learning_rate

from sb_rectifier.data.frame_dataset import FrameDataset

logger = logging.getLogger(__name__)
CKPT_CHECK_STEPS = 100  # DDP: steps between mid-epoch checkpoint decisions


class HybridBrain(sb.Brain):
    """Trains a frame classifier on pdf (senone) targets from HMM alignments.

    The ``modules`` are ``model`` (flattened context windows -> pdf
    logits, e.g. :class:`~sb_rectifier.RectifierDNN`) and ``normalizer``
    (:class:`~sb_rectifier.nnet.GlobalNormalization`, estimated on train
    only). Datasets are :class:`~sb_rectifier.data.FrameDataset` objects:
    training draws globally shuffled frame minibatches (seeded, resumable
    mid-epoch through SpeechBrain's checkpointer), dev and test run over
    whole utterances in order.

    Per epoch it logs the training loss and the paper's two frame
    metrics on dev: cross-entropy (nats per frame) and frame accuracy
    (%), both frame-weighted over the whole dev set. It anneals the
    learning rate with ``hparams.lr_annealing`` (e.g. SpeechBrain's
    ``NewBobScheduler``) on dev cross-entropy when given, and keeps the
    checkpoint with the lowest dev cross-entropy (``min_key="dev_ce"``).

    ``eval_split`` names the data of the next ``evaluate()`` in the logs
    (default ``"test"``).

    Loader arguments: for training, ``batch_size`` (frames per optimizer
    step, over all processes), ``seed`` and ``drop_last``; for dev/test,
    ``max_frames`` per minibatch.

    Under DDP (torchrun), ``batch_size`` stays the global minibatch: each
    of the N processes draws ``batch_size / N`` frames per step from the
    same global shuffle, so N processes train as one process with the same
    ``batch_size`` does (DDP averages the gradients). Dev and test are
    shared out by utterance, each process evaluating its own block, and
    the frame metrics are summed over processes.

    Required ``hparams`` (a missing one is an error): ``train_logger`` (a
    SpeechBrain train logger, e.g.
    :class:`~sb_rectifier.training.EpochMetricsLogger`), ``lr_annealing``
    (a scheduler called with the dev cross-entropy, or None for a constant
    learning rate) and ``epoch_counter``. Other hparams are SpeechBrain's
    run options (e.g. ``ckpt_interval_minutes``).

    ``valid_context``, when set, is called with the epoch number and
    returns a context manager entered around that epoch's validation
    (e.g. :func:`sb_rectifier.sparsity.collect`, statistics at every
    epoch).

    Example
    -------
    >>> from sb_rectifier.data import FrameDataset, FrameStore
    >>> from sb_rectifier.lobes import RectifierDNN
    >>> from sb_rectifier.nnet import GlobalNormalization
    >>> store = FrameStore(
    ...     torch.randn(40, 3),
    ...     [0, 20, 40],
    ...     ["a", "b"],
    ...     torch.randint(0, 4, (40,)),
    ... )
    >>> data = FrameDataset(store, left=1, right=1)
    >>> modules = {
    ...     "model": RectifierDNN(
    ...         input_size=9, num_layers=2, neurons=8, n_pdfs=4
    ...     ),
    ...     "normalizer": GlobalNormalization(3).fit(store.feats),
    ... }
    >>> log = getfixture("tmpdir").join("log.txt").strpath
    >>> brain = HybridBrain(
    ...     modules,
    ...     lambda p: torch.optim.SGD(p, lr=0.1),
    ...     hparams={
    ...         "train_logger": sb.utils.train_logger.FileTrainLogger(log),
    ...         "lr_annealing": None,
    ...         "epoch_counter": sb.utils.epoch_loop.EpochCounter(1),
    ...     },
    ...     run_opts={"device": "cpu", "noprogressbar": True},
    ... )
    >>> brain.fit(
    ...     brain.hparams.epoch_counter,
    ...     data,
    ...     data,
    ...     train_loader_kwargs={"batch_size": 16},
    ... )
    >>> sorted(brain.last_valid_stats)
    ['ce', 'frame_acc', 'frames']
    """

    REQUIRED_HPARAMS = ("train_logger", "lr_annealing", "epoch_counter")
    eval_split = "test"
    valid_context = None

    def __init__(self, *args, hparams=None, **kwargs):
        missing = [k for k in self.REQUIRED_HPARAMS if k not in (hparams or {})]
        if missing:
            raise ValueError(
                f"HybridBrain: hparams lack {', '.join(missing)} (required: "
                f"{', '.join(self.REQUIRED_HPARAMS)}; lr_annealing may be "
                "None)"
            )
        super().__init__(*args, hparams=hparams, **kwargs)
        self._valid_context = None
        self.train_stats = None

    def make_dataloader(
        self, dataset, stage, ckpt_prefix="dataloader-", **loader_kwargs
    ):
        """Builds frame loaders for :class:`FrameDataset`; see ``sb.Brain``.

        Arguments
        ---------
        dataset : FrameDataset or Dataset
            The data.
        stage : speechbrain.Stage
            TRAIN gives shuffled frame minibatches, VALID/TEST utterances.
        ckpt_prefix : str or None
            Checkpoint name prefix of the loader.
        **loader_kwargs : dict
            ``batch_size``/``seed``/``drop_last`` (TRAIN) or
            ``max_frames`` (VALID/TEST); the rest goes to the DataLoader.

        Returns
        -------
        torch.utils.data.DataLoader
            The loader.
        """
        shard = loader_kwargs.pop("shard", True)
        if isinstance(dataset, FrameDataset):
            world = _world_size() if self.distributed_launch else 1
            if stage == sb.Stage.TRAIN:
                batch_size = loader_kwargs.pop("batch_size", 256)
                if batch_size % world:
                    raise ValueError(
                        f"batch_size={batch_size} (frames per step, over all "
                        f"processes) is not divisible by the {world} "
                        "processes; choose a multiple"
                    )
                frame_kwargs = dataset.train_loader_kwargs(
                    batch_size=batch_size // world,
                    seed=loader_kwargs.pop("seed", 0),
                    drop_last=loader_kwargs.pop("drop_last", False),
                )
                # SpeechBrain sets the epoch on it, and wraps it for DDP.
                self.train_sampler = frame_kwargs["sampler"]
            else:
                if not shard:
                    world = 1
                frame_kwargs = dataset.eval_loader_kwargs(
                    max_frames=loader_kwargs.pop("max_frames", 20000),
                    rank=self.rank if world > 1 else 0,
                    num_replicas=world,
                )
                loader_kwargs.pop("batch_size", None)
            loader_kwargs.pop("shuffle", None)
            loader_kwargs.update(frame_kwargs)
        return super().make_dataloader(
            dataset, stage, ckpt_prefix=ckpt_prefix, **loader_kwargs
        )

    def _should_save_intra_epoch_ckpt(self, last_ckpt_time, steps_since_ckpt):
        """SpeechBrain's mid-epoch checkpoint decision, asked less often.

        Under DDP, SpeechBrain broadcasts the time-based decision from rank
        0 at every training step (a synchronising collective). The step
        count is the same on every rank, so asking only every
        ``CKPT_CHECK_STEPS`` steps keeps the ranks in step at a fraction of
        the cost; a checkpoint is then at most that many steps late.
        """
        if (
            self.distributed_launch
            and self.ckpt_interval_steps <= 0
            and steps_since_ckpt % CKPT_CHECK_STEPS
        ):
            return False
        return super()._should_save_intra_epoch_ckpt(
            last_ckpt_time, steps_since_ckpt
        )

    def compute_forward(self, batch, stage):
        """Pdf logits of a minibatch of context windows.

        Arguments
        ---------
        batch : FrameBatch
            ``feats`` is ``[batch, window, feat_dim]``.
        stage : speechbrain.Stage
            Unused.

        Returns
        -------
        torch.Tensor
            ``[batch, n_pdfs]`` logits.
        """
        batch = batch.to(self.device)
        feats = self.modules.normalizer(batch.feats)
        model = self.modules.model
        if stage != sb.Stage.TRAIN:
            # No DDP collectives in evaluation: each process runs its own
            # share of the utterances, however many batches that is.
            model = getattr(model, "module", model)
        return model(feats.flatten(1))

    def compute_objectives(self, predictions, batch, stage):
        """Frame cross-entropy; accumulates dev/test frame metrics.

        Arguments
        ---------
        predictions : torch.Tensor
            ``[batch, n_pdfs]`` logits.
        batch : FrameBatch
            ``targets`` holds the pdf ids.
        stage : speechbrain.Stage
            The stage.

        Returns
        -------
        torch.Tensor
            Mean cross-entropy over the minibatch's frames.
        """
        if batch.targets is None:
            raise ValueError(
                f"{stage.name}: this data has no alignments, so no frame "
                "cross-entropy can be computed"
            )
        logits = predictions.float()
        if stage == sb.Stage.TRAIN:
            return F.cross_entropy(logits, batch.targets)
        ce_sum = F.cross_entropy(logits, batch.targets, reduction="sum")
        with torch.no_grad():
            self._ce_sum += ce_sum.detach()
            self._correct += (logits.argmax(-1) == batch.targets).sum()
            self._frames += batch.targets.numel()
        return ce_sum / batch.targets.numel()

    def on_stage_start(self, stage, epoch=None):
        """Resets the frame-metric accumulators.

        Arguments
        ---------
        stage : speechbrain.Stage
            The stage.
        epoch : int, optional
            The epoch.
        """
        if stage == sb.Stage.VALID and self.valid_context is not None:
            self._valid_context = contextlib.ExitStack()
            self._valid_context.enter_context(self.valid_context(epoch))
        self._ce_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        self._correct = torch.zeros((), device=self.device, dtype=torch.long)
        self._frames = 0
        self._stage_start = time.time()

    def frame_metrics(self):
        """Frame-weighted cross-entropy and accuracy of the finished stage,
        summed over all processes under DDP.

        Returns
        -------
        dict
            ``ce`` (nats per frame), ``frame_acc`` (%) and ``frames``.
        """
        totals = torch.stack(
            [
                self._ce_sum.double(),
                self._correct.double(),
                torch.tensor(float(self._frames), device=self._ce_sum.device),
            ]
        )
        if self.distributed_launch:
            torch.distributed.all_reduce(totals)
        ce_sum, correct, frames = totals.tolist()
        frames = max(frames, 1.0)
        return {
            "ce": ce_sum / frames,
            "frame_acc": 100.0 * correct / frames,
            "frames": int(frames),
        }

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs, anneals the learning rate and checkpoints.

        Arguments
        ---------
        stage : speechbrain.Stage
            The stage.
        stage_loss : float
            Average loss of the stage.
        epoch : int, optional
            The epoch.
        """
        elapsed = time.time() - self._stage_start
        if self._valid_context is not None:
            context, self._valid_context = self._valid_context, None
            context.close()
        if stage == sb.Stage.TRAIN:
            self.train_stats = {"loss": stage_loss, "seconds": elapsed}
            return
        stats = self.frame_metrics()
        if stage == sb.Stage.VALID:
            self.last_valid_stats = stats
            lr = self.optimizer.param_groups[0]["lr"]
            if self.hparams.lr_annealing is not None:
                lr, new_lr = self.hparams.lr_annealing(stats["ce"])
                update_learning_rate(self.optimizer, new_lr)
            self.hparams.train_logger.log_stats(
                {"epoch": epoch, "lr": lr},
                train_stats=self.train_stats,
                valid_stats={k: stats[k] for k in ("ce", "frame_acc")},
            )
            if self.checkpointer is not None:
                self.checkpointer.save_and_keep_only(
                    meta={
                        "dev_ce": stats["ce"],
                        "dev_frame_acc": stats["frame_acc"],
                    },
                    min_keys=["dev_ce"],
                )
        else:
            self.last_test_stats = stats
            split = self.eval_split
            self.hparams.train_logger.log_stats(
                {
                    "best checkpoint (epoch)": self.hparams.epoch_counter.current,
                    f"{split} ce": stats["ce"],
                    f"{split} frame_acc": stats["frame_acc"],
                }
            )


def _world_size():
    """Number of DDP processes (1 without a process group)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1
