"""Per-frame features in the forms propagation needs, and the frame bank."""
from typing import Dict, NamedTuple

import torch

#: ``F.normalize``'s lower bound on a norm.
NORM_EPS = 1e-12
#: Cells normalised at a time (bounds the float64 temporaries).
PREPARE_CHUNK_CELLS = 4096


class FrameFeatures(NamedTuple):
    """One frame's features, ``n = h * w`` cells row-major.

    ``raw``: ``(h, w, C)`` the given features in the working dtype;
    ``unit``: ``(h, w, C)`` L2-normalised in float64, rounded to the dtype;
    ``scale``: ``(h, w)`` ``1 / (norm * temperature)`` rounded to the dtype
    (a raw source times it scores like a normalised one);
    ``norm``: ``(h, w)`` float64 ``max(norm, 1e-12)`` for exact rescoring
    (unit features are ``raw / norm``, as ``F.normalize``).
    """
    raw: torch.Tensor
    unit: torch.Tensor
    scale: torch.Tensor
    norm: torch.Tensor


def prepare_features(feats: torch.Tensor, dtype: torch.dtype,
                     temperature: float) -> FrameFeatures:
    """Channels-last forms of ``(C, h, w)`` features (norms in float64).

    Cells are converted ``PREPARE_CHUNK_CELLS`` at a time, so the float64
    temporaries stay small whatever the frame size.
    """
    raw = feats.to(dtype).permute(1, 2, 0).contiguous()
    flat = raw.view(-1, raw.shape[-1])
    unit = torch.empty_like(flat)
    norm = torch.empty(len(flat), dtype=torch.float64, device=flat.device)
    for start in range(0, len(flat), PREPARE_CHUNK_CELLS):
        chunk = slice(start, start + PREPARE_CHUNK_CELLS)
        part = flat[chunk].double()
        norm[chunk] = part.norm(dim=1).clamp_min(NORM_EPS)
        unit[chunk] = part / norm[chunk, None]
    norm = norm.view(raw.shape[:2])
    return FrameFeatures(raw, unit.view(raw.shape),
                         (1 / (norm * temperature)).to(dtype), norm)


class FrameBank:
    """Frame 0 and the last ``size`` frames: features and labels.

    All slots are reserved when frame 0 is stored (frame 0 keeps slot 0;
    each later frame overwrites the slot of the frame ``size`` steps older),
    so nothing is allocated afterwards. Slots are addressable as one flat
    table of ``(size + 1) * h * w`` cells for gathers.

    Args:
        size: Frames kept besides frame 0.
        first: Frame 0's features.
        first_labels: ``(h, w, K)`` frame 0's labels.
        device: Where the bank lives.
    """

    def __init__(self, size: int, first: FrameFeatures,
                 first_labels: torch.Tensor, device: torch.device) -> None:
        slots = size + 1
        self.size = size
        self.raw = first.raw.new_empty((slots, *first.raw.shape),
                                       device=device)
        self.scale = first.scale.new_empty((slots, *first.scale.shape),
                                           device=device)
        self.norm = first.norm.new_empty((slots, *first.norm.shape),
                                         device=device)
        self.labels = first_labels.new_empty((slots, *first_labels.shape),
                                             device=device)
        self._slot_of: Dict[int, int] = {}
        self.store(0, first, first_labels)

    def __len__(self) -> int:
        """Frames held besides frame 0."""
        return len(self._slot_of) - 1

    def store(self, frame: int, feats: FrameFeatures,
              labels: torch.Tensor) -> None:
        """Keep a frame's features and ``(h, w, K)`` labels."""
        if len(self._slot_of) <= self.size:
            slot = len(self._slot_of)
        else:
            slot = self._slot_of.pop(frame - self.size)
        self._slot_of[frame] = slot
        self.raw[slot].copy_(feats.raw)
        self.scale[slot].copy_(feats.scale)
        self.norm[slot].copy_(feats.norm)
        self.labels[slot].copy_(labels)

    def slot(self, frame: int) -> int:
        """The slot of a frame in the bank."""
        return self._slot_of[frame]

    def flat(self, table: torch.Tensor) -> torch.Tensor:
        """``table`` (one of the attributes) as ``(slots * h * w, ...)``."""
        return table.flatten(0, 2)
