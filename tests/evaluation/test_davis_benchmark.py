"""tools/benchmarks/bench_davis_eval.py on the repository fixture: without
an official checkout it prints no ratio; with one (here a stand-in package
that answers the fixture's reference numbers) it runs it in a subprocess,
compares and saves its numbers."""
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = (Path(__file__).resolve().parents[2] / 'tools' / 'benchmarks' /
          'bench_davis_eval.py')

#: A stand-in for davis2017-evaluation's ``davis2017/evaluation.py`` that
#: returns the numbers of a reference file, in the official result layout.
STAND_IN = '''
import json, os

class DAVISEvaluation:
    def __init__(self, davis_root, task, gt_set):
        assert os.path.isdir(os.path.join(davis_root, 'JPEGImages', '480p'))
        self.task = task

    def evaluate(self, results):
        cases = json.load(open(os.environ['STAND_IN_REFERENCE']))['cases']
        case = 'U1' if self.task == 'unsupervised' else 'S3'
        rows = cases[case]['per_object']
        return {measure: {
            'M': [row[measure + '-Mean'] for row in rows.values()],
            'R': [row[measure + '-Recall'] for row in rows.values()],
            'D': [row[measure + '-Decay'] for row in rows.values()],
            'M_per_object': {name: row[measure + '-Mean']
                             for name, row in rows.items()}}
            for measure in 'JF'}
'''


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('bench_davis_eval', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults_are_inside_the_repository(bench, davis_masks):
    args = bench.parse_args([])
    assert args.data == davis_masks
    assert args.official_root is None
    with pytest.raises(SystemExit):
        bench.parse_args(['--save-official', 'x.json'])


@pytest.mark.slow
def test_without_official_no_ratio_is_printed(bench, capsys):
    assert bench.main(['--nproc', '2']) == 0
    printed = capsys.readouterr().out
    assert 'Processor: ' in printed
    assert 'Official tool: not measured' in printed
    assert 'speed-up: ' not in printed and 'x wall' not in printed
    assert printed.count('mmsmtc eval_davis.py: ') == 2


@pytest.mark.slow
def test_official_numbers_are_compared_and_saved(bench, davis_masks,
                                                 tmp_path, monkeypatch,
                                                 capsys):
    official = tmp_path / 'official'
    (official / 'davis2017').mkdir(parents=True)
    (official / 'davis2017' / '__init__.py').write_text('')
    (official / 'davis2017' / 'evaluation.py').write_text(STAND_IN)
    reference = davis_masks / 'reference.json'
    monkeypatch.setenv('STAND_IN_REFERENCE', str(reference))
    saved = tmp_path / 'saved.json'
    assert bench.main([
        '--nproc', '1', '--official-root',
        str(official), '--save-official',
        str(saved)
    ]) == 0
    printed = capsys.readouterr().out
    assert printed.count('largest per-object difference from the official '
                         'numbers: 0.0e+00 (4 objects x 6 statistics)') == 2
    assert printed.count('speed-up: ') == 2
    expected = json.loads(reference.read_text())
    assert json.loads(saved.read_text())['cases'] == expected['cases']


def test_a_different_official_number_shows_as_a_difference(bench):
    ours = {'a_1': dict.fromkeys(bench.STATISTICS, 0.5)}
    theirs = {'a_1': dict(ours['a_1'], **{'F-Decay': 0.25})}
    assert bench.largest_difference(ours, theirs) == 0.25
    with pytest.raises(ValueError, match='objects differ'):
        bench.largest_difference(ours, {'b_1': ours['a_1']})
