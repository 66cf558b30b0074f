"""Rendering a :class:`~.scene.Scene` into frames, masks and keypoints.

Objects are drawn back to front (ascending ``depth``) with hard edges, so
the instance mask is exact: a pixel carries object ``k`` exactly when its
centre lies inside object ``k`` and inside no object in front of it, and
then its clean colour is object ``k``'s texture at that point. The scene's
appearance changes (:mod:`.appearance`) then act on the whole frame.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .appearance import apply_appearance
from .scene import Pose, Scene, SceneObject, pose_at
from .shapes import (circumscribed_radius, contains, part_class_ids,
                     PARTS_PER_KIND)
from .textures import texture_colours


@dataclass(frozen=True, eq=False)
class ObjectLayer:
    """One object rasterised on the pixels of its bounding box.

    Attributes:
        rows, cols: Slices of the frame covered by the box (may be empty).
        mask: ``(h, w)`` bool, pixel centres inside the object.
        colours: ``(h, w, 3)`` float RGB in ``[0, 255]`` of its texture.
        parts: ``(h, w)`` uint8 part class ids inside ``mask``, 0 outside.
    """

    rows: slice
    cols: slice
    mask: np.ndarray
    colours: np.ndarray
    parts: np.ndarray


@dataclass(frozen=True, eq=False)
class RenderedVideo:
    """Frames and annotations of one video (``T`` frames of ``H x W``,
    ``J`` keypoints).

    Attributes:
        frames: ``(T, H, W, 3)`` uint8 RGB.
        instance_masks: ``(T, H, W)`` uint8 object ids, 0 background.
        part_masks: ``(T, H, W)`` uint8 part class ids, 0 background.
        keypoints: ``(T, J, 2)`` float64 ``(x, y)`` 0-based pixel
            coordinates (pixel centres on integers), occluded or not.
        keypoint_object_ids: ``(J,)`` uint8 the object carrying each point.
        keypoint_visible: ``(T, J)`` bool, the pixel nearest to the point
            lies in the frame and shows its object.
    """

    frames: np.ndarray
    instance_masks: np.ndarray
    part_masks: np.ndarray
    keypoints: np.ndarray
    keypoint_object_ids: np.ndarray
    keypoint_visible: np.ndarray


def rasterise_object(scene_object: SceneObject, pose: Pose, height: int,
                     width: int) -> ObjectLayer:
    """Rasterise one object in the pose ``pose`` on an ``height x width``
    frame, ignoring other objects."""
    reach = (pose.scale * max(pose.stretch, 1.0 / pose.stretch) *
             circumscribed_radius(scene_object.shape))
    centre_x, centre_y = pose.centre
    rows = slice(int(np.clip(np.floor(centre_y - reach), 0, height)),
                 int(np.clip(np.ceil(centre_y + reach) + 1, 0, height)))
    cols = slice(int(np.clip(np.floor(centre_x - reach), 0, width)),
                 int(np.clip(np.ceil(centre_x + reach) + 1, 0, width)))
    image_y, image_x = np.mgrid[rows, cols].astype(np.float64)
    local_x, local_y = pose.to_local(image_x, image_y)
    mask = contains(scene_object.shape, local_x, local_y)
    colours = texture_colours(scene_object.texture, local_x, local_y)
    num_parts = PARTS_PER_KIND[scene_object.shape.kind]
    sector_angle = np.mod(
        np.arctan2(local_y, local_x) - scene_object.part_angle, 2.0 * np.pi)
    sector = np.minimum(
        np.floor(sector_angle / (2.0 * np.pi / num_parts)).astype(np.int64),
        num_parts - 1)
    class_ids = np.asarray(part_class_ids(scene_object.shape.kind),
                           dtype=np.uint8)
    parts = np.where(mask, class_ids[sector], 0).astype(np.uint8)
    return ObjectLayer(rows, cols, mask, colours, parts)


def render_background(scene: Scene, frame_index: int) -> np.ndarray:
    """The background of frame ``frame_index`` as ``(H, W, 3)`` float RGB."""
    unit = float(min(scene.height, scene.width))
    image_y, image_x = np.mgrid[0:scene.height, 0:scene.width]
    shift = scene.background_drift * frame_index
    return texture_colours(scene.background, image_x / unit + shift[0],
                           image_y / unit + shift[1])


def render_frame(
        scene: Scene,
        frame_index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one frame, with the scene's appearance changes.

    Returns:
        tuple: ``(frame, instance_mask, part_mask)``: ``(H, W, 3)`` uint8
        RGB, ``(H, W)`` uint8 object ids and ``(H, W)`` uint8 part ids.
    """
    canvas = render_background(scene, frame_index)
    instance_mask = np.zeros((scene.height, scene.width), dtype=np.uint8)
    part_mask = np.zeros_like(instance_mask)
    for scene_object in sorted(scene.objects, key=lambda obj: obj.depth):
        layer = rasterise_object(scene_object,
                                 pose_at(scene_object.motion, frame_index),
                                 scene.height, scene.width)
        box = (layer.rows, layer.cols)
        canvas[box][layer.mask] = layer.colours[layer.mask]
        instance_mask[box][layer.mask] = scene_object.object_id
        part_mask[box][layer.mask] = layer.parts[layer.mask]
    if scene.appearance is not None:
        canvas = apply_appearance(canvas, scene.appearance, frame_index)
    frame = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return frame, instance_mask, part_mask


