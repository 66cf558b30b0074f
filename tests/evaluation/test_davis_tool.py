"""tools/analysis_tools/eval_davis.py: official CSV files, tables, errors."""
import importlib.util
import os
from pathlib import Path

import pytest
from test_davis_api import make_davis, make_results

from mmsmtc.evaluation import evaluate_davis
from mmsmtc.evaluation.worker_processes import SINGLE_THREAD_ENVIRONMENT

SCRIPT = (Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' /
          'eval_davis.py')


@pytest.fixture(scope='module')
def eval_davis():
    spec = importlib.util.spec_from_file_location('eval_davis', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_writes_official_csvs_and_recomputes(eval_davis, tmp_path, capsys):
    root = make_davis(tmp_path / 'DAVIS')
    results = make_results(tmp_path / 'res')
    stale = results / 'global_results-val.csv'
    stale.write_text('J&F-Mean\n0.999\n')
    argv = [
        '--davis-root',
        str(root), '--results',
        str(results), '--task', 'semi-supervised', '--nproc', '1'
    ]
    assert eval_davis.main(argv) == 0
    expected = evaluate_davis(root, results, 'semi-supervised', nproc=1)
    global_lines = stale.read_text().splitlines()
    assert global_lines[0] == ('J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,'
                               'F-Recall,F-Decay')
    values = global_lines[1].split(',')
    assert values[0] == f"{expected['global']['J&F-Mean']:.3f}"
    assert all(len(value.split('.')[1]) == 3 for value in values)
    sequence_lines = (results /
                      'per-sequence_results-val.csv').read_text().splitlines()
    assert sequence_lines[0] == 'Sequence,J-Mean,F-Mean'
    stats = expected['per_object']['seq-b_2']
    assert sequence_lines[4] == (f"seq-b_2,{stats['J-Mean']:.3f},"
                                 f"{stats['F-Mean']:.3f}")
    printed = capsys.readouterr().out
    assert 'Global results for val' in printed
    assert 'Per sequence results for val' in printed
    assert f"{stats['F-Mean']:.6f}" in printed


def test_errors_become_a_message_and_exit_status(eval_davis, tmp_path, capsys):
    root = make_davis(tmp_path / 'DAVIS')
    results = make_results(tmp_path / 'res')
    (results / 'seq-a' / '00001.png').unlink()
    argv = [
        '--davis-root',
        str(root), '--results',
        str(results), '--task', 'unsupervised', '--sequences', 'seq-a'
    ]
    assert eval_davis.main(argv) == 1
    error = capsys.readouterr().err
    assert error.startswith('error: ') and '00001.png' in error
    assert not (results / 'global_results-val.csv').exists()


def test_loading_the_tool_as_a_module_leaves_the_environment(monkeypatch):
    """Only a run as a script limits OpenMP/OpenBLAS/MKL to one thread."""
    for variable in SINGLE_THREAD_ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    before = dict(os.environ)
    spec = importlib.util.spec_from_file_location('eval_davis_again', SCRIPT)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert dict(os.environ) == before
