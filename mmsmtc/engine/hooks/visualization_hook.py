"""Predictions of a few validation/test videos logged as images."""
from pathlib import Path
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook

from mmsmtc.registry import HOOKS
from mmsmtc.visualization import blend_ids

#: Sample fields of predicted ids at frame size, drawn first.
ID_FIELDS = ('pred_masks', )


def slot_id_map(slot_maps: torch.Tensor,
                frame_shape: Sequence[int]) -> np.ndarray:
    """Colour ids of the strongest slot at each pixel.

    Args:
        slot_maps: ``(S, h, w)`` slot logits or soft masks of one frame.
        frame_shape: ``(H, W)`` to upsample to (nearest neighbour).

    Returns:
        np.ndarray: ``(H, W)`` uint8, slot ``s`` as id ``s % 255 + 1`` (so
        every slot, the first included, gets a palette colour).
    """
    slots = torch.as_tensor(slot_maps).argmax(0).cpu().numpy()
    ids = (slots % 255 + 1).astype(np.uint8)
    return cv2.resize(ids, (int(frame_shape[1]), int(frame_shape[0])),
                      interpolation=cv2.INTER_NEAREST)


def frame_panel(frame: np.ndarray,
                sample,
                index: int,
                alpha: float,
                mask_fields: Optional[Sequence[str]] = None) -> np.ndarray:
    """The frame, then each prediction of frame ``index`` over it.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB.
        sample: A predicted ``VideoDataSample``: fields of
            :data:`ID_FIELDS` ``(T, H, W)`` and per-slot maps
            ``(T, K, h, w)`` (drawn as the arg-max slot); absent ones are
            skipped.
        index: The frame's position ``t`` in the video.
        alpha: Opacity of the colours.
        mask_fields: The per-slot map fields to draw; None draws those the
            model declared in the sample's ``mask_fields`` meta information.

    Returns:
        np.ndarray: ``(H, (1 + n) * W, 3)`` uint8 RGB, ``n`` drawn fields.
    """
    views = [frame]
    for field in ID_FIELDS:
        if field in sample:
            views.append(blend_ids(frame, np.asarray(sample.get(field)[index]),
                                   alpha))
    if mask_fields is None:
        mask_fields = sample.metainfo.get('mask_fields', ())
    for field in mask_fields:
        if field in sample:
            ids = slot_id_map(sample.get(field)[index], frame.shape[:2])
            views.append(blend_ids(frame, ids, alpha))
    return np.concatenate(views, axis=1)


def spread_frames(num_frames: int, max_frames: int) -> List[int]:
    """At most ``max_frames`` positions spread evenly over the video."""
    count = min(num_frames, max_frames)
    return sorted({round(p) for p in np.linspace(0, num_frames - 1, count)})


@HOOKS.register_module()
class VideoVisualizationHook(Hook):
    """Log prediction panels of the first videos of each val/test run.

    For each of the first ``max_videos`` videos of an epoch (of every
    ``interval``-th batch), ``max_frames`` frames spread over the video
    become panels -- the frame, the predicted ids (``pred_masks``: the
    propagated masks or discovered instances) and the per-slot maps the
    model declares (``mask_fields`` of the sample's meta information, e.g.
    SMTC's semantic-slot and instance-slot maps) -- in DAVIS-palette
    colours (:func:`mmsmtc.visualization.blend_ids`, as ``VideoOverlayHook``
    draws). Each panel goes to the runner's ``Visualizer`` with
    ``add_image('<val|test>_<video>_<frame>', panel, step=runner.iter)``:
    its ``vis_backends`` decide where (``LocalVisBackend``: PNGs under the
    run's ``vis_data``; add ``TensorboardVisBackend`` for TensorBoard).
    Frames are decoded again, one at a time, from the batch's lazy videos.

    Args:
        interval (int): Visualise every ``interval``-th batch.
        max_videos (int): Videos visualised per val/test epoch.
        max_frames (int): Frames per video.
        alpha (float): Opacity of the colours.
        out_dir (str, optional): Also write the panels to
            ``out_dir/<video>/<frame>.png``.
        mask_fields (Sequence[str], optional): The per-slot map fields to
            draw instead of those the model declares.
    """
    priority = 'LOW'

    def __init__(self,
                 interval: int = 1,
                 max_videos: int = 2,
                 max_frames: int = 4,
                 alpha: float = 0.5,
                 out_dir: Optional[str] = None,
                 mask_fields: Optional[Sequence[str]] = None) -> None:
        for name, value in (('interval', interval), ('max_frames',
                                                     max_frames)):
            if value < 1:
                raise ValueError(f'{name} must be >= 1, got {value}')
        if max_videos < 0:
            raise ValueError(f'max_videos must be >= 0, got {max_videos}')
        self.interval = interval
        self.max_videos = max_videos
        self.max_frames = max_frames
        self.alpha = alpha
        self.out_dir = out_dir
        self.mask_fields = None if mask_fields is None else tuple(
            mask_fields)
        self.videos_drawn = 0

    def before_val_epoch(self, runner) -> None:
        self.videos_drawn = 0

    def before_test_epoch(self, runner) -> None:
        self.videos_drawn = 0

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        self._draw_batch(runner, batch_idx, data_batch, outputs, 'val')

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        self._draw_batch(runner, batch_idx, data_batch, outputs, 'test')

    def _draw_batch(self, runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence, mode: str) -> None:
        if batch_idx % self.interval:
            return
        for frames, sample in zip(data_batch['inputs'], outputs):
            if self.videos_drawn >= self.max_videos:
                return
            self._draw_video(runner, frames, sample, mode,
                             f'video_{batch_idx:05d}')
            self.videos_drawn += 1

    def _draw_video(self, runner, frames, sample, mode: str,
                    default_name: str) -> None:
        meta = sample.metainfo
        video = meta.get('video_name', default_name)
        names = meta.get('frame_names') or [
            f'{index:05d}' for index in range(len(frames))
        ]
        for index in spread_frames(len(frames), self.max_frames):
            panel = frame_panel(np.asarray(frames[index]), sample, index,
                                self.alpha, self.mask_fields)
            runner.visualizer.add_image(f'{mode}_{video}_{names[index]}',
                                        panel, step=runner.iter)
            if self.out_dir is not None:
                path = Path(self.out_dir) / video / f'{names[index]}.png'
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), cv2.cvtColor(panel, cv2.COLOR_RGB2BGR))
