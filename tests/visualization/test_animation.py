"""GIFs from folders of PNG frames: frame order, colours, timing, errors."""
import numpy as np
import pytest
from PIL import Image

from mmsmtc.visualization.animation import write_folder_gifs, write_gif


def write_frames(folder, colours, size=(6, 8)):
    """One flat-colour PNG per colour, named so that name order is time."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, colour in enumerate(colours):
        frame = np.zeros((*size, 3), dtype=np.uint8)
        frame[:] = colour
        frame[0, 0] = (index * 7 % 256, 0, 0)
        Image.fromarray(frame).save(folder / f'{index:05d}.png')


def read_gif(path):
    with Image.open(path) as gif:
        frames, durations = [], []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert('RGB')))
            durations.append(gif.info['duration'])
        return frames, durations, gif.info.get('loop')


def test_frames_in_name_order_with_their_colours(tmp_path):
    colours = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (128, 0, 0)]
    write_frames(tmp_path / 'video', colours)
    gif = write_gif(tmp_path / 'video', fps=5)
    assert gif == tmp_path / 'video.gif'
    frames, durations, loop = read_gif(gif)
    assert len(frames) == len(colours)
    for frame, colour in zip(frames, colours):
        assert frame.shape == (6, 8, 3)
        assert tuple(frame[3, 4]) == colour
    assert durations == [200] * len(colours)
    assert loop == 0


def test_explicit_output_path(tmp_path):
    write_frames(tmp_path / 'video', [(1, 2, 3), (4, 5, 6)])
    out = tmp_path / 'gifs' / 'clip.gif'
    assert write_gif(tmp_path / 'video', out) == out
    assert len(read_gif(out)[0]) == 2


def test_one_gif_per_video_folder_at_any_depth(tmp_path):
    write_frames(tmp_path / 'val_0000', [(255, 0, 0)] * 3)
    write_frames(tmp_path / 'shapes' / 'val_0001', [(0, 255, 0)] * 2)
    gifs = write_folder_gifs(tmp_path)
    assert gifs == [tmp_path / 'shapes' / 'val_0001.gif',
                    tmp_path / 'val_0000.gif']
    assert [len(read_gif(gif)[0]) for gif in gifs] == [2, 3]


def test_frames_of_another_size_are_refused(tmp_path):
    write_frames(tmp_path / 'video', [(0, 0, 0)] * 2)
    Image.new('RGB', (5, 5)).save(tmp_path / 'video' / '00009.png')
    with pytest.raises(ValueError, match='00009.png: frame size 5x5'):
        write_gif(tmp_path / 'video')


def test_bad_input_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        write_gif(tmp_path / 'nowhere')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='no .png frames'):
        write_gif(tmp_path / 'empty')
    with pytest.raises(ValueError, match='no <video>/<frame>.png'):
        write_folder_gifs(tmp_path / 'empty')
    write_frames(tmp_path / 'video', [(0, 0, 0)])
    with pytest.raises(ValueError, match='fps must be positive'):
        write_gif(tmp_path / 'video', fps=0)
