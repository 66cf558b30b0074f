"""rgb_to_lab: the official RGB2LAB (OpenCV on float32 RGB / 255)."""
import cv2
import numpy as np
import pytest
import torch

from mmsmtc.ops import rgb_to_lab


def test_rgb_to_lab_equals_opencv_on_uint8_frames():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 5, 6, 3), dtype=np.uint8)
    expected = np.stack([
        cv2.cvtColor(np.float32(frame) / 255, cv2.COLOR_RGB2Lab)
        for frame in frames
    ])
    # a normalisation round trip leaves values off the grey levels
    rgb = torch.from_numpy(frames).permute(0, 3, 1, 2).float() + 1e-4
    lab = rgb_to_lab(rgb[None])[0]
    assert lab.dtype == torch.float32 and lab.shape == (2, 3, 5, 6)
    np.testing.assert_array_equal(lab.permute(0, 2, 3, 1).numpy(), expected)


def test_rgb_to_lab_known_pixels():
    white_black = torch.tensor([255., 0.]).view(1, 2).expand(3, 1, 2)
    lab = rgb_to_lab(white_black)
    assert lab[0, 0, 0] == pytest.approx(100, abs=1e-3)
    assert lab[0, 0, 1] == pytest.approx(0, abs=1e-3)
    assert lab[1:].abs().max() < 1e-3


def test_rgb_to_lab_bad_shape():
    with pytest.raises(ValueError, match='3, H, W'):
        rgb_to_lab(torch.zeros(2, 4, 5))
