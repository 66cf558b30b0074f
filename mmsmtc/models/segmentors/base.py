"""The base of mmsmtc's test-time video segmentors."""
from typing import List, Optional

from mmengine.model import BaseModel

from mmsmtc.structures import VideoDataSample


class PredictOnlySegmentor(BaseModel):
    """A model that only predicts: ``forward`` accepts ``mode='predict'``.

    Subclasses implement ``predict(inputs, data_samples)`` over one whole
    video per sample and ``load_test_checkpoint(path)``.
    """

    def forward(self,
                inputs: list,
                data_samples: Optional[List[VideoDataSample]] = None,
                mode: str = 'predict'):
        """Dispatch to ``predict``; any other mode is an error."""
        if mode != 'predict':
            raise ValueError(f'{type(self).__name__} is test-only: mode must '
                             f"be 'predict', got {mode!r}")
        return self.predict(inputs, data_samples)
