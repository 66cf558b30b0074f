"""Rendered frames, masks, parts and keypoints are exact and consistent."""
import dataclasses

import numpy as np
import pytest

from mmsmtc.datasets.synthetic import render_video, sample_scene
from mmsmtc.datasets.synthetic import sampling
from mmsmtc.datasets.synthetic.benchmark import video_rng
from mmsmtc.datasets.synthetic.render import (rasterise_object,
                                              render_background)
from mmsmtc.datasets.synthetic.sampling import (MIN_VISIBLE_FRACTION,
                                                NUM_OBJECTS_RANGE)
from mmsmtc.datasets.synthetic.scene import pose_at
from mmsmtc.datasets.synthetic.shapes import ShapeSpec, part_class_ids


def _to_uint8(colours):
    return np.clip(np.rint(colours), 0, 255).astype(np.uint8)


@pytest.fixture(scope='module', params=range(4))
def scene_and_video(request):
    """A sampled scene without its appearance changes, and its video: the
    clean pixels are the textures exactly."""
    scene = sample_scene(video_rng(11, 1, request.param), 64, 96, 12)
    scene = dataclasses.replace(scene, appearance=None)
    return scene, render_video(scene)


def _full_masks(scene, frame_index):
    """Each object's unoccluded ``(H, W)`` mask and its layer."""
    masks, layers = {}, {}
    for scene_object in scene.objects:
        layer = rasterise_object(scene_object,
                                 pose_at(scene_object.motion, frame_index),
                                 scene.height, scene.width)
        full = np.zeros((scene.height, scene.width), dtype=bool)
        full[layer.rows, layer.cols] = layer.mask
        masks[scene_object.object_id] = full
        layers[scene_object.object_id] = layer
    return masks, layers


def test_shapes_of_the_rendered_arrays(scene_and_video):
    scene, video = scene_and_video
    num_points = sum(len(obj.keypoints) for obj in scene.objects)
    assert video.frames.shape == (12, 64, 96, 3)
    assert video.frames.dtype == np.uint8
    assert video.instance_masks.shape == video.part_masks.shape == (12, 64, 96)
    assert video.keypoints.shape == (12, num_points, 2)
    assert video.keypoint_visible.shape == (12, num_points)
    low, high = NUM_OBJECTS_RANGE
    assert low <= len(scene.objects) <= high


def test_masks_match_pixels_and_respect_depth(scene_and_video):
    scene, video = scene_and_video
    by_depth = sorted(scene.objects, key=lambda obj: obj.depth)
    for t in range(scene.num_frames):
        masks, layers = _full_masks(scene, t)
        expected_ids = np.zeros((scene.height, scene.width), dtype=np.uint8)
        for scene_object in by_depth:
            expected_ids[masks[scene_object.object_id]] = (
                scene_object.object_id)
        np.testing.assert_array_equal(video.instance_masks[t], expected_ids)
        background = _to_uint8(render_background(scene, t))
        shows_background = expected_ids == 0
        np.testing.assert_array_equal(video.frames[t][shows_background],
                                      background[shows_background])
        for object_id, layer in layers.items():
            shown = (expected_ids == object_id)[layer.rows, layer.cols]
            np.testing.assert_array_equal(
                video.frames[t][layer.rows, layer.cols][shown],
                _to_uint8(layer.colours[shown]))


def test_some_scene_has_occlusion():
    overlaps = 0
    for index in range(6):
        scene = sample_scene(video_rng(11, 1, index), 64, 96, 12)
        for t in range(scene.num_frames):
            masks, _ = _full_masks(scene, t)
            overlaps += (np.sum(list(masks.values()), axis=0) > 1).sum()
    assert overlaps > 0


def test_parts_partition_each_object(scene_and_video):
    scene, video = scene_and_video
    np.testing.assert_array_equal(video.part_masks > 0, video.instance_masks
                                  > 0)
    for scene_object in scene.objects:
        own = video.instance_masks == scene_object.object_id
        allowed = part_class_ids(scene_object.shape.kind)
        assert np.isin(video.part_masks[own], allowed).all()
        # Over the video every part of the object shows up.
        assert set(np.unique(video.part_masks[own])) == set(allowed)


def test_first_frame_ids_are_contiguous(scene_and_video):
    scene, video = scene_and_video
    ids = np.unique(video.instance_masks[0])
    np.testing.assert_array_equal(ids, np.arange(len(scene.objects) + 1))
    masks, _ = _full_masks(scene, 0)
    for object_id, full in masks.items():
        shown = (video.instance_masks[0] == object_id).sum()
        assert shown >= MIN_VISIBLE_FRACTION * full.sum()


