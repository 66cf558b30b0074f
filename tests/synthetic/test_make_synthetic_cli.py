"""The command line ``tools/data/make_synthetic.py``."""
import importlib.util
import time
from pathlib import Path

import pytest

from mmsmtc.utils.launch import run_cli

SCRIPT = (Path(__file__).resolve().parents[2] / 'tools' / 'data' /
          'make_synthetic.py')


@pytest.fixture(scope='module')
def cli():
    spec = importlib.util.spec_from_file_location('make_synthetic', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY_ARGS = ['--train', '1', '--val', '1', '--frames', '3', '--size', '48x64']


def exit_status(cli, argv) -> int:
    """The status the command line exits with (``__main__`` runs
    ``run_cli(main)``)."""
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: cli.main(argv))
    return exit_info.value.code


def test_cli_writes_and_reports(cli, tmp_path, capsys):
    assert cli.main([str(tmp_path / 'out')] + TINY_ARGS) == 0
    report = capsys.readouterr().out
    assert f'to {tmp_path / "out"} in' in report
    assert '1 training videos' in report
    assert '3 frames of 48x64' in report
    assert (tmp_path / 'out' / 'DAVIS' / 'JPEGImages' / '480p' / 'val_0000' /
            '00002.jpg').is_file()


def test_cli_refuses_non_empty_output_unless_overwrite(cli, tmp_path, capsys):
    (tmp_path / 'stale.txt').write_text('')
    assert exit_status(cli, [str(tmp_path)] + TINY_ARGS) == 1
    assert capsys.readouterr().err.startswith(f'error: {tmp_path}: output '
                                              'folder is not empty')
    assert cli.main([str(tmp_path), '--overwrite'] + TINY_ARGS) == 0


@pytest.mark.parametrize('args, message', [
    (['--size', '48by64'], 'not of the form HxW'),
    (['--train', '0'], 'num_train must be at least 1'),
    (['--val', '0'], 'num_val must be at least 1'),
])
def test_cli_bad_arguments(cli, tmp_path, capsys, args, message):
    assert exit_status(cli, [str(tmp_path / 'out')] + args) == 1
    error = capsys.readouterr().err
    assert error.startswith('error: ') and message in error
    assert not (tmp_path / 'out').exists()


def test_cli_usage_error(cli, tmp_path, capsys):
    assert exit_status(cli, [str(tmp_path), '--train', 'two']) == 2
    assert "invalid int value: 'two'" in capsys.readouterr().err


@pytest.mark.slow
def test_default_set_generation_time(cli, tmp_path, capsys):
    start = time.perf_counter()
    assert cli.main([str(tmp_path / 'default')]) == 0
    elapsed = time.perf_counter() - start
    report = capsys.readouterr().out
    with capsys.disabled():
        print(f'\ndefault synthetic set generated in {elapsed:.1f} s: '
              f'{report.splitlines()[0]}')
    train = tmp_path / 'default' / 'YTVOS' / 'train' / 'JPEGImages'
    assert len(list(train.iterdir())) == 32
    assert len(list((train / 'train_0000').iterdir())) == 20
    val = (tmp_path / 'default' / 'DAVIS' / 'ImageSets' / '2017' /
           'val.txt').read_text().split()
    assert len(val) == 6
