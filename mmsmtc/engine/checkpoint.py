"""Make MMEngine save and load checkpoints weights-only (torch >= 2.6).

MMEngine 0.10 loads local checkpoints with a bare ``torch.load``. Since
torch 2.6 that call defaults to ``weights_only=True`` and fails on the
objects MMEngine stores next to the weights (numpy arrays and scalars in the
message hub, ``HistoryBuffer``), so ``--resume`` breaks. Turning
``weights_only`` off would let any downloaded ``.pth`` run arbitrary code.

:func:`install_safe_checkpointing` keeps weights-only loading with mmsmtc's
allow-list (:func:`mmsmtc.utils.checkpoint.read_checkpoint`). It changes two
things of MMEngine, so it runs only when asked to -- mmsmtc's runner
(:class:`mmsmtc.engine.VideoRunner`) does it when it is built -- and never
on import:

* ``HistoryBuffer.__getstate__`` pickles its statistics methods, which
  serialise as ``builtins.getattr(HistoryBuffer, 'min')``; allow-listing
  ``getattr`` would reopen the hole. The methods are class-level and are
  re-registered on import, so new checkpoints store only the buffer's data.
* MMEngine's loader for local files (scheme ``''``) becomes
  :func:`load_local_checkpoint`.
"""
from typing import Any, Optional, Union

import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmsmtc.utils.checkpoint import read_checkpoint


def load_local_checkpoint(filename: str,
                          map_location: Union[str, torch.device,
                                              None] = None,
                          allow_unsafe: Optional[bool] = None) -> Any:
    """MMEngine's loader of local files, weights-only with the allow-list.

    Args:
        filename: Path of the checkpoint file.
        map_location: As :func:`torch.load`.
        allow_unsafe: Unpickle arbitrary objects; ``None`` reads
            ``MMSMTC_ALLOW_UNSAFE_CHECKPOINTS``.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        CheckpointError: If it stores an object outside the allow-list (named
            with the opt-ins) or cannot be read.
    """
    return read_checkpoint(filename, allow_pickle=allow_unsafe,
                           map_location=map_location)


def _history_buffer_state(buffer: HistoryBuffer) -> dict:
    """Pickle state of a ``HistoryBuffer`` without its class-level methods."""
    return {key: value for key, value in buffer.__dict__.items()
            if key != 'statistics_methods'}


def install_safe_checkpointing() -> None:
    """Make MMEngine save and load checkpoints weights-only (idempotent)."""
    HistoryBuffer.__getstate__ = _history_buffer_state
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
