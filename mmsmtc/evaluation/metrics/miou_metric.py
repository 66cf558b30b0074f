"""VIP part-propagation mIoU metric."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from mmsmtc.registry import METRICS
from mmsmtc.structures import video_name
from ..functional.segmentation import (VIP_PART_CLASSES, iou_from_areas,
                                       video_confusion_matrix,
                                       video_histogram_areas)
from .base import PredictionWritingMetric
from .sample_utils import sample_array, sample_as_dict

#: The official VIP countings (see ``MIoUMetric``).
MIOU_PROTOCOLS = ('aten', 'vfs')


@METRICS.register_module()
class MIoUMetric(PredictionWritingMetric):
    """mIoU over the pixels of all annotated frames of all videos.

    Two official countings (see
    :mod:`mmsmtc.evaluation.functional.segmentation`), both pooled over all
    scored frames of all videos, frame 0 included, with the mean skipping
    classes absent from both ground truth and prediction:

    - ``protocol='aten'`` (default; the ATEN / TimeCycle / UVC
      ``eval_vip.py`` that CRW and SMTC results are scored with): the
      annotated frames, matched to predictions by name; predictions resized
      to the label size by nearest neighbour; ground-truth ids outside
      ``[0, C)`` (void 255) ignored; predicted ids outside it an error.
    - ``protocol='vfs'`` (VFS and Spa-then-Temp ``vip_evaluate``): every
      frame of the video against the annotation at its position (every
      frame must be annotated), no resizing, mmseg's histogram counting
      (only ground truth 255 ignored). Equal to ``'aten'`` on VIP_Fine's
      ids; the official code prints the mean rounded to 0.01 %.

    ``process`` keeps ``(3, C)`` intersection / prediction / ground-truth
    areas per video.

    Reported keys (fractions in ``[0, 1]``): ``mIoU`` and ``IoU-<class>``
    for every class (NaN for a class with an empty union).

    Args:
        num_classes: ``C``; 20 for VIP (background + 19 parts).
        protocol: ``'aten'`` or ``'vfs'`` (see above).
        class_names: ``C`` names for the per-class keys; default: the VIP
            part names when ``num_classes == 20``, else the class indices.
        format_only: Only write the predictions to ``output_dir``.
        output_dir: Where to write ``<video>/<frame>.png`` predictions.
        collect_device, prefix, collect_dir: See ``BaseMetric``;
            ``prefix`` defaults to ``'vip'``.
    """
    default_prefix = 'vip'

    def __init__(self,
                 num_classes: int = 20,
                 class_names: Optional[Sequence[str]] = None,
                 protocol: str = 'aten',
                 format_only: bool = False,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(format_only, output_dir, collect_device, prefix,
                         collect_dir)
        if num_classes < 1:
            raise ValueError(
                f'num_classes must be positive, got {num_classes}')
        if class_names is None:
            class_names = VIP_PART_CLASSES if num_classes == len(
                VIP_PART_CLASSES) else [str(i) for i in range(num_classes)]
        if len(class_names) != num_classes:
            raise ValueError(f'{len(class_names)} class_names for '
                             f'num_classes={num_classes}')
        if protocol not in MIOU_PROTOCOLS:
            raise ValueError(f'protocol must be one of {MIOU_PROTOCOLS}, got '
                             f'{protocol!r}')
        self.num_classes = num_classes
        self.class_names = list(class_names)
        self.protocol = protocol

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce each video to its ``(3, C)`` areas."""
        for sample in map(sample_as_dict, data_samples):
            pred_masks = sample_array(sample, 'pred_masks')
            if not self.write_masks(sample, pred_masks):
                continue
            self.results.append(
                dict(areas=self.video_areas(sample, pred_masks)))

    def video_areas(self, sample: dict, pred_masks: np.ndarray) -> np.ndarray:
        """``(3, C)`` intersection, prediction and ground-truth areas."""
        args = (sample_array(sample, 'gt_masks'), pred_masks, self.num_classes,
                sample_array(sample, 'gt_mask_frame_indices', required=False),
                video_name(sample))
        if self.protocol == 'vfs':
            return video_histogram_areas(*args)
        confusion = video_confusion_matrix(*args)
        return np.stack(
            [np.diag(confusion),
             confusion.sum(0),
             confusion.sum(1)])

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return ``{'mIoU': ..., 'IoU-<class>': ...}`` ({} if format_only)."""
        if self.format_only:
            return {}
        if not results:
            raise ValueError('mIoU: no video was processed')
        ious = iou_from_areas(np.sum([result['areas'] for result in results],
                                     axis=0))
        if np.isnan(ious).all():
            raise ValueError('mIoU: no ground-truth pixel was scored')
        metrics = {'mIoU': float(np.nanmean(ious))}
        for name, iou in zip(self.class_names, ious):
            metrics[f'IoU-{name}'] = float(iou)
        return metrics
