"""The base of mmsmtc's metrics: optional writing of the predictions."""
from typing import Optional

import numpy as np
from mmengine.evaluator import BaseMetric

from .sample_utils import write_mask_pngs


class PredictionWritingMetric(BaseMetric):
    """A ``BaseMetric`` that can also write predictions in the official layout.

    Args:
        format_only: Only write the predictions to ``output_dir``; nothing
            is scored and ``compute_metrics`` returns an empty dict.
        output_dir: Where predictions are written (None: not written).
        collect_device, prefix, collect_dir: See ``BaseMetric``.

    Raises:
        ValueError: If ``format_only`` is set without an ``output_dir``.
    """

    def __init__(self,
                 format_only: bool = False,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device, prefix, collect_dir)
        if format_only and output_dir is None:
            raise ValueError('format_only=True needs an output_dir')
        self.format_only = format_only
        self.output_dir = output_dir

    def write_masks(self, sample: dict, pred_masks: np.ndarray) -> bool:
        """Write ``(T, H, W)`` ids as ``<output_dir>/<video>/<frame>.png``
        when ``output_dir`` is set.

        Returns:
            bool: Whether the video must still be scored (not
            ``format_only``).
        """
        if self.output_dir is not None:
            write_mask_pngs(self.output_dir, sample, pred_masks)
        return not self.format_only
