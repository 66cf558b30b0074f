"""The data structure that carries one video (or clip) through mmsmtc."""
from mmengine.structures import BaseDataElement


class VideoDataSample(BaseDataElement):
    """Annotations, meta information and predictions of one video or clip.

    Test-time datasets yield one whole video per sample, training datasets
    one clip. Fields follow one convention everywhere (``T`` frames of the
    sample, ``H x W`` the original frame size, ``J`` joints):

    Meta information (``sample.metainfo``):
        - ``video_name`` (str): sequence name, e.g. ``'bike-packing'``.
        - ``frame_names`` (list[str]): the ``T`` frame file stems, in order,
          exactly as on disk (``'00000'``, ``'00002058'``, ...).
        - ``frame_paths`` (list[str]): the ``T`` frame files.
        - ``ori_shape`` (tuple[int, int]): ``(H, W)`` of the frames.
        - ``num_frames`` (int): ``T``.

    Ground truth (absent where the benchmark has none):
        - ``gt_masks`` (np.ndarray): ``(T_a, H, W)`` uint8 ids of the
          annotated frames (object ids for DAVIS, SegTrack-v2 and FBMS-59,
          class ids for VIP; 255 is void).
        - ``gt_mask_frame_indices`` (np.ndarray): ``(T_a,)`` int64 positions
          of those frames in the video.
        - ``gt_keypoints`` (np.ndarray): ``(T_gt, J, 2)`` float32 ``(x, y)``
          pixel coordinates of the first T_gt <= T frames (JHMDB).

    Predictions (written by the model or an inference pipeline):
        - ``pred_masks`` (np.ndarray): ``(T, H, W)`` uint8 ids.
        - ``pred_keypoints`` (np.ndarray): ``(T, J, 2)`` float32 ``(x, y)``,
          ``(-1, -1)`` for an invisible joint.
        - ``pred_object_scores`` (np.ndarray): ``(K,)`` score of the
          discovered objects ``1..K``.
        - the per-slot outputs of object-centric models (``K`` masks per
          frame at the feature grid, the discovery contract of
          :mod:`mmsmtc.models.discovery.inputs`): ``pred_slot_masks``
          ``(T, K, h, w)``, ``pred_slot_scores`` ``(T, K)``,
          ``pred_slot_embeddings`` ``(T, K, D)``, ``pred_slot_groups``
          ``(K,)``, ``pred_group_maps`` ``(T, G, h, w)``; the meta
          information ``mask_fields`` names those a visualisation draws.
    """


#: Name given to a sample without ``video_name`` in messages.
UNNAMED_VIDEO = '<unnamed video>'


def video_name(sample) -> str:
    """The ``video_name`` of a data sample (a ``VideoDataSample`` or the
    flat dict of one), for messages and file names; ``'<unnamed video>'``
    when it has none."""
    if isinstance(sample, BaseDataElement):
        return str(sample.metainfo.get('video_name', UNNAMED_VIDEO))
    return str(sample.get('video_name', UNNAMED_VIDEO))
