"""The SLURM wrappers compose their ``srun`` command line (a stand-in
``srun`` on PATH records it); ``dist_train.sh`` runs for real in
``test_train_tool_dist.py``."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_srun(tmp_path):
    """A PATH whose ``srun`` writes its arguments, one per line."""
    record = tmp_path / 'srun_args.txt'
    srun = tmp_path / 'bin' / 'srun'
    srun.parent.mkdir()
    srun.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > {record}\n')
    srun.chmod(0o755)
    env = dict(os.environ, PATH=f'{srun.parent}:{os.environ["PATH"]}',
               GPUS='16', GPUS_PER_NODE='8', PYTHON=sys.executable)
    return env, record


@pytest.mark.parametrize('script,tool,args', [
    ('slurm_train.sh', 'train.py', ['cfg.py', '--amp']),
    ('slurm_test.sh', 'test.py', ['cfg.py', 'ckpt.pth', '--dump', 'x.pkl']),
])
def test_slurm_wrappers_run_the_tool_per_task(fake_srun, script, tool, args):
    env, record = fake_srun
    subprocess.run(['bash', str(ROOT / 'tools' / script), 'part', 'job'] +
                   args, check=True, env=env)
    words = record.read_text().splitlines()
    assert words[:3] == ['-p', 'part', '--job-name=job']
    assert '--ntasks=16' in words and '--ntasks-per-node=8' in words
    tool_at = words.index(str(ROOT / 'tools' / tool))
    assert words[tool_at - 2:tool_at] == [sys.executable, '-u']
    assert words[tool_at + 1:] == args + ['--launcher', 'slurm']


def test_slurm_tasks_run_python_on_path_without_PYTHON(fake_srun):
    env, record = fake_srun
    del env['PYTHON']
    subprocess.run(['bash', str(ROOT / 'tools' / 'slurm_train.sh'), 'part',
                    'job', 'cfg.py'], check=True, env=env)
    words = record.read_text().splitlines()
    tool_at = words.index(str(ROOT / 'tools' / 'train.py'))
    assert words[tool_at - 2:tool_at] == ['python', '-u']


def test_torchrun_wrapper_runs_the_given_interpreter(tmp_path):
    """``PYTHON`` is the interpreter of torchrun (its workers run the
    same); a stand-in records how it is called."""
    record = tmp_path / 'python_args.txt'
    fake = tmp_path / 'fake_python'
    fake.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > {record}\n')
    fake.chmod(0o755)
    env = dict(os.environ, PYTHON=str(fake), PORT='12345')
    subprocess.run(['bash', str(ROOT / 'tools' / 'dist_test.sh'), 'cfg.py',
                    'ckpt.pth', '2', '--seed', '3'], check=True, env=env)
    words = record.read_text().splitlines()
    assert words[:2] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=2' in words and '--master_port=12345' in words
    tool_at = words.index(str(ROOT / 'tools' / 'test.py'))
    assert words[tool_at + 1:] == ['cfg.py', 'ckpt.pth', '--seed', '3',
                                   '--launcher', 'pytorch']


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh',
                                    'slurm_train.sh', 'slurm_test.sh'])
def test_wrappers_print_their_usage_without_arguments(script):
    result = subprocess.run(['bash', str(ROOT / 'tools' / script)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(f'Usage: tools/{script} ')


def test_gpu_check_refuses_to_run_without_cuda(tmp_path):
    import sys

    import torch
    if torch.cuda.is_available():
        pytest.skip('this machine has CUDA: the script would run for real')
    result = subprocess.run(
        ['bash', str(ROOT / 'tools' / 'benchmarks' / 'gpu_check.sh'),
         str(tmp_path / 'out')],
        capture_output=True, text=True,
        env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode != 0
    assert 'no CUDA device' in result.stderr
    assert not list((tmp_path / 'out').glob('*.log'))
