"""Weights-only checkpoint loading for MMEngine on torch >= 2.6.

MMEngine 0.10.7 loads local checkpoints with a bare ``torch.load``. Since
torch 2.6 that call defaults to ``weights_only=True`` and fails on the
objects MMEngine stores next to the weights (numpy arrays and scalars in the
message hub, ``HistoryBuffer``), so ``--resume`` breaks. Turning
``weights_only`` off would let any downloaded ``.pth`` run arbitrary code.

mmsmtc keeps weights-only loading and allow-lists exactly the types that
MMEngine checkpoints contain (:data:`CHECKPOINT_SAFE_GLOBALS`). Two
adjustments make that list sufficient:

* ``HistoryBuffer.__getstate__`` pickles its statistics methods, which
  serialise as ``builtins.getattr(HistoryBuffer, 'min')``; allow-listing
  ``getattr`` would reopen the hole. The methods are class-level and are
  re-registered on import, so :func:`install_safe_checkpointing` makes new
  checkpoints store only the buffer's data.
* MMEngine's loader for local files (scheme ``''``) is replaced by
  :func:`load_local_checkpoint`.

Loading an arbitrary pickle (for example an MMEngine checkpoint written by
another codebase that still carries ``getattr``) needs an explicit opt-in:
the environment variable ``MMSMTC_ALLOW_UNSAFE_CHECKPOINTS=1`` (set by
``tools/train.py --allow-unsafe-checkpoints``). The refusal names the file
and the offending global.
"""
import argparse
import os
import os.path as osp
import pickle
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

UNSAFE_ENV_VAR = 'MMSMTC_ALLOW_UNSAFE_CHECKPOINTS'


def _numpy_pickle_globals() -> List[Callable]:
    """The numpy callables that pickled arrays, scalars and dtypes name."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    dtype_classes = [
        value for value in vars(np.dtypes).values()
        if isinstance(value, type) and issubclass(value, np.dtype)
    ]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray,
            np.dtype] + dtype_classes


#: Every global an mmsmtc/MMEngine checkpoint may name besides torch's own
#: (``argparse.Namespace``: DINO training checkpoints store their ``args``).
CHECKPOINT_SAFE_GLOBALS: List[Callable] = _numpy_pickle_globals() + [
    HistoryBuffer, argparse.Namespace
]


def unsafe_loading_allowed() -> bool:
    """Whether the user opted in to unpickling arbitrary objects."""
    return os.environ.get(UNSAFE_ENV_VAR, '0').lower() in ('1', 'true', 'yes')


def load_local_checkpoint(filename: str,
                          map_location: Union[str, torch.device,
                                              None] = None,
                          allow_unsafe: Optional[bool] = None) -> Any:
    """Load a local checkpoint with ``weights_only=True`` and the allow-list.

    Args:
        filename: Path of the checkpoint file.
        map_location: As :func:`torch.load`.
        allow_unsafe: Unpickle arbitrary objects (``weights_only=False``).
            ``None`` reads :data:`UNSAFE_ENV_VAR`.

    Returns:
        The loaded object (usually a dict with ``state_dict`` and ``meta``).

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        pickle.UnpicklingError: If the file needs a global outside the
            allow-list and unsafe loading was not opted in to; the message
            names the file, the global and the opt-in.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename}: checkpoint file does not exist')
    if allow_unsafe is None:
        allow_unsafe = unsafe_loading_allowed()
    if allow_unsafe:
        print_log(f'Loading {filename} with weights_only=False (opted in '
                  f'via {UNSAFE_ENV_VAR}): only do this for trusted files.',
                  logger='current')
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        with torch.serialization.safe_globals(CHECKPOINT_SAFE_GLOBALS):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        allowed = {f'{g.__module__}.{g.__qualname__}'
                   for g in CHECKPOINT_SAFE_GLOBALS}
        offending = sorted(set(unsafe) - allowed) or unsafe
        raise pickle.UnpicklingError(
            f'{filename}: refusing to unpickle {", ".join(offending)} '
            '(weights-only loading). If you trust this file, set '
            f'{UNSAFE_ENV_VAR}=1 (tools/train.py --allow-unsafe-checkpoints) '
            'or convert it to a plain state dict.') from error


def _history_buffer_state(buffer: HistoryBuffer) -> dict:
    """Pickle state of a ``HistoryBuffer`` without its class-level methods."""
    return {key: value for key, value in buffer.__dict__.items()
            if key != 'statistics_methods'}


def install_safe_checkpointing() -> None:
    """Make MMEngine save and load checkpoints weights-only (idempotent)."""
    HistoryBuffer.__getstate__ = _history_buffer_state
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
