"""SegTrack-v2 and FBMS-59 in the DAVIS-like layout of the SMTC README."""
from mmsmtc.registry import DATASETS
from .video_segmentation_dataset import VideoSegmentationDataset

#: The 14 SegTrack-v2 sequences (SMTC/OCLR evaluation).
SEGTRACKV2_SEQUENCES = (
    'birdfall', 'bird_of_paradise', 'bmx', 'cheetah', 'drift', 'frog',
    'girl', 'hummingbird', 'monkey', 'monkeydog', 'parachute', 'penguin',
    'soldier', 'worm')

#: The 30 FBMS-59 test sequences (SMTC/OCLR evaluation).
FBMS_TEST_SEQUENCES = (
    'camel01', 'cars1', 'cars10', 'cars4', 'cars5', 'cats01', 'cats03',
    'cats06', 'dogs01', 'dogs02', 'farm01', 'giraffes01', 'goats01',
    'horses02', 'horses04', 'horses05', 'lion01', 'marple12', 'marple2',
    'marple4', 'marple6', 'marple7', 'marple9', 'people03', 'people1',
    'people2', 'rabbits02', 'rabbits03', 'rabbits04', 'tennis')


@DATASETS.register_module()
class SegTrackV2Dataset(VideoSegmentationDataset):
    """SegTrack-v2, single object (union of objects), every frame annotated.

    Layout: ``<data_root>/JPEGImages/<seq>/*.jpg`` and
    ``<data_root>/Annotations/<seq>/*.png`` (DAVIS-like, no resolution
    folder). The sequences default to :data:`SEGTRACKV2_SEQUENCES`; pass
    ``ann_file`` or ``sequences`` to override. Frames may also be PNGs.

    Args:
        data_root: The SegTrack-v2 folder.
        **kwargs: See :class:`VideoSegmentationDataset`.
    """

    METAINFO = dict(dataset_name='SegTrack-v2')

    def __init__(self, data_root: str, **kwargs) -> None:
        if not kwargs.get('ann_file'):
            kwargs.setdefault('sequences', SEGTRACKV2_SEQUENCES)
        kwargs.setdefault('binarize', True)
        kwargs.setdefault('frame_suffixes', ('.jpg', '.jpeg', '.png', '.bmp'))
        super().__init__(data_root=data_root, **kwargs)


@DATASETS.register_module()
class FBMSDataset(VideoSegmentationDataset):
    """FBMS-59 test set, single object, sparse annotations.

    Layout: ``<data_root>/JPEGImages/<seq>/*.jpg`` and
    ``<data_root>/Annotations/<seq>/*.png``. FBMS annotates only some
    frames (every 20th, or so); each annotation is matched to the frame of
    the same file name and the annotated positions are recorded in
    ``gt_mask_frame_indices``. (The SMTC script instead counts positions
    from the first annotation's number, which is the same only when the
    first frame is annotated.) Sequences default to
    :data:`FBMS_TEST_SEQUENCES`.

    Args:
        data_root: The FBMS-59 folder.
        **kwargs: See :class:`VideoSegmentationDataset`.
    """

    METAINFO = dict(dataset_name='FBMS-59')

    def __init__(self, data_root: str, **kwargs) -> None:
        if not kwargs.get('ann_file'):
            kwargs.setdefault('sequences', FBMS_TEST_SEQUENCES)
        kwargs.setdefault('binarize', True)
        kwargs.setdefault('annotation_coverage', 'some')
        super().__init__(data_root=data_root, **kwargs)
