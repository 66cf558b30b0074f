"""JHMDB keypoint propagation (split-1 test set, 268 videos)."""
from pathlib import Path
from typing import List, Tuple

from mmengine.dataset import BaseDataset

from mmsmtc.registry import DATASETS
from .video_listing import list_frame_files


def read_jhmdb_video_list(path: Path) -> List[Tuple[str, str]]:
    """Read ``(class, video)`` pairs from a list file.

    Each non-empty line's first token is ``<class>/<video>`` or a longer
    path ending in them (the CRW list, whose lines are
    ``.../Rename_Images/<class>/<video> .../joint_positions.mat``).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If a line does not name a class and a video.
    """
    if not path.is_file():
        raise FileNotFoundError(f'{path}: JHMDB video list does not exist')
    videos = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        parts = tokens[0].rstrip('/').split('/')
        if len(parts) < 2:
            raise ValueError(f'{path}:{number}: expected <class>/<video>, '
                             f'got {tokens[0]!r}')
        videos.append((parts[-2], parts[-1]))
    return videos


def read_jhmdb_official_split(split_dir: Path,
                              split: int) -> List[Tuple[str, str]]:
    """Read the test videos of the official ``<class>_test_split<k>.txt``
    files (lines ``<video>.avi 1|2``; 2 marks a test video).

    Raises:
        FileNotFoundError: If ``split_dir`` holds no such file.
    """
    files = sorted(split_dir.glob(f'*_test_split{split}.txt'))
    if not files:
        raise FileNotFoundError(
            f'{split_dir}: no JHMDB split files *_test_split{split}.txt')
    videos = []
    for path in files:
        class_name = path.name[:-len(f'_test_split{split}.txt')]
        for line in path.read_text().splitlines():
            tokens = line.split()
            if len(tokens) >= 2 and tokens[1] == '2':
                videos.append((class_name, Path(tokens[0]).stem))
    return videos


@DATASETS.register_module()
class JHMDBDataset(BaseDataset):
    """JHMDB videos with 2-D joint positions, one whole video per sample.

    Layout::

        <data_root>/Rename_Images/<class>/<video>/00001.png
        <data_root>/joint_positions/<class>/<video>/joint_positions.mat
        <data_root>/splits/<class>_test_split1.txt

    The ``.mat`` file's ``pos_img`` is ``(2, J, T)`` in 1-based MATLAB pixel
    coordinates; :class:`mmsmtc.datasets.transforms.LoadJHMDBKeypoints`
    turns it into 0-based ``gt_keypoints (T, J, 2)`` the way CRW does
    (``pos_img - 1``). The number of joints J is read from the file.

    Args:
        data_root: The JHMDB folder.
        ann_file: A list of ``<class>/<video>`` lines (or CRW-style
            paths), relative to ``data_root``; empty means the official
            split files under ``split_dir``.
        split_dir: Folder of the official split files.
        split: Official split number (1, 2 or 3).
        data_prefix: ``dict(img=..., ann=...)`` frame and joint folders.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.

    Each ``data_info`` holds ``video_name`` (``'<class>/<video>'``),
    ``frame_paths``, ``frame_names`` and ``keypoint_path``.

    Raises:
        FileNotFoundError: A listed video's frames or joints are missing.
        ValueError: A video folder holds no frame.
    """

    METAINFO = dict(dataset_name='JHMDB')

    def __init__(self,
                 data_root: str,
                 ann_file: str = '',
                 split_dir: str = 'splits',
                 split: int = 1,
                 data_prefix=None,
                 **kwargs) -> None:
        self.split_dir = split_dir
        self.split = split
        kwargs.setdefault('test_mode', True)
        kwargs.setdefault('serialize_data', False)
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=data_prefix
            or dict(img='Rename_Images', ann='joint_positions'),
            **kwargs)

    def video_names(self) -> List[Tuple[str, str]]:
        """The ``(class, video)`` pairs of the split, in order."""
        if self.ann_file:
            return read_jhmdb_video_list(Path(self.ann_file))
        return read_jhmdb_official_split(
            Path(self.data_root) / self.split_dir, self.split)

    def load_data_list(self) -> List[dict]:
        return [
            self.load_video_info(class_name, video)
            for class_name, video in self.video_names()
        ]

    def load_video_info(self, class_name: str, video: str) -> dict:
        """The ``data_info`` of one video (see the class docstring)."""
        frame_paths = list_frame_files(
            Path(self.data_prefix['img']) / class_name / video,
            ('.png', '.jpg'))
        keypoint_path = (Path(self.data_prefix['ann']) / class_name / video /
                         'joint_positions.mat')
        if not keypoint_path.is_file():
            raise FileNotFoundError(f'{keypoint_path}: missing joint '
                                    f'positions of {class_name}/{video}')
        return dict(
            video_name=f'{class_name}/{video}',
            frame_paths=[str(path) for path in frame_paths],
            frame_names=[path.stem for path in frame_paths],
            keypoint_path=str(keypoint_path))
