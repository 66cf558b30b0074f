"""Videos (or images) from VideoSAUR's webdataset shards, whole or in chunks.

The sample list is built from the shards' tar headers and the ``.npy``
headers of one field (the frame count); arrays are read by the pipeline
(:class:`~mmsmtc.datasets.transforms.LoadShardSample`).
"""
import math
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmsmtc.registry import DATASETS
from .shards import expand_shard_pattern, index_shards, read_npy_header

#: Fields holding one array per frame (axis 0); ``image`` is one frame.
FRAME_FIELDS = ('video', 'segmentations')


def chunk_name(video: str, chunk: int) -> str:
    """The name of chunk ``chunk`` of ``video``: ``'<video>_<chunk>'``, the
    key VideoSAUR's ``split_to_chunks`` gives it (unique when the video keys
    are)."""
    return f'{video}_{chunk}'


def official_partial_chunks(chunks_per_video: Sequence[Sequence[int]],
                            val_size: int,
                            num_workers: int = 8,
                            batch_size: int = 16,
                            num_nodes: int = 1) -> List[Tuple[int, int, int]]:
    """The chunks the official VideoSAUR validation loader actually scores.

    VideoSAUR (``videosaur/data/datamodules.py``, webdataset 0.2) splits the
    ``S`` validation shards over ``W`` loader workers (worker ``w`` reads
    shards ``w, w + W, ...`` in order), pads each worker's stream of videos
    to ``P = ceil(ceil(S / nodes) / W) * ceil(val_size / S)`` with copies of
    its first video, splits videos into chunks, batches each worker's chunks
    (``batch_size``, last batch partial), and stops the loader after
    ``ceil(P * W / batch_size)`` batches, taken from the workers in turn
    (an exhausted worker is skipped). Padding chunks are then dropped. With
    YT-VIS (30 shards of 10 videos, ``val_size=200``, 8 workers, batches
    of 16) that is 14 batches, 224 chunks: the first 32 chunks of workers
    0-5 and the first 16 of workers 6 and 7. With MOVi (8 shards, 250
    videos, whole videos) every video is scored.

    Args:
        chunks_per_video: Per shard (in shard order), the chunk count of
            each of its videos (in file order).
        val_size: The config's ``val_size``.
        num_workers, batch_size, num_nodes: The config's
            ``num_val_workers``, ``val_batch_size`` and the node count.

    Returns:
        list[tuple[int, int, int]]: ``(shard, video, chunk)`` positions of
        the scored chunks, in the loader's order.

    Raises:
        ValueError: If there are more workers than shards per node (the
            official loader refuses it too) or an argument is < 1.
    """
    num_shards = len(chunks_per_video)
    if min(val_size, num_workers, batch_size, num_nodes) < 1:
        raise ValueError('val_size, num_workers, batch_size and num_nodes '
                         'must be >= 1')
    if num_shards // num_nodes < num_workers:
        raise ValueError(f'{num_workers} workers for {num_shards} shards on '
                         f'{num_nodes} nodes: the official loader needs at '
                         'least one shard per worker')
    if num_nodes != 1:
        raise NotImplementedError('only the single-node loader is modelled')
    padded = math.ceil(math.ceil(num_shards / num_nodes) / num_workers) * \
        math.ceil(val_size / num_shards)
    num_batches = math.ceil(padded * num_workers / batch_size)
    worker_batches = []
    for worker in range(num_workers):
        videos = [(shard, video, count)
                  for shard in range(worker, num_shards, num_workers)
                  for video, count in enumerate(chunks_per_video[shard])]
        padding = [(None, None, videos[0][2] if videos else 0)] * max(
            padded - len(videos), 0)
        chunks = [(shard, video, chunk)
                  for shard, video, count in videos + padding
                  for chunk in range(count)]
        worker_batches.append([
            chunks[start:start + batch_size]
            for start in range(0, len(chunks), batch_size)
        ])
    selected, taken, position = [], 0, [0] * num_workers
    while taken < num_batches and any(
            position[w] < len(worker_batches[w]) for w in range(num_workers)):
        for worker in range(num_workers):
            if taken == num_batches:
                break
            if position[worker] == len(worker_batches[worker]):
                continue
            batch = worker_batches[worker][position[worker]]
            position[worker] += 1
            taken += 1
            selected.extend(chunk for chunk in batch if chunk[0] is not None)
    return selected


