"""The one bilinear frame resize and the multiple-of-stride rule."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmsmtc.ops import floor_to_multiple, resize_frames, resize_to_multiple


@pytest.mark.parametrize('size,stride,target', [((480, 854), 16, (480, 848)),
                                                ((481, 910), 8, (480, 904)),
                                                ((32, 48), 16, (32, 48))])
def test_resize_to_multiple_follows_the_protocol(size, stride, target):
    frames = torch.rand(2, 3, *size)
    resized = resize_to_multiple(frames, stride)
    assert tuple(resized.shape[-2:]) == target
    expected = F.interpolate(frames, size=target, mode='bilinear',
                             align_corners=False)
    torch.testing.assert_close(resized, expected)
    if target == size:
        assert resized is frames


def test_resize_is_bilinear_half_pixel_like_opencv():
    rng = np.random.default_rng(0)
    image = rng.random((37, 50, 3), dtype=np.float32)
    frames = torch.from_numpy(image).permute(2, 0, 1)[None]
    resized = resize_to_multiple(frames, 8)
    assert resized.shape == (1, 3, 32, 48)
    expected = cv2.resize(image, (48, 32), interpolation=cv2.INTER_LINEAR)
    assert np.abs(resized[0].permute(1, 2, 0).numpy() -
                  expected).max() < 1e-5


def test_leading_dims_integer_frames_and_errors():
    assert resize_to_multiple(torch.rand(2, 4, 3, 20, 36),
                              16).shape == (2, 4, 3, 16, 32)
    frames = torch.randint(0, 256, (1, 3, 8, 8), dtype=torch.uint8)
    assert resize_frames(frames, (8, 8)).dtype == torch.float32
    with pytest.raises(ValueError, match='frames of 10x40 pixels are smaller '
                       'than the stride 16'):
        resize_to_multiple(torch.rand(3, 10, 40), 16)
    with pytest.raises(ValueError, match='frames must be'):
        resize_frames(torch.rand(7, 40), (4, 4))
    with pytest.raises(ValueError, match='input images of 7x40'):
        floor_to_multiple(7, 40, 8, 'input images')
