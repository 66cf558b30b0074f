"""Random sampling of synthetic scenes.

Objects get saturated two-colour textures whose hues are spread around the
colour wheel, a bright and a mid tone; the background gets a muted,
low-contrast two-colour texture that drifts (its two tones differ by
:data:`BACKGROUND_VALUE_STEP` in HSV value). Objects are therefore separable
by appearance and by motion, but no object is one constant colour, and the
background stays one region for appearance-based grouping: with the strong
light/dark checkers of earlier versions a from-scratch model split the
background into as many groups as the objects. Objects deform (a
stretch of their outline) while they move. Sizes and speeds scale with
``min(H, W)`` so a scene looks the same at any frame size.

Every video also gets appearance changes (:mod:`.appearance`): drifting
and flickering brightness, contrast, saturation and hue, blurred frames
and sensor noise, so that matching raw colours between distant frames
fails where learned, augmentation-invariant features hold.

A scene is accepted when, in its first frame, every object shows at least
:data:`MIN_VISIBLE_FRACTION` of its area and all its keypoints, so that the
first-frame ids are ``1..K`` with no gap and every keypoint can be seeded.
"""
import colorsys
import dataclasses

import numpy as np

from .appearance import AppearanceSpec
from .render import project_keypoints, rasterise_object, render_frame
from .scene import MotionSpec, Scene, SceneObject, pose_at
from .shapes import SHAPE_KINDS, ShapeSpec, inscribed_radius
from .textures import TEXTURE_KINDS, TextureSpec

#: Objects per scene, inclusive bounds.
NUM_OBJECTS_RANGE = (2, 4)
#: Keypoints per object.
KEYPOINTS_PER_OBJECT = 4
#: Fraction of its area each object must show in the first frame.
MIN_VISIBLE_FRACTION = 0.5
#: Keypoints stay within this fraction of the inscribed radius.
KEYPOINT_REACH = 0.6
#: Scenes tried before giving up.
MAX_ATTEMPTS = 100
#: Smallest frame side: objects and keypoints need room.
MIN_SIDE = 32
#: Range of the HSV value difference between the background's two tones.
BACKGROUND_VALUE_STEP = (0.06, 0.12)
#: Range of the objects' deformation amplitude (:class:`.scene.MotionSpec`).
STRETCH_AMPLITUDE = (0.0, 0.2)
#: Appearance changes (:mod:`.appearance`): each of brightness (in log),
#: contrast, saturation and hue (turns) drifts as ``amplitude *
#: sin(frequency * t + phase)`` with the amplitude drawn from these ranges
#: per video, plus a per-frame jitter of the given standard deviation.
LOG_BRIGHTNESS_DRIFT, LOG_BRIGHTNESS_JITTER = (0.15, 0.4), 0.1
CONTRAST_DRIFT, CONTRAST_JITTER = (0.1, 0.3), 0.05
SATURATION_DRIFT, SATURATION_JITTER = (0.2, 0.5), 0.05
HUE_DRIFT, HUE_JITTER = (0.03, 0.08), 0.01
#: Drift frequencies, radians per frame.
DRIFT_FREQUENCY = (0.1, 0.3)
#: Probability that a frame is blurred, and its blur sigma range in pixels
#: at a 128-pixel short side (scaled with the frame).
BLUR_PROBABILITY, BLUR_SIGMA = 0.3, (0.5, 1.5)
#: Range of a video's noise standard deviation (``[0, 1]`` intensities).
NOISE_STD = (0.01, 0.03)

_NOISE_GRID_SIZE = 16


def _hsv_colour(hue: float, saturation: float, value: float) -> np.ndarray:
    """``(3,)`` float RGB in ``[0, 255]``; ``hue`` wraps around 1."""
    return 255.0 * np.array(colorsys.hsv_to_rgb(hue % 1.0, saturation, value))


def _sample_shape(rng: np.random.Generator) -> ShapeSpec:
    kind = SHAPE_KINDS[rng.integers(len(SHAPE_KINDS))]
    if kind == 'ellipse':
        params = (rng.uniform(0.45, 0.85), )
    elif kind == 'polygon':
        params = (float(rng.integers(3, 8)), )
    elif kind == 'star':
        params = (float(rng.integers(4, 8)), rng.uniform(0.45, 0.65))
    else:
        amplitudes = rng.uniform(0.05, 0.12, size=3)
        phases = rng.uniform(0.0, 2.0 * np.pi, size=3)
        params = tuple(np.stack([amplitudes, phases], axis=1).ravel())
    return ShapeSpec(kind, tuple(float(value) for value in params))


