"""Reading checkpoint files weights-only (a leaf module, no side effects).

Every checkpoint mmsmtc reads -- MMEngine training checkpoints (``--resume``,
``load_from``), trained models under test, DINO/official weights behind a
backbone's ``init_cfg`` -- goes through :func:`read_checkpoint`:
``torch.load(..., weights_only=True)`` with the allow-list
:data:`CHECKPOINT_SAFE_GLOBALS` of exactly the Python objects an MMEngine
checkpoint stores besides tensors (numpy arrays and scalars of the message
hub and random states, ``HistoryBuffer``) and ``argparse.Namespace`` (the
``args`` entry of a DINO training checkpoint). Any other pickled object is
refused with an error naming the file and the object: a downloaded ``.pth``
cannot run code. Unpickling arbitrary objects needs an explicit opt-in, for
files the user trusts: ``allow_pickle=True`` (the converters'
``--allow-pickle``) or the environment variable
``MMSMTC_ALLOW_UNSAFE_CHECKPOINTS=1`` (the tools'
``--allow-unsafe-checkpoints``).

Making MMEngine itself load and save that way is a separate, explicit step
(:func:`mmsmtc.engine.install_safe_checkpointing`, done by mmsmtc's runner),
never an effect of importing this module.
"""
import argparse
import os
import pickle
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

PathLike = Union[str, Path]
#: Environment variable that opts in to unpickling arbitrary objects.
UNSAFE_ENV_VAR = 'MMSMTC_ALLOW_UNSAFE_CHECKPOINTS'
#: Entries under which common checkpoint formats nest the state dict
#: (MMEngine, the official SMTC code, torchvision-style files).
NESTED_STATE_DICT_KEYS = ('state_dict', 'model_state_dict', 'model')
#: Marks torch's ``weights_only`` refusal of a pickled Python object.
_UNSAFE_GLOBAL_MARK = 'GLOBAL'
_OPT_IN_HINT = (f'if you trust the file, set {UNSAFE_ENV_VAR}=1 (the tools: '
                '--allow-unsafe-checkpoints) or convert it once to a plain '
                'state dict (tools/model_converters/*.py --allow-pickle)')


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit where it is loaded."""


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


#: Every global an mmsmtc/MMEngine checkpoint may name besides torch's own.
CHECKPOINT_SAFE_GLOBALS: List[Callable] = _numpy_pickle_globals() + [
    HistoryBuffer, argparse.Namespace
]


def unsafe_loading_allowed() -> bool:
    """Whether :data:`UNSAFE_ENV_VAR` opts in to unpickling any object."""
    return os.environ.get(UNSAFE_ENV_VAR, '0').lower() in ('1', 'true', 'yes')


def _refused_globals(path: Path) -> str:
    """The globals of ``path`` outside the allow-list, comma-separated."""
    allowed = {f'{item.__module__}.{item.__qualname__}'
               for item in CHECKPOINT_SAFE_GLOBALS}
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # the file was readable a moment ago; keep the error
        return 'an object outside the allow-list'
    return ', '.join(sorted(set(found) - allowed) or found)


def _torch_detail(error: Exception) -> str:
    """torch's own explanation, without its generic advice."""
    text = ' '.join(str(error).split())
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text.split(marker, 1)[1]
    for advice in (' Please use', ' Check the documentation'):
        text = text.split(advice)[0]
    return text.strip()


