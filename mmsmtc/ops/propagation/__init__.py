"""Label propagation (CRW / SMTC protocol) and its pre/post-processing.

The exact, streaming core that models (``LabelPropagator``) and the
inference APIs (:func:`mmsmtc.apis.propagate_labels`) use.
"""
from .dense_reference import propagate_labels_dense
from .keypoints import (image_joint_label_maps, joint_label_maps,
                        joints_to_grid, read_out_keypoints,
                        read_out_keypoints_at_image)
from .postprocessing import (minmax_soft_labels_to_ids, nearest_ids_to_image,
                             soft_labels_to_ids)
from .preprocessing import (JHMDB_INPUT_SIZE, VIP_INPUT_SIZE, VIP_NUM_CLASSES,
                            first_frame_labels, first_frame_labels_nearest,
                            label_grid_size, pil_nearest_resize, resize_linear)
from .propagate import propagate_labels
from .streaming import StreamingLabelPropagation

__all__ = [
    'JHMDB_INPUT_SIZE', 'StreamingLabelPropagation', 'VIP_INPUT_SIZE',
    'VIP_NUM_CLASSES', 'first_frame_labels', 'first_frame_labels_nearest',
    'image_joint_label_maps', 'joint_label_maps', 'joints_to_grid',
    'label_grid_size', 'minmax_soft_labels_to_ids', 'nearest_ids_to_image',
    'pil_nearest_resize', 'propagate_labels', 'propagate_labels_dense',
    'read_out_keypoints', 'read_out_keypoints_at_image', 'resize_linear',
    'soft_labels_to_ids'
]
