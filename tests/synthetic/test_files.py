"""Reproducible low-level writers and their error branches."""
import numpy as np
import pytest
import scipy.io
from PIL import Image

from mmsmtc.datasets.synthetic import files


def test_rgb_images_round_trip(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (8, 10, 3), dtype=np.uint8)
    files.write_rgb_image(tmp_path / 'a' / 'frame.png', rgb)
    np.testing.assert_array_equal(
        np.array(Image.open(tmp_path / 'a' / 'frame.png')), rgb)
    files.write_rgb_image(tmp_path / 'frame.jpg', rgb)
    with Image.open(tmp_path / 'frame.jpg') as image:
        assert image.format == 'JPEG' and image.size == (10, 8)


@pytest.mark.parametrize('bad', [
    np.zeros((8, 10), dtype=np.uint8),
    np.zeros((8, 10, 4), dtype=np.uint8),
    np.zeros((8, 10, 3), dtype=np.float32),
])
def test_rgb_image_of_the_wrong_kind_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match=r'frame\.jpg.*\(H, W, 3\) uint8'):
        files.write_rgb_image(tmp_path / 'frame.jpg', bad)


def test_mat_files_are_reproducible_and_readable(tmp_path):
    variables = {'pos_img': np.arange(24, dtype=float).reshape(2, 3, 4)}
    files.write_mat_file(tmp_path / 'a.mat', variables)
    files.write_mat_file(tmp_path / 'b.mat', variables)
    content = (tmp_path / 'a.mat').read_bytes()
    assert content == (tmp_path / 'b.mat').read_bytes()
    assert content.startswith(files.MAT_HEADER_TEXT)
    assert b'Created on' not in content
    np.testing.assert_array_equal(
        scipy.io.loadmat(tmp_path / 'a.mat')['pos_img'], variables['pos_img'])


def test_unexpected_mat_header_is_an_error(tmp_path, monkeypatch):

    def write_other_header(buffer, variables, **kwargs):
        buffer.write(b'HDF5 something else')

    monkeypatch.setattr(files.scipy.io, 'savemat', write_other_header)
    with pytest.raises(RuntimeError, match=r'x\.mat.*unexpected header'):
        files.write_mat_file(tmp_path / 'x.mat', {'a': np.zeros(1)})
    assert not (tmp_path / 'x.mat').exists()


def test_list_files(tmp_path):
    files.write_lines(tmp_path / 'd' / 'list.txt', ['a', 'b'])
    assert (tmp_path / 'd' / 'list.txt').read_bytes() == b'a\nb\n'
    files.write_lines(tmp_path / 'empty.txt', [])
    assert (tmp_path / 'empty.txt').read_bytes() == b''
