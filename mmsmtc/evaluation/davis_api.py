"""Evaluate DAVIS-2017 result folders exactly like the official tool, fast.

:func:`evaluate_davis` reads the ground truth of a DAVIS root
(``Annotations/480p`` for semi-supervised, ``Annotations_unsupervised/480p``
for unsupervised, sequence list ``ImageSets/2017/<subset>.txt``) and the
result PNGs ``<results_dir>/<sequence>/<frame>.png``, evaluates sequences in
worker processes and returns the official global and per-object numbers.
Every malformed input raises an exception naming the file and the problem.

The workers come from :func:`.worker_processes.map_in_worker_processes`,
which works from any caller (a script without a ``__main__`` guard, ``python
-`` on stdin, ``runpy``, a notebook) and changes no process-wide
multiprocessing setting; its docstring says why a ``ProcessPoolExecutor`` in
the calling process cannot.
"""
import os
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmsmtc.utils.palette import read_indexed_png
from .functional.davis import (MAX_PROPOSALS, evaluate_sequence,
                               global_statistics, num_gt_objects)
from .worker_processes import available, map_in_worker_processes

TASKS = ('semi-supervised', 'unsupervised')
_ANNOTATION_FOLDERS = {
    'semi-supervised': 'Annotations',
    'unsupervised': 'Annotations_unsupervised'
}
PathLike = Union[str, Path]


def annotation_dir(davis_root: PathLike, task: str) -> Path:
    """Ground-truth folder of a task: ``<root>/<Annotations...>/480p``."""
    return Path(davis_root) / _ANNOTATION_FOLDERS[task] / '480p'


def list_sequences(davis_root: PathLike, subset: str = 'val') -> List[str]:
    """Sequence names of ``<root>/ImageSets/2017/<subset>.txt``, in order.

    Raises:
        FileNotFoundError: If the list file does not exist.
    """
    list_file = Path(davis_root) / 'ImageSets' / '2017' / f'{subset}.txt'
    if not list_file.is_file():
        raise FileNotFoundError(f'{list_file}: sequence list of the '
                                f'{subset!r} subset does not exist')
    names = [line.strip() for line in list_file.read_text().splitlines()]
    return [name for name in names if name]


def _read_frames(paths: Sequence[Path],
                 shape: Optional[Tuple[int, int]] = None) -> List[np.ndarray]:
    """Read indexed PNGs of one size as ``T`` ``(H, W)`` uint8 arrays.

    Raises:
        FileNotFoundError: If a file is missing.
        ValueError: If a file is not an indexed PNG or has another size than
            ``shape`` (default: the first file's size).
    """
    frames = []
    for path in paths:
        frame = read_indexed_png(path)
        if shape is None:
            shape = frame.shape
        if frame.shape != shape:
            raise ValueError(f'{path}: mask is {frame.shape[0]}x'
                             f'{frame.shape[1]} (HxW) but the ground truth '
                             f'of the sequence is {shape[0]}x{shape[1]}')
        frames.append(frame)
    return frames


def _check_result_ids(task: str, pred_masks: List[np.ndarray],
                      paths: Sequence[Path], num_objects: int) -> None:
    """Raise ValueError naming the first result file with a forbidden id."""
    limit = num_objects if task == 'semi-supervised' else MAX_PROPOSALS
    highest = np.array([mask.max() for mask in pred_masks])
    bad = np.flatnonzero(highest > limit)
    if not len(bad):
        return
    frame = bad[0]
    if task == 'semi-supervised':
        raise ValueError(f'{paths[frame]}: result id {highest[frame]} is '
                         f'higher than the {num_objects} objects of the '
                         'sequence')
    raise ValueError(f'{paths[frame]}: result id {highest[frame]} is higher '
                     f'than the maximum of {MAX_PROPOSALS} proposals')


