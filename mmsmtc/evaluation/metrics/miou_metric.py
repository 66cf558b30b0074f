"""VIP part-propagation mIoU metric."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from mmsmtc.registry import METRICS
from mmsmtc.structures import video_name
from ..functional.segmentation import (VIP_PART_CLASSES, mean_iou,
                                       per_class_iou, video_confusion_matrix)
from .base import PredictionWritingMetric
from .sample_utils import sample_array, sample_as_dict


@METRICS.register_module()
class MIoUMetric(PredictionWritingMetric):
    """mIoU over one confusion matrix of all annotated frames of all videos.

    Follows the ATEN VIP script (see
    :mod:`mmsmtc.evaluation.functional.segmentation`): predictions are
    resized to the label size by nearest neighbour, ground-truth ids outside
    ``[0, num_classes)`` (void 255) are ignored, predicted ids outside it are
    an error, and the mean skips classes absent from both ground truth and
    prediction. ``process`` keeps one ``(C, C)`` matrix per video.

    Reported keys (fractions in ``[0, 1]``): ``mIoU`` and ``IoU-<class>``
    for every class (NaN for a class with an empty union).

    Args:
        num_classes: ``C``; 20 for VIP (background + 19 parts).
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
        self.num_classes = num_classes
        self.class_names = list(class_names)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce each video to its ``(C, C)`` confusion matrix."""
        for sample in map(sample_as_dict, data_samples):
            pred_masks = sample_array(sample, 'pred_masks')
            if not self.write_masks(sample, pred_masks):
                continue
            confusion = video_confusion_matrix(
                sample_array(sample, 'gt_masks'), pred_masks, self.num_classes,
                sample_array(sample, 'gt_mask_frame_indices', required=False),
                video_name(sample))
            self.results.append(dict(confusion=confusion))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return ``{'mIoU': ..., 'IoU-<class>': ...}`` ({} if format_only)."""
        if self.format_only:
            return {}
        if not results:
            raise ValueError('mIoU: no video was processed')
        confusion = np.sum([result['confusion'] for result in results], axis=0)
        metrics = {'mIoU': mean_iou(confusion)}
        for name, iou in zip(self.class_names, per_class_iou(confusion)):
            metrics[f'IoU-{name}'] = float(iou)
        return metrics
