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
from speechbrain.utils.autocast import AMPConfig

from sb_rectifier.data.frame_dataset import FrameBatch, FrameDataset

logger = logging.getLogger(__name__)
CKPT_CHECK_STEPS = 100  # DDP: steps between mid-epoch checkpoint decisions
GRAPH_WARMUP_STEPS = 3  # eager steps of each epoch before the step is captured


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

    **The training step on a GPU.** A minibatch of 256 frames is so little
    arithmetic that a GPU step costs what the host makes it wait, so
    optional ``hparams`` (defaults in :attr:`STEP_OPTIONS`) remove what a
    SpeechBrain step waits for:

    * ``sync_free_step`` (``"auto"``: on for a CUDA device, off on CPU;
      or true / false). SpeechBrain reads the loss on the host at every
      step (``check_loss_isfinite`` before the backward pass, and
      ``fit_batch``'s ``loss.cpu()`` for ``update_average``), so the host
      waits for the GPU twice per step and the GPU for the host.
      With this option the running loss (SpeechBrain's formula, in float64)
      and the count of non-finite losses stay on the device; they are read
      every ``loss_check_steps`` steps (default 100), before each mid-epoch
      checkpoint and at the end of the epoch. Non-finite losses count
      against ``nonfinite_patience`` as in SpeechBrain, and the error
      (raised up to ``loss_check_steps`` steps later) names the step range.
      Training itself is unchanged: on CPU the losses, dev metrics and
      weights are bit-identical either way (tested). The progress bar's
      loss is refreshed at each check.
    * ``cuda_graph_step`` (default false): the whole step (forward,
      cross-entropy, backward, gradient clipping at ``max_grad_norm``, the
      optimiser step and the loss bookkeeping) is captured once per epoch
      in a CUDA graph, after ``GRAPH_WARMUP_STEPS`` eager steps, and
      replayed for every minibatch of the captured size; the epoch's last,
      smaller minibatch runs eagerly. The graph is captured again when a
      hyperparameter of an optimiser's parameter groups (e.g. the learning
      rate) changes. It needs a CUDA device, a single process (not DDP),
      ``precision`` fp32 or bf16, ``grad_accumulation_factor`` 1 and
      ``skip_nonfinite_grads`` off; anything else is an error naming the
      option. The ``outputs`` and ``loss`` handed to
      ``on_fit_batch_end`` are the graph's tensors, overwritten by the
      next step.
    * ``fused_optimizer`` (default false): builds the optimiser with
      ``opt_class(params, fused=True)`` (e.g. ``torch.optim.SGD``), one
      kernel and one pass over the weights per step. An ``opt_class``
      that does not take ``fused`` is an error naming the option.

    SpeechBrain's ``--compile`` (``torch.compile`` of the modules) can be
    combined with them (with ``sync_free_step`` it was checked on CPU;
    with ``cuda_graph_step`` it is untried). The frame store should live on the training device
    (``store_device: cuda``): the epoch's shuffle is then put on the device
    once and every minibatch is a slice of it, gathered there.

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
    #: Optional ``hparams`` of the training step, with their defaults.
    STEP_OPTIONS = {
        "sync_free_step": "auto",
        "loss_check_steps": 100,
        "cuda_graph_step": False,
        "fused_optimizer": False,
    }
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
        self._configure_step(hparams)

    def _configure_step(self, hparams):
        """Reads and checks :attr:`STEP_OPTIONS` from ``hparams``."""
        options = {k: hparams.get(k, v) for k, v in self.STEP_OPTIONS.items()}
        sync_free = options["sync_free_step"]
        if sync_free == "auto":
            sync_free = self.device_type == "cuda"
        elif not isinstance(sync_free, bool):
            raise ValueError(
                "sync_free_step must be 'auto', true or false, got "
                f"{sync_free!r}"
            )
        check_steps = options["loss_check_steps"]
        if (
            isinstance(check_steps, bool)
            or not isinstance(check_steps, int)
            or check_steps < 1
        ):
            raise ValueError(
                f"loss_check_steps must be an integer >= 1, got {check_steps!r}"
            )
        for name in ("cuda_graph_step", "fused_optimizer"):
            if not isinstance(options[name], bool):
                raise ValueError(
                    f"{name} must be true or false, got {options[name]!r}"
                )
        graph = options["cuda_graph_step"]
        if graph:
            needs = []
            if self.device_type != "cuda":
                needs.append(
                    f"a CUDA device (this run's device is '{self.device}'; "
                    "on CPU leave it false)"
                )
            if not sync_free:
                needs.append("sync_free_step (it is false)")
            if self.precision not in ("fp32", "bf16"):
                needs.append(
                    f"precision fp32 or bf16 (got {self.precision}: fp16's "
                    "gradient scaler reads the gradients on the host)"
                )
            if self.grad_accumulation_factor != 1:
                needs.append(
                    "grad_accumulation_factor 1 (got "
                    f"{self.grad_accumulation_factor})"
                )
            if self.skip_nonfinite_grads:
                needs.append("skip_nonfinite_grads off")
            if self.distributed_launch or self.data_parallel_backend:
                needs.append("a single process (not DDP or DataParallel)")
            if needs:
                raise ValueError(
                    "cuda_graph_step: true needs " + "; ".join(needs)
                )
        self.sync_free_step = sync_free
        self.loss_check_steps = check_steps
        self.cuda_graph_step = graph
        self.fused_optimizer = options["fused_optimizer"]
        self._loss_on_device = False
        self._step_graph = None
        self._graph_warmup_left = 0
        self._side_stream = None
        self._optimizer_flags = None

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

    def init_optimizers(self):
        """SpeechBrain's optimiser, built with ``fused=True`` when
        ``fused_optimizer`` is set."""
        if not self.fused_optimizer or self.opt_class is None:
            return super().init_optimizers()
        opt_class = self.opt_class

        def fused_opt_class(params):
            try:
                return opt_class(params, fused=True)
            except (TypeError, RuntimeError, ValueError) as err:
                raise ValueError(
                    "fused_optimizer: true, but the optimiser cannot be "
                    f"built with fused=True: {err}"
                ) from err

        self.opt_class = fused_opt_class
        try:
            super().init_optimizers()
        finally:
            self.opt_class = opt_class
        self._optimizer_flags = [
            {k: group[k] for k in ("fused", "foreach") if k in group}
            for group in self.optimizer.param_groups
        ]

    def on_fit_start(self):
        """SpeechBrain's, then the optimiser's ``fused`` flag put back:
        a recovered checkpoint's parameter groups carry their own."""
        super().on_fit_start()
        if self._optimizer_flags is not None:
            groups = self.optimizer.param_groups
            for group, flags in zip(groups, self._optimizer_flags, strict=True):
                group.update(flags)

    def fit_batch(self, batch):
        """One training step; see ``sb.Brain.fit_batch``.

        Without ``sync_free_step`` this is SpeechBrain's step. With it, the
        same step without reading the loss on the host (the running loss
        and the non-finite count stay on the device), and with
        ``cuda_graph_step`` the step is a CUDA graph replay.

        Arguments
        ---------
        batch : FrameBatch
            The minibatch.

        Returns
        -------
        torch.Tensor
            The detached loss (on the training device with
            ``sync_free_step``, else on the CPU).
        """
        if not self.sync_free_step:
            return super().fit_batch(batch)
        if self.cuda_graph_step:
            return self._fit_batch_graphed(batch)
        # SpeechBrain's fit_batch, with the loss kept on the device.
        should_step = (self.step % self.grad_accumulation_factor) == 0
        self.on_fit_batch_start(batch, should_step)
        with self.no_sync(not should_step):
            with self.training_ctx:
                outputs = self.compute_forward(batch, sb.Stage.TRAIN)
                loss = self.compute_objectives(outputs, batch, sb.Stage.TRAIN)
            scaled_loss = self.scaler.scale(
                loss / self.grad_accumulation_factor
            )
            self._track_loss(loss, scaled_loss)
            scaled_loss.backward()
        if should_step:
            self.optimizers_step()
        self.on_fit_batch_end(batch, outputs, loss, should_step)
        self._periodic_loss_check()
        return loss.detach()

    def _track_loss(self, loss, scaled_loss):
        """Device-side ``check_loss_isfinite`` and ``update_average``: the
        same float64 arithmetic as SpeechBrain's, without reading the loss.
        """
        with torch.no_grad():
            self._nonfinite.add_(torch.isfinite(scaled_loss).logical_not())
            self._steps.add_(1)
            value = loss.detach().double()
            avg = self._avg
            updated = avg - avg / self._steps + value / self._steps
            self._avg.copy_(torch.where(torch.isfinite(value), updated, avg))

    def _periodic_loss_check(self):
        """Reads the device-side loss state every ``loss_check_steps``."""
        if self.step % self.loss_check_steps == 0:
            self._read_train_loss()

    def _read_train_loss(self):
        """Reads the running loss and the non-finite count (one host sync).

        Returns
        -------
        float
            The running training loss, also set as ``avg_train_loss``.
        """
        avg, count = torch.stack([self._avg, self._nonfinite.double()]).tolist()
        count = int(count)
        if count > self._nonfinite_seen:
            first, last = self._checked_step + 1, self.step
            where = f"step {last}" if first >= last else f"steps {first}-{last}"
            epoch = self.hparams.epoch_counter.current
            if count > self.nonfinite_patience:
                raise ValueError(
                    "Loss is not finite and patience is exhausted: "
                    f"{count} non-finite loss(es) in epoch {epoch} "
                    f"(nonfinite_patience={self.nonfinite_patience}), the "
                    f"last between {where}. sync_free_step checks the loss "
                    f"every {self.loss_check_steps} steps (loss_check_steps); "
                    "with sync_free_step: false training stops at the first "
                    "step over the patience. To debug, wrap `fit()` with "
                    "autograd's `detect_anomaly()`."
                )
            logger.warning(
                f"{count - self._nonfinite_seen} non-finite loss(es) in epoch "
                f"{epoch}, between {where}: patience not yet exhausted."
            )
        self._nonfinite_seen = count
        self._checked_step = self.step
        self.nonfinite_count = count
        self.avg_train_loss = avg
        return avg

    def update_average(self, loss, avg_loss):
        """SpeechBrain's running average, except for a sync-free training
        stage, whose loss is averaged on the device by :meth:`fit_batch`.

        Arguments
        ---------
        loss : torch.Tensor
            Detached loss.
        avg_loss : float
            Current running average.

        Returns
        -------
        float
            The running average (for a sync-free training stage: as read at
            the last check).
        """
        if self._loss_on_device:
            return avg_loss
        return super().update_average(loss, avg_loss)

    def _save_intra_epoch_ckpt(self):
        """SpeechBrain's mid-epoch checkpoint, with the running loss read
        from the device first (and the non-finite losses checked)."""
        if self._loss_on_device:
            self._read_train_loss()
        super()._save_intra_epoch_ckpt()

    def _valid_optimizers(self):
        """The optimisers SpeechBrain's ``optimizers_step`` would step."""
        if self.optimizers_dict is not None:
            return list(self.freeze_optimizers(self.optimizers_dict).values())
        if self.opt_class is not None:
            return [self.optimizer]
        return []

    def _graph_key(self):
        """What a captured step depends on beyond its tensors: the
        optimisers and the scalar hyperparameters of their groups."""
        key = [self.max_grad_norm]
        for opt in self._valid_optimizers():
            key.append(id(opt))
            for group in opt.param_groups:
                key.extend(
                    (k, v)
                    for k, v in sorted(group.items())
                    if isinstance(v, (bool, int, float, str, type(None)))
                )
        return tuple(key)

    def _graph_step_body(self, batch):
        """The training step that is captured (or run eagerly): forward,
        loss, backward, clipping and the optimiser step, no host sync.

        Returns
        -------
        tuple
            ``(outputs, loss)``.
        """
        self.zero_grad(set_to_none=True)
        dtype = AMPConfig.from_name(self.precision).dtype
        autocast = contextlib.nullcontext()
        if dtype != torch.float32:
            # No cast cache: each weight is cast once per step anyway.
            autocast = torch.autocast(
                self.device_type, dtype=dtype, cache_enabled=False
            )
        with autocast:
            outputs = self.compute_forward(batch, sb.Stage.TRAIN)
            loss = self.compute_objectives(outputs, batch, sb.Stage.TRAIN)
        self._track_loss(loss, loss)
        loss.backward()
        optimizers = self._valid_optimizers()
        for opt in optimizers:  # as SpeechBrain's optimizers_step
            torch.nn.utils.clip_grad_norm_(
                opt.param_groups[0]["params"],
                self.max_grad_norm,
                error_if_nonfinite=False,
                foreach=True,
            )
        for opt in optimizers:
            opt.step()
        return outputs, loss

    def _fit_batch_graphed(self, batch):
        """``fit_batch`` with ``cuda_graph_step``: warm-up, capture,
        replay."""
        self.on_fit_batch_start(batch, True)
        batch = batch.to(self.device)
        graph = self._step_graph
        key = self._graph_key()
        if graph is not None and graph.key != key:
            logger.info("Optimiser hyperparameters changed: step recaptured")
            graph = self._step_graph = None
        if graph is None and self._graph_warmup_left <= 0:
            graph = self._step_graph = _StepGraph.capture(self, batch, key)
        if graph is not None and graph.fits(batch):
            outputs, loss = graph.replay(batch)
        elif graph is None:
            # Warm-up steps (real ones) on a side stream before the capture,
            # as torch.cuda.graphs asks.
            self._graph_warmup_left -= 1
            if self._side_stream is None:
                self._side_stream = torch.cuda.Stream(device=self.device)
            side, current = self._side_stream, torch.cuda.current_stream()
            side.wait_stream(current)
            with torch.cuda.stream(side):
                outputs, loss = self._graph_step_body(batch)
            current.wait_stream(side)
        else:  # another size: the last, short minibatch of an epoch
            outputs, loss = self._graph_step_body(batch)
        self.optimizer_step += 1
        self.on_fit_batch_end(batch, outputs, loss, True)
        self._periodic_loss_check()
        return loss.detach()

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
        """Resets the frame-metric accumulators (and, for a sync-free
        training stage, the device-side loss state).

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
        self._loss_on_device = stage == sb.Stage.TRAIN and self.sync_free_step
        self._step_graph = None
        if self._loss_on_device:
            # From the recovered state on a mid-epoch resume, else 0.
            f64 = {"dtype": torch.float64, "device": self.device}
            self._avg = torch.tensor(float(self.avg_train_loss), **f64)
            self._steps = torch.tensor(float(self.step), **f64)
            self._nonfinite = torch.zeros(
                (), dtype=torch.long, device=self.device
            )
            self._nonfinite_seen = 0
            self._checked_step = self.step
            self._graph_warmup_left = GRAPH_WARMUP_STEPS
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
        if stage == sb.Stage.TRAIN and self._loss_on_device:
            # One host sync per epoch: the queued steps finish here.
            stage_loss = self._read_train_loss()
            self._loss_on_device = False
            self._step_graph = None
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


class _StepGraph:
    """A training step captured in a CUDA graph, with its static tensors.

    Arguments
    ---------
    graph : torch.cuda.CUDAGraph
        The captured step.
    batch : FrameBatch
        Its static input: each replay reads the minibatch copied here.
    outputs : torch.Tensor
        Static logits.
    loss : torch.Tensor
        Static loss.
    key : tuple
        ``HybridBrain._graph_key()`` at capture.
    """

    def __init__(self, graph, batch, outputs, loss, key):
        self.graph = graph
        self.batch = batch
        self.outputs = outputs
        self.loss = loss
        self.key = key

    @classmethod
    def capture(cls, brain, batch, key):
        """Captures ``brain``'s training step on a copy of ``batch``.

        Nothing runs during the capture; the caller replays it for this
        minibatch.

        Arguments
        ---------
        brain : HybridBrain
            The brain (after its warm-up steps).
        batch : FrameBatch
            A minibatch of the size to capture, on the device.
        key : tuple
            The brain's ``_graph_key()``.

        Returns
        -------
        _StepGraph
            The captured step.
        """
        static = FrameBatch(batch.feats.clone(), batch.targets.clone())
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            outputs, loss = brain._graph_step_body(static)
        return cls(graph, static, outputs, loss, key)

    def fits(self, batch):
        """Whether ``batch`` has the captured shapes and dtypes."""
        static = self.batch
        return (
            batch.feats.shape == static.feats.shape
            and batch.feats.dtype == static.feats.dtype
            and batch.targets is not None
            and batch.targets.shape == static.targets.shape
        )

    def replay(self, batch):
        """Runs the captured step on ``batch``.

        Returns
        -------
        tuple
            The static ``(outputs, loss)``.
        """
        self.batch.feats.copy_(batch.feats, non_blocking=True)
        self.batch.targets.copy_(batch.targets, non_blocking=True)
        self.graph.replay()
        return self.outputs, self.loss


def _world_size():
    """Number of DDP processes (1 without a process group)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1
