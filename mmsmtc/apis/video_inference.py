"""Running a test-time segmentor on one user video (``tools/demo``).

Call graph of the demos::

    init_video_segmentor(config, checkpoint, task, device)
    open_video(path) -> lazy frames, frame names, fps      (video_io)
    [read_first_mask(mask, frames)]                        (propagation)
    segment_video(model, frames, ...) -> (T, H, W) uint8 ids
    save_video_predictions(out_dir, ...) -> masks/<frame>.png, overlay.mp4
"""
from pathlib import Path
from typing import Dict, List, Optional, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner import set_random_seed

from mmsmtc.datasets.frame_io import read_mask
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils import register_all_modules, write_indexed_png
from mmsmtc.visualization import blend_ids
from .video_io import write_overlay_video

#: The segmentor type each demo task needs.
TASK_MODELS = dict(
    discovery='ObjectDiscoverySegmentor',
    propagation='LabelPropagationSegmentor')
#: Largest first-mask/frame size difference repaired (as the datasets do).
MAX_MASK_SIZE_GAP = 2


def init_video_segmentor(config: Union[str, Config],
                         checkpoint: Optional[str],
                         task: str,
                         device: Optional[str] = None,
                         seed: Optional[int] = 0) -> BaseModel:
    """Build a test config's segmentor, load its weights, move it.

    Args:
        config: A test config (``configs/*_test/``) or its path.
        checkpoint: A trained checkpoint, loaded strictly by the model's
            ``load_test_checkpoint``; None (or ``'none'``) keeps the weights
            of the config's initialisation (``init_cfg``, random if none).
        task: ``'discovery'`` or ``'propagation'`` (see :data:`TASK_MODELS`).
        device: ``'cpu'``, ``'cuda'``...; None picks CUDA when available.
        seed: Seeds every generator before the model is built, so random
            initialisations repeat run to run, and is the segmentor's
            ``test_seed`` of the per-video test-time randomness (SMTC's slot
            sampling); None leaves both as they are.

    Returns:
        BaseModel: The segmentor in eval mode on ``device``.

    Raises:
        ValueError: If the config's model is not the task's segmentor, a
            mask-propagation config propagates keypoints, or CUDA is asked
            for but not available.
        FileNotFoundError: If the config or the checkpoint does not exist.
    """
    if task not in TASK_MODELS:
        raise ValueError(f'task must be one of {sorted(TASK_MODELS)}, got '
                         f'{task!r}')
    if not isinstance(config, Config) and not Path(config).is_file():
        raise FileNotFoundError(f'{config}: config file does not exist')
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    model_cfg = cfg.get('model') or {}
    name = getattr(cfg, 'filename', None) or 'the config'
    if model_cfg.get('type') != TASK_MODELS[task]:
        raise ValueError(f'{name}: not a {task} config: its model is '
                         f'{model_cfg.get("type")!r}, the {task} demo needs '
                         f'{TASK_MODELS[task]!r} (see configs/*_test/)')
    if model_cfg.get('label_type', 'instances') == 'keypoints':
        raise ValueError(f'{name}: propagates keypoints; the propagation '
                         'demo propagates a mask (use an instance config)')
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device {device!r}: CUDA is not available here '
                         "(use --device cpu)")
    register_all_modules(init_default_scope=True)
    if seed is not None:
        set_random_seed(seed)
        model_cfg = dict(model_cfg, test_seed=seed)
    model = MODELS.build(model_cfg)
    if checkpoint is None or str(checkpoint).lower() == 'none':
        print_log('no checkpoint: weights as the config initialises them',
                  logger='current')
        model.init_weights()
    else:
        if not Path(checkpoint).is_file():
            raise FileNotFoundError(f'{checkpoint}: checkpoint does not '
                                    "exist (pass 'none' to run without one)")
        model.load_test_checkpoint(str(checkpoint))
    return model.to(device).eval()


def read_first_mask(path: Union[str, Path], frames) -> np.ndarray:
    """The first-frame annotation, fitted to the (downscaled) frames.

    Args:
        path: An indexed PNG of object ids (any ids, 0 is background).
        frames: The lazy frames; their ``source_shape`` is the size the
            mask must have (repaired when off by at most
            :data:`MAX_MASK_SIZE_GAP` pixels), their ``frame_shape`` the
            size it is resized to (nearest neighbour).

    Returns:
        np.ndarray: ``(H, W)`` uint8 ids.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it is not an indexed PNG, is of another size than
            the frames, or holds no object.
    """
    source_shape = getattr(frames, 'source_shape', frames.frame_shape)
    mask = read_mask(path, source_shape, MAX_MASK_SIZE_GAP)
    if not mask.any():
        raise ValueError(f'{path}: the first mask holds no object (every '
                         'pixel is 0, the background)')
    height, width = frames.frame_shape
    if mask.shape != (height, width):
        mask = cv2.resize(mask, (width, height),
                          interpolation=cv2.INTER_NEAREST)
    return mask


def segment_video(model: BaseModel,
                  frames,
                  frame_names: List[str],
                  video_name: str,
                  first_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Discover objects in, or propagate ``first_mask`` through, a video.

    Args:
        model: From :func:`init_video_segmentor`.
        frames: ``T`` lazy frames (``(t, H, W, 3)`` uint8 by slice).
        frame_names: The ``T`` frame names.
        video_name: For messages.
        first_mask: ``(H, W)`` uint8 ids of frame 0 (propagation only).

    Returns:
        np.ndarray: ``(T, H, W)`` uint8 ids (discovered objects, or the
        first mask's ids).
    """
    sample = VideoDataSample(
        metainfo=dict(
            video_name=video_name,
            frame_names=list(frame_names),
            ori_shape=tuple(frames.frame_shape),
            num_frames=len(frames)))
    if first_mask is not None:
        sample.gt_masks = first_mask[None]
        sample.gt_mask_frame_indices = np.zeros(1, dtype=np.int64)
    (result, ) = model.predict([frames], [sample])
    return np.asarray(result.pred_masks)


def save_video_predictions(out_dir: Union[str, Path], frames,
                           frame_names: List[str], pred_masks: np.ndarray,
                           fps: float, alpha: float = 0.5) -> Dict[str, Path]:
    """Write ``masks/<frame>.png`` and ``overlay.mp4`` into ``out_dir``.

    Masks are indexed PNGs in the DAVIS palette, so an id has the same
    colour in every frame, in the masks and in the overlay; frames are
    decoded again one at a time.

    Returns:
        dict: ``masks`` (folder) and ``overlay`` (the video file, or the
        PNG folder :func:`write_overlay_video` fell back to).
    """
    mask_dir = Path(out_dir) / 'masks'
    mask_dir.mkdir(parents=True, exist_ok=True)

    def overlays():
        for frame, name, ids in zip(frames, frame_names, pred_masks):
            write_indexed_png(mask_dir / f'{name}.png', ids)
            yield blend_ids(frame, ids, alpha)

    overlay = write_overlay_video(
        Path(out_dir) / 'overlay.mp4', overlays(), frame_names, fps)
    return dict(masks=mask_dir, overlay=overlay)