def load_sequence(
        davis_root: PathLike, results_dir: PathLike, task: str,
        sequence: str) -> Tuple[List[np.ndarray], List[np.ndarray], int]:
    """Read one sequence's ground truth and results for a task.

    Semi-supervised keeps the inner frames only (the first and last result
    files are never read).

    Returns:
        tuple: ``(gt_masks, pred_masks, num_objects)``: two lists of ``T``
        ``(H, W)`` uint8 id maps of the evaluated frames and the object
        count.

    Raises:
        FileNotFoundError: If the sequence's ground-truth folder or a result
            file is missing.
        ValueError: For an empty sequence, a non-indexed PNG, a size
            mismatch, or forbidden result ids.
    """
    gt_dir = annotation_dir(davis_root, task) / sequence
    if not gt_dir.is_dir():
        raise FileNotFoundError(
            f'{gt_dir}: ground truth of sequence {sequence!r} (listed for '
            'evaluation) does not exist')
    gt_paths = sorted(gt_dir.glob('*.png'))
    if not gt_paths:
        raise ValueError(f'{gt_dir}: sequence {sequence!r} has no '
                         'ground-truth PNG frames')
    gt_masks = _read_frames(gt_paths)
    num_objects = num_gt_objects(gt_masks[0])
    if task == 'semi-supervised':
        if len(gt_paths) < 3:
            raise ValueError(f'{gt_dir}: semi-supervised evaluation drops the '
                             'first and last frames and needs at least 3, '
                             f'found {len(gt_paths)}')
        gt_paths, gt_masks = gt_paths[1:-1], gt_masks[1:-1]
    result_paths = [
        Path(results_dir) / sequence / path.name for path in gt_paths
    ]
    pred_masks = _read_frames(result_paths, gt_masks[0].shape)
    _check_result_ids(task, pred_masks, result_paths, num_objects)
    return gt_masks, pred_masks, num_objects


def _evaluate_one(davis_root: PathLike, results_dir: PathLike, task: str,
                  sequence: str) -> Dict[str, Dict[str, float]]:
    """Per-object statistics of one sequence (runs in a worker process)."""
    gt_masks, pred_masks, num_objects = load_sequence(davis_root, results_dir,
                                                      task, sequence)
    return evaluate_sequence(task, sequence, gt_masks, pred_masks, num_objects)


def _single_threaded_worker() -> None:
    """Keep OpenCV to one thread in each worker (processes already split
    the cores)."""
    cv2.setNumThreads(1)


def evaluate_davis(davis_root: PathLike,
                   results_dir: PathLike,
                   task: str,
                   subset: str = 'val',
                   sequences: Optional[Sequence[str]] = None,
                   nproc: Optional[int] = None) -> Dict[str, Dict]:
    """Evaluate a DAVIS-2017 result folder with the official protocol.

    Args:
        davis_root: DAVIS folder holding ``ImageSets`` and the annotation
            folders (``JPEGImages`` is not needed).
        results_dir: Folder of ``<sequence>/<frame>.png`` indexed PNGs.
        task: ``'semi-supervised'`` or ``'unsupervised'``.
        subset: Sequence list ``ImageSets/2017/<subset>.txt``.
        sequences: Sequences (or one sequence name) to evaluate instead of
            the whole list.
        nproc: Worker processes; defaults to ``os.cpu_count()``; 1 runs in
            this process (as does any value on a platform that cannot
            fork, with a warning).

    Returns:
        dict: ``'global'``: ``{'J&F-Mean', 'J-Mean', 'J-Recall', 'J-Decay',
        'F-Mean', 'F-Recall', 'F-Decay'}`` floats; ``'per_object'``:
        ``{'<seq>_<k>': {'J-Mean', ..., 'F-Decay'}}`` in sequence order.

    Raises:
        ValueError: For an unknown task, no sequences or malformed results.
        FileNotFoundError: For missing folders, lists or frames.
        RuntimeError: If a worker process dies.
    """
    if task not in TASKS:
        raise ValueError(f'task must be one of {TASKS}, got {task!r}')
    for folder in (Path(davis_root), Path(results_dir)):
        if not folder.is_dir():
            raise FileNotFoundError(f'{folder}: folder does not exist')
    if not annotation_dir(davis_root, task).is_dir():
        raise FileNotFoundError(
            f'{annotation_dir(davis_root, task)}: ground-truth folder of the '
            f'{task} task does not exist')
    if nproc is not None and nproc < 1:
        raise ValueError(f'nproc must be at least 1, got {nproc}')
    if sequences is None:
        sequences = list_sequences(davis_root, subset)
    elif isinstance(sequences, str):
        sequences = [sequences]
    sequences = list(sequences)
    if not sequences:
        raise ValueError('no sequences to evaluate')
    nproc = min(nproc or os.cpu_count() or 1, len(sequences))
    arguments = [(davis_root, results_dir, task, name) for name in sequences]
    if nproc > 1 and not available():
        warnings.warn('DAVIS evaluation runs in this process: worker '
                      f'processes are forked, which {sys.platform} cannot do')
        nproc = 1
    if nproc == 1:
        per_sequence = [_evaluate_one(*args) for args in arguments]
    else:
        per_sequence = map_in_worker_processes(
            _evaluate_one,
            arguments,
            nproc,
            initializer=_single_threaded_worker)
    per_object = {
        name: stats
        for rows in per_sequence
        for name, stats in rows.items()
    }
    return {'global': global_statistics(per_object), 'per_object': per_object}
