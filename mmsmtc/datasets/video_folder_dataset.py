"""A generic reader for folders of videos with sparse annotations."""
from pathlib import Path
from typing import List, Tuple

from mmsmtc.registry import DATASETS
from .video_segmentation_dataset import VideoSegmentationDataset


@DATASETS.register_module()
class VideoFolderDataset(VideoSegmentationDataset):
    """Videos laid out as ``<video>/JPEGImages/*.jpg`` and
    ``<video>/Annotations/*.png``, annotations on some frames, any names.

    ``data_root`` is either one such video folder or a folder of them
    (every sub-folder with a ``JPEGImages`` folder is a video, sorted by
    name). By default the first frame must be annotated (the
    semi-supervised setting).

    Args:
        data_root: A video folder or a folder of video folders.
        annotation_coverage: See :class:`VideoSegmentationDataset`.
        **kwargs: See :class:`VideoSegmentationDataset`.

    Raises:
        FileNotFoundError: If ``data_root`` holds no video.
    """

    METAINFO = dict(dataset_name='video folder')

    def __init__(self, data_root: str, annotation_coverage: str = 'first',
                 **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img='', ann=''))
        super().__init__(
            data_root=data_root,
            annotation_coverage=annotation_coverage,
            **kwargs)

    def sequence_names(self) -> List[str]:
        if self.sequences is not None:
            return self.sequences
        root = Path(self.data_root)
        if (root / 'JPEGImages').is_dir():
            return [root.name]
        names = sorted(path.name for path in root.iterdir()
                       if (path / 'JPEGImages').is_dir()) \
            if root.is_dir() else []
        if not names:
            raise FileNotFoundError(
                f'{root}: no video folder (<video>/JPEGImages) found')
        return names

    def video_dirs(self, name: str) -> Tuple[Path, Path]:
        root = Path(self.data_root)
        video_dir = root if (root / 'JPEGImages').is_dir() and \
            name == root.name else root / name
        return video_dir / 'JPEGImages', video_dir / 'Annotations'
