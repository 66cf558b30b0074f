"""Test-time randomness is drawn per video from (seed, video name): the
synthetic discovery test gives the same per-video numbers and the same
masks in 1 process (``tools/test.py``), in 2 CPU processes
(``tools/dist_test.sh``, gloo) and with the videos in reverse order."""
import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import set_random_seed

from mmsmtc.datasets.synthetic import generate_synthetic_benchmark
from mmsmtc.registry import MODELS
from mmsmtc.utils import read_indexed_png, register_all_modules

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'configs' / 'smtc_test' / \
    'discovery_smtc-vit-tiny_synthetic-davis17-unsup.py'
VIDEOS = ['val_0000', 'val_0001', 'val_0002']
SEED = 7


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A 3-video synthetic DAVIS set and fixed weights of the tiny model
    (so that only the test-time draws can differ between runs)."""
    root = tmp_path_factory.mktemp('dist_test')
    generate_synthetic_benchmark(root / 'set', num_train=1, num_val=3,
                                 num_frames=6, size=(64, 96), seed=11)
    register_all_modules()
    set_random_seed(3)
    segmentor = MODELS.build(Config.fromfile(CONFIG).model)
    segmentor.init_weights()
    checkpoint = root / 'tiny.pth'
    torch.save(dict(state_dict=segmentor.state_dict()), checkpoint)
    return root, root / 'set' / 'DAVIS', checkpoint


def run_test(setup, name, processes=1, *options, seed=SEED):
    """Run the test (1 process: tools/test.py, else tools/dist_test.sh);
    return the per-video rows and the predicted masks."""
    root, data_root, checkpoint = setup
    work_dir = root / name
    args = [str(CONFIG), str(checkpoint)]
    if processes > 1:
        command = ['bash', str(ROOT / 'tools' / 'dist_test.sh'), *args,
                   str(processes)]
    else:
        command = [sys.executable, str(ROOT / 'tools' / 'test.py'), *args]
    env = {**os.environ, 'PORT': str(free_port()), 'OMP_NUM_THREADS': '1',
           'PYTHON': sys.executable}
    result = subprocess.run(
        command + ['--work-dir', str(work_dir), '--seed', str(seed),
                   '--cfg-options', f'test_dataloader.dataset.data_root='
                   f'{data_root}', *options],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    (csv_path, ) = work_dir.glob('*/per_video.csv')
    with open(csv_path) as file:
        rows = {row.pop('video'): row for row in csv.DictReader(file)}
    masks = {
        path.relative_to(work_dir / 'predictions').as_posix():
        read_indexed_png(path)
        for path in (work_dir / 'predictions').glob('*/*.png')
    }
    return rows, masks


def assert_same(run, other):
    rows, masks = run
    other_rows, other_masks = other
    assert rows == other_rows
    assert masks.keys() == other_masks.keys()
    for name, mask in masks.items():
        np.testing.assert_array_equal(mask, other_masks[name], err_msg=name)


@pytest.fixture(scope='module')
def one_process(setup):
    rows, masks = run_test(setup, 'one_process')
    assert list(rows) == VIDEOS + ['ALL']
    assert len(masks) == 3 * 6
    return rows, masks


@pytest.mark.slow
def test_two_processes_give_the_same_videos(setup, one_process):
    if not torch.distributed.is_available():
        pytest.skip('torch.distributed is not available in this build')
    assert_same(run_test(setup, 'two_processes', 2), one_process)


@pytest.mark.slow
def test_reversed_video_order_gives_the_same_videos(setup, one_process):
    rows, masks = run_test(
        setup, 'reversed', 1,
        f'test_dataloader.dataset.sequences=[{",".join(VIDEOS[::-1])}]')
    assert list(rows) == VIDEOS[::-1] + ['ALL']
    rows = {video: rows[video] for video in VIDEOS + ['ALL']}
    assert_same((rows, masks), one_process)


@pytest.mark.slow
def test_the_draws_matter(setup, one_process):
    """Another seed (same weights) changes the masks: the runs above
    compare something that depends on the per-video draws."""
    _, masks = run_test(setup, 'other_seed', seed=SEED + 1)
    assert any(not np.array_equal(mask, one_process[1][name])
               for name, mask in masks.items())
