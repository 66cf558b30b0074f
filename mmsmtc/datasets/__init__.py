from .collate import video_collate
from .davis_dataset import DAVIS2016Dataset, DAVIS2017Dataset
from .image_folder_dataset import ImageFolderDataset
from .jhmdb_dataset import JHMDBDataset
from .lazy_sequence import LazyFrameSequence, LazyMaskSequence
from .segtrack_fbms_dataset import FBMSDataset, SegTrackV2Dataset
from .shards import (ShardFormatError, ShardSample, ShardWriter,
                     expand_shard_pattern, index_shards, list_shard_samples,
                     read_npy_header, read_npy_member)
from .transforms import *  # noqa: F401,F403
from .video_folder_dataset import VideoFolderDataset
from .video_segmentation_dataset import VideoSegmentationDataset
from .video_shard_dataset import (VideoShardDataset, chunk_name,
                                  official_partial_chunks)
from .vip_dataset import VIPDataset
from .ytvos_clip_dataset import (YTVOSClipDataset, sample_clip_indices,
                                 sample_offset_clip_indices)

__all__ = [
    'video_collate', 'DAVIS2016Dataset', 'DAVIS2017Dataset',
    'ImageFolderDataset', 'JHMDBDataset', 'LazyFrameSequence',
    'LazyMaskSequence', 'FBMSDataset',
    'SegTrackV2Dataset', 'VideoFolderDataset', 'VideoSegmentationDataset',
    'VIPDataset', 'YTVOSClipDataset', 'sample_clip_indices',
    'ShardFormatError', 'ShardSample', 'ShardWriter', 'VideoShardDataset',
    'chunk_name', 'expand_shard_pattern', 'index_shards',
    'list_shard_samples', 'official_partial_chunks', 'read_npy_header',
    'read_npy_member', 'sample_offset_clip_indices'
]
