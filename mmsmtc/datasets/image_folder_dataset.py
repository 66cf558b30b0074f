"""Images of an ImageNet-style folder, for image pre-training (no labels)."""
from pathlib import Path
from typing import List

from mmengine.dataset import BaseDataset

from mmsmtc.registry import DATASETS
from .video_listing import FRAME_SUFFIXES, sort_frame_files


@DATASETS.register_module()
class ImageFolderDataset(BaseDataset):
    """Every image of ``<data_root>/<data_prefix.img>/<class>/<image>``.

    The ImageNet training layout (``train/n01440764/*.JPEG``); class folders
    are only walked, labels are not used. A sample is a one-frame clip
    (``frame_paths`` of one file, ``video_name`` = ``<class>/<stem>``) for
    the clip pipeline (``LoadClipFrames``, then e.g. ``FrameViews``).

    Args:
        data_root: The dataset folder.
        data_prefix: ``dict(img=...)``, the folder of class folders
            (default ``'train'``).
        suffixes: Image file endings (case-insensitive).
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.

    Raises:
        FileNotFoundError: If the image folder does not exist.
        ValueError: If it holds no image.
    """

    METAINFO = dict(dataset_name='image folder')

    def __init__(self, data_root: str, data_prefix=None,
                 suffixes=FRAME_SUFFIXES, **kwargs) -> None:
        self.suffixes = tuple(suffix.lower() for suffix in suffixes)
        super().__init__(data_root=data_root,
                         data_prefix=data_prefix or dict(img='train'),
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        root = Path(self.data_prefix['img'])
        if not root.is_dir():
            raise FileNotFoundError(f'{root}: image folder does not exist')
        data_list = []
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            images = sort_frame_files([
                path for path in folder.iterdir()
                if path.is_file() and path.suffix.lower() in self.suffixes
            ])
            data_list.extend(
                dict(video_name=f'{folder.name}/{path.stem}',
                     frame_paths=[str(path)], frame_names=[path.stem])
                for path in images)
        if not data_list:
            raise ValueError(f'{root}: no image ({"/".join(self.suffixes)}) '
                             'in its class folders')
        return data_list
