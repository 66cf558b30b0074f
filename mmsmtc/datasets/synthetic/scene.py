"""The description of one synthetic video: background, objects, motion.

A :class:`Scene` holds everything needed to render a video; rendering is a
pure function of it (:mod:`.render`). Coordinates are continuous pixel
coordinates ``(x, y)`` with pixel ``(row, col)`` centred on
``(x, y) = (col, row)``; angles are in radians from the x axis towards
the y axis (clockwise on screen, as y points down the image).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .appearance import AppearanceSpec
from .shapes import ShapeSpec
from .textures import TextureSpec


@dataclass(frozen=True, eq=False)
class MotionSpec:
    """Trajectory of an object's pose over time.

    The centre follows ``start + velocity * t + wobble_amplitude *
    sin(wobble_frequency * t + wobble_phase)`` folded back into
    ``[low, high]`` per axis (the object bounces off those bounds); the
    angle turns at a constant rate; the scale (pixels per object-local
    unit) breathes sinusoidally; the outline deforms: the object's local x
    axis is stretched by ``1 + stretch_amplitude * sin(stretch_frequency *
    t + stretch_phase)`` and its local y axis by the inverse (area kept).

    Attributes:
        start, velocity, wobble_amplitude: ``(2,)`` float ``(x, y)``
            pixels, pixels per frame, pixels.
        wobble_frequency, wobble_phase: Radians per frame, radians.
        low, high: ``(2,)`` float bounds of the centre.
        angle, angular_velocity: Radians, radians per frame.
        scale, scale_amplitude, scale_frequency, scale_phase: Scale at
            rest in pixels, relative amplitude, radians per frame, radians.
        stretch_amplitude, stretch_frequency, stretch_phase: Deformation
            amplitude (below 1), radians per frame, radians.
    """

    start: np.ndarray
    velocity: np.ndarray
    wobble_amplitude: np.ndarray
    wobble_frequency: float
    wobble_phase: float
    low: np.ndarray
    high: np.ndarray
    angle: float
    angular_velocity: float
    scale: float
    scale_amplitude: float
    scale_frequency: float
    scale_phase: float
    stretch_amplitude: float = 0.0
    stretch_frequency: float = 0.0
    stretch_phase: float = 0.0


@dataclass(frozen=True, eq=False)
class Pose:
    """Object pose in one frame: ``centre`` ``(2,)`` float ``(x, y)``,
    ``angle`` (radians), ``scale`` (pixels per local unit) and ``stretch``
    (local x scaled by it, local y by its inverse)."""

    centre: np.ndarray
    angle: float
    scale: float
    stretch: float = 1.0

    def to_image(self, local_points: np.ndarray) -> np.ndarray:
        """Map ``(..., 2)`` object-local ``(x, y)`` to image ``(x, y)``."""
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        local_x = local_points[..., 0] * self.stretch
        local_y = local_points[..., 1] / self.stretch
        image_x = self.centre[0] + self.scale * (cos * local_x - sin * local_y)
        image_y = self.centre[1] + self.scale * (sin * local_x + cos * local_y)
        return np.stack([image_x, image_y], axis=-1)

    def to_local(self, image_x: np.ndarray, image_y: np.ndarray):
        """Map image coordinates (arrays of equal shape) to object-local
        ``(local_x, local_y)``; the inverse of :meth:`to_image`."""
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        shifted_x = (image_x - self.centre[0]) / self.scale
        shifted_y = (image_y - self.centre[1]) / self.scale
        return ((cos * shifted_x + sin * shifted_y) / self.stretch,
                (-sin * shifted_x + cos * shifted_y) * self.stretch)


def _fold_into(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect ``values`` at ``low`` and ``high`` until they lie between."""
    span = high - low
    phase = np.mod(values - low, 2.0 * span)
    return low + np.where(phase <= span, phase, 2.0 * span - phase)


def pose_at(motion: MotionSpec, frame_index: int) -> Pose:
    """The pose of an object in frame ``frame_index`` (0-based)."""
    t = float(frame_index)
    free = (motion.start + motion.velocity * t + motion.wobble_amplitude *
            np.sin(motion.wobble_frequency * t + motion.wobble_phase))
    centre = np.array([
        _fold_into(free[axis], motion.low[axis], motion.high[axis])
        for axis in range(2)
    ])
    scale = motion.scale * (
        1.0 + motion.scale_amplitude *
        np.sin(motion.scale_frequency * t + motion.scale_phase))
    stretch = 1.0 + motion.stretch_amplitude * np.sin(
        motion.stretch_frequency * t + motion.stretch_phase)
    return Pose(centre, motion.angle + motion.angular_velocity * t,
                float(scale), float(stretch))


@dataclass(frozen=True, eq=False)
class SceneObject:
    """One textured object.

    Attributes:
        object_id: Its id in the instance masks, ``1..K``.
        depth: Stacking rank; an object with a larger depth is drawn in
            front of one with a smaller depth.
        shape: Its outline.
        texture: Its texture, in object-local coordinates.
        motion: Its trajectory.
        part_angle: Local angle where the first part sector starts; the
            object is split into ``PARTS_PER_KIND[shape.kind]`` equal
            angular sectors from there.
        keypoints: ``(P, 2)`` float object-local ``(x, y)`` points inside
            the inscribed disc of the shape.
    """

    object_id: int
    depth: int
    shape: ShapeSpec
    texture: TextureSpec
    motion: MotionSpec
    part_angle: float
    keypoints: np.ndarray


@dataclass(frozen=True, eq=False)
class Scene:
    """A whole video.

    Attributes:
        height, width, num_frames: Frame size and length.
        background: The background texture, evaluated at frame
            coordinates divided by ``min(height, width)`` plus the drift.
        background_drift: ``(2,)`` float texture-coordinate shift per frame.
        objects: The objects in id order (ids ``1..K``).
        appearance: How each frame's light and camera change its look
            (:mod:`.appearance`); None renders the clean frames.
    """

    height: int
    width: int
    num_frames: int
    background: TextureSpec
    background_drift: np.ndarray
    objects: Tuple[SceneObject, ...]
    appearance: Optional[AppearanceSpec] = None
