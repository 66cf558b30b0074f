from .boundary import (boundary_f_measure, boundary_map, boundary_tolerance,
                       disk_kernel, object_boundaries, pairwise_boundary_f)
from .davis import (db_statistics, evaluate_semisupervised_sequence,
                    evaluate_sequence, evaluate_unsupervised_sequence,
                    evaluate_unsupervised_sequence_per_frame,
                    global_statistics, num_gt_objects,
                    pairwise_region_similarity, region_similarity,
                    sequence_statistics)
from .keypoints import (PCK_PROTOCOLS, ground_truth_frames, joint_hit_counts,
                        normalised_joint_distances, pck, pck_from_counts,
                        pck_protocol, pose_scales)
from .object_discovery import (adjusted_rand_index, contingency_table,
                               video_ari, video_contingency, video_mbo)
from .segmentation import (VIP_PART_CLASSES, confusion_matrix, histogram_areas,
                           histogram_counts, iou_from_areas, mean_iou,
                           nearest_resize, per_class_iou,
                           video_confusion_matrix, video_histogram_areas)
from .single_object import (frame_intersections_unions, frame_jaccard,
                            frame_mean_j, sequence_mean_j)
