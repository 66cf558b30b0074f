"""Pre- and post-processing of the label-propagation protocol."""
import math

import cv2
import numpy as np
import pytest
import torch

from mmsmtc.apis import (first_frame_labels, joint_label_maps, joints_to_grid,
                         label_grid_size, read_out_keypoints, resize_linear,
                         soft_labels_to_ids)


def test_label_grid_size_floor_and_ceil():
    assert label_grid_size(480, 854, 16) == (30, 53)
    assert label_grid_size(480, 854, 8) == (60, 106)
    assert label_grid_size(1080, 1920, 8) == (135, 240)
    assert label_grid_size(321, 320, 8, rounding='ceil') == (41, 40)
    with pytest.raises(ValueError, match='rounding'):
        label_grid_size(10, 10, 2, rounding='round')
    with pytest.raises(ValueError, match='empty label grid'):
        label_grid_size(4, 40, 8)


def test_first_frame_labels_by_hand_with_non_contiguous_ids():
    annotation = np.array([[0, 3, 7, 7], [0, 0, 3, 7]], dtype=np.uint8)
    labels, values = first_frame_labels(annotation, (1, 2))
    assert values.tolist() == [0, 3, 7]
    # Half-pixel centres at an exact 2x reduction: the mean of 2x2 blocks.
    expected = torch.tensor([[[0.75, 0.0]], [[0.25, 0.25]], [[0.0, 0.75]]])
    assert torch.allclose(labels, expected)


def test_first_frame_labels_match_opencv_inter_linear():
    rng = np.random.default_rng(1)
    annotation = rng.choice([0, 2, 9], size=(37, 53)).astype(np.uint8)
    for grid in [(5, 7), (4, 6), (60, 90)]:
        labels, values = first_frame_labels(annotation, grid)
        one_hot = (annotation[..., None] == values).astype(np.float32)
        expected = cv2.resize(one_hot, grid[::-1])
        assert np.abs(labels.permute(1, 2, 0).numpy() -
                      expected).max() < 1e-6


def test_first_frame_labels_with_fixed_values_and_errors():
    annotation = np.array([[0, 1], [4, 4]])
    labels, values = first_frame_labels(annotation, (2, 2), values=range(6))
    assert labels.shape == (6, 2, 2)
    assert labels[[2, 3, 5]].abs().sum() == 0
    with pytest.raises(ValueError, match='has no object'):
        first_frame_labels(np.zeros((4, 4), np.uint8), (2, 2))
    with pytest.raises(ValueError, match=r'ids \[4\]'):
        first_frame_labels(annotation, (2, 2), values=[0, 1])
    with pytest.raises(ValueError, match='annotation must be'):
        first_frame_labels(np.zeros((2, 2, 3)), (2, 2))


def test_resize_linear_handles_many_channels():
    maps = np.random.default_rng(2).random((9, 11, 600), dtype=np.float32)
    out = resize_linear(maps, (4, 5))
    expected = np.stack([
        cv2.resize(maps[..., c], (5, 4)) for c in range(600)], -1)
    assert np.array_equal(out, expected)


def test_soft_labels_to_ids_upsamples_then_argmax_by_hand():
    values = np.array([0, 3, 7], dtype=np.uint8)
    soft = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[0.0, 0.0]]])
    # Half-pixel upsampling of [1, 0] to 4 columns: [1, .75, .25, 0].
    ids = soft_labels_to_ids(soft, values, (1, 4))
    assert ids.tolist() == [[0, 0, 3, 3]]
    assert ids.dtype == np.uint8


def test_soft_labels_to_ids_ties_go_to_the_lowest_channel():
    values = np.array([0, 3, 7])
    tied = torch.tensor([[[0.2, 0.2]], [[0.4, 0.4]], [[0.4, 0.4]]])
    assert soft_labels_to_ids(tied, values, (2, 3)).tolist() == [[3] * 3] * 2
    all_equal = torch.full((3, 2, 2), 0.5)
    assert (soft_labels_to_ids(all_equal, values, (3, 3)) == 0).all()


def test_soft_labels_to_ids_matches_official_multichannel_resize():
    rng = np.random.default_rng(3)
    soft = rng.random((5, 6, 9), dtype=np.float32)
    values = np.array([0, 1, 2, 5, 9])
    official = values[np.argmax(
        cv2.resize(soft.transpose(1, 2, 0), (70, 47)), axis=-1)]
    ids = soft_labels_to_ids(torch.from_numpy(soft), values, (47, 70))
    assert np.array_equal(ids, official)
    with pytest.raises(ValueError, match='len\\(values\\)'):
        soft_labels_to_ids(torch.from_numpy(soft), values[:3], (4, 4))


def test_joints_to_grid_scales_like_the_official_loader():
    joints = np.array([[159.0, 119.0], [0.0, 0.0]])
    grid = joints_to_grid(joints, (240, 320), stride=8)
    assert np.allclose(grid, [[159 / 8, 119 * 320 / 240 / 8], [0, 0]])


def test_joint_label_maps_by_hand():
    maps = joint_label_maps(
        np.array([[5.3, 4.0], [1.0, 7.0], [-5.0, 3.0]]), (10, 10))
    assert maps.shape == (4, 10, 10)
    first = maps[1]
    # Window of 4 cells starting at int(x - 1.5), centre sample (index 2).
    assert first[4, 5] == 1
    assert math.isclose(first[4, 4].item(), math.exp(-2), rel_tol=1e-6)
    assert math.isclose(first[5, 6].item(), math.exp(-4), rel_tol=1e-6)
    assert math.isclose(first[2, 3].item(), math.exp(-16), rel_tol=1e-5)
    assert first[1:6, 2:8].count_nonzero() == 16
    assert first.count_nonzero() == 16
    # x = 1.0 starts the window at int(-0.5) = 0: the peak lands on x = 2.
    assert maps[2][7, 2] == 1 and maps[2][7, 1] < 1
    # A joint far outside the grid draws nothing.
    assert maps[3].count_nonzero() == 0
    # Background is 1 exactly where no joint map is non-zero.
    expected_background = (maps[1:].sum(0) == 0).float()
    assert torch.equal(maps[0], expected_background)
    with pytest.raises(ValueError, match='joints_grid must be'):
        joint_label_maps(np.zeros((3, 3)), (4, 4))


def test_read_out_keypoints_by_hand():
    soft = torch.zeros(3, 5, 5)
    soft[1, 1, 2], soft[1, 1, 4], soft[1, 3, 2] = 0.5, 0.3, 0.2
    soft[1, 0, 0] = 0.1  # fourth highest: not used
    coords = read_out_keypoints(soft, (100, 200))
    x = (0.5 * 2 + 0.3 * 4 + 0.2 * 2) / (0.5 + 0.3 + 0.2)
    y = (0.5 * 1 + 0.3 * 1 + 0.2 * 3) / (0.5 + 0.3 + 0.2)
    assert np.allclose(coords[0], [x * 200 / 5, y * 100 / 5], atol=1e-5)
    assert coords[1].tolist() == [-1, -1]
    with pytest.raises(ValueError, match='J \\+ 1'):
        read_out_keypoints(torch.zeros(1, 4, 4), (8, 8))
