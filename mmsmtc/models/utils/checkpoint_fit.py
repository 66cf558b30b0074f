"""Loading weights into a module strictly, with errors that name the file.

A checkpoint trained with one backbone and a config built with another must
fail with a message naming the file and the first mismatching tensors, not
load half the weights with a warning (MMEngine's default).
"""
from typing import Mapping

import torch
from mmengine.logging import print_log
from torch import nn

from mmsmtc.utils.checkpoint import CheckpointError

#: Keys listed in an error message, per category.
MAX_LISTED = 5


def _listed(keys) -> str:
    keys = sorted(keys)
    more = f' and {len(keys) - MAX_LISTED} more' if len(
        keys) > MAX_LISTED else ''
    return ', '.join(keys[:MAX_LISTED]) + more


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor],
                source: str, what: str) -> None:
    """Load ``state`` into ``module``; every module tensor must be there.

    Extra checkpoint entries (e.g. ResNet stages the config does not build)
    are logged and ignored.

    Args:
        module: The network to fill.
        state: Its weights, keys relative to ``module``.
        source: The file name, for messages.
        what: What ``module`` is, e.g. ``'backbone (VisionTransformer)'``.

    Raises:
        CheckpointError: Naming the file, the module and the missing or
            differently shaped tensors.
    """
    expected = module.state_dict()
    mismatched = [
        f'{key} {tuple(state[key].shape)} in the checkpoint vs '
        f'{tuple(value.shape)} in the model'
        for key, value in expected.items()
        if key in state and state[key].shape != value.shape
    ]
    missing = [key for key in expected if key not in state]
    hint = ('was it trained with another backbone or architecture? Use the '
            'config it was trained with')
    if mismatched:
        raise CheckpointError(
            f'{source}: does not fit the {what} of this config: '
            f'{len(mismatched)} shape mismatch(es): '
            f'{"; ".join(mismatched[:MAX_LISTED])}; {hint}')
    if missing:
        raise CheckpointError(
            f'{source}: does not fit the {what} of this config: '
            f'{len(missing)} of its {len(expected)} tensors are missing '
            f'({_listed(missing)}); the checkpoint has '
            f'{_listed(state) or "no matching entries"}; {hint}')
    unexpected = [key for key in state if key not in expected]
    if unexpected:
        print_log(
            f'{source}: {len(unexpected)} entries not used by the {what}: '
            f'{_listed(unexpected)}',
            logger='current')
    module.load_state_dict({key: state[key] for key in expected})
