"""VIP (Video Instance-level Parsing), fine part annotations."""
from mmsmtc.registry import DATASETS
from .video_segmentation_dataset import VideoSegmentationDataset


@DATASETS.register_module()
class VIPDataset(VideoSegmentationDataset):
    """VIP validation videos with class-id masks on some frames.

    Layout::

        <data_root>/VIP_Fine/Images/<video>/<frame>.jpg
        <data_root>/VIP_Fine/Annotations/Category_ids/<video>/<frame>.png
        <data_root>/VIP_Fine/lists/val_videos.txt

    Masks hold class ids (0 background, 1..19 parts), read as PNG values;
    only the annotated frames are listed in ``gt_mask_frame_indices``.

    Args:
        data_root: The folder holding ``VIP_Fine``.
        **kwargs: See :class:`VideoSegmentationDataset`.
    """

    METAINFO = dict(dataset_name='VIP', num_classes=20)

    def __init__(self, data_root: str, **kwargs) -> None:
        kwargs.setdefault('ann_file', 'VIP_Fine/lists/val_videos.txt')
        kwargs.setdefault(
            'data_prefix',
            dict(img='VIP_Fine/Images',
                 ann='VIP_Fine/Annotations/Category_ids'))
        kwargs.setdefault('annotation_coverage', 'some')
        super().__init__(data_root=data_root, **kwargs)
