"""Checking that a benchmark is complete and every file of it decodes."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List

from mmsmtc.registry import DATASETS
from .frame_io import read_mask, read_rgb_frame
from .transforms.loading import LoadJHMDBKeypoints
from .video_listing import list_frame_files

#: Videos of the full evaluation (or training) split of each benchmark.
EXPECTED_VIDEOS: Dict[str, int] = dict(
    ytvos=3471,
    davis2017=30,
    davis2016=20,
    segtrackv2=14,
    fbms=30,
    jhmdb=268,
    vip=50)

#: The dataset config that lists each benchmark's split.
DATASET_CONFIGS: Dict[str, dict] = dict(
    ytvos=dict(type='YTVOSClipDataset'),
    davis2017=dict(type='DAVIS2017Dataset'),
    davis2016=dict(type='DAVIS2016Dataset'),
    segtrackv2=dict(type='SegTrackV2Dataset'),
    fbms=dict(type='FBMSDataset'),
    jhmdb=dict(type='JHMDBDataset'),
    vip=dict(type='VIPDataset'))


@dataclass
class DatasetCheckReport:
    """What :func:`check_dataset` found.

    Attributes:
        benchmark: The benchmark key (``'davis2017'``, ...).
        root: The checked folder.
        expected: Videos of the full split.
        found: Videos present whose every file decodes.
        problems: One line per missing or unreadable file or folder.
        notes: Repairs and absences that are not problems.
    """
    benchmark: str
    root: str
    expected: int
    found: int = 0
    problems: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def passed(self, allow_subset: bool = False) -> bool:
        """No problem, and all expected videos (or, with ``allow_subset``,
        at least one) found."""
        if self.problems:
            return False
        if allow_subset:
            return self.found > 0
        return self.found == self.expected


def _check_files(paths: List[str], read: Callable[[str], object],
                 problems: List[str]) -> bool:
    healthy = True
    for path in paths:
        try:
            read(path)
        except (OSError, ValueError) as error:
            problems.append(str(error))
            healthy = False
    return healthy


def _frame_reader() -> Callable[[str], object]:
    """A reader decoding frames and checking they share one size."""
    first_shape = []

    def read(path: str):
        frame = read_rgb_frame(path)
        if not first_shape:
            first_shape.append(frame.shape)
        elif frame.shape != first_shape[0]:
            raise ValueError(f'{path}: frame size {frame.shape[:2]} differs '
                             f'from the video frame size '
                             f'{first_shape[0][:2]}')
        return frame

    return read


def _check_segmentation(dataset, report: DatasetCheckReport,
                        allow_subset: bool) -> None:
    try:
        names = dataset.sequence_names()
    except (OSError, ValueError) as error:
        report.problems.append(str(error))
        return
    for name in names:
        frame_dir, mask_dir = dataset.video_dirs(name)
        if allow_subset and not frame_dir.exists():
            report.notes.append(f'{frame_dir}: absent (subset)')
            continue
        try:
            info = dataset.load_video_info(name, frame_dir, mask_dir)
        except (OSError, ValueError) as error:
            report.problems.append(str(error))
            continue
        frames_ok = _check_files(info['frame_paths'],
                                 _frame_reader(),
                                 report.problems)
        if not frames_ok:
            continue
        shape = read_rgb_frame(info['frame_paths'][0]).shape[:2]
        masks_ok = _check_files(
            info['mask_paths'],
            lambda path: read_mask(path, shape, info['max_size_gap']),
            report.problems)
        report.found += int(masks_ok)


def _check_jhmdb(dataset, report: DatasetCheckReport,
                 allow_subset: bool) -> None:
    try:
        names = dataset.video_names()
    except (OSError, ValueError) as error:
        report.problems.append(str(error))
        return
    for class_name, video in names:
        frame_dir = Path(dataset.data_prefix['img']) / class_name / video
        if allow_subset and not frame_dir.exists():
            report.notes.append(f'{frame_dir}: absent (subset)')
            continue
        try:
            info = dataset.load_video_info(class_name, video)
            info['num_frames'] = len(info['frame_paths'])
            LoadJHMDBKeypoints()(info)
        except (OSError, ValueError) as error:
            report.problems.append(str(error))
            continue
        report.found += int(
            _check_files(info['frame_paths'],
                         _frame_reader(),
                         report.problems))


def _check_ytvos(dataset, report: DatasetCheckReport) -> None:
    frame_root = Path(dataset.data_prefix['img'])
    if not frame_root.is_dir():
        report.problems.append(
            f'{frame_root}: YouTube-VOS frame folder does not exist')
        return
    for video_dir in sorted(p for p in frame_root.iterdir() if p.is_dir()):
        try:
            paths = [str(p) for p in list_frame_files(video_dir, ('.jpg', ))]
        except (OSError, ValueError) as error:
            report.problems.append(str(error))
            continue
        report.found += int(
            _check_files(paths, _frame_reader(), report.problems))


def check_dataset(benchmark: str,
                  root: str,
                  allow_subset: bool = False,
                  **dataset_kwargs) -> DatasetCheckReport:
    """Check a benchmark folder: count its videos, decode every file.

    Every frame is decoded (corrupt and truncated files are found), every
    annotation read as an indexed PNG and size-checked against its frames,
    and every JHMDB ``joint_positions.mat`` parsed.

    Args:
        benchmark: One of :data:`EXPECTED_VIDEOS`.
        root: The dataset folder (``data_root``).
        allow_subset: Whether listed videos whose folder is absent are
            skipped (a smaller set, such as the synthetic one) instead of
            reported as problems.
        **dataset_kwargs: Extra dataset arguments (``split``, ...).

    Returns:
        DatasetCheckReport: Counts and problems.

    Raises:
        KeyError: If ``benchmark`` is unknown.
    """
    if benchmark not in EXPECTED_VIDEOS:
        raise KeyError(f'unknown benchmark {benchmark!r}; choose from '
                       f'{sorted(EXPECTED_VIDEOS)}')
    report = DatasetCheckReport(benchmark, str(root),
                                EXPECTED_VIDEOS[benchmark])
    config = dict(DATASET_CONFIGS[benchmark], data_root=str(root),
                  lazy_init=True, **dataset_kwargs)
    dataset = DATASETS.build(config)
    if benchmark == 'ytvos':
        _check_ytvos(dataset, report)
    elif benchmark == 'jhmdb':
        _check_jhmdb(dataset, report, allow_subset)
    else:
        _check_segmentation(dataset, report, allow_subset)
    return report
