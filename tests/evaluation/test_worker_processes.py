"""map_in_worker_processes: results, errors, and no process left behind.

Both ways of starting the workers (forked from the caller when it has a
single thread, else from a fork server) run in subprocesses whose path is
fixed by their environment and threads; calls made in the pytest process
take whichever path applies to it.
"""
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path

import pytest

from mmsmtc.evaluation.worker_processes import (SINGLE_THREAD_ENVIRONMENT,
                                                _run_in_fork_server,
                                                map_in_worker_processes)

pytestmark = pytest.mark.skipif(not Path('/proc/self/task').is_dir(),
                                reason='counts threads and processes in /proc')

REPO = Path(__file__).resolve().parents[2]

#: Both ways of starting the workers, as a subprocess environment.
PATHS = {
    'fork-here': SINGLE_THREAD_ENVIRONMENT,
    'fork-server': {
        'OPENBLAS_NUM_THREADS': '2',
        'OMP_NUM_THREADS': '2'
    },
}

#: Runs in a subprocess: says which path it takes, starting a thread first
#: for the fork server (OpenBLAS may start none on a 1-core machine).
PREAMBLE = '''
import os, sys, threading, time
from mmsmtc.evaluation.worker_processes import (forks_this_process,
                                                map_in_worker_processes)
if os.environ['WORKER_PATH'] == 'fork-server':
    threading.Thread(target=time.sleep, args=(3600, ), daemon=True).start()
print('forks here:', forks_this_process(), flush=True)
'''


def _environment(path: str, marker: str = '') -> dict:
    return {
        **os.environ,
        **PATHS[path],
        'WORKER_PATH': path,
        'PYTHONPATH': os.pathsep.join([str(REPO)] + sys.path),
        'MMSMTC_TEST_MARKER': marker,
    }


def _marked_processes(marker: str) -> list:
    """Pids of the processes whose environment holds ``marker``."""
    pids = []
    for environ in Path('/proc').glob('[0-9]*/environ'):
        try:
            if f'MMSMTC_TEST_MARKER={marker}'.encode() in environ.read_bytes():
                pids.append(int(environ.parent.name))
        except OSError:  # gone, or not ours to read
            pass
    return pids


def _wait_until_gone(marker: str, seconds: float = 5.0) -> list:
    deadline = time.monotonic() + seconds
    while _marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _marked_processes(marker)


def _children() -> set:
    """Pids of this process's children."""
    pids = set()
    for task in Path('/proc/self/task').iterdir():
        pids.update(map(int, (task / 'children').read_text().split()))
    return pids


def test_results_in_order_and_no_global_state():
    start_method = multiprocessing.get_start_method(allow_none=True)
    children = _children()
    assert map_in_worker_processes(divmod, [(7, 2), (9, 4), (1, 1)],
                                   2) == [(3, 1), (2, 1), (1, 0)]
    assert multiprocessing.get_start_method(allow_none=True) == start_method
    assert _children() == children


def test_first_error_in_order_is_raised():
    with pytest.raises(ValueError, match="'x'"):
        map_in_worker_processes(int, [('1', ), ('x', ), ('y', )], 2)


def test_dead_worker_becomes_a_clear_error():
    with pytest.raises(RuntimeError, match='a worker process died'):
        map_in_worker_processes(os._exit, [(3, ), (4, )], 2)


def test_server_death_quotes_its_error_output(monkeypatch):
    # A function of a module that only this process has: the fork server
    # cannot unpickle the request and exits before it answers.
    phantom = types.ModuleType('mmsmtc_phantom_module')
    exec('def function():\n    return 0\n', phantom.__dict__)
    monkeypatch.setitem(sys.modules, phantom.__name__, phantom)
    with pytest.raises(RuntimeError,
                       match=r"(?s)exited with status 1 before it answered"
                       r".*No module named 'mmsmtc_phantom_module'"):
        _run_in_fork_server(phantom.function, [()], 2, None)


@pytest.mark.parametrize('path', sorted(PATHS))
def test_both_paths_give_the_results(path):
    program = PREAMBLE + 'print(map_in_worker_processes(divmod, ' \
        '[(7, 2), (9, 4), (5, 5)], 2))\n'
    process = subprocess.run([sys.executable, '-c', program],
                             env=_environment(path),
                             capture_output=True,
                             text=True,
                             timeout=300)
    assert process.returncode == 0, process.stderr
    forks_here = path == 'fork-here'
    assert process.stdout.splitlines() == [
        f'forks here: {forks_here}', '[(3, 1), (2, 1), (1, 0)]'
    ]


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(PATHS))
def test_interrupted_caller_leaves_no_process(path):
    marker = uuid.uuid4().hex
    program = PREAMBLE + (
        'try:\n'
        '    map_in_worker_processes(time.sleep, [(600, )] * 3, 2)\n'
        'except KeyboardInterrupt:\n'
        '    print("interrupted", flush=True)\n')
    caller = subprocess.Popen([sys.executable, '-c', program],
                              env=_environment(path, marker),
                              stdout=subprocess.PIPE,
                              text=True)
    assert caller.stdout.readline().startswith('forks here')
    deadline = time.monotonic() + 120
    while len(_marked_processes(marker)) < 3:  # the caller and 2 workers
        assert time.monotonic() < deadline, 'workers did not start'
        time.sleep(0.1)
    caller.send_signal(signal.SIGINT)
    assert caller.stdout.readline() == 'interrupted\n'
    assert caller.wait(timeout=60) == 0
    assert _wait_until_gone(marker) == []


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(PATHS))
def test_killed_caller_leaves_no_process(path):
    marker = uuid.uuid4().hex
    program = PREAMBLE + (
        'map_in_worker_processes(time.sleep, [(600, )] * 3, 2)\n')
    caller = subprocess.Popen([sys.executable, '-c', program],
                              env=_environment(path, marker),
                              stdout=subprocess.PIPE,
                              text=True)
    assert caller.stdout.readline().startswith('forks here')
    deadline = time.monotonic() + 120
    while len(_marked_processes(marker)) < 3:
        assert time.monotonic() < deadline, 'workers did not start'
        time.sleep(0.1)
    caller.kill()
    caller.wait()
    assert _wait_until_gone(marker) == []


@pytest.mark.slow
def test_interrupt_while_workers_start_kills_them(tmp_path):
    """An interrupt between the forks and the wait for the results (here
    raised by ``once_forked``) kills the workers: no call finishes."""
    program = (
        'import os, sys, time\n'
        'from pathlib import Path\n'
        'from mmsmtc.evaluation.worker_processes import _run_pool\n'
        'def finish(path):\n'
        '    time.sleep(2)\n'
        '    Path(path).touch()\n'
        'def interrupt():\n'
        '    raise KeyboardInterrupt\n'
        'calls = [(os.path.join(sys.argv[1], str(i)), ) for i in range(3)]\n'
        'try:\n'
        '    _run_pool(finish, calls, 2, None, interrupt)\n'
        'except KeyboardInterrupt:\n'
        '    print("interrupted", flush=True)\n'
        'time.sleep(3)  # a call still running would have finished by now\n'
        'print(sorted(os.listdir(sys.argv[1])))\n')
    process = subprocess.run([sys.executable, '-c', program,
                              str(tmp_path)],
                             env=_environment('fork-here'),
                             capture_output=True,
                             text=True,
                             timeout=300)
    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines() == ['interrupted', '[]']
