"""SpeechBrain's Checkpointer, with saves that are all or nothing.

SpeechBrain writes a checkpoint folder in place: ``CKPT.yaml`` first, then
one file per recoverable. A full disk or a kill in between leaves a folder
that looks complete (it has its ``CKPT.yaml``) but holds a torn
``model.ckpt``, and every re-run then fails inside ``torch.load``.

:class:`SafeCheckpointer` changes two things and keeps the rest (the
layout, the keys, ``save_and_keep_only``, DDP behaviour):

* a checkpoint is written into a temporary folder (named by
  :func:`sb_rectifier.files.temp_sibling`) and renamed to its
  ``CKPT+<date>+<n>`` name when every file is written, so a checkpoint
  either exists whole or not at all; temporaries of killed runs are
  removed when the checkpointer is made;
* recovery tries the chosen checkpoint and, if it cannot be read (torn
  file, missing file, unreadable ``CKPT.yaml``), logs a warning, moves it
  aside to ``unreadable+CKPT+...`` (where SpeechBrain no longer sees it)
  and falls back to the next one in the same order (most recent, or
  next best for ``min_key``/``max_key``). When none can be read the error
  names them all.

Authors
 * sb_rectifier developers 2026
"""

import errno
import logging
import os
import pathlib
import shutil

import yaml
from speechbrain.utils.checkpoints import (
    METAFNAME,
    PARAMFILE_EXT,
    Checkpoint,
    Checkpointer,
)
from speechbrain.utils.distributed import ddp_barrier, if_main_process

from sb_rectifier.files import (
    WriteError,
    clean_stale_temps,
    remove_folder,
    temp_sibling,
)

logger = logging.getLogger(__name__)

UNREADABLE_PREFIX = "unreadable+"


