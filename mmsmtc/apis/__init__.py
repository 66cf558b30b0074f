"""High-level inference APIs of mmsmtc."""
from mmsmtc.ops import resize_frames, resize_to_multiple
from mmsmtc.ops.propagation import (JHMDB_INPUT_SIZE, VIP_INPUT_SIZE,
                                    VIP_NUM_CLASSES, StreamingLabelPropagation,
                                    first_frame_labels,
                                    first_frame_labels_nearest,
                                    image_joint_label_maps, joint_label_maps,
                                    joints_to_grid, label_grid_size,
                                    minmax_soft_labels_to_ids,
                                    nearest_ids_to_image, pil_nearest_resize,
                                    propagate_labels, propagate_labels_dense,
                                    read_out_keypoints,
                                    read_out_keypoints_at_image, resize_linear,
                                    soft_labels_to_ids)
from .video_inference import (init_video_segmentor, read_first_mask,
                              save_video_predictions, segment_video)
from .video_io import open_video, video_name_from_path, write_overlay_video

__all__ = [
    'JHMDB_INPUT_SIZE', 'StreamingLabelPropagation', 'VIP_INPUT_SIZE',
    'VIP_NUM_CLASSES', 'first_frame_labels', 'first_frame_labels_nearest',
    'image_joint_label_maps', 'joint_label_maps', 'joints_to_grid',
    'label_grid_size', 'minmax_soft_labels_to_ids', 'nearest_ids_to_image',
    'pil_nearest_resize', 'propagate_labels', 'propagate_labels_dense',
    'read_out_keypoints', 'read_out_keypoints_at_image', 'resize_frames',
    'resize_linear', 'resize_to_multiple', 'soft_labels_to_ids',
    'init_video_segmentor', 'open_video', 'read_first_mask',
    'save_video_predictions', 'segment_video', 'video_name_from_path',
    'write_overlay_video'
]
