"""``tools/quickstart.py`` end to end on a tiny generated set: data,
training, eight test runs, the table built from their results.json,
overlays and GIFs; its reuse of an existing set; paths relative to the
current directory; the method table."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'quickstart.py'
SET_ARGS = ['--train-videos', '2', '--val-videos', '2', '--frames', '6',
            '--size', '64x112', '--data-seed', '4']
LABELS = ['unsup J&F (discovery)', 'FG-ARI (discovery)', 'mBO (discovery)',
          'semi J&F (propagation)', 'PCK@0.1 (propagation)',
          'PCK@0.2 (propagation)', 'mIoU (propagation)']
TASKS = ('discovery', 'davis-semi', 'jhmdb', 'vip')


def load_tool():
    spec = importlib.util.spec_from_file_location('quickstart_tool', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def run_quickstart(*args, cwd=ROOT):
    result = subprocess.run([sys.executable, str(TOOL), *map(str, args)],
                            cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return result.stdout


def results_of(work_dir, model, task):
    (path, ) = (work_dir / 'eval' / model / task).glob('*/results.json')
    return json.loads(path.read_text())


@pytest.fixture(scope='module')
def quickstart(tmp_path_factory):
    """One run from another directory than the repository, with relative
    paths: they are relative to that directory."""
    base = tmp_path_factory.mktemp('quickstart')
    stdout = run_quickstart('--data', 'data', '--work-dir', 'work',
                            '--iters', 2, *SET_ARGS, cwd=base)
    return base / 'data', base / 'work', stdout


@pytest.mark.slow
def test_generates_trains_and_prints_the_table(quickstart):
    data, work_dir, stdout = quickstart
    assert 'Generating the synthetic set' in stdout
    assert (data / 'synthetic_meta.json').is_file()
    assert 'Iter(train) [1/2]' in stdout
    assert 'Saving checkpoint at 2 iterations' in stdout
    table = stdout[stdout.index('metric  '):].splitlines()
    assert table[0].split() == ['metric', 'untrained', 'trained',
                                'difference']
    assert [line.rsplit(None, 3)[0] for line in table[2:2 + len(LABELS)]] \
        == LABELS
    assert '== Untrained vs trained tiny SMTC on 2 synthetic' in stdout
    assert str(work_dir / 'comparison.md') in stdout


@pytest.mark.slow
def test_table_holds_the_numbers_of_the_test_runs(quickstart):
    _, work_dir, _ = quickstart
    saved = json.loads((work_dir / 'comparison.json').read_text())
    assert saved['columns'] == dict(before='untrained', after='trained')
    rows = {row['metric']: row for row in saved['rows']}
    assert list(rows) == LABELS
    for label, row in rows.items():
        task, key = row['key'].split(':')
        for column, model in (('before', 'untrained'), ('after', 'trained')):
            assert row[column] == results_of(work_dir, model,
                                             task)['metrics'][key]
        assert row['difference'] == pytest.approx(row['after'] -
                                                  row['before'])
    trained = results_of(work_dir, 'trained', 'davis-semi')
    assert trained['settings']['checkpoint'] == saved['sources'][
        'checkpoint']
    assert Path(saved['sources']['checkpoint']).name == 'iter_2.pth'
    # The untrained model is the run's start (InitialCheckpointHook).
    assert Path(results_of(work_dir, 'untrained', 'vip')['settings']
                ['checkpoint']) == work_dir / 'train' / 'iter_0.pth'
    assert (work_dir / 'comparison.md').read_text().count('\n') == \
        len(LABELS) + 2


@pytest.mark.slow
def test_overlays_and_gifs_for_every_video(quickstart):
    _, work_dir, _ = quickstart
    for model in ('untrained', 'trained'):
        for task in TASKS:
            root = work_dir / 'overlays' / model / task
            gifs = sorted(root.rglob('*.gif'))
            assert len(gifs) == 2, root
            for gif in gifs:
                frames = sorted(gif.with_suffix('').glob('*.png'))
                assert len(frames) == 6


@pytest.mark.slow
def test_existing_set_is_reused_and_checkpoint_skips_training(quickstart):
    data, work_dir, _ = quickstart
    stamp = (data / 'synthetic_meta.json').stat().st_mtime_ns
    checkpoint = work_dir / 'train' / 'iter_2.pth'
    stdout = run_quickstart('--data', data, '--work-dir', work_dir,
                            '--checkpoint', checkpoint, *SET_ARGS)
    assert 'same synthetic set is already in' in stdout
    assert 'Iter(train)' not in stdout
    assert (data / 'synthetic_meta.json').stat().st_mtime_ns == stamp


def test_untrained_model_is_the_start_of_the_run(tmp_path, capsys):
    tool = load_tool()
    trained = tmp_path / 'iter_9.pth'
    assert tool.untrained_checkpoint(trained) == 'none'
    assert 'iter_0.pth is missing' in capsys.readouterr().out
    (tmp_path / 'iter_0.pth').touch()
    assert tool.untrained_checkpoint(trained) == tmp_path / 'iter_0.pth'


def test_paths_are_relative_to_the_current_directory(tmp_path,
                                                     monkeypatch):
    tool = load_tool()
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'my_config.py').touch()
    args = tool.parse_args(['--data', 'd', '--work-dir', 'w',
                            '--train-config', 'my_config.py'])
    tool.resolve_paths(args)
    assert (args.data, args.work_dir) == (tmp_path / 'd', tmp_path / 'w')
    assert args.train_config == tmp_path / 'my_config.py'
    assert args.checkpoint is None
    args = tool.parse_args(['--train-config', 'missing.py'])
    with pytest.raises(FileNotFoundError,
                       match='--train-config missing.py does not exist'):
        tool.resolve_paths(args)


def test_methods_name_their_configs_tasks_and_rows():
    tool = load_tool()
    assert tool.parse_args([]).method == 'smtc'
    for name, method in tool.METHODS.items():
        assert tool.default_train_config(method).endswith('.py'), name
        for config, folder in method.tasks.values():
            assert (ROOT / method.test_configs / config).is_file()
            assert folder in ('DAVIS', 'JHMDB', 'VIP')
        assert {key.split(':')[0] for _, key in method.table_rows} == \
            set(method.tasks)
    assert [label for label, _ in tool.METHODS['smtc'].table_rows] == LABELS
    assert [label for label, _ in tool.METHODS['bba'].table_rows] == \
        LABELS[:3]
    step = tool.METHODS['stt'].pretraining
    assert tool.default_train_config(tool.METHODS['stt'],
                                     step.config_pattern).endswith('.py')
    assert (ROOT / step.converter).is_file()


def test_unknown_method_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool().parse_args(['--method', 'videosaur2'])
    assert exit_info.value.code == 2
    assert "invalid choice: 'videosaur2'" in capsys.readouterr().err


@pytest.mark.slow
def test_bad_options_are_refused(tmp_path):
    result = subprocess.run(
        [sys.executable, str(TOOL), '--iters', '0'], cwd=ROOT,
        capture_output=True, text=True)
    assert result.returncode == 2 and '--iters must be >= 1' in result.stderr
    result = subprocess.run(
        [sys.executable, str(TOOL), '--data', str(tmp_path / 'data'),
         '--work-dir', str(tmp_path / 'work'), '--checkpoint',
         str(tmp_path / 'nowhere.pth'), *SET_ARGS], cwd=ROOT,
        capture_output=True, text=True)
    assert result.returncode == 1
    missing = tmp_path / 'nowhere.pth'
    assert result.stderr == f'error: --checkpoint {missing} does not exist\n'


def test_two_step_method_starts_from_the_converted_first_step(
        tmp_path, monkeypatch):
    """--method stt: MoCo, its conversion, then step 2 with the converted
    file in both init options; the untrained model is the first run's
    start."""
    tool = load_tool()
    calls = []

    def fake_run_tool(command, log_path, tag, verbose, env=None):
        calls.append([str(part) for part in command])
        if command[0] == 'tools/train.py':
            work = Path(command[command.index('--work-dir') + 1])
            work.mkdir(parents=True)
            (work / 'iter_0.pth').touch()
            (work / 'last_checkpoint').write_text(str(work / 'iter_9.pth'))

    monkeypatch.setattr(tool, 'run_tool', fake_run_tool)
    args = tool.parse_args(['--method', 'stt', '--pretrain-iters', '3'])
    args.train_config = tool.default_train_config(tool.METHODS['stt'])
    checkpoint, untrained = tool.train(args, tool.METHODS['stt'],
                                       tmp_path / 'data', tmp_path / 'work')
    pretrain, convert, train = calls
    assert 'configs/moco/' in pretrain[1] and \
        'train_cfg.max_iters=3' in pretrain
    converted = str(tmp_path / 'work' / 'pretrain' / 'backbone.pth')
    assert convert == ['tools/model_converters/moco_to_mmsmtc.py',
                       str(tmp_path / 'work' / 'pretrain' / 'iter_9.pth'),
                       converted]
    assert f'model.backbone.init_cfg.checkpoint={converted}' in train
    assert f'model.teacher_backbone.init_cfg.checkpoint={converted}' in train
    assert checkpoint == tmp_path / 'work' / 'train' / 'iter_9.pth'
    assert untrained == tmp_path / 'work' / 'pretrain' / 'iter_0.pth'


def test_every_tiny_training_config_saves_its_start():
    """The untrained model of every method is its run's iter_0.pth."""
    from mmengine.config import Config
    tool = load_tool()
    for name, method in tool.METHODS.items():
        patterns = [method.train_config_pattern]
        if method.pretraining is not None:
            patterns.append(method.pretraining.config_pattern)
        for pattern in patterns:
            cfg = Config.fromfile(
                str(ROOT / tool.default_train_config(method, pattern)))
            hooks = [hook['type'] for hook in cfg.get('custom_hooks', [])]
            assert 'InitialCheckpointHook' in hooks, (name, pattern)
