"""ClipPhotometricAugment: per-clip draws on normalised clips, per branch."""
import math

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from mmsmtc.models.algorithms import ClipPhotometricAugment
from mmsmtc.models.algorithms.clip_photometric_augment import (
    blur_kernel_side, gaussian_blur, gaussian_blur_matrix)
from mmsmtc.registry import MODELS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def normalised(images):
    """``[0, 1]`` images -> inputs normalised like the data preprocessor."""
    return (images * 255 - MEAN) / STD


def to_unit(inputs):
    return (inputs * STD + MEAN) / 255


def test_nothing_drawn_is_the_identity():
    augment = ClipPhotometricAugment(grayscale_prob=0,
                                     jitter_prob=0,
                                     blur_prob=0)
    clips = normalised(torch.rand(2, 3, 3, 8, 8))
    assert torch.allclose(augment(clips), clips, atol=1e-5)


def test_grayscale_gives_equal_channels():
    augment = ClipPhotometricAugment(grayscale_prob=1,
                                     jitter_prob=0,
                                     blur_prob=0)
    out = to_unit(augment(normalised(torch.rand(1, 2, 3, 6, 6))))
    assert torch.allclose(out[:, :, 0], out[:, :, 1], atol=1e-5)
    assert torch.allclose(out[:, :, 1], out[:, :, 2], atol=1e-5)


def test_one_draw_per_clip_and_a_new_draw_per_call():
    torch.manual_seed(0)
    augment = ClipPhotometricAugment(jitter_prob=1, blur_prob=1)
    frame = torch.rand(3, 20, 20)
    clips = normalised(torch.stack([frame, frame, frame])[None])
    first = augment(clips)
    assert torch.allclose(first[0, 0], first[0, 1], atol=1e-6)
    assert torch.allclose(first[0, 0], first[0, 2], atol=1e-6)
    assert not torch.allclose(first, augment(clips), atol=1e-3)
    assert to_unit(first).min() >= -1e-5 and to_unit(first).max() <= 1 + 1e-5


def test_student_and_teacher_see_different_views():
    torch.manual_seed(0)
    calls = []

    class Recorder(torch.nn.Module):
        loss_name = 'loss_recorded'

        def forward(self, student_out, teacher_out):
            calls.append((student_out['keys'], teacher_out['keys']))
            return student_out['slots'].sum()

    def build(view_augment):
        torch.manual_seed(0)
        return MODELS.build(
            dict(type='SMTC',
                 backbone=dict(type='VisionTransformer',
                               arch=dict(patch_size=8,
                                         embed_dim=16,
                                         depth=1,
                                         num_heads=2),
                               out_types=('keys', ),
                               pretrain_img_size=32),
                 neck=dict(type='CorrelationFusion',
                           in_channels=16,
                           grid_size=4),
                 head=dict(type='TwoStageSlotAttention',
                           in_channels=16,
                           num_slots=2,
                           num_instances=2),
                 losses=[Recorder()],
                 view_augment=view_augment))

    clips = normalised(torch.rand(1, 2, 3, 32, 32))
    build(None).train()(clips, mode='loss')
    build(dict(type='ClipPhotometricAugment',
               jitter_prob=1)).train()(clips, mode='loss')
    plain, augmented = calls
    assert torch.allclose(plain[0], plain[1], atol=1e-6)
    assert not torch.allclose(augmented[0], augmented[1], atol=1e-3)


def test_errors():
    with pytest.raises(ValueError, match='std > 0'):
        ClipPhotometricAugment(std=(1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match='hue <= 0.5'):
        ClipPhotometricAugment(jitter=(0.4, 0.4, 0.4, 0.9))
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        ClipPhotometricAugment()(torch.zeros(2, 3, 8, 8))


@pytest.mark.parametrize('height, width, sigma', [(256, 256, 1.7),
                                                  (40, 72, 0.3),
                                                  (20, 31, 2.0)])
def test_blur_equals_torchvision_gaussian_blur(height, width, sigma):
    images = torch.rand(2, 3, height, width)
    kernel = [blur_kernel_side(width), blur_kernel_side(height)]
    expected = TF.gaussian_blur(images, kernel, [sigma, sigma])
    assert torch.allclose(gaussian_blur(images, sigma), expected, atol=2e-6)


def test_blur_matrix_folds_the_reflection():
    # side 30 -> 3 taps at x = -1/sqrt(2), 0, 1/sqrt(2); sigma 1 -> weights
    # proportional to exp(-1/2), 1, exp(-1/2)
    side_weight = math.exp(-0.5) / (1 + 2 * math.exp(-0.5))
    centre_weight = 1 / (1 + 2 * math.exp(-0.5))
    matrix = gaussian_blur_matrix(30, 1.0, torch.float64, torch.device('cpu'))
    assert blur_kernel_side(30) == 3 and blur_kernel_side(256) == 25
    interior = torch.zeros(30, dtype=torch.float64)
    interior[4:7] = torch.tensor([side_weight, centre_weight, side_weight])
    assert torch.allclose(matrix[:, 5], interior)
    # pixel 0 reads pixels 1, 0, 1 (reflect padding): pixel 1 counts twice
    assert torch.isclose(matrix[0, 0], torch.tensor(centre_weight,
                                                    dtype=torch.float64))
    assert torch.isclose(matrix[1, 0], torch.tensor(2 * side_weight,
                                                    dtype=torch.float64))
    assert matrix[2:, 0].abs().sum() == 0
    assert torch.allclose(matrix.sum(dim=0), torch.ones(30, dtype=torch.float64))


def test_blur_needs_a_side_above_the_radius():
    with pytest.raises(ValueError, match='reflect padding'):
        gaussian_blur_matrix(0, 1.0, torch.float32, torch.device('cpu'))