def _sample_texture(rng: np.random.Generator, colours: np.ndarray,
                    frequency_range) -> TextureSpec:
    kind = TEXTURE_KINDS[rng.integers(len(TEXTURE_KINDS))]
    return TextureSpec(kind=kind,
                       colours=colours,
                       frequency=float(rng.uniform(*frequency_range)),
                       orientation=float(rng.uniform(0.0, np.pi)),
                       noise_grid=rng.random(
                           (_NOISE_GRID_SIZE, _NOISE_GRID_SIZE)))


def _sample_object_texture(rng: np.random.Generator,
                           hue: float) -> TextureSpec:
    colours = np.stack([
        _hsv_colour(hue, rng.uniform(0.7, 1.0), rng.uniform(0.85, 1.0)),
        _hsv_colour(hue + rng.uniform(-0.04, 0.04), rng.uniform(0.7, 1.0),
                    rng.uniform(0.65, 0.8)),
    ])
    return _sample_texture(rng, colours, (1.2, 2.5))


def _sample_background(rng: np.random.Generator) -> TextureSpec:
    hue = rng.random()
    value = rng.uniform(0.35, 0.6)
    colours = np.stack([
        _hsv_colour(hue, rng.uniform(0.05, 0.25), value),
        _hsv_colour(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.05, 0.25),
                    value + rng.uniform(*BACKGROUND_VALUE_STEP)),
    ])
    return _sample_texture(rng, colours, (3.0, 6.0))


def _sample_motion(rng: np.random.Generator, height: int, width: int,
                   shape: ShapeSpec) -> MotionSpec:
    unit = min(height, width) / 128.0
    scale = rng.uniform(0.14, 0.24) * min(height, width)
    scale_amplitude = rng.uniform(0.0, 0.2)
    stretch_amplitude = rng.uniform(*STRETCH_AMPLITUDE)
    margin = (scale * (1.0 + scale_amplitude) * (1.0 + stretch_amplitude) *
              KEYPOINT_REACH * inscribed_radius(shape) + 1.0)
    low = np.array([margin, margin])
    high = np.array([width - 1.0 - margin, height - 1.0 - margin])
    direction = rng.uniform(0.0, 2.0 * np.pi)
    speed = rng.uniform(0.5, 2.5) * unit
    return MotionSpec(
        start=rng.uniform(low, high),
        velocity=speed *
        np.array([np.cos(direction), np.sin(direction)]),
        wobble_amplitude=rng.uniform(0.0, 3.0, size=2) * unit,
        wobble_frequency=float(rng.uniform(0.1, 0.4)),
        wobble_phase=float(rng.uniform(0.0, 2.0 * np.pi)),
        low=low,
        high=high,
        angle=float(rng.uniform(0.0, 2.0 * np.pi)),
        angular_velocity=float(rng.uniform(-0.06, 0.06)),
        scale=float(scale),
        scale_amplitude=float(scale_amplitude),
        scale_frequency=float(rng.uniform(0.05, 0.2)),
        scale_phase=float(rng.uniform(0.0, 2.0 * np.pi)),
        stretch_amplitude=float(stretch_amplitude),
        stretch_frequency=float(rng.uniform(0.05, 0.25)),
        stretch_phase=float(rng.uniform(0.0, 2.0 * np.pi)))


def _sample_keypoints(rng: np.random.Generator,
                      shape: ShapeSpec) -> np.ndarray:
    """``(KEYPOINTS_PER_OBJECT, 2)`` local points spread around the centre,
    inside the inscribed disc."""
    angles = (
        rng.uniform(0.0, 2.0 * np.pi) +
        np.arange(KEYPOINTS_PER_OBJECT) * 2.0 * np.pi / KEYPOINTS_PER_OBJECT +
        rng.uniform(-0.3, 0.3, size=KEYPOINTS_PER_OBJECT))
    radii = (KEYPOINT_REACH * inscribed_radius(shape) *
             rng.uniform(0.35, 1.0, size=KEYPOINTS_PER_OBJECT))
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def _sample_candidate(rng: np.random.Generator, height: int, width: int,
                      num_frames: int) -> Scene:
    num_objects = int(
        rng.integers(NUM_OBJECTS_RANGE[0], NUM_OBJECTS_RANGE[1] + 1))
    first_hue = rng.random()
    depths = rng.permutation(num_objects)
    objects = []
    for index in range(num_objects):
        shape = _sample_shape(rng)
        hue = (first_hue + index / num_objects + rng.uniform(-0.04, 0.04))
        objects.append(
            SceneObject(object_id=index + 1,
                        depth=int(depths[index]),
                        shape=shape,
                        texture=_sample_object_texture(rng, hue),
                        motion=_sample_motion(rng, height, width, shape),
                        part_angle=float(rng.uniform(0.0, 2.0 * np.pi)),
                        keypoints=_sample_keypoints(rng, shape)))
    drift_angle = rng.uniform(0.0, 2.0 * np.pi)
    drift = rng.uniform(0.003, 0.012) * np.array(
        [np.cos(drift_angle), np.sin(drift_angle)])
    return Scene(height, width, num_frames, _sample_background(rng), drift,
                 tuple(objects))


