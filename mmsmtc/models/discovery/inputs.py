"""Validation of the per-frame candidates that object discovery consumes."""
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray]
#: Most candidates (``S * P = N``) per frame: linking counts the ``N * N``
#: candidate pairs with int32 codes.
MAX_CANDIDATES = 46340


class DiscoveryInputs(NamedTuple):
    """Checked candidates of one video (all on the same device).

    Attributes:
        semantic: ``(T, S, h, w)`` float semantic slot maps.
        instance_masks: ``(T, S, P, h, w)`` float instance probabilities.
        instance_scores: ``(T, S, P)`` float instance scores.
        instance_embeddings: ``(T, S, P, D)`` float embeddings, or None.
        frame_size: ``(H, W)`` of the output id maps.
    """
    semantic: torch.Tensor
    instance_masks: torch.Tensor
    instance_scores: torch.Tensor
    instance_embeddings: Optional[torch.Tensor]
    frame_size: Tuple[int, int]


def _as_float_tensor(value: ArrayLike, name: str, ndim: int,
                     layout: str) -> torch.Tensor:
    """Convert to a floating tensor of ``ndim`` dims without NaN/inf."""
    if not isinstance(value, (torch.Tensor, np.ndarray)):
        raise TypeError(f'{name} must be a tensor or array {layout}, got '
                        f'{type(value).__name__}')
    tensor = torch.as_tensor(value)
    if tensor.dim() != ndim:
        raise ValueError(f'{name} must be {layout}, got shape '
                         f'{tuple(tensor.shape)}')
    if not tensor.is_floating_point():
        tensor = tensor.float()
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f'{name} contains NaN or infinite values')
    return tensor


def _check_frame_size(frame_size: Sequence[int]) -> Tuple[int, int]:
    """``(H, W)`` as two positive ints."""
    try:
        height, width = (int(size) for size in frame_size)
        exact = (height, width) == tuple(frame_size)
    except (TypeError, ValueError):
        exact = False
    if not exact or min(height, width) < 1:
        raise ValueError('frame_size must be two positive integers (H, W), '
                         f'got {frame_size!r}')
    return height, width


def check_discovery_inputs(
        semantic: ArrayLike,
        instance_masks: ArrayLike,
        instance_scores: ArrayLike,
        frame_size: Sequence[int],
        instance_embeddings: Optional[ArrayLike] = None
) -> DiscoveryInputs:
    """Check shapes, agreement and values of one video's candidates.

    Args:
        semantic: ``(T, S, h, w)`` semantic slot logits or probabilities.
        instance_masks: ``(T, S, P, h, w)`` instance probabilities.
        instance_scores: ``(T, S, P)`` instance scores.
        frame_size: ``(H, W)`` of the original frames.
        instance_embeddings: Optional ``(T, S, P, D)`` embeddings.

    Returns:
        DiscoveryInputs: float tensors on ``instance_masks``' device.

    Raises:
        TypeError: If an input is neither a tensor nor an array.
        ValueError: Naming the argument, on a wrong number of dims, sizes
            that disagree between the arguments, no frames, no slots, NaN
            or infinite values, or a bad ``frame_size``.
    """
    masks = _as_float_tensor(instance_masks, 'instance_masks', 5,
                             '(T, S, P, h, w)')
    frames, slots, instances, height, width = masks.shape
    if frames == 0:
        raise ValueError('instance_masks has no frames (T == 0)')
    if slots * instances == 0 or height * width == 0:
        raise ValueError('instance_masks must have S, P, h, w >= 1, got '
                         f'shape {tuple(masks.shape)}')
    if slots * instances > MAX_CANDIDATES:
        raise ValueError(f'instance_masks has S * P = {slots * instances} '
                         f'candidates per frame, more than {MAX_CANDIDATES}')
    semantic = _as_float_tensor(semantic, 'semantic', 4,
                                '(T, S, h, w)').to(masks.device)
    if semantic.shape != (frames, slots, height, width):
        raise ValueError(
            f'semantic has shape {tuple(semantic.shape)} but instance_masks '
            f'{tuple(masks.shape)} needs (T, S, h, w) = '
            f'{(frames, slots, height, width)}')
    scores = _as_float_tensor(instance_scores, 'instance_scores', 3,
                              '(T, S, P)').to(masks.device)
    if scores.shape != (frames, slots, instances):
        raise ValueError(
            f'instance_scores has shape {tuple(scores.shape)} but '
            f'instance_masks {tuple(masks.shape)} needs (T, S, P) = '
            f'{(frames, slots, instances)}')
    embeddings = None
    if instance_embeddings is not None:
        embeddings = _as_float_tensor(instance_embeddings,
                                      'instance_embeddings', 4,
                                      '(T, S, P, D)').to(masks.device)
        if embeddings.shape[:3] != (frames, slots, instances):
            raise ValueError(
                'instance_embeddings has shape '
                f'{tuple(embeddings.shape)} but instance_masks '
                f'{tuple(masks.shape)} needs (T, S, P, D) with (T, S, P) = '
                f'{(frames, slots, instances)}')
    return DiscoveryInputs(semantic, masks, scores, embeddings,
                           _check_frame_size(frame_size))
