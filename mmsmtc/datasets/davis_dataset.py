"""DAVIS-2017 (semi-supervised and unsupervised) and DAVIS-2016."""
from pathlib import Path
from typing import List

from mmengine.logging import print_log

from mmsmtc.registry import DATASETS
from .video_listing import read_sequence_list
from .video_segmentation_dataset import VideoSegmentationDataset

#: The 20 DAVIS-2016 validation sequences (used when no 2016 list is found).
DAVIS2016_VAL_SEQUENCES = (
    'blackswan', 'bmx-trees', 'breakdance', 'camel', 'car-roundabout',
    'car-shadow', 'cows', 'dance-twirl', 'dog', 'drift-chicane',
    'drift-straight', 'goat', 'horsejump-high', 'kite-surf', 'libby',
    'motocross-jump', 'paragliding-launch', 'parkour', 'scooter-black',
    'soapbox')


@DATASETS.register_module()
class DAVIS2017Dataset(VideoSegmentationDataset):
    """DAVIS-2017, one whole video per sample, every frame annotated.

    Layout::

        <data_root>/JPEGImages/<resolution>/<seq>/00000.jpg
        <data_root>/<annotation_folder>/<resolution>/<seq>/00000.png
        <data_root>/ImageSets/2017/<split>.txt

    Args:
        data_root: The DAVIS folder.
        split: ``'val'`` (30 sequences) or ``'train'`` (60).
        annotation_folder: ``'Annotations'`` for the semi-supervised task,
            ``'Annotations_unsupervised'`` for the unsupervised one.
        resolution: ``'480p'`` or ``'Full-Resolution'``.
        **kwargs: See :class:`VideoSegmentationDataset`.

    Object ids keep the official meaning (objects are ``1..max id`` of the
    first frame); :class:`mmsmtc.datasets.transforms.LoadVideoAnnotations`
    records them and logs non-contiguous ids.
    """

    METAINFO = dict(dataset_name='DAVIS-2017')

    def __init__(self,
                 data_root: str,
                 split: str = 'val',
                 annotation_folder: str = 'Annotations',
                 resolution: str = '480p',
                 **kwargs) -> None:
        kwargs.setdefault('ann_file', f'ImageSets/2017/{split}.txt')
        kwargs.setdefault(
            'data_prefix',
            dict(img=f'JPEGImages/{resolution}',
                 ann=f'{annotation_folder}/{resolution}'))
        super().__init__(data_root=data_root, **kwargs)


@DATASETS.register_module()
class DAVIS2016Dataset(VideoSegmentationDataset):
    """DAVIS-2016: single object, the foreground is the union of objects.

    Two layouts are accepted, the sequence list found first wins:

    - a DAVIS-2017 folder with ``ImageSets/2016/<split>.txt`` (bare names);
    - the official DAVIS-2016 release, ``ImageSets/480p/<split>.txt`` with
      lines ``/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/...``
      and 0/255 greyscale masks (255 is foreground there, not void).

    Without either list, ``split='val'`` falls back to the 20 official
    validation sequences (:data:`DAVIS2016_VAL_SEQUENCES`), logged.
    Masks are binarised (every non-zero value becomes 1).

    Args:
        data_root: The DAVIS folder.
        split: ``'val'`` or ``'train'``.
        resolution: ``'480p'``.
        **kwargs: See :class:`VideoSegmentationDataset`.

    Raises:
        FileNotFoundError: If no sequence list exists and ``split`` is not
            ``'val'``.
    """

    METAINFO = dict(dataset_name='DAVIS-2016')

    def __init__(self,
                 data_root: str,
                 split: str = 'val',
                 resolution: str = '480p',
                 **kwargs) -> None:
        self.split = split
        self.resolution = resolution
        kwargs.setdefault(
            'data_prefix',
            dict(img=f'JPEGImages/{resolution}',
                 ann=f'Annotations/{resolution}'))
        kwargs.setdefault('binarize', True)
        super().__init__(data_root=data_root, **kwargs)

    def sequence_names(self) -> List[str]:
        if self.sequences is not None or self.ann_file:
            return super().sequence_names()
        candidates = [
            Path(self.data_root) / 'ImageSets' / '2016' / f'{self.split}.txt',
            Path(self.data_root) / 'ImageSets' / self.resolution /
            f'{self.split}.txt'
        ]
        for candidate in candidates:
            if candidate.is_file():
                return read_sequence_list(candidate)
        if self.split != 'val':
            raise FileNotFoundError(
                f'{self.data_root}: no DAVIS-2016 sequence list, looked for '
                f'{[str(path) for path in candidates]}')
        print_log(
            f'{self.data_root}: no DAVIS-2016 sequence list found; using the '
            '20 official validation sequences', logger='current')
        return list(DAVIS2016_VAL_SEQUENCES)
