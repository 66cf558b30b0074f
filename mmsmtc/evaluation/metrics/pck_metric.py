"""JHMDB keypoint PCK metric."""
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from mmsmtc.registry import METRICS
from mmsmtc.structures import video_name
from ..functional.keypoints import (VISIBILITY_RULES, joint_hit_counts,
                                    normalised_joint_distances,
                                    pck_from_counts)
from .base import PredictionWritingMetric
from .sample_utils import sample_array, sample_as_dict


def _alpha_key(alpha: float) -> str:
    return f'PCK@{alpha:g}'


@METRICS.register_module()
class PCKMetric(PredictionWritingMetric):
    """PCK@alpha of propagated keypoints, as CRW's ``eval_pck.py``.

    Distances are normalised by ``0.6 x`` the diagonal of the box of the
    ground-truth joints whose prediction is visible, frame 0 is skipped,
    hits are pooled per joint over all videos and the result is the mean
    over joints; see :mod:`mmsmtc.evaluation.functional.keypoints`.
    ``process`` keeps only ``(A, J)`` hit counts and ``(J,)`` totals per
    video.

    Reported keys: ``PCK@<alpha>`` for each alpha (fractions in
    ``[0, 1]``), e.g. ``PCK@0.1`` and ``PCK@0.2``.

    Args:
        alphas: Thresholds; the paper tables use 0.1 to 0.5.
        skip_first_frame: Skip frame 0 (the given frame), as the reference
            (Spa-then-Temp / VFS score it: False).
        visibility: ``'x >= 0'`` (CRW) or ``'x > 0'`` (Spa-then-Temp /
            VFS): which predicted joints are visible.
        format_only: Only write the predictions to ``output_dir``.
        output_dir: Where to write ``<video>.npy`` ``(T, J, 2)`` float32
            predictions.
        collect_device, prefix, collect_dir: See ``BaseMetric``;
            ``prefix`` defaults to ``'jhmdb'``.
    """
    default_prefix = 'jhmdb'

    def __init__(self,
                 alphas: Sequence[float] = (0.1, 0.2),
                 skip_first_frame: bool = True,
                 visibility: str = 'x >= 0',
                 format_only: bool = False,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(format_only, output_dir, collect_device, prefix,
                         collect_dir)
        alphas = [float(alpha) for alpha in alphas]
        if not alphas or any(alpha <= 0 for alpha in alphas):
            raise ValueError(f'alphas must be positive numbers, got {alphas}')
        self.alphas = alphas
        self.skip_first_frame = skip_first_frame
        if visibility not in VISIBILITY_RULES:
            raise ValueError(f'visibility must be one of {VISIBILITY_RULES}, '
                             f'got {visibility!r}')
        self.visibility = visibility

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce each video to per-joint hit counts and totals."""
        for sample in map(sample_as_dict, data_samples):
            name = video_name(sample)
            pred_keypoints = sample_array(sample, 'pred_keypoints')
            if self.output_dir is not None:
                path = Path(self.output_dir) / f'{name}.npy'
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, pred_keypoints.astype(np.float32))
            if self.format_only:
                continue
            distances, scored = normalised_joint_distances(
                sample_array(sample, 'gt_keypoints'), pred_keypoints,
                self.skip_first_frame, name, self.visibility)
            hits, totals = joint_hit_counts(distances, scored, self.alphas)
            self.results.append(dict(hits=hits, totals=totals))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return ``{'PCK@<alpha>': ...}`` ({} when format_only)."""
        if self.format_only:
            return {}
        if not results:
            raise ValueError('PCK: no video was processed')
        num_joints = {len(result['totals']) for result in results}
        if len(num_joints) > 1:
            raise ValueError('PCK: videos have different numbers of joints '
                             f'{sorted(num_joints)}')
        hits = sum(result['hits'] for result in results)
        totals = sum(result['totals'] for result in results)
        means = pck_from_counts(hits, totals)[1]
        return {
            _alpha_key(alpha): float(value)
            for alpha, value in zip(self.alphas, means)
        }
