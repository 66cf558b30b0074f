"""``tools/dist_train.sh CONFIG 2``: two CPU processes (gloo) train the tiny
SMTC config for a few iterations."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmsmtc.datasets.synthetic import generate_synthetic_benchmark

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / 'configs' / 'smtc' / \
    'smtc_vit-tiny_1xb4-1500_synthetic-64x112.py'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_cpu_processes_train_the_tiny_config(tmp_path):
    if not torch.distributed.is_available():
        pytest.skip('torch.distributed is not available in this build')
    out_dir = tmp_path / 'set'
    generate_synthetic_benchmark(
        out_dir, num_train=2, num_val=1, num_frames=8, size=(64, 96), seed=3)
    work_dir = tmp_path / 'work'
    # PYTHON: the interpreter of this test, also when its virtual
    # environment is not activated (`python` on PATH may lack torch).
    env = {**os.environ, 'PORT': str(free_port()), 'OMP_NUM_THREADS': '1',
           'PYTHON': sys.executable}
    result = subprocess.run(
        ['bash', str(ROOT / 'tools' / 'dist_train.sh'), str(TINY_CONFIG), '2',
         '--work-dir', str(work_dir), '--cfg-options',
         f'train_dataloader.dataset.data_root={out_dir / "YTVOS"}',
         'train_dataloader.batch_size=1', 'train_cfg.max_iters=2',
         'default_hooks.checkpoint.interval=2'],
        capture_output=True, text=True, timeout=300, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert 'global batch size 2 x 1 = 2' in output
    assert (work_dir / 'iter_2.pth').is_file()
    checkpoint = torch.load(work_dir / 'iter_2.pth', weights_only=False)
    assert not any(key.startswith('module.')
                   for key in checkpoint['state_dict'])
    assert int(checkpoint['state_dict']['num_train_iters']) == 2
