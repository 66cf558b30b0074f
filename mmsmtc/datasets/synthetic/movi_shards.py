"""Small MOVi-format shards of the synthetic videos (VideoSAUR's layout).

Writes ``<prefix>-train-NNNNNN.tar`` (``<key>.video.npy`` only) and
``<prefix>-validation-NNNNNN.tar`` (``<key>.video.npy`` and
``<key>.segmentations.npy``) like VideoSAUR's ``data/save_movi.py``: keys
``0, 1, ...`` per split, ``video`` uint8 ``(T, S, S, 3)``, ``segmentations``
uint8 ``(T, S, S, 1)`` object ids with 0 the background. The videos are the
synthetic benchmark's moving textured shapes (:func:`render_synthetic_video`
with the same seed, split and index give the same video), so the shards are
deterministic.
"""
from pathlib import Path
from typing import Dict, List, Union

from ..shards import ShardWriter
from .benchmark import render_synthetic_video

SPLITS = (('train', 0), ('validation', 1))


def write_synthetic_movi_shards(out_dir: Union[str, Path],
                                num_train: int = 8,
                                num_val: int = 4,
                                num_frames: int = 24,
                                size: int = 128,
                                per_shard: int = 4,
                                seed: int = 0,
                                prefix: str = 'movi_c'
                                ) -> Dict[str, List[str]]:
    """Write the synthetic MOVi shards into ``out_dir``.

    Args:
        out_dir: Output folder (created).
        num_train, num_val: Videos per split.
        num_frames: ``T`` (MOVi: 24).
        size: Frame side ``S`` (MOVi: 128).
        per_shard: Videos per shard (MOVi: 32).
        seed: The benchmark seed.
        prefix: Shard name prefix (``movi_c``, ``movi_e``).

    Returns:
        dict: ``{'train': [paths], 'validation': [paths]}``.

    Raises:
        ValueError: On counts or sizes < 1, or existing shards of the same
            names in ``out_dir`` (never overwritten).
    """
    if min(num_train, num_val, num_frames, size, per_shard) < 1:
        raise ValueError('num_train, num_val, num_frames, size and per_shard '
                         'must be >= 1')
    out_dir = Path(out_dir)
    existing = sorted(out_dir.glob(f'{prefix}-*.tar'))
    if existing:
        raise ValueError(f'{out_dir}: already holds {prefix} shards '
                         f'({existing[0].name}, ...); use another folder')
    written = {}
    for (split, split_id), count in zip(SPLITS, (num_train, num_val)):
        pattern = str(out_dir / f'{prefix}-{split}-%06d.tar')
        with ShardWriter(pattern, per_shard) as writer:
            for index in range(count):
                video = render_synthetic_video(seed, split_id, index,
                                               num_frames, (size, size))
                fields = dict(video=video.frames)
                if split == 'validation':
                    fields['segmentations'] = video.instance_masks[..., None]
                writer.write(str(index), fields)
        written[split] = writer.paths
    return written