def _drift(rng: np.random.Generator, amplitude_range, jitter: float,
           num_frames: int) -> np.ndarray:
    """``(T,)`` smooth sinusoidal drift plus per-frame Gaussian jitter."""
    t = np.arange(num_frames, dtype=np.float64)
    amplitude = rng.uniform(*amplitude_range)
    frequency = rng.uniform(*DRIFT_FREQUENCY)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    return (amplitude * np.sin(frequency * t + phase) +
            jitter * rng.standard_normal(num_frames))


def sample_appearance(rng: np.random.Generator, num_frames: int,
                      short_side: int) -> AppearanceSpec:
    """Draw a video's appearance changes (see the constants above).

    Args:
        rng: The video's generator.
        num_frames: ``T``.
        short_side: ``min(H, W)``; blur scales with it.
    """
    unit = short_side / 128.0
    blurred = rng.random(num_frames) < BLUR_PROBABILITY
    blur_sigma = np.where(blurred,
                          rng.uniform(*BLUR_SIGMA, size=num_frames) * unit,
                          0.0)
    return AppearanceSpec(
        brightness=np.exp(
            _drift(rng, LOG_BRIGHTNESS_DRIFT, LOG_BRIGHTNESS_JITTER,
                   num_frames)),
        contrast=np.maximum(
            1.0 + _drift(rng, CONTRAST_DRIFT, CONTRAST_JITTER, num_frames),
            0.2),
        saturation=np.maximum(
            1.0 +
            _drift(rng, SATURATION_DRIFT, SATURATION_JITTER, num_frames),
            0.0),
        hue=_drift(rng, HUE_DRIFT, HUE_JITTER, num_frames),
        blur_sigma=blur_sigma,
        noise_std=np.full(num_frames, rng.uniform(*NOISE_STD)),
        noise_seed=int(rng.integers(2**32)))


def _first_frame_is_valid(scene: Scene) -> bool:
    """Every object shows enough of itself and all its keypoints."""
    _, instance_mask, _ = render_frame(scene, 0)
    _, _, visible = project_keypoints(scene, 0, instance_mask)
    if not visible.all():
        return False
    for scene_object in scene.objects:
        layer = rasterise_object(scene_object, pose_at(scene_object.motion, 0),
                                 scene.height, scene.width)
        full_area = layer.mask.sum()
        shown_area = (instance_mask == scene_object.object_id).sum()
        if shown_area < MIN_VISIBLE_FRACTION * full_area:
            return False
    return True


def sample_scene(rng: np.random.Generator, height: int, width: int,
                 num_frames: int) -> Scene:
    """Draw scenes from ``rng`` until one passes the first-frame check.

    Args:
        rng: The video's random generator; the scene is a pure function of
            its state.
        height, width: Frame size in pixels.
        num_frames: Video length ``T``.

    Returns:
        Scene: The accepted scene.

    Raises:
        ValueError: If a side is below :data:`MIN_SIDE` pixels or
            ``num_frames`` is below 1.
        RuntimeError: If :data:`MAX_ATTEMPTS` scenes all fail the check.
    """
    if min(height, width) < MIN_SIDE:
        raise ValueError(f'frame size ({height}, {width}) (H, W) is too '
                         f'small: each side must be at least {MIN_SIDE} '
                         'pixels')
    if num_frames < 1:
        raise ValueError(f'num_frames must be at least 1, got {num_frames}')
    for _ in range(MAX_ATTEMPTS):
        scene = _sample_candidate(rng, height, width, num_frames)
        if _first_frame_is_valid(scene):
            return dataclasses.replace(
                scene,
                appearance=sample_appearance(rng, num_frames,
                                             min(height, width)))
    raise RuntimeError(
        f'no synthetic scene of {height}x{width} pixels passed the '
        f'first-frame check in {MAX_ATTEMPTS} attempts')
