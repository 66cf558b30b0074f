"""Appearance changes over time and deforming objects (generator v3)."""
import dataclasses

import numpy as np
import pytest

from mmsmtc.datasets.synthetic import render_video, sample_scene
from mmsmtc.datasets.synthetic.appearance import (AppearanceSpec,
                                                  apply_appearance)
from mmsmtc.datasets.synthetic.benchmark import video_rng
from mmsmtc.datasets.synthetic.scene import Pose


@pytest.fixture(scope='module')
def scene():
    return sample_scene(video_rng(5, 1, 0), 48, 64, 8)


def _luma(image):
    return image @ np.array([0.299, 0.587, 0.114])


def _single_change(num_frames=1, **changes):
    spec = AppearanceSpec.unchanged(num_frames)
    return dataclasses.replace(
        spec, **{name: np.full(num_frames, value)
                 for name, value in changes.items()})


def test_unchanged_appearance_renders_the_clean_frames(scene):
    clean = render_video(dataclasses.replace(scene, appearance=None))
    same = render_video(
        dataclasses.replace(scene,
                            appearance=AppearanceSpec.unchanged(8)))
    np.testing.assert_array_equal(same.frames, clean.frames)


def test_appearance_changes_pixels_but_not_annotations(scene):
    assert scene.appearance is not None
    changed = render_video(scene)
    clean = render_video(dataclasses.replace(scene, appearance=None))
    np.testing.assert_array_equal(changed.instance_masks,
                                  clean.instance_masks)
    np.testing.assert_array_equal(changed.part_masks, clean.part_masks)
    np.testing.assert_array_equal(changed.keypoints, clean.keypoints)
    difference = np.abs(
        changed.frames.astype(float) - clean.frames).mean(axis=(1, 2, 3))
    assert (difference > 2.0).all()
    # the same scene renders the same frames (noise seeded per frame)
    np.testing.assert_array_equal(render_video(scene).frames, changed.frames)


def test_each_change_on_hand_cases():
    grey = np.full((4, 4, 3), 100.0)
    colour = np.zeros((4, 4, 3))
    colour[..., 0] = 200.0
    # brightness scales; values are clipped to [0, 255]
    np.testing.assert_allclose(
        apply_appearance(grey, _single_change(brightness=1.5), 0), 150.0)
    np.testing.assert_allclose(
        apply_appearance(grey, _single_change(brightness=3.0), 0), 255.0)
    # a grey frame has no chroma: hue and saturation leave it alone
    np.testing.assert_allclose(
        apply_appearance(grey, _single_change(hue=0.3, saturation=0.2), 0),
        100.0)
    # saturation 0 gives the luma; a hue rotation keeps the luma
    desaturated = apply_appearance(colour, _single_change(saturation=0.0), 0)
    np.testing.assert_allclose(desaturated, 0.299 * 200.0)
    rotated = apply_appearance(colour, _single_change(hue=0.25), 0)
    assert np.abs(rotated - colour).max() > 50
    # a whole turn is the identity
    np.testing.assert_allclose(
        apply_appearance(colour, _single_change(hue=1.0), 0), colour,
        atol=1e-9)
    # contrast pulls towards the mean luma
    half = np.concatenate([np.zeros((2, 4, 3)), np.full((2, 4, 3), 200.)])
    np.testing.assert_allclose(
        apply_appearance(half, _single_change(contrast=0.5), 0),
        np.concatenate([np.full((2, 4, 3), 50.), np.full((2, 4, 3), 150.)]))


def test_blur_keeps_the_mean_and_smooths_an_edge():
    edge = np.zeros((9, 9, 3))
    edge[:, 5:] = 255.0
    blurred = apply_appearance(edge, _single_change(blur_sigma=1.0), 0)
    assert blurred[:, 4, 0].min() > 0 and blurred[:, 5, 0].max() < 255
    np.testing.assert_allclose(blurred[:, 0], 0.0, atol=1e-3)
    # below the threshold nothing happens
    np.testing.assert_array_equal(
        apply_appearance(edge, _single_change(blur_sigma=0.2), 0), edge)


def test_noise_is_seeded_per_frame():
    grey = np.full((16, 16, 3), 128.0)
    spec = dataclasses.replace(_single_change(num_frames=2, noise_std=0.05),
                               noise_seed=7)
    first = apply_appearance(grey, spec, 0)
    np.testing.assert_array_equal(first, apply_appearance(grey, spec, 0))
    assert not np.array_equal(first, apply_appearance(grey, spec, 1))
    assert 0.03 < np.std(first / 255.0) < 0.07


@pytest.mark.parametrize('stretch', [0.8, 1.0, 1.25])
def test_stretched_pose_round_trips(stretch):
    pose = Pose(np.array([10.0, 7.0]), 0.4, 3.0, stretch)
    local = np.array([[0.5, -0.2], [1.0, 0.0], [0.0, 1.0]])
    image = pose.to_image(local)
    back_x, back_y = pose.to_local(image[:, 0], image[:, 1])
    np.testing.assert_allclose(np.stack([back_x, back_y], axis=1), local,
                               atol=1e-12)
    # the local x axis is stretched, the local y axis shrunk
    np.testing.assert_allclose(
        np.linalg.norm(image[1] - pose.centre), 3.0 * stretch)
    np.testing.assert_allclose(
        np.linalg.norm(image[2] - pose.centre), 3.0 / stretch)
