"""YouTube-VIS 2021 -> VideoSAUR's shards (``data/save_ytvis2021.py``).

VideoSAUR evaluates on the official *training* set (its validation set has
no public masks): the last 300 videos of ``instances.json`` (in file order)
are its validation split, the other 2,685 its training split. Each video is
one sample of the shards ``ytvis-{train,validation}-NNNNNN.tar`` (32 / 10
videos each, key = the video id):

- ``video.npy``: ``(F, H, W, 3)`` uint8 frames (``JPEGImages/<file_name>``
  decoded by PIL), resized so that the short side is ``short_side`` (320)
  with ``nearest-exact``, the long side ``floor(long / short * 320)``;
  the official round trip ``uint8 / 255 -> resize -> (x * 255).byte()``
  is kept bit for bit.
- ``segmentations.npy`` (validation only, as the official data README's
  ``--only-videos`` for training): ``(F, H, W, n)`` uint8, channel ``i``
  the category id of the ``i``-th non-crowd annotation of the video
  (``instances.json`` order) where its mask is set, 0 elsewhere and in
  frames without a mask; ``(F, H, W, 1)`` zeros for a video without
  annotations; resized like the frames (``nearest-exact``).

Masks are COCO RLE, uncompressed (``counts`` a list) or compressed
(:mod:`mmsmtc.datasets.rle`); polygons are refused.
"""
import json
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .rle import decode_rle
from .shards import ShardWriter
from .transforms.shard_transforms import short_side_size

#: Videos of the official training set VideoSAUR uses for validation.
NUM_VALIDATION_VIDEOS = 300
#: Videos per shard of VideoSAUR's YT-VIS splits.
VIDEOS_PER_SHARD = dict(train=32, validation=10)
SPLITS = tuple(VIDEOS_PER_SHARD)


class YTVISFormatError(ValueError):
    """``instances.json`` or a frame does not match the YouTube-VIS
    format."""


def load_instances(path: Union[str, Path]) -> dict:
    """Read ``instances.json`` and check its top level.

    Raises:
        YTVISFormatError: Naming the file, if it is not JSON with
            ``videos`` and ``annotations`` lists, or video ids repeat.
    """
    try:
        with open(path) as file:
            instances = json.load(file)
    except (OSError, json.JSONDecodeError) as error:
        raise YTVISFormatError(f'{path}: cannot read ({error})') from error
    if not isinstance(instances, dict) or not all(
            isinstance(instances.get(key), list)
            for key in ('videos', 'annotations')):
        raise YTVISFormatError(f'{path}: expected an object with "videos" '
                               'and "annotations" lists')
    ids = [video.get('id') for video in instances['videos']]
    if len(set(ids)) != len(ids):
        raise YTVISFormatError(f'{path}: repeated video ids')
    return instances


