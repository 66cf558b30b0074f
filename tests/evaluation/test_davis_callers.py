"""evaluate_davis and eval_davis.py with worker processes, from every kind
of caller: a script without a ``__main__`` guard, ``python -`` on stdin,
``runpy.run_path``, ``runpy.run_module`` and a notebook-like ``exec`` in a
bare ``__main__`` module. Each must give the numbers of the in-process
evaluation (``nproc=1``)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_davis_api import make_davis, make_results

from mmsmtc.evaluation import evaluate_davis
from mmsmtc.evaluation.worker_processes import SINGLE_THREAD_ENVIRONMENT

REPO = Path(__file__).resolve().parents[2]
TASK = 'unsupervised'

#: The caller's code, without a ``__main__`` guard. With THREADED it starts
#: a thread first, as a notebook kernel has, so workers come from the fork
#: server; without, its numerical libraries start no threads and the workers
#: are forked from it.
CALLER = '''
import json, os, threading, time
from mmsmtc.evaluation import evaluate_davis
from mmsmtc.evaluation.worker_processes import forks_this_process
if os.environ['THREADED'] == '1':
    threading.Thread(target=time.sleep, args=(3600, ), daemon=True).start()
print(json.dumps(dict(
    forks_here=forks_this_process(),
    results=evaluate_davis({root!r}, {results!r}, {task!r}, nproc=2))))
'''

#: How each kind of caller runs ``caller.py``, from its folder.
COMMANDS = {
    'script': ['caller.py'],
    'stdin': ['-'],
    'run_path': [
        '-c', "import runpy; runpy.run_path('caller.py', run_name='__main__')"
    ],
    'run_module': [
        '-c', 'import runpy; '
        "runpy.run_module('caller', run_name='__main__', alter_sys=True)"
    ],
    # As in a notebook kernel: __main__ is a module without __file__ or
    # __spec__, and the code is exec'd in it.
    'notebook': [
        '-c', 'import sys, types\n'
        "main = types.ModuleType('__main__')\n"
        "sys.modules['__main__'] = main\n"
        "code = compile(open('caller.py').read(), '<cell 1>', 'exec')\n"
        'exec(code, main.__dict__)\n'
    ],
}


@pytest.fixture(scope='module')
def caller(tmp_path_factory):
    """``(folder with caller.py, in-process results)``."""
    folder = tmp_path_factory.mktemp('callers')
    root = make_davis(folder / 'DAVIS')
    results = make_results(folder / 'res')
    (folder / 'caller.py').write_text(
        CALLER.format(root=str(root), results=str(results), task=TASK))
    return folder, evaluate_davis(root, results, TASK, nproc=1)


def _run(folder: Path, command: list, threaded: bool) -> dict:
    environment = {
        **os.environ,
        **SINGLE_THREAD_ENVIRONMENT,
        'THREADED': str(int(threaded)),
        'PYTHONPATH': os.pathsep.join([str(REPO)] + sys.path),
    }
    process = subprocess.run([sys.executable] + command,
                             cwd=folder,
                             input=(folder / 'caller.py').read_text(),
                             env=environment,
                             capture_output=True,
                             text=True,
                             timeout=300)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout)


@pytest.mark.parametrize('kind', sorted(COMMANDS))
def test_threaded_callers_use_the_fork_server(caller, kind):
    folder, expected = caller
    output = _run(folder, COMMANDS[kind], threaded=True)
    assert output['forks_here'] is False
    assert output['results'] == expected


@pytest.mark.skipif(not Path('/proc/self/task').is_dir(),
                    reason='counts threads in /proc')
@pytest.mark.parametrize('kind', ['script', 'stdin'])
def test_single_threaded_callers_fork_their_workers(caller, kind):
    folder, expected = caller
    output = _run(folder, COMMANDS[kind], threaded=False)
    assert output['forks_here'] is True
    assert output['results'] == expected


def test_tool_with_its_defaults(caller, tmp_path):
    """eval_davis.py without --nproc (all cores) writes the numbers of the
    in-process evaluation."""
    folder, _ = caller
    root, results = folder / 'DAVIS', tmp_path / 'res'
    make_results(results)
    environment = {
        **os.environ, 'PYTHONPATH': os.pathsep.join([str(REPO)] + sys.path)
    }
    process = subprocess.run([
        sys.executable,
        str(REPO / 'tools' / 'analysis_tools' / 'eval_davis.py'),
        '--davis-root',
        str(root), '--results',
        str(results), '--task', 'semi-supervised'
    ],
                             env=environment,
                             capture_output=True,
                             text=True,
                             timeout=300)
    assert process.returncode == 0, process.stderr
    expected = evaluate_davis(root, results, 'semi-supervised', nproc=1)
    rows = (results / 'per-sequence_results-val.csv').read_text().split()
    assert rows[1:] == [
        f"{name},{stats['J-Mean']:.3f},{stats['F-Mean']:.3f}"
        for name, stats in expected['per_object'].items()
    ]
    assert f"{expected['global']['J&F-Mean']:.6f}" in process.stdout
