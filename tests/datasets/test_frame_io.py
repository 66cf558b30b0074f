"""Frame and mask decoding, size repair and lazy sequences."""
import numpy as np
import pytest
from data_fixtures import video_frames, write_frames
from PIL import Image

from mmsmtc.datasets import frame_io, lazy_sequence
from mmsmtc.datasets.frame_io import (fit_mask_to_frame, read_frame_size,
                                      read_mask, read_rgb_frame)
from mmsmtc.datasets.lazy_sequence import LazyFrameSequence, LazyMaskSequence
from mmsmtc.utils.palette import write_indexed_png


def test_read_rgb_frame_returns_rgb(tmp_path):
    frame = np.zeros((8, 10, 3), np.uint8)
    frame[..., 0] = 255
    path = tmp_path / 'red.png'
    Image.fromarray(frame).save(path)
    decoded = read_rgb_frame(path)
    assert decoded.shape == (8, 10, 3)
    assert decoded[..., 0].min() == 255 and decoded[..., 1:].max() == 0
    assert read_frame_size(path) == (8, 10)


def test_truncated_jpeg_is_an_error_naming_the_file(tmp_path):
    path, = write_frames(tmp_path, video_frames(1, (64, 64)))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r'00000\.jpg.*corrupt or truncated'):
        read_rgb_frame(path)


def test_corrupt_jpeg_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(b'not a jpeg at all')
    with pytest.raises(ValueError, match='broken.jpg'):
        read_rgb_frame(path)
    with pytest.raises(ValueError, match='broken.jpg.*header'):
        read_frame_size(path)


def test_missing_frame_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.jpg'):
        read_rgb_frame(tmp_path / 'nothing.jpg')
    with pytest.raises(FileNotFoundError, match='nothing.jpg'):
        read_frame_size(tmp_path / 'nothing.jpg')


@pytest.mark.parametrize('mask_shape', [(6, 7), (7, 9), (5, 8), (8, 6)])
def test_small_size_gap_is_cropped_or_padded(mask_shape):
    mask = np.arange(np.prod(mask_shape)).reshape(mask_shape) % 5 + 1
    mask = mask.astype(np.uint8)
    fitted = fit_mask_to_frame(mask, (6, 8), 'a/00005.png', 2)
    assert fitted.shape == (6, 8)
    rows, cols = min(6, mask_shape[0]), min(8, mask_shape[1])
    np.testing.assert_array_equal(fitted[:rows, :cols], mask[:rows, :cols])
    assert (fitted[rows:] == 0).all() and (fitted[:, cols:] == 0).all()


def test_size_repair_is_logged(monkeypatch):
    messages = []
    monkeypatch.setattr(frame_io, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    fit_mask_to_frame(np.zeros((6, 7), np.uint8), (6, 8), 'a/00005.png', 2)
    assert len(messages) == 1 and 'a/00005.png' in messages[0]
    fit_mask_to_frame(np.zeros((6, 8), np.uint8), (6, 8), 'a/00006.png', 2)
    assert len(messages) == 1


def test_large_size_gap_is_an_error():
    with pytest.raises(ValueError, match=r'a/00001\.png.*more than 2'):
        fit_mask_to_frame(np.zeros((6, 5), np.uint8), (6, 8), 'a/00001.png',
                          2)


def test_rgb_png_mask_is_an_error(tmp_path):
    path = tmp_path / '00000.png'
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    with pytest.raises(ValueError, match=r'00000\.png.*mode'):
        read_mask(path, (4, 4), 2)


def test_lazy_frames_decode_on_demand(tmp_path, monkeypatch):
    frames = video_frames(5, (16, 24))
    paths = write_frames(tmp_path, frames)
    decoded = []
    real = lazy_sequence.read_rgb_frame
    monkeypatch.setattr(lazy_sequence, 'read_rgb_frame',
                        lambda path: decoded.append(path) or real(path))
    sequence = LazyFrameSequence(paths, (16, 24))
    assert len(sequence) == 5 and sequence.shape == (5, 16, 24, 3)
    assert decoded == []
    third = sequence[2]
    assert decoded == [str(paths[2])]
    assert third.shape == (16, 24, 3)
    assert np.abs(third.astype(int) - frames[2]).mean() < 3
    np.testing.assert_array_equal(sequence[-1], sequence[4])
    assert sequence[1:3].shape == (2, 16, 24, 3)
    assert sequence[3:3].shape == (0, 16, 24, 3)
    np.testing.assert_array_equal(sequence[[4, 0]],
                                  np.stack([sequence[4], sequence[0]]))
    assert sequence[np.array([], int)].shape == (0, 16, 24, 3)
    assert len(list(sequence)) == 5
    assert np.asarray(sequence).shape == (5, 16, 24, 3)
    with pytest.raises(IndexError):
        sequence[5]


def test_lazy_frames_check_every_frame_size(tmp_path):
    paths = write_frames(tmp_path, video_frames(2, (16, 24)))
    write_frames(tmp_path, video_frames(1, (16, 20)), names=['00001'])
    sequence = LazyFrameSequence(paths, (16, 24))
    sequence[0]
    with pytest.raises(ValueError, match=r'00001\.jpg.*16x20.*16x24'):
        sequence[1]


def test_lazy_masks_binarize_and_repair(tmp_path):
    mask = np.array([[0, 1, 2, 255]] * 3, np.uint8)
    write_indexed_png(tmp_path / '00000.png', mask)
    write_indexed_png(tmp_path / '00003.png', mask[:, :3])
    masks = LazyMaskSequence(
        [tmp_path / '00000.png', tmp_path / '00003.png'], (3, 4))
    assert masks.shape == (2, 3, 4)
    np.testing.assert_array_equal(masks[0], mask)
    np.testing.assert_array_equal(masks[1][:, 3], 0)
    assert masks[np.array([1, 0])].shape == (2, 3, 4)
    with pytest.raises(IndexError):
        masks[[2]]
    binary = LazyMaskSequence([tmp_path / '00000.png'], (3, 4),
                              binarize=True)
    np.testing.assert_array_equal(np.asarray(binary)[0],
                                  [[0, 1, 1, 1]] * 3)
    assert np.asarray(binary, dtype=np.int64).dtype == np.int64
