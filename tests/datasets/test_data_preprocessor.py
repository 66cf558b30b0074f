"""VideoDataPreprocessor: stacking, normalisation, resize-to-multiple."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmsmtc.datasets.lazy_sequence import LazyFrameSequence
from mmsmtc.models.data_preprocessors import VideoDataPreprocessor
from mmsmtc.structures.video_data_sample import VideoDataSample

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def _clips(batch=2, frames=3, size=(5, 7)):
    generator = torch.Generator().manual_seed(0)
    return [
        torch.randint(0, 256, (frames, 3, *size), generator=generator,
                      dtype=torch.uint8) for _ in range(batch)
    ]


def test_clips_are_stacked_and_normalised_per_rgb_channel():
    clips = _clips()
    samples = [VideoDataSample(metainfo=dict(video_name=str(i)))
               for i in range(2)]
    out = VideoDataPreprocessor()(dict(inputs=clips, data_samples=samples))
    inputs = out['inputs']
    assert inputs.shape == (2, 3, 3, 5, 7) and inputs.dtype == torch.float32
    expected = (clips[1][2].float() - MEAN) / STD
    torch.testing.assert_close(inputs[1, 2], expected)
    assert out['data_samples'][1].video_name == '1'


def test_a_stacked_tensor_and_custom_statistics():
    clips = torch.stack(_clips())
    out = VideoDataPreprocessor(mean=(0, 0, 0), std=(255, 255, 255))(
        dict(inputs=clips))
    torch.testing.assert_close(out['inputs'], clips.float() / 255)
    assert out['data_samples'] is None


def test_bad_batches_and_statistics_are_errors():
    preprocessor = VideoDataPreprocessor()
    with pytest.raises(ValueError, match='share a shape'):
        preprocessor(dict(inputs=_clips()[:1] + _clips(size=(5, 8))[:1]))
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        preprocessor(dict(inputs=torch.zeros(2, 3, 5, 7)))
    with pytest.raises(ValueError, match='RGB'):
        VideoDataPreprocessor(mean=(1, 2))
    with pytest.raises(ValueError, match=r'\(\.\.\., 3, H, W\)'):
        preprocessor.normalize_frames(torch.zeros(2, 4, 5, 5))


def test_lazy_videos_pass_through(tmp_path):
    video = LazyFrameSequence([tmp_path / 'a.jpg'], (4, 4))
    out = VideoDataPreprocessor()(dict(inputs=[video], data_samples=[
        VideoDataSample()]))
    assert out['inputs'][0] is video


def test_normalize_streamed_numpy_frames():
    frames = np.random.default_rng(0).integers(
        0, 256, (2, 5, 7, 3), dtype=np.uint8)
    out = VideoDataPreprocessor().normalize_frames(frames)
    assert out.shape == (2, 3, 5, 7)
    expected = (torch.from_numpy(frames[1]).permute(2, 0, 1).float() -
                MEAN) / STD
    torch.testing.assert_close(out[1], expected)


def test_preprocessor_resizes_after_normalising(monkeypatch):
    from mmsmtc.models.data_preprocessors import video_data_preprocessor
    messages = []
    monkeypatch.setattr(video_data_preprocessor, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    preprocessor = VideoDataPreprocessor(size_multiple=4)
    clips = _clips(size=(9, 10))
    out = preprocessor(dict(inputs=clips))
    assert out['inputs'].shape[-2:] == (8, 8)
    normalised = (clips[0].float() - MEAN) / STD
    torch.testing.assert_close(
        out['inputs'][0],
        F.interpolate(normalised, size=(8, 8), mode='bilinear',
                      align_corners=False))
    preprocessor(dict(inputs=clips))
    assert len(messages) == 1 and '9x10' in messages[0]


@pytest.mark.gpu
def test_clips_are_normalised_on_the_model_device():
    preprocessor = VideoDataPreprocessor().cuda()
    out = preprocessor(dict(inputs=_clips()))
    assert out['inputs'].is_cuda
    frames = np.zeros((5, 7, 3), np.uint8)
    assert preprocessor.normalize_frames(frames).is_cuda


def test_lab_colour_space_is_opencv_lab_normalised():
    preprocessor = VideoDataPreprocessor(mean=(50, 0, 0), std=(50, 127, 127),
                                         color_space='lab')
    frames = np.random.default_rng(0).integers(0, 256, (2, 4, 5, 3),
                                               dtype=np.uint8)
    out = preprocessor.normalize_frames(frames)
    lab = np.stack([cv2.cvtColor(np.float32(f) / 255, cv2.COLOR_RGB2Lab)
                    for f in frames])
    expected = (lab - np.float32([50, 0, 0])) / np.float32([50, 127, 127])
    np.testing.assert_allclose(out.permute(0, 2, 3, 1).numpy(), expected,
                               rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='color_space'):
        VideoDataPreprocessor(color_space='hsv')