def read_checkpoint(path: PathLike,
                    allow_pickle: Optional[bool] = None,
                    map_location: Union[str, torch.device, None] = 'cpu'
                    ) -> Mapping:
    """Load a checkpoint file weights-only.

    Args:
        path: The ``.pth`` file.
        allow_pickle: Unpickle arbitrary Python objects
            (``weights_only=False``, logged). ``None`` reads
            :data:`UNSAFE_ENV_VAR`.
        map_location: As :func:`torch.load`. Defaults to the CPU.

    Returns:
        The top-level mapping stored in the file.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        CheckpointError: Naming the file: it stores a refused Python object
            (named, with the opt-ins), is not a readable PyTorch file, or
            holds something other than a mapping.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    if allow_pickle is None:
        allow_pickle = unsafe_loading_allowed()
    if allow_pickle:
        print_log(f'Loading {path} with weights_only=False (opted in): only '
                  'do this for trusted files.', logger='current')
    try:
        with torch.serialization.safe_globals(CHECKPOINT_SAFE_GLOBALS):
            checkpoint = torch.load(path, map_location=map_location,
                                    weights_only=not allow_pickle)
    except pickle.UnpicklingError as error:
        if _UNSAFE_GLOBAL_MARK not in str(error):
            raise CheckpointError(
                f'{path} is not a readable PyTorch checkpoint: '
                f'{_torch_detail(error)}') from error
        raise CheckpointError(
            f'checkpoint {path} stores Python objects other than tensors '
            f'({_refused_globals(path)}), so it is not loaded for safety; '
            f'{_OPT_IN_HINT}') from error
    except Exception as error:  # corrupt files fail in many ways
        raise CheckpointError(
            f'{path} is not a readable PyTorch checkpoint: '
            f'{type(error).__name__}: {error}') from error
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(
            f'checkpoint {path} holds a {type(checkpoint).__name__}, '
            'expected a dict of tensors')
    return checkpoint


def read_entry_state_dict(path: PathLike,
                          entry: str,
                          allow_pickle: Optional[bool] = None
                          ) -> Mapping:
    """The state dict an official checkpoint file stores under ``entry``.

    For the official-checkpoint converters: the mapping under ``entry``
    (e.g. ``'model_state_dict'``, Lightning's ``'state_dict'``), or the
    file itself when it has no such entry (a bare state dict), read onto
    the CPU by :func:`read_checkpoint`.

    Raises:
        CheckpointError: Naming the file: it does not exist or cannot be
            read (:func:`read_checkpoint`), or ``entry`` is not a dict.
    """
    try:
        checkpoint = read_checkpoint(path, allow_pickle=allow_pickle)
    except FileNotFoundError as error:
        raise CheckpointError(str(error)) from error
    state = checkpoint.get(entry, checkpoint)
    if not isinstance(state, Mapping):
        raise CheckpointError(f'{path}: expected a dict under "{entry}", '
                              f'got a {type(state).__name__}')
    return state


def nested_state_dict(checkpoint: Mapping) -> Mapping:
    """The state dict inside a checkpoint: the first mapping under one of
    :data:`NESTED_STATE_DICT_KEYS`, else the checkpoint itself."""
    for key in NESTED_STATE_DICT_KEYS:
        if isinstance(checkpoint.get(key), Mapping):
            return checkpoint[key]
    return checkpoint


def model_state_dict(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """The tensors of a loaded checkpoint's state dict
    (:func:`nested_state_dict`), ``module.`` prefixes (DDP) removed."""
    return {
        key.removeprefix('module.'): value
        for key, value in nested_state_dict(checkpoint).items()
        if isinstance(value, torch.Tensor)
    }


def read_state_dict(path: PathLike) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint file, on the CPU.

    Args:
        path: An MMEngine checkpoint (``state_dict``), a file with
            ``model_state_dict``/``model``, or a bare state dict.

    Returns:
        dict[str, Tensor]: key -> tensor, ``module.`` prefixes (DDP) removed.

    Raises:
        CheckpointError: If the file cannot be read or holds no tensors.
    """
    checkpoint = read_checkpoint(path)
    tensors = model_state_dict(checkpoint)
    if not tensors:
        raise CheckpointError(f'{path}: holds no tensors (top-level keys: '
                              f'{sorted(checkpoint)[:10]})')
    return tensors


def select_prefix(state: Mapping[str, torch.Tensor],
                  prefix: str) -> Dict[str, torch.Tensor]:
    """The entries under ``prefix`` (e.g. ``'backbone.'``), prefix removed;
    every entry for ``prefix=''``."""
    return {
        key[len(prefix):]: value
        for key, value in state.items() if key.startswith(prefix)
    }
