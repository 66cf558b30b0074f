from .clip_transforms import (ClipRandomFlip, ClipRandomResizedCrop,
                              ClipResize, FrameViews)
from .formatting import PackClipInputs, PackVideoInputs
from .loading import (LoadClipFrames, LoadJHMDBKeypoints, LoadVideoAnnotations,
                      LoadVideoFrames, WithholdLastFrame)
from .shard_transforms import (ClipBicubicResize, ClipCenterFullCrop,
                               ClipRandomSquareCrop, LoadShardSample,
                               PackShardVideoInputs, SampleAlignedChunk,
                               ShardSegmentationsToIds)

__all__ = [
    'ClipRandomFlip', 'ClipRandomResizedCrop', 'ClipResize', 'FrameViews',
    'PackClipInputs', 'PackVideoInputs', 'LoadClipFrames',
    'LoadJHMDBKeypoints', 'LoadVideoAnnotations', 'LoadVideoFrames',
    'ClipBicubicResize', 'ClipCenterFullCrop', 'ClipRandomSquareCrop',
    'LoadShardSample', 'PackShardVideoInputs', 'SampleAlignedChunk',
    'ShardSegmentationsToIds', 'WithholdLastFrame'
]
