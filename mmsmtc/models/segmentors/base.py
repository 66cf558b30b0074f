"""The base of mmsmtc's test-time video segmentors."""
from typing import List, Optional

from mmengine.model import BaseModel

from mmsmtc.structures import VideoDataSample

#: The branches of an SMTC training checkpoint a segmentor can test.
CHECKPOINT_BRANCHES = ('student', 'teacher')


class PredictOnlySegmentor(BaseModel):
    """A model that only predicts: ``forward`` accepts ``mode='predict'``.

    Subclasses implement ``predict(inputs, data_samples)`` over one whole
    video per sample and ``load_test_checkpoint(path)``.

    Args:
        checkpoint_branch (str): Which branch of an SMTC training checkpoint
            to test, ``'student'`` or the EMA ``'teacher'``.
        data_preprocessor (dict, optional): Defaults to a
            ``VideoDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 checkpoint_branch: str = 'student',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor or dict(
                type='VideoDataPreprocessor'),
            init_cfg=init_cfg)
        if checkpoint_branch not in CHECKPOINT_BRANCHES:
            raise ValueError("checkpoint_branch must be 'student' or "
                             f"'teacher', got {checkpoint_branch!r}")
        self.checkpoint_branch = checkpoint_branch

    def forward(self,
                inputs: list,
                data_samples: Optional[List[VideoDataSample]] = None,
                mode: str = 'predict'):
        """Dispatch to ``predict``; any other mode is an error."""
        if mode != 'predict':
            raise ValueError(f'{type(self).__name__} is test-only: mode must '
                             f"be 'predict', got {mode!r}")
        return self.predict(inputs, data_samples)
