from .clip_transforms import (ClipColorJitter, ClipGaussianBlur,
                              ClipRandomFlip, ClipRandomGrayscale,
                              ClipRandomResizedCrop, ClipResize)
from .formatting import PackClipInputs, PackVideoInputs
from .loading import (LoadClipFrames, LoadJHMDBKeypoints,
                      LoadVideoAnnotations, LoadVideoFrames)

__all__ = [
    'ClipColorJitter', 'ClipGaussianBlur', 'ClipRandomFlip',
    'ClipRandomGrayscale', 'ClipRandomResizedCrop', 'ClipResize',
    'PackClipInputs', 'PackVideoInputs', 'LoadClipFrames',
    'LoadJHMDBKeypoints', 'LoadVideoAnnotations', 'LoadVideoFrames'
]