def split_videos(instances: dict, split: str) -> List[dict]:
    """VideoSAUR's split of the official training videos.

    Args:
        instances: ``instances.json`` content.
        split: ``'validation'`` (the last 300 videos in file order) or
            ``'train'`` (the others).
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    videos = instances['videos']
    cut = max(len(videos) - NUM_VALIDATION_VIDEOS, 0)
    return videos[cut:] if split == 'validation' else videos[:cut]


def video_annotations(instances: dict) -> Dict[int, List[dict]]:
    """Non-crowd annotations per video id, in file order."""
    per_video: Dict[int, List[dict]] = {}
    for annotation in instances['annotations']:
        if annotation.get('iscrowd', 0):
            continue
        per_video.setdefault(annotation['video_id'], []).append(annotation)
    return per_video


def _frame_mask(annotation: dict, frame: int, height: int, width: int,
                where: str) -> np.ndarray:
    """``(H, W)`` uint8 0/1 mask of an annotation in a frame (zeros when the
    object is absent)."""
    segmentations = annotation.get('segmentations')
    if not isinstance(segmentations, list) or frame >= len(segmentations):
        raise YTVISFormatError(f'{where}: "segmentations" has no entry for '
                               f'frame {frame}')
    rle = segmentations[frame]
    if rle is None:
        return np.zeros((height, width), np.uint8)
    if not isinstance(rle, dict) or 'counts' not in rle:
        raise YTVISFormatError(f'{where}, frame {frame}: only RLE masks are '
                               f'supported, got {type(rle).__name__}')
    size = rle.get('size', (height, width))
    if tuple(size) != (height, width):
        raise YTVISFormatError(f'{where}, frame {frame}: RLE size {size} '
                               f'differs from the video size '
                               f'{(height, width)}')
    try:
        return decode_rle(rle['counts'], size)
    except ValueError as error:
        raise YTVISFormatError(f'{where}, frame {frame}: {error}') from error


def video_segmentations(video: dict, annotations: Sequence[dict]
                        ) -> np.ndarray:
    """``(F, H, W, n)`` uint8 category ids of a video's instances
    (``(F, H, W, 1)`` zeros without any)."""
    length, height, width = (int(video[key])
                             for key in ('length', 'height', 'width'))
    if not annotations:
        return np.zeros((length, height, width, 1), np.uint8)
    out = np.zeros((length, height, width, len(annotations)), np.uint8)
    for index, annotation in enumerate(annotations):
        where = (f'video {video["id"]}, annotation '
                 f'{annotation.get("id", index)}')
        category = int(annotation['category_id'])
        if not 0 < category < 256:
            raise YTVISFormatError(f'{where}: category id {category} does '
                                   'not fit uint8')
        for frame in range(length):
            out[frame, ..., index] = _frame_mask(annotation, frame, height,
                                                 width, where) * category
    return out


def read_video_frames(video: dict, frame_root: Union[str, Path]
                      ) -> np.ndarray:
    """``(F, H, W, 3)`` uint8 RGB frames of a video (PIL decoding).

    Raises:
        YTVISFormatError: Naming the file, if a frame is missing, not RGB
            or not of the video's size.
    """
    expected = (int(video['height']), int(video['width']), 3)
    frames = []
    for name in video['file_names']:
        path = Path(frame_root) / name
        try:
            with Image.open(path) as image:
                frame = np.asarray(image, dtype=np.uint8)
        except OSError as error:
            raise YTVISFormatError(f'{path}: cannot read ({error})') \
                from error
        if frame.shape != expected:
            raise YTVISFormatError(f'{path}: frame of shape {frame.shape}, '
                                   f'the video is {expected}')
        frames.append(frame)
    if len(frames) != int(video['length']):
        raise YTVISFormatError(f'video {video["id"]}: {len(frames)} file '
                               f'names for length {video["length"]}')
    return np.stack(frames)


def resize_short_side_nearest(array: np.ndarray, short_side: int,
                              as_frames: bool) -> np.ndarray:
    """Resize ``(F, H, W, C)`` so that ``min(H, W) == short_side`` with
    ``nearest-exact``, as VideoSAUR's ``Resize(short_side_scale=True)``.

    Frames (``as_frames``) go through the official float round trip
    ``uint8 / 255 -> resize -> (x * 255).byte()`` (truncation); masks are
    resized as uint8.
    """
    size = short_side_size(array.shape[1], array.shape[2], short_side)
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2)
    if as_frames:
        tensor = tensor.float() / 255.0
    resized = F.interpolate(tensor, size=size, mode='nearest-exact')
    if as_frames:
        resized = (resized * 255.0).byte()
    return resized.permute(0, 2, 3, 1).contiguous().numpy()


def iter_split_samples(instances: dict,
                       frame_root: Union[str, Path],
                       split: str,
                       short_side: int = 320,
                       with_masks: bool = True
                       ) -> Iterator[Tuple[str, Dict[str, np.ndarray]]]:
    """``(key, {'video': ..., 'segmentations': ...})`` of every video of a
    split, in VideoSAUR's order (no ``segmentations`` without
    ``with_masks``)."""
    annotations = video_annotations(instances)
    for video in split_videos(instances, split):
        fields = dict(video=resize_short_side_nearest(
            read_video_frames(video, frame_root), short_side, True))
        if with_masks:
            masks = video_segmentations(video,
                                        annotations.get(video['id'], []))
            fields['segmentations'] = resize_short_side_nearest(
                masks, short_side, False)
        yield str(video['id']), fields


def write_ytvis_split(instances: dict, frame_root: Union[str, Path],
                      out_dir: Union[str, Path], split: str,
                      short_side: int = 320,
                      per_shard: Optional[int] = None,
                      with_masks: Optional[bool] = None) -> List[str]:
    """Write one split's shards ``out_dir/ytvis-<split>-NNNNNN.tar``.

    ``with_masks`` defaults to the official choice: masks for the
    validation split only.

    Returns:
        list[str]: The shards written.
    """
    per_shard = per_shard or VIDEOS_PER_SHARD[split]
    if with_masks is None:
        with_masks = split == 'validation'
    pattern = str(Path(out_dir) / f'ytvis-{split}-%06d.tar')
    with ShardWriter(pattern, per_shard) as writer:
        for key, fields in iter_split_samples(instances, frame_root, split,
                                              short_side, with_masks):
            writer.write(key, fields)
    return writer.paths
