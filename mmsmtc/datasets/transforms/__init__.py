from .clip_transforms import (ClipRandomFlip, ClipRandomResizedCrop,
                              ClipResize, FrameViews)
from .formatting import PackClipInputs, PackVideoInputs
from .loading import (LoadClipFrames, LoadJHMDBKeypoints, LoadVideoAnnotations,
                      LoadVideoFrames)

__all__ = [
    'ClipRandomFlip', 'ClipRandomResizedCrop', 'ClipResize', 'FrameViews',
    'PackClipInputs', 'PackVideoInputs', 'LoadClipFrames',
    'LoadJHMDBKeypoints', 'LoadVideoAnnotations', 'LoadVideoFrames'
]
