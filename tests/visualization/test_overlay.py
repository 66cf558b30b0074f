"""Overlays: palette colours per id, opaque boundaries, keypoint discs,
files per frame, and the error branches."""
import numpy as np
import pytest
from PIL import Image

from mmsmtc.utils import DAVIS_PALETTE
from mmsmtc.visualization import (blend_ids, draw_keypoints, id_boundaries,
                                  write_video_overlays)


def test_blend_colours_each_id_with_its_palette_entry():
    frame = np.full((6, 6, 3), 100, np.uint8)
    ids = np.zeros((6, 6), np.uint8)
    ids[1:5, 1:5] = 2
    out = blend_ids(frame, ids, alpha=0.5)
    inside = np.rint(0.5 * 100 + 0.5 * DAVIS_PALETTE[2].astype(float))
    np.testing.assert_array_equal(out[2, 2], inside)
    np.testing.assert_array_equal(out[1, 1], DAVIS_PALETTE[2])
    np.testing.assert_array_equal(out[0, 0], frame[0, 0])


def test_boundaries_are_symmetric():
    ids = np.zeros((4, 5), np.uint8)
    ids[:, 2:] = 1
    edges = id_boundaries(ids)
    assert edges[:, 1].all() and edges[:, 2].all()
    assert not edges[:, 0].any() and not edges[:, 3:].any()


@pytest.mark.parametrize('frame, ids, alpha, message', [
    (np.zeros((4, 4), np.uint8), np.zeros((4, 4)), 0.5, 'frame must be'),
    (np.zeros((4, 4, 3), np.uint8), np.zeros((3, 4)), 0.5, 'do not match'),
    (np.zeros((4, 4, 3), np.uint8), np.full((4, 4), 300), 0.5,
     r'ids must lie in \[0, 255\]'),
    (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4)), 1.5, 'alpha must be'),
])
def test_blend_errors(frame, ids, alpha, message):
    with pytest.raises(ValueError, match=message):
        blend_ids(frame, ids, alpha)


def test_keypoints_drawn_in_joint_colours_and_invisible_skipped():
    frame = np.zeros((20, 20, 3), np.uint8)
    out = draw_keypoints(frame, np.array([[5.0, 6.0], [-1.0, -1.0]]),
                         radius=1)
    np.testing.assert_array_equal(out[6, 5], DAVIS_PALETTE[1])
    assert (out > 0).any(axis=2).sum() == 5
    assert not frame.any()
    with pytest.raises(ValueError, match=r'keypoints must be \(J, 2\)'):
        draw_keypoints(frame, np.zeros((3, 3)))


def test_write_video_overlays(tmp_path):
    frames = np.full((3, 8, 10, 3), 50, np.uint8)
    masks = np.zeros((3, 8, 10), np.uint8)
    masks[:, 2:6, 2:6] = 1
    keypoints = np.full((3, 1, 2), 9.0)
    folder = write_video_overlays(tmp_path, 'bear', ['a', 'b', 'c'], frames,
                                  masks, keypoints)
    assert sorted(p.name for p in folder.iterdir()) == [
        'a.png', 'b.png', 'c.png'
    ]
    image = np.asarray(Image.open(folder / 'b.png'))
    assert image.shape == (8, 10, 3)
    np.testing.assert_array_equal(image[3, 3],
                                  blend_ids(frames[1], masks[1])[3, 3])
    with pytest.raises(ValueError, match='bear: nothing to draw'):
        write_video_overlays(tmp_path, 'bear', ['a'], frames)
    with pytest.raises(ValueError, match='bear: 3 predicted frames for 2'):
        write_video_overlays(tmp_path, 'bear', ['a', 'b'], frames, masks)
