"""OpenMP settings for a busy machine: the environment the tools give torch."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmsmtc.utils import cpu_threads
from mmsmtc.utils.cpu_threads import available_cpus, openmp_environment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_cpus(monkeypatch):
    """A process that may run on both CPUs of a 2-CPU machine."""
    monkeypatch.setattr(cpu_threads.os, 'sched_getaffinity',
                        lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(cpu_threads.os, 'cpu_count', lambda: 2)


def test_available_cpus_follows_the_affinity_mask(monkeypatch):
    monkeypatch.setattr(cpu_threads.os, 'sched_getaffinity',
                        lambda pid: {3, 5, 7}, raising=False)
    assert available_cpus() == 3


def test_available_cpus_without_affinity_is_the_cpu_count(monkeypatch):
    monkeypatch.delattr(cpu_threads.os, 'sched_getaffinity', raising=False)
    monkeypatch.setattr(cpu_threads.os, 'cpu_count', lambda: 6)
    assert available_cpus() == 6


def test_one_job_gets_a_short_spin_and_default_threads(two_cpus):
    env = openmp_environment(environ={'PATH': '/bin'})
    assert env == {'PATH': '/bin', 'GOMP_SPINCOUNT': '3000'}


@pytest.mark.parametrize('jobs, threads', [(2, '1'), (3, '1')])
def test_parallel_jobs_share_the_cpus(two_cpus, jobs, threads):
    env = openmp_environment(jobs=jobs, environ={})
    assert env == {'GOMP_SPINCOUNT': '3000', 'OMP_NUM_THREADS': threads}


def test_a_restricted_affinity_mask_sets_the_thread_count(monkeypatch):
    monkeypatch.setattr(cpu_threads.os, 'sched_getaffinity',
                        lambda pid: {2}, raising=False)
    monkeypatch.setattr(cpu_threads.os, 'cpu_count', lambda: 8)
    assert openmp_environment(environ={})['OMP_NUM_THREADS'] == '1'


@pytest.mark.parametrize('user', [
    {'OMP_WAIT_POLICY': 'ACTIVE', 'OMP_NUM_THREADS': '2'},
    {'GOMP_SPINCOUNT': '10000', 'OMP_NUM_THREADS': '2'},
    {'OMP_WAIT_POLICY': 'PASSIVE', 'OMP_NUM_THREADS': '2'},
])
def test_the_users_settings_are_kept(two_cpus, user):
    assert openmp_environment(jobs=2, environ=user) == user


def test_the_current_environment_is_the_default(two_cpus, monkeypatch):
    monkeypatch.setenv('MMSMTC_SOME_VARIABLE', 'kept')
    monkeypatch.delenv('OMP_WAIT_POLICY', raising=False)
    monkeypatch.delenv('GOMP_SPINCOUNT', raising=False)
    env = openmp_environment()
    assert env['MMSMTC_SOME_VARIABLE'] == 'kept'
    assert env['GOMP_SPINCOUNT'] == '3000'
    assert 'GOMP_SPINCOUNT' not in os.environ  # a copy, not os.environ


def test_zero_jobs_is_an_error():
    with pytest.raises(ValueError, match='jobs must be at least 1'):
        openmp_environment(jobs=0)


def libgomp_settings(tool: str, **env) -> dict:
    """The settings libgomp reports when ``tool --help`` loads torch."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(('OMP_', 'GOMP_'))}
    environ.update(OMP_DISPLAY_ENV='verbose', **env)
    done = subprocess.run([sys.executable, str(ROOT / tool), '--help'],
                          capture_output=True, text=True, env=environ,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    settings = dict(re.findall(r"^\s+(\w+) = '([^']*)'$", done.stderr, re.M))
    if 'GOMP_SPINCOUNT' not in settings:
        pytest.skip('torch does not run on GNU OpenMP (libgomp) here')
    return settings


@pytest.mark.slow
@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py'])
def test_tools_load_torch_with_a_short_spin(tool):
    """Set before torch loads libgomp, which reads it only then."""
    assert libgomp_settings(tool)['GOMP_SPINCOUNT'] == cpu_threads.SPIN_COUNT


@pytest.mark.slow
@pytest.mark.parametrize('user, expected', [
    (dict(GOMP_SPINCOUNT='300000'), '300000'),
    (dict(OMP_WAIT_POLICY='PASSIVE'), '0'),
])
def test_tools_keep_a_users_waiting_choice(user, expected):
    settings = libgomp_settings('tools/train.py', **user)
    assert settings['GOMP_SPINCOUNT'] == expected
