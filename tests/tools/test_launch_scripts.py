"""The SLURM wrappers compose their ``srun`` command line (a stand-in
``srun`` on PATH records it); ``dist_train.sh`` runs for real in
``test_train_tool_dist.py``."""
import os
import subprocess
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
               GPUS='16', GPUS_PER_NODE='8')
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
    assert words[tool_at - 2:tool_at] == ['python', '-u']
    assert words[tool_at + 1:] == args + ['--launcher', 'slurm']


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh',
                                    'slurm_train.sh', 'slurm_test.sh'])
def test_wrappers_print_their_usage_without_arguments(script):
    result = subprocess.run(['bash', str(ROOT / 'tools' / script)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(f'Usage: tools/{script} ')