def test_keypoints_move_with_their_objects(scene_and_video):
    scene, video = scene_and_video
    visible_count = 0
    for t in range(scene.num_frames):
        masks, _ = _full_masks(scene, t)
        cols = np.floor(video.keypoints[t, :, 0] + 0.5).astype(int)
        rows = np.floor(video.keypoints[t, :, 1] + 0.5).astype(int)
        assert ((cols >= 0) & (cols < scene.width) & (rows >= 0) &
                (rows < scene.height)).all()
        start = 0
        for scene_object in scene.objects:
            stop = start + len(scene_object.keypoints)
            pose = pose_at(scene_object.motion, t)
            local = np.stack(pose.to_local(video.keypoints[t, start:stop, 0],
                                           video.keypoints[t, start:stop, 1]),
                             axis=1)
            np.testing.assert_allclose(local,
                                       scene_object.keypoints,
                                       atol=1e-9)
            object_id = scene_object.object_id
            pixel_ids = video.instance_masks[t, rows[start:stop],
                                             cols[start:stop]]
            visible = video.keypoint_visible[t, start:stop]
            # Always inside the object's own (unoccluded) shape ...
            assert masks[object_id][rows[start:stop], cols[start:stop]].all()
            # ... inside its visible mask exactly when visible ...
            np.testing.assert_array_equal(visible, pixel_ids == object_id)
            # ... and hidden only behind an object in front of it.
            depth = {obj.object_id: obj.depth for obj in scene.objects}
            for occluder in pixel_ids[~visible]:
                assert depth[int(occluder)] > scene_object.depth
            visible_count += visible.sum()
            start = stop
    assert video.keypoint_visible[0].all()
    assert visible_count > 0


def test_ellipse_area_matches_geometry():
    scene = sample_scene(video_rng(5, 1, 0), 256, 256, 3)
    scene_object = scene.objects[0]
    ellipse = ShapeSpec('ellipse', (0.6, ))
    pose = pose_at(scene_object.motion, 0)
    layer = rasterise_object(
        type(scene_object)(**dict(vars(scene_object), shape=ellipse)), pose,
        256, 256)
    expected = np.pi * 0.6 * pose.scale**2
    assert abs(layer.mask.sum() - expected) < 0.03 * expected


def test_same_generator_state_gives_the_same_video():
    first = render_video(sample_scene(video_rng(2, 0, 7), 48, 64, 5))
    second = render_video(sample_scene(video_rng(2, 0, 7), 48, 64, 5))
    other = render_video(sample_scene(video_rng(2, 0, 8), 48, 64, 5))
    np.testing.assert_array_equal(first.frames, second.frames)
    assert not np.array_equal(first.frames, other.frames)


def test_bad_scene_arguments_give_clear_errors():
    with pytest.raises(ValueError, match='at least 32 pixels'):
        sample_scene(video_rng(0, 0, 0), 31, 64, 3)
    with pytest.raises(ValueError, match='num_frames must be at least 1'):
        sample_scene(video_rng(0, 0, 0), 48, 64, 0)


def test_sampling_gives_up_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(sampling, 'MIN_VISIBLE_FRACTION', 2.0)
    monkeypatch.setattr(sampling, 'MAX_ATTEMPTS', 3)
    with pytest.raises(RuntimeError, match='first-frame check in 3'):
        sample_scene(video_rng(0, 0, 0), 48, 64, 3)


def test_objects_are_textured_and_differ_from_the_background():
    for index in range(6):
        scene = sample_scene(video_rng(11, 1, index), 64, 96, 1)
        video = render_video(scene)
        frame = video.frames[0].astype(float)
        ids = video.instance_masks[0]
        background_mean = frame[ids == 0].mean(axis=0)
        # A low-contrast background: the brightness of its two tones
        # differs by at most 0.12 * 255 (edge pixels blend in objects).
        brightness = frame[ids == 0].max(axis=1)
        assert np.ptp(np.percentile(brightness, [5, 95])) < 0.13 * 255
        means = []
        for scene_object in scene.objects:
            pixels = frame[ids == scene_object.object_id]
            # Not one constant colour: the two texture tones both show.
            assert pixels.std(axis=0).max() > 3.0
            means.append(pixels.mean(axis=0))
            assert np.abs(means[-1] - background_mean).max() > 20.0
        assert len(means) >= 2
