"""Single-object discovery J for DAVIS-2016, SegTrack-v2 and FBMS-59."""
from typing import Any, Dict, List, Optional, Sequence

from mmsmtc.registry import METRICS
from mmsmtc.structures import video_name
from ..functional.single_object import (frame_intersections_unions,
                                        frame_jaccard, frame_mean_j,
                                        sequence_mean_j)
from .base import PredictionWritingMetric
from .sample_utils import annotated_predictions, sample_array, sample_as_dict


@METRICS.register_module()
class SingleObjectMetric(PredictionWritingMetric):
    """Foreground J of single-object video discovery.

    All ground-truth objects merge into one foreground (id > 0 except
    ``void_id``), all predicted ids but 0 likewise; see
    :mod:`mmsmtc.evaluation.functional.single_object` for the definition and
    the references. ``process`` keeps only per-frame intersections and
    unions, so gathering across ranks is cheap.

    Reported keys (fractions in ``[0, 1]``):
        - ``J``: mean over videos of the per-video mean J (DAVIS-2016).
        - ``J-frame``: mean over all scored frames (SegTrack-v2, FBMS-59).

    Args:
        void_id: Ground-truth id excluded from scoring, or ``None``.
            DAVIS-2016 masks stored as 0/255 must be read as 0/1 (or use
            ``void_id=None``), or their foreground would be void.
        drop_first_last: Score frames ``[1:-1]`` of each video, as the
            DAVIS-2016 toolkit does; the unsupervised protocol (default)
            scores every annotated frame.
        format_only: Only write the predictions to ``output_dir``.
        output_dir: Where to write ``<video>/<frame>.png`` predictions.
        collect_device, prefix, collect_dir: See ``BaseMetric``;
            ``prefix`` defaults to ``'davis16'``.
    """
    default_prefix = 'davis16'

    def __init__(self,
                 void_id: Optional[int] = 255,
                 drop_first_last: bool = False,
                 format_only: bool = False,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(format_only, output_dir, collect_device, prefix,
                         collect_dir)
        self.void_id = void_id
        self.drop_first_last = drop_first_last

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce each video to per-frame intersections and unions."""
        for sample in map(sample_as_dict, data_samples):
            pred_masks = sample_array(sample, 'pred_masks')
            if not self.write_masks(sample, pred_masks):
                continue
            gt_masks = sample_array(sample, 'gt_masks')
            pred_masks = annotated_predictions(sample, pred_masks, gt_masks)
            intersections, unions = frame_intersections_unions(
                gt_masks, pred_masks, self.void_id, video_name(sample))
            if self.drop_first_last:
                if len(intersections) < 3:
                    raise ValueError(
                        f'{video_name(sample)}: drop_first_last needs at '
                        f'least 3 annotated frames, got {len(intersections)}')
                intersections, unions = intersections[1:-1], unions[1:-1]
            self.results.append(
                dict(video_name=video_name(sample),
                     intersections=intersections,
                     unions=unions))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return ``{'J': ..., 'J-frame': ...}`` ({} when format_only)."""
        if self.format_only:
            return {}
        # in video-name order: the same float sums for any processing order
        frame_j = [
            frame_jaccard(result['intersections'], result['unions'])
            for result in sorted(results, key=lambda r: r['video_name'])
        ]
        return {
            'J': sequence_mean_j(frame_j),
            'J-frame': frame_mean_j(frame_j)
        }