class SafeCheckpointer(Checkpointer):
    """A ``speechbrain.utils.checkpoints.Checkpointer`` with atomic saves
    and recovery that skips unreadable checkpoints.

    Arguments
    ---------
    checkpoints_dir : str or os.PathLike
        Where checkpoints are saved.
    recoverables : dict, optional
        Objects to save and recover (see SpeechBrain's Checkpointer).
    custom_load_hooks : dict, optional
        See SpeechBrain's Checkpointer.
    custom_save_hooks : dict, optional
        See SpeechBrain's Checkpointer.
    allow_partial_load : bool
        See SpeechBrain's Checkpointer.

    Example
    -------
    >>> import torch
    >>> folder = getfixture("tmp_path") / "save"
    >>> model = torch.nn.Linear(2, 2)
    >>> ckpt = SafeCheckpointer(folder, {"model": model})
    >>> first = ckpt.save_checkpoint(meta={"step": 1})
    >>> second = ckpt.save_checkpoint(meta={"step": 2})
    >>> _ = (second.path / "model.ckpt").write_bytes(b"torn")
    >>> ckpt.recover_if_possible().meta["step"]  # falls back to the first
    1
    >>> sorted(p.name.split("+")[0] for p in folder.iterdir())
    ['CKPT', 'unreadable']
    """

    def __init__(
        self,
        checkpoints_dir,
        recoverables=None,
        custom_load_hooks=None,
        custom_save_hooks=None,
        allow_partial_load=False,
    ):
        # SpeechBrain makes the folder at once; ours is made by the first
        # save, so that loading a YAML (or a run refused before training)
        # leaves no empty folder behind, and no process of a DDP group
        # makes or removes folders while another takes its locks there.
        super().__init__(
            os.curdir,
            recoverables=recoverables,
            custom_load_hooks=custom_load_hooks,
            custom_save_hooks=custom_save_hooks,
            allow_partial_load=allow_partial_load,
        )
        self.checkpoints_dir = pathlib.Path(checkpoints_dir)
        self._final_dir = self._tmp_dir = None
        if if_main_process():
            clean_stale_temps(self.checkpoints_dir)

    def _list_checkpoint_dirs(self):
        if not self.checkpoints_dir.is_dir():
            return []
        return super()._list_checkpoint_dirs()

    def _new_checkpoint_dirpath(self):
        return self._temporary(super()._new_checkpoint_dirpath())

    def _custom_checkpoint_dirpath(self, name):
        return self._temporary(super()._custom_checkpoint_dirpath(name))

    def _temporary(self, final_dir):
        self._final_dir = final_dir
        self._tmp_dir = pathlib.Path(temp_sibling(final_dir))
        return self._tmp_dir

    def save_checkpoint(
        self, meta={}, end_of_epoch=True, name=None, verbosity=logging.INFO
    ):
        """Saves a checkpoint into a temporary folder, then renames it.

        Arguments
        ---------
        meta : mapping
            Added to ``CKPT.yaml`` (see SpeechBrain's Checkpointer).
        end_of_epoch : bool
            Whether the checkpoint is at the end of an epoch.
        name : str, optional
            A custom checkpoint name.
        verbosity : int
            Logging level of the "Saved ..." message.

        Returns
        -------
        Checkpoint or None
            The saved checkpoint (None on non-main processes).
        """
        self._final_dir = self._tmp_dir = None
        try:
            if if_main_process():
                os.makedirs(self.checkpoints_dir, exist_ok=True)
            saved = super().save_checkpoint(
                meta=meta,
                end_of_epoch=end_of_epoch,
                name=name,
                verbosity=logging.DEBUG,
            )
        except Exception as err:
            # torch.save reports a failed write (full disk, file size
            # limit) as a RuntimeError from its C++ writer, not an OSError.
            target = self._final_dir or self.checkpoints_dir
            if self._tmp_dir is not None and self._tmp_dir.exists():
                remove_folder(self._tmp_dir)
            if not isinstance(err, (OSError, RuntimeError)):
                raise
            reason = (
                err.strerror
                if isinstance(err, OSError) and err.strerror
                else f"{type(err).__name__}: {str(err)[:200]}"
            )
            free = shutil.disk_usage(self.checkpoints_dir).free / 2**20
            raise WriteError(
                getattr(err, "errno", None) or errno.EIO,
                f"{target}: cannot write the checkpoint ({reason}; "
                f"{free:.0f} MiB free on that disk); nothing was saved",
            ) from None
        # Every process has written its part; the main one renames; then
        # all of them see the new checkpoint (SpeechBrain's deletion that
        # follows lists checkpoints on every process and must agree).
        ddp_barrier()
        final = self._final_dir
        if saved is not None:
            os.rename(saved.path, final)
        ddp_barrier()
        if saved is None:
            return None
        logger.log(verbosity, f"Saved a checkpoint in {final}")
        return Checkpoint(
            final,
            saved.meta,
            {k: final / p.name for k, p in saved.paramfiles.items()},
        )

    def list_checkpoints(self):
        """All readable checkpoints; unreadable ``CKPT.yaml`` files are
        moved aside with a warning.

        Returns
        -------
        list
            Checkpoint namedtuples.
        """
        checkpoints = []
        for ckpt_dir in self._list_checkpoint_dirs():
            try:
                with open(ckpt_dir / METAFNAME, encoding="utf-8") as handle:
                    meta = yaml.load(handle, Loader=yaml.SafeLoader)
                if not isinstance(meta, dict) or "end-of-epoch" not in meta:
                    raise ValueError(f"{METAFNAME} is incomplete")
            except (OSError, ValueError, yaml.YAMLError) as err:
                self._set_aside(ckpt_dir, err)
                continue
            paramfiles = {
                f.stem: f
                for f in ckpt_dir.iterdir()
                if f.suffix == PARAMFILE_EXT
            }
            checkpoints.append(Checkpoint(ckpt_dir, meta, paramfiles))
        return checkpoints

    def recover_if_possible(
        self,
        importance_key=None,
        max_key=None,
        min_key=None,
        ckpt_predicate=None,
    ):
        """Loads the chosen checkpoint, falling back past unreadable ones.

        Arguments
        ---------
        importance_key : callable, optional
            See SpeechBrain's Checkpointer.
        max_key : str, optional
            Load the checkpoint with the highest value of this meta key.
        min_key : str, optional
            Load the checkpoint with the lowest value of this meta key.
        ckpt_predicate : callable, optional
            Filter on the checkpoints.

        Returns
        -------
        Checkpoint or None
            The loaded checkpoint, or None when there is none.
        """
        candidates = self.find_checkpoints(
            importance_key, max_key, min_key, ckpt_predicate
        )
        if not candidates:
            logger.info("Would load a checkpoint here, but none found yet.")
            return None
        failed = []
        for ckpt in candidates:
            try:
                self.load_checkpoint(ckpt)
            except Exception as err:  # torch.load raises many kinds
                failed.append(f"{ckpt.path.name} ({type(err).__name__})")
                self._set_aside(ckpt.path, err)
                continue
            if failed:
                logger.warning(
                    f"Recovered from {ckpt.path} instead of the unreadable "
                    f"{', '.join(failed)}"
                )
            return ckpt
        raise RuntimeError(
            f"{self.checkpoints_dir}: none of the {len(failed)} checkpoints "
            f"can be read ({', '.join(failed)}); they were moved aside "
            f"(named {UNREADABLE_PREFIX}CKPT+...). Re-run to start this "
            "experiment afresh, or use another output folder."
        )

    def _set_aside(self, ckpt_dir, err):
        """Warns about an unreadable checkpoint and renames it out of use."""
        ckpt_dir = pathlib.Path(ckpt_dir)
        target = ckpt_dir.with_name(UNREADABLE_PREFIX + ckpt_dir.name)
        logger.warning(
            f"{ckpt_dir}: unreadable checkpoint ({type(err).__name__}: "
            f"{str(err)[:200]}); moved aside to {target.name}"
        )
        if if_main_process() and ckpt_dir.exists():
            try:
                os.rename(ckpt_dir, target)
            except OSError:
                pass  # already renamed by another process
