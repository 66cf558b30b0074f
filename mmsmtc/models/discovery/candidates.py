"""Per-frame candidate extraction: upsample, arg-max, count pixels."""
from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F

#: Channels resized at once by :func:`upsampled_argmax`.
CHANNEL_CHUNK = 16
#: Interpolation modes of the upsampling: bilinear (half-pixel centres) or
#: PyTorch's nearest (``F.interpolate``'s default, the BbA evaluation's).
UPSAMPLE_MODES = ('bilinear', 'nearest')


class VideoCandidates(NamedTuple):
    """Hard assignment of every pixel of a video to one of ``K`` masks.

    Attributes:
        labels: ``(T, H, W)`` int32 mask of every pixel.
        areas: ``(T, K)`` int64 pixels of each mask.
        group_border_pixels: ``(G,)`` int64 frame-border pixels of each
            group of masks, summed over frames.
        group_areas: ``(G,)`` int64 pixels of each group, summed over frames.
    """
    labels: torch.Tensor
    areas: torch.Tensor
    group_border_pixels: torch.Tensor
    group_areas: torch.Tensor


def upsampled_argmax(maps: torch.Tensor,
                     frame_size: Tuple[int, int],
                     channel_chunk: int = CHANNEL_CHUNK,
                     mode: str = 'bilinear') -> torch.Tensor:
    """Arg-max over ``C`` of ``(C, h, w)`` maps resized to ``frame_size``.

    Bilinear resize with half-pixel centres (``align_corners=False``), or
    nearest with ``mode='nearest'``.
    Channels are resized ``channel_chunk`` at a time, keeping the running
    best (memory: ``channel_chunk * H * W`` floats, not ``C * H * W``), each
    chunk channels-last so that its arg-max reduces contiguous memory
    (about twice as fast on a CPU). Ties go to the lowest channel.

    Returns:
        Tensor: ``(H, W)`` int64 channel indices.
    """
    best_value = best_index = None
    for start in range(0, maps.shape[0], channel_chunk):
        chunk = maps[None, start:start + channel_chunk].contiguous(
            memory_format=torch.channels_last)
        if tuple(chunk.shape[-2:]) != tuple(frame_size):
            chunk = F.interpolate(
                chunk, size=frame_size, mode=mode,
                align_corners=False if mode == 'bilinear' else None)
        value, index = chunk[0].max(0)
        if best_value is None:
            best_value, best_index = value, index
            continue
        better = value > best_value
        best_value = torch.where(better, value, best_value)
        best_index = torch.where(better, index + start, best_index)
    return best_index


def border_pixels(ids: torch.Tensor) -> torch.Tensor:
    """The ids on the outer one-pixel ring of ``(H, W)``, each pixel once.

    Returns:
        Tensor: ``(B,)`` ids with ``B = 2 * (H + W) - 4`` (all pixels if
        ``H`` or ``W`` is at most 2).
    """
    height, width = ids.shape
    if height <= 2 or width <= 2:
        return ids.flatten()
    return torch.cat(
        [ids[0], ids[-1], ids[1:-1, 0], ids[1:-1, -1]])


def extract_candidates(masks: torch.Tensor,
                       frame_size: Tuple[int, int],
                       groups: torch.Tensor,
                       group_maps: Optional[torch.Tensor] = None,
                       mode: str = 'bilinear') -> VideoCandidates:
    """Assign every pixel of every frame to its most probable mask.

    Frame by frame (bounded memory): the ``K`` masks are upsampled
    bilinearly to ``frame_size`` and each pixel takes the arg-max mask (the
    lowest index on ties). The group of a pixel, counted on the frame border
    and overall for the background rule, is the arg-max of the group maps
    upsampled the same way when they are given (SMTC: its semantic slots),
    else the group of the pixel's mask.

    Args:
        masks: ``(T, K, h, w)`` soft masks.
        frame_size: ``(H, W)``.
        groups: ``(K,)`` int64 group of each mask, ``0..G-1``.
        group_maps: Optional ``(T, G, h, w)`` group logits or probabilities
            (the arg-max is the same for both up to interpolation rounding).
        mode: ``'bilinear'`` or ``'nearest'`` upsampling (one-hot cluster
            masks: nearest is the label map's nearest upsampling).

    Returns:
        VideoCandidates: labels and pixel counts.
    """
    frames, num_masks = masks.shape[:2]
    num_groups = int(groups.max()) + 1
    device = masks.device
    groups = groups.to(device)
    labels = torch.empty((frames, ) + tuple(frame_size), dtype=torch.int32,
                         device=device)
    areas = torch.empty((frames, num_masks), dtype=torch.int64,
                        device=device)
    group_border = torch.zeros(num_groups, dtype=torch.int64, device=device)
    group_areas = torch.zeros(num_groups, dtype=torch.int64, device=device)
    for frame in range(frames):
        frame_labels = upsampled_argmax(masks[frame], frame_size, mode=mode)
        labels[frame] = frame_labels
        areas[frame] = torch.bincount(
            frame_labels.flatten(), minlength=num_masks)
        if group_maps is None:
            group_ids = groups[frame_labels]
        else:
            group_ids = upsampled_argmax(group_maps[frame], frame_size,
                                         mode=mode)
        group_areas += torch.bincount(group_ids.flatten(),
                                      minlength=num_groups)
        group_border += torch.bincount(
            border_pixels(group_ids), minlength=num_groups)
    return VideoCandidates(labels, areas, group_border, group_areas)
