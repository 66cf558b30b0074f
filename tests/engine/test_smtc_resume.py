"""A killed and resumed SMTC training run (``tools/train.py --resume``)
reaches the same losses and states as an uninterrupted one, across the
``frozen_backbone_iters`` boundary where the encoder starts to train."""
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mmsmtc.datasets.synthetic import generate_synthetic_benchmark
from mmsmtc.engine.hooks import RNGStateHook

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / 'configs' / 'smtc' / \
    'smtc_vit-tiny_1xb4-1500_synthetic-64x112.py'
MAX_ITERS, GRAD_ITER, CHECKPOINT_INTERVAL, KILL_AT = 6, 3, 2, 2

#: A hook module for the training subprocess: logs every iteration's losses
#: and kills its own process (no clean-up, like a lost node) after iteration
#: ``kill_at`` (0-based), i.e. after the checkpoint of iteration 2.
RECORD_AND_KILL = '''
import json, os, signal
from mmengine.hooks import Hook
from mmsmtc.registry import HOOKS


@HOOKS.register_module()
class RecordAndKill(Hook):
    priority = 'LOWEST'

    def __init__(self, log_path, kill_at=-1):
        self.log_path = log_path
        self.kill_at = kill_at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        losses = {name: value.item() for name, value in outputs.items()}
        losses['inputs_sum'] = sum(
            clip.double().sum().item() for clip in data_batch['inputs'])
        with open(self.log_path, 'a') as log:
            log.write(json.dumps([runner.iter, losses]) + '\\n')
        if runner.iter == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
'''


def write_config(tmp_path, name, train_root, loss_log, kill_at=-1):
    """A config deriving the tiny config: 6 iterations, the encoder
    frozen for 3."""
    config = tmp_path / f'{name}.py'
    config.write_text(f'''_base_ = ['{TINY_CONFIG}']
custom_imports = dict(imports=['record_and_kill'])
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='RecordAndKill', log_path='{loss_log}', kill_at={kill_at}),
]
model = dict(frozen_backbone_iters={GRAD_ITER})
train_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_root='{train_root}',
        pipeline=[
            dict(type='LoadClipFrames'),
            dict(type='ClipResize', size=(32, 56)),
            dict(type='PackClipInputs'),
        ]))
train_cfg = dict(max_iters={MAX_ITERS})
default_hooks = dict(
    checkpoint=dict(interval={CHECKPOINT_INTERVAL}, max_keep_ckpts=-1),
    logger=dict(interval=1))
randomness = dict(seed=7, deterministic=True)
''')
    return config


def run_train(tmp_path, config, work_dir, *extra):
    return subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'train.py'), str(config),
         '--work-dir', str(work_dir), *extra],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, 'PYTHONPATH': f'{tmp_path}:{ROOT}'})


def read_losses(path):
    return dict(json.loads(line) for line in path.read_text().splitlines())


@pytest.fixture(scope='module')
def train_root(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('synthetic') / 'set'
    generate_synthetic_benchmark(
        out_dir, num_train=3, num_val=1, num_frames=12, size=(64, 96),
        seed=4)
    return out_dir / 'YTVOS'


@pytest.mark.slow
def test_killed_then_resumed_smtc_matches_uninterrupted(tmp_path, train_root):
    (tmp_path / 'record_and_kill.py').write_text(RECORD_AND_KILL)
    reference_log = tmp_path / 'reference.jsonl'
    reference_cfg = write_config(tmp_path, 'reference', train_root,
                                 reference_log)
    done = run_train(tmp_path, reference_cfg, tmp_path / 'reference')
    assert done.returncode == 0, done.stderr[-3000:]

    resumed_log = tmp_path / 'resumed.jsonl'
    killed_cfg = write_config(tmp_path, 'killed', train_root, resumed_log,
                              kill_at=KILL_AT)
    killed = run_train(tmp_path, killed_cfg, tmp_path / 'resumed')
    assert killed.returncode != 0, 'the job was not killed'
    assert sorted(read_losses(resumed_log)) == list(range(KILL_AT + 1))
    assert (tmp_path / 'resumed' / f'iter_{KILL_AT}.pth').is_file()
    assert not (tmp_path / 'resumed' / f'iter_{MAX_ITERS}.pth').exists()

    resumed_cfg = write_config(tmp_path, 'resumed', train_root, resumed_log)
    resumed = run_train(tmp_path, resumed_cfg, tmp_path / 'resumed',
                        '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # Started at the checkpoint of iteration 2, not from scratch.
    logged = [json.loads(line)[0] for line in
              resumed_log.read_text().splitlines()]
    assert logged == [0, 1, 2] + list(range(KILL_AT, MAX_ITERS))

    # Iteration 2 ran before the kill and again after the resume: the
    # resumed value (read later) overwrites the first one.
    reference = read_losses(reference_log)
    after_resume = read_losses(resumed_log)
    assert sorted(reference) == sorted(after_resume) == list(
        range(MAX_ITERS))
    for iteration in range(MAX_ITERS):
        assert after_resume[iteration] == reference[iteration], iteration

    final = f'iter_{MAX_ITERS}.pth'
    expected = torch.load(tmp_path / 'reference' / final, weights_only=False)
    actual = torch.load(tmp_path / 'resumed' / final, weights_only=False)
    assert int(actual['state_dict']['num_train_iters']) == MAX_ITERS
    assert any(key.startswith('teacher.') for key in actual['state_dict'])
    for key, value in expected['state_dict'].items():
        assert torch.equal(actual['state_dict'][key], value), key
    for key, value in expected['optimizer']['state'].items():
        for name, tensor in value.items():
            assert torch.equal(actual['optimizer']['state'][key][name],
                               tensor), (key, name)
    assert [group['lr'] for group in actual['optimizer']['param_groups']] \
        == [group['lr'] for group in expected['optimizer']['param_groups']]
    assert actual['param_schedulers'] == expected['param_schedulers']


@pytest.mark.parametrize('num_workers', [0, 1])
def test_numpy_state_is_restored_only_with_loader_workers(num_workers):
    """With ``num_workers=0`` the first resumed batch was already drawn from
    numpy's replayed state; restoring the checkpoint's would rewind it."""
    runner = SimpleNamespace(
        train_dataloader=SimpleNamespace(num_workers=num_workers))
    hook = RNGStateHook()
    np.random.seed(1)
    torch.manual_seed(1)
    hook.before_save_checkpoint(runner, checkpoint := {})
    saved_numpy, saved_torch = np.random.rand(), torch.rand(())
    hook.after_load_checkpoint(runner, checkpoint)
    replayed_numpy = np.random.get_state()
    hook.before_train_iter(runner, batch_idx=0)
    assert torch.rand(()) == saved_torch
    if num_workers:
        assert np.random.rand() == saved_numpy
    else:
        assert np.array_equal(np.random.get_state()[1], replayed_numpy[1])