def project_keypoints(scene: Scene, frame_index: int,
                      instance_mask: np.ndarray):
    """Image positions and visibility of every object's keypoints.

    Args:
        scene: The scene.
        frame_index: The frame.
        instance_mask: ``(H, W)`` uint8 ids of that frame.

    Returns:
        tuple: ``(keypoints, object_ids, visible)``: ``(J, 2)`` float64
        ``(x, y)``, ``(J,)`` uint8 and ``(J,)`` bool; a point is visible
        when its nearest pixel (halves rounded up) is in the frame and
        carries its object's id.
    """
    points, owners = [], []
    for scene_object in scene.objects:
        pose = pose_at(scene_object.motion, frame_index)
        points.append(pose.to_image(scene_object.keypoints))
        owners.append(
            np.full(len(scene_object.keypoints),
                    scene_object.object_id,
                    dtype=np.uint8))
    keypoints = np.concatenate(points)
    object_ids = np.concatenate(owners)
    cols = np.floor(keypoints[:, 0] + 0.5).astype(np.int64)
    rows = np.floor(keypoints[:, 1] + 0.5).astype(np.int64)
    inside = ((cols >= 0) & (cols < scene.width) & (rows >= 0) &
              (rows < scene.height))
    visible = np.zeros(len(keypoints), dtype=bool)
    visible[inside] = (instance_mask[rows[inside],
                                     cols[inside]] == object_ids[inside])
    return keypoints, object_ids, visible


def render_video(scene: Scene) -> RenderedVideo:
    """Render every frame of ``scene`` with its masks and keypoints."""
    frames, instances, parts, keypoints, visible = [], [], [], [], []
    object_ids = np.zeros(0, dtype=np.uint8)
    for frame_index in range(scene.num_frames):
        frame, instance_mask, part_mask = render_frame(scene, frame_index)
        points, object_ids, point_visible = project_keypoints(
            scene, frame_index, instance_mask)
        frames.append(frame)
        instances.append(instance_mask)
        parts.append(part_mask)
        keypoints.append(points)
        visible.append(point_visible)
    return RenderedVideo(frames=np.stack(frames),
                         instance_masks=np.stack(instances),
                         part_masks=np.stack(parts),
                         keypoints=np.stack(keypoints),
                         keypoint_object_ids=object_ids,
                         keypoint_visible=np.stack(visible))
