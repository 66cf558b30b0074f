"""Video FG-ARI and mBO metric for multi-object discovery."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmsmtc.registry import METRICS
from mmsmtc.structures import video_name
from ..functional.object_discovery import video_ari, video_mbo
from .base import PredictionWritingMetric
from .sample_utils import annotated_predictions, sample_array, sample_as_dict


@METRICS.register_module()
class ObjectDiscoveryMetric(PredictionWritingMetric):
    """Video FG-ARI and video mBO as VideoSAUR computes them.

    Each video's annotated frames are scored together (ids must persist over
    time); see :mod:`mmsmtc.evaluation.functional.object_discovery`.
    ``process`` keeps two floats per video; videos without any ground-truth
    object are skipped (and logged), as in VideoSAUR, and the reported
    numbers are means over the remaining videos.

    Reported keys (fractions): ``FG-ARI`` (``ARI`` when
    ``ignore_background=False``) and ``mBO``.

    Args:
        ignore_background: Leave ground-truth background (id 0) out of the
            ARI and out of the mBO objects.
        void_id: Ground-truth id removed from scoring, or ``None``.
        format_only: Only write the predictions to ``output_dir``.
        output_dir: Where to write ``<video>/<frame>.png`` predictions.
        collect_device, prefix, collect_dir: See ``BaseMetric``;
            ``prefix`` defaults to ``'objects'``.
    """
    default_prefix = 'objects'

    def __init__(self,
                 ignore_background: bool = True,
                 void_id: Optional[int] = 255,
                 format_only: bool = False,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(format_only, output_dir, collect_device, prefix,
                         collect_dir)
        self.ignore_background = ignore_background
        self.void_id = void_id

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce each video to its ARI and mBO (None when undefined)."""
        for sample in map(sample_as_dict, data_samples):
            name = video_name(sample)
            pred_masks = sample_array(sample, 'pred_masks')
            if not self.write_masks(sample, pred_masks):
                continue
            gt_masks = sample_array(sample, 'gt_masks')
            pred_masks = annotated_predictions(sample, pred_masks, gt_masks)
            options = dict(ignore_background=self.ignore_background,
                           void_id=self.void_id,
                           video_name=name)
            self.results.append(
                dict(video_name=name,
                     ari=video_ari(gt_masks, pred_masks, **options),
                     mbo=video_mbo(gt_masks, pred_masks, **options)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return ``{'FG-ARI': ..., 'mBO': ...}`` ({} when format_only)."""
        if self.format_only:
            return {}
        # averaged in video-name order: the same float sums whatever the
        # order the videos were processed in, or by how many processes
        results = sorted(results, key=lambda result: result['video_name'])
        scored = [result for result in results if result['ari'] is not None]
        skipped = [r['video_name'] for r in results if r['ari'] is None]
        if skipped:
            MMLogger.get_current_instance().warning(
                f'{len(skipped)} videos have no ground-truth object and are '
                f'left out of ARI and mBO: {skipped}')
        if not scored:
            raise ValueError('FG-ARI/mBO: no processed video has a '
                             'ground-truth object')
        ari_key = 'FG-ARI' if self.ignore_background else 'ARI'
        return {
            ari_key: float(np.mean([result['ari'] for result in scored])),
            'mBO': float(np.mean([result['mbo'] for result in scored])),
        }
