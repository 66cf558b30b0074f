from .clip_transforms import ClipRandomFlip, ClipRandomResizedCrop, ClipResize
from .formatting import PackClipInputs, PackVideoInputs
from .loading import (LoadClipFrames, LoadJHMDBKeypoints,
                      LoadVideoAnnotations, LoadVideoFrames)

__all__ = [
    'ClipRandomFlip', 'ClipRandomResizedCrop', 'ClipResize', 'PackClipInputs',
    'PackVideoInputs', 'LoadClipFrames', 'LoadJHMDBKeypoints',
    'LoadVideoAnnotations', 'LoadVideoFrames'
]
