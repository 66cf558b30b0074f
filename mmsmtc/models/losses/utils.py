"""Input checks and precision control shared by the SMTC losses.

The losses read the model's ``tensor``-mode output dicts. A wrong key or a
wrong shape would otherwise surface as a broadcasting error deep inside an
``einsum``; :func:`get_checked_tensor` fails at the door instead, naming the
tensor, the expected shape and the shape it got (in the manner of
videosaur's ``metrics.py`` shape checks).
"""
import contextlib
from typing import Dict, Iterator, Mapping

import torch
from torch import Tensor


def get_checked_tensor(outputs: Mapping[str, Tensor], outputs_name: str,
                       key: str, dims: str,
                       sizes: Dict[str, int]) -> Tensor:
    """Fetch ``outputs[key]`` and check that its shape matches ``dims``.

    ``dims`` names the dimensions, e.g. ``'B T S N'``. A name already in
    ``sizes`` must match that size; a new name is bound to the tensor's size
    and added to ``sizes``, so that consecutive calls check the tensors
    against each other.

    Args:
        outputs: The model's output dict.
        outputs_name: Its name in error messages, e.g. ``'student_out'``.
        key: The entry to fetch.
        dims: Space-separated dimension names.
        sizes: Sizes bound so far; updated in place.

    Returns:
        Tensor: ``outputs[key]``.

    Raises:
        KeyError: If ``key`` is missing.
        TypeError: If the entry is not a floating-point tensor.
        ValueError: If the shape does not match ``dims`` and ``sizes``.
    """
    name = f"{outputs_name}['{key}']"
    if key not in outputs:
        raise KeyError(f'{name} is missing; {outputs_name} has keys '
                       f'{sorted(outputs)}')
    tensor = outputs[key]
    if not isinstance(tensor, Tensor) or not tensor.is_floating_point():
        raise TypeError(f'{name} must be a floating-point tensor, '
                        f'got {type(tensor).__name__}'
                        + (f' of {tensor.dtype}'
                           if isinstance(tensor, Tensor) else ''))
    names = dims.split()
    expected = '(' + ', '.join(names) + ')'
    if tensor.dim() != len(names):
        raise ValueError(f'{name} must have shape {expected}, got '
                         f'{tuple(tensor.shape)}')
    for dim_name, size in zip(names, tensor.shape):
        bound = sizes.setdefault(dim_name, size)
        if size != bound:
            raise ValueError(
                f'{name} must have shape {expected} with {dim_name}={bound} '
                f'(from the tensors checked before it), got '
                f'{tuple(tensor.shape)}')
    return tensor


@contextlib.contextmanager
def autocast_disabled(device: torch.device) -> Iterator[None]:
    """Run the enclosed code without autocast on ``device``.

    Inside, operations run in the dtype of their inputs, so casting the
    inputs to ``float32`` keeps the whole computation in ``float32`` even
    when the caller runs under fp16/bf16 autocast.
    """
    if torch.amp.is_autocast_available(device.type):
        with torch.autocast(device_type=device.type, enabled=False):
            yield
    else:  # e.g. meta tensors
        yield
