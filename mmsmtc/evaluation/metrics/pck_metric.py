"""JHMDB keypoint PCK metric."""
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from mmsmtc.registry import METRICS
from mmsmtc.structures import video_name
from ..functional.keypoints import (ground_truth_frames, joint_hit_counts,
                                    normalised_joint_distances,
                                    pck_from_counts, pck_protocol)
from .base import PredictionWritingMetric
from .sample_utils import sample_array, sample_as_dict


def _alpha_key(alpha: float) -> str:
    return f'PCK@{alpha:g}'


@METRICS.register_module()
class PCKMetric(PredictionWritingMetric):
    """PCK@alpha of propagated keypoints, as CRW's ``eval_pck.py`` or VFS's
    ``pck_evaluate``.

    Distances are normalised by ``0.6 x`` the diagonal of the box of the
    ground-truth joints whose prediction is visible, hits are pooled per
    joint over all videos and the result is the mean over joints; only the
    frames with ground truth are scored (a longer video is cut to its
    ``pos_img`` length, as both official codes do); see
    :mod:`mmsmtc.evaluation.functional.keypoints`. ``process`` keeps only
    ``(A, J)`` hit counts and ``(J,)`` totals per video.

    Reported keys: ``PCK@<alpha>`` for each alpha (fractions in
    ``[0, 1]``), e.g. ``PCK@0.1`` and ``PCK@0.2``.

    Args:
        alphas: Thresholds; the paper tables use 0.1 to 0.5.
        protocol: ``'crw'`` (CRW, SMTC and the DINO baselines: frame 0
            skipped, joints visible when ``x >= 0``, box extremes clamped
            at -1 / 1e6) or ``'vfs'`` (VFS and Spa-then-Temp: frame 0
            scored, visible when ``x > 0``, box extremes over the joints);
            see ``PCK_PROTOCOLS``.
        format_only: Only write the predictions to ``output_dir``.
        output_dir: Where to write ``<video>.npy`` ``(T, J, 2)`` float32
            predictions.
        collect_device, prefix, collect_dir: See ``BaseMetric``;
            ``prefix`` defaults to ``'jhmdb'``.
    """
    default_prefix = 'jhmdb'

    def __init__(self,
                 alphas: Sequence[float] = (0.1, 0.2),
                 protocol: str = 'crw',
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
        self.protocol = protocol
        self.settings = pck_protocol(protocol)

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
            gt_keypoints = sample_array(sample, 'gt_keypoints')
            distances, scored = normalised_joint_distances(
                gt_keypoints,
                ground_truth_frames(pred_keypoints, len(gt_keypoints), name),
                self.settings.skip_first_frame, name,
                self.settings.visibility, self.settings.box_extremes)
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
