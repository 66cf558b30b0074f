"""Backbone-agnostic label propagation over a stream of frames."""
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmsmtc.ops.propagation import StreamingLabelPropagation
from mmsmtc.ops.propagation.validation import check_propagation_settings
from mmsmtc.registry import MODELS

#: Cells the feature map may differ from the label grid by, per side: the
#: rounding of the grid (``floor`` or ``ceil`` of ``size / stride``).
GRID_ROUNDING_CELLS = 1


def check_feature_grid(feature_grid: Sequence[int],
                       label_grid: Sequence[int]) -> None:
    """Refuse a feature map that is not on the label grid up to rounding.

    Raises:
        ValueError: If a side differs by more than
            :data:`GRID_ROUNDING_CELLS`, naming both grids.
    """
    if any(abs(int(a) - int(b)) > GRID_ROUNDING_CELLS
           for a, b in zip(feature_grid, label_grid)):
        raise ValueError(
            f'the backbone gives a {feature_grid[0]}x{feature_grid[1]} '
            f'feature map but the label grid is {label_grid[0]}x'
            f'{label_grid[1]}: the segmentor\'s stride does not match the '
            'backbone (set stride to its output stride, or feature_upsample)')


@MODELS.register_module()
class LabelPropagator(BaseModule):
    """Propagate frame-0 labels with the features of any backbone.

    Call graph::

        frames (stream of (3, H, W)) --batches--> backbone(x)[out_index]
            --[bilinear x feature_upsample]--[bilinear to the label grid]-->
            (C, h, w) per frame --> StreamingLabelPropagation.step
            --> (K, h, w) soft labels per frame

    Only one batch of frames and the features of frame 0 plus the last
    ``n_context`` frames are held at a time.

    Args:
        backbone: Config dict or module; ``backbone(x)`` returns a sequence
            of ``(B, C, h', w')`` maps (or one tensor).
        topk, radius, temperature, n_context: The protocol settings
            (SMTC ViT-S/16: 7, 7, 0.2, 20).
        window, restrict_first_frame, context: The source options of
            :func:`mmsmtc.apis.propagate_labels` (CRW: ``'disc'``, False,
            ``'pad'``; Spa-then-Temp / VFS: ``'square'``, True,
            ``'recent'``).
        out_index: Which backbone map to use.
        feature_upsample: Bilinear upsampling factor of the features (2 for
            the "interpolated to stride 8" variant), or None.
        feature_batch_size: Frames per backbone call.
        tile_size: Target tile side of the propagation (memory only).
        bank_device: Where past frames' features live (``'cpu'`` when they
            do not fit on the accelerator); None keeps them with the model.
        init_cfg: MMEngine initialisation config.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 *,
                 topk: int,
                 radius: float,
                 temperature: float,
                 n_context: int,
                 window: str = 'disc',
                 restrict_first_frame: bool = False,
                 context: str = 'pad',
                 out_index: int = -1,
                 feature_upsample: Optional[float] = None,
                 feature_batch_size: int = 1,
                 tile_size: int = 8,
                 bank_device: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(backbone, dict):
            backbone = MODELS.build(backbone)
        self.backbone = backbone
        if feature_batch_size < 1:
            raise ValueError('feature_batch_size must be >= 1, got '
                             f'{feature_batch_size!r}')
        if feature_upsample is not None and not feature_upsample > 0:
            raise ValueError('feature_upsample must be > 0 or None, got '
                             f'{feature_upsample!r}')
        check_propagation_settings(
            topk=topk, radius=radius, temperature=temperature,
            n_context=n_context, window=window,
            restrict_first_frame=restrict_first_frame, context=context)
        self.propagation_cfg = dict(
            topk=topk,
            radius=radius,
            temperature=temperature,
            n_context=n_context,
            window=window,
            restrict_first_frame=restrict_first_frame,
            context=context,
            tile_size=tile_size,
            bank_device=bank_device)
        self.out_index = out_index
        self.feature_upsample = feature_upsample
        self.feature_batch_size = feature_batch_size

    @torch.no_grad()
    def extract_features(self, frames: torch.Tensor,
                         grid_size: Tuple[int, int]) -> torch.Tensor:
        """Features of normalised frames on the label grid.

        Args:
            frames: ``(B, 3, H, W)`` normalised frames.
            grid_size: The label grid ``(h, w)``.

        Returns:
            torch.Tensor: ``(B, C, h, w)`` features (not L2-normalised); a
            map one cell off the grid (the grid's rounding, e.g. ``ceil``
            for JHMDB) is resampled bilinearly.

        Raises:
            ValueError: If the feature map is further off the label grid (a
                stride that does not match the backbone).
        """
        outputs = self.backbone(frames.to(self._device(frames)))
        if isinstance(outputs, torch.Tensor):
            feats = outputs
        else:
            feats = outputs[self.out_index]
        if self.feature_upsample is not None:
            feats = F.interpolate(
                feats,
                scale_factor=self.feature_upsample,
                mode='bilinear',
                align_corners=False)
        if tuple(feats.shape[-2:]) != tuple(grid_size):
            check_feature_grid(feats.shape[-2:], grid_size)
            feats = F.interpolate(
                feats, size=tuple(grid_size), mode='bilinear',
                align_corners=False)
        return feats

    @torch.no_grad()
    def propagate_video(self, frames: Iterable[torch.Tensor],
                        first_labels: torch.Tensor) -> Iterator[torch.Tensor]:
        """Stream soft labels frame by frame.

        Args:
            frames: Iterable of ``(3, H, W)`` normalised frames, frame 0
                first (a generator reading from disk keeps memory flat).
            first_labels: ``(K, h, w)`` frame-0 labels on the label grid.

        Yields:
            torch.Tensor: ``(K, h, w)`` soft labels of each frame, frame 0's
            being ``first_labels``.

        Raises:
            ValueError: If ``frames`` is empty or labels are invalid.
        """
        grid_size = tuple(first_labels.shape[-2:])
        engine = None
        for batch in self._batches(frames):
            feats = self.extract_features(torch.stack(batch), grid_size)
            for frame_feats in feats:
                if engine is None:
                    engine = StreamingLabelPropagation(
                        frame_feats, first_labels.to(frame_feats.device),
                        **self.propagation_cfg)
                    yield first_labels
                else:
                    yield engine.step(frame_feats)
        if engine is None:
            raise ValueError('frames is empty: nothing to propagate')

    def _batches(
            self,
            frames: Iterable[torch.Tensor]) -> Iterator[List[torch.Tensor]]:
        """Group the frame stream into lists of ``feature_batch_size``."""
        batch = []
        for frame in frames:
            batch.append(frame)
            if len(batch) == self.feature_batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _device(self, frames: torch.Tensor) -> torch.device:
        parameter = next(self.backbone.parameters(), None)
        return frames.device if parameter is None else parameter.device
