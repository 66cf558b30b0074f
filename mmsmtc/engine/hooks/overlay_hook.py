"""``--show-dir``: write prediction overlays while testing."""
from typing import Optional, Sequence

from mmengine.hooks import Hook

from mmsmtc.registry import HOOKS
from mmsmtc.visualization import write_video_overlays


@HOOKS.register_module()
class VideoOverlayHook(Hook):
    """Write ``out_dir/<video>/<frame>.png``: predictions over the frames.

    Masks (``pred_masks``) are blended in the DAVIS-palette colour of each
    id, keypoints (``pred_keypoints``) drawn as discs; see
    :mod:`mmsmtc.visualization.overlay`. Frames are decoded again one at a
    time from the batch's lazy sequences.

    Args:
        out_dir (str): The overlay folder.
        alpha (float): Opacity of the mask colours.
    """
    priority = 'LOW'

    def __init__(self, out_dir: str, alpha: float = 0.5) -> None:
        self.out_dir = out_dir
        self.alpha = alpha

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        for frames, sample in zip(data_batch['inputs'], outputs):
            meta = sample.metainfo
            names = meta.get('frame_names') or [
                f'{index:05d}' for index in range(len(frames))
            ]
            write_video_overlays(
                self.out_dir,
                meta.get('video_name', f'video_{batch_idx:05d}'),
                names,
                frames,
                pred_masks=sample.get('pred_masks'),
                pred_keypoints=sample.get('pred_keypoints'),
                alpha=self.alpha)