@DATASETS.register_module()
class VideoShardDataset(BaseDataset):
    """Samples of VideoSAUR's shards (MOVi, YT-VIS, COCO).

    One entry per video (``chunk_len=None``), or per aligned,
    non-overlapping chunk of ``chunk_len`` frames (the remainder of a video
    is dropped), each chunk scored as a video of its own named
    :func:`chunk_name`. Entries carry ``video_name``, ``shard_sample`` (a
    :class:`~mmsmtc.datasets.shards.ShardSample`), ``num_frames`` (of the
    whole video) and ``frame_range`` (``(start, stop)``, or None for the
    whole video).

    Args:
        shards (str | Sequence[str]): Shard pattern(s) relative to
            ``data_root``, see :func:`expand_shard_pattern`.
        data_root (str): The dataset folder.
        frames_field (str): The field counting frames (``'video'``; COCO's
            ``'image'`` is one frame).
        chunk_len (int, optional): Frames per chunk; None keeps videos
            whole.
        min_frames (int): Videos with fewer frames are dropped, logged
            (training: the clip length).
        official_partial_scoring (dict, optional): Keep only the chunks the
            official VideoSAUR loader scores, see
            :func:`official_partial_chunks` (its keyword arguments, e.g.
            ``dict(val_size=200)``). Not the default: it reproduces the
            official code's partial YT-VIS evaluation, not a protocol.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ...).
    """

    METAINFO = dict(dataset_name='VideoSAUR shards')

    def __init__(self,
                 shards: Union[str, Sequence[str]],
                 data_root: str = '',
                 frames_field: str = 'video',
                 chunk_len: Optional[int] = None,
                 min_frames: int = 1,
                 official_partial_scoring: Optional[Dict] = None,
                 **kwargs) -> None:
        if chunk_len is not None and chunk_len < 1:
            raise ValueError(f'chunk_len must be >= 1 or None, got '
                             f'{chunk_len}')
        if official_partial_scoring is not None and chunk_len is None:
            raise ValueError('official_partial_scoring needs chunk_len')
        self.shards = [shards] if isinstance(shards, str) else list(shards)
        self.frames_field = frames_field
        self.chunk_len = chunk_len
        self.min_frames = max(int(min_frames), 1)
        self.official_partial_scoring = official_partial_scoring
        super().__init__(data_root=data_root, **kwargs)

    def _num_frames(self, sample) -> int:
        header = read_npy_header(sample, self.frames_field)
        return 1 if self.frames_field == 'image' else header.shape[0]

    def load_data_list(self) -> List[dict]:
        paths = [
            path for pattern in self.shards
            for path in expand_shard_pattern(pattern, self.data_root)
        ]
        samples = index_shards(paths)
        frames = [self._num_frames(sample) for sample in samples]
        short = [s.key for s, n in zip(samples, frames) if n < self.min_frames]
        if short:
            print_log(
                f'{len(short)} videos have fewer than {self.min_frames} '
                f'frames and are dropped: {short[:10]}', logger='current',
                level=30)
        kept = self._partial_selection(paths, samples, frames)
        data_list = []
        for sample, num_frames in zip(samples, frames):
            if num_frames < self.min_frames:
                continue
            base = dict(shard_sample=sample, num_frames=num_frames)
            if self.chunk_len is None:
                data_list.append(
                    dict(video_name=sample.key, frame_range=None, **base))
                continue
            for chunk in range(num_frames // self.chunk_len):
                if kept is not None and (sample.key, chunk) not in kept:
                    continue
                start = chunk * self.chunk_len
                data_list.append(
                    dict(video_name=chunk_name(sample.key, chunk),
                         frame_range=(start, start + self.chunk_len),
                         **base))
        if not data_list:
            raise ValueError(f'{paths[0]}...: no sample of at least '
                             f'{max(self.min_frames, self.chunk_len or 1)} '
                             'frames')
        return data_list

    def _partial_selection(self, paths: List[str], samples,
                           frames: List[int]
                           ) -> Optional[Set[Tuple[str, int]]]:
        """``{(video key, chunk)}`` of the official partial scoring."""
        if self.official_partial_scoring is None:
            return None
        per_shard = {path: [] for path in paths}
        for sample, num_frames in zip(samples, frames):
            per_shard[sample.shard].append(
                (sample.key, num_frames // self.chunk_len))
        videos = [per_shard[path] for path in paths]
        positions = official_partial_chunks(
            [[count for _, count in shard] for shard in videos],
            **self.official_partial_scoring)
        print_log(
            f'official partial scoring ({self.official_partial_scoring}): '
            f'{len(positions)} chunks kept', logger='current')
        return {(videos[shard][video][0], chunk)
                for shard, video, chunk in positions}
