"""``tools/train.py``: work directory, saved config, checkpoints, logged batch
size, ``--cfg-options``, ``--seed``, ``--device`` and one-line errors (exit
status 1; usage errors 2), on a tiny synthetic set."""
import importlib.util
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmsmtc.datasets.synthetic import generate_synthetic_benchmark
from mmsmtc.engine.checkpoint import load_local_checkpoint
from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules
from mmsmtc.utils.launch import run_cli

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / 'configs' / 'smtc' / \
    'smtc_vit-tiny_1xb4-1500_synthetic-64x112.py'
R50_CONFIG = ROOT / 'configs' / 'smtc' / 'smtc_r50_4xb32-10k_ytvos-256x256.py'


def _load_tool():
    spec = importlib.util.spec_from_file_location('mmsmtc_train_tool',
                                                  ROOT / 'tools' / 'train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def train_root(tmp_path_factory):
    """YouTube-VOS root of a 2-video synthetic training set."""
    out_dir = tmp_path_factory.mktemp('synthetic') / 'set'
    generate_synthetic_benchmark(
        out_dir, num_train=2, num_val=1, num_frames=8, size=(64, 96), seed=2)
    return out_dir / 'YTVOS'


def run_train(config, data_root, *extra, cwd=ROOT, iters=2):
    """Run ``tools/train.py`` in a subprocess for ``iters`` iterations."""
    command = [
        sys.executable, str(ROOT / 'tools' / 'train.py'), str(config),
        *extra, '--cfg-options', f'train_dataloader.dataset.data_root='
        f'{data_root}', f'train_cfg.max_iters={iters}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1'
    ]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def last_lines(result, count=3):
    return '\n'.join(result.stderr.strip().splitlines()[-count:])


def assert_one_line_error(result, *expected):
    """The tool exited with status 1 and ``error: ...`` naming
    ``expected`` as the last line of stderr, without a traceback."""
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ')
    for text in expected:
        assert text in last


def exit_of(argv, capsys):
    """Exit status and stderr of ``tools/train.py ARGV`` (in this process,
    as its ``__main__``)."""
    tool = _load_tool()
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: tool.main([str(arg) for arg in argv]))
    return exit_info.value.code, capsys.readouterr().err


def build_args(config, work_dir=None, resume=None, seed=None):
    return Namespace(config=str(config), work_dir=work_dir, resume=resume,
                     amp=False, cfg_options=None, launcher='none',
                     local_rank=0, allow_unsafe_checkpoints=False, seed=seed,
                     device=None)


def test_work_dir_rule_cli_then_config_then_config_name(tmp_path):
    tool = _load_tool()
    named = tmp_path / 'my_tiny_run.py'
    named.write_text(f"_base_ = ['{TINY_CONFIG}']\n")
    assert tool.build_config(build_args(named)).work_dir == \
        './work_dirs/my_tiny_run'
    with_work_dir = tmp_path / 'with_work_dir.py'
    with_work_dir.write_text(
        f"_base_ = ['{TINY_CONFIG}']\nwork_dir = 'from_config'\n")
    assert tool.build_config(
        build_args(with_work_dir)).work_dir == 'from_config'
    assert tool.build_config(build_args(
        with_work_dir, work_dir='from_cli')).work_dir == 'from_cli'


def test_seed_option_sets_the_run_seed():
    tool = _load_tool()
    assert tool.build_config(build_args(TINY_CONFIG)).randomness.seed == 0
    cfg = tool.build_config(build_args(TINY_CONFIG, seed=7))
    assert cfg.randomness.seed == 7
    assert cfg.randomness.deterministic is False  # the rest is kept


def test_missing_config_is_one_line(tmp_path, capsys):
    code, error = exit_of([tmp_path / 'nope.py'], capsys)
    assert code == 1
    assert error == f'error: {tmp_path / "nope.py"}: config file does not ' \
        'exist\n'


def test_missing_data_root_is_one_line(tmp_path, capsys):
    code, error = exit_of([
        TINY_CONFIG, '--work-dir', tmp_path / 'work', '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path / "no_data"}',
        f'experiment_name={tmp_path.name}'
    ], capsys)
    assert code == 1
    assert error.startswith('error: ') and error.count('\n') == 1
    assert str(tmp_path / 'no_data') in error


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available')
@pytest.mark.parametrize('argv, message', [
    (['--device', 'cuda'], '--device cuda: CUDA is not available here'),
    (['--amp'], '--amp needs a CUDA device; CUDA is not available'),
])
def test_cuda_asked_without_cuda(tmp_path, capsys, argv, message):
    code, error = exit_of([TINY_CONFIG, '--work-dir', tmp_path, *argv],
                          capsys)
    assert code == 1
    assert error.startswith(f'error: {message}')


@pytest.mark.parametrize('argv, message', [
    (['--device', 'gpu'], "argument --device: 'gpu': expected cpu, cuda"),
    (['--device', 'cuda:1', '--launcher', 'pytorch'],
     '--device cuda:1 with --launcher pytorch'),
    (['--amp', '--device', 'cpu'], '--amp needs a CUDA device'),
    (['--cfg-options', 'train_cfg.max_iters'],
     "'train_cfg.max_iters' is not KEY=VALUE"),
])
def test_usage_errors_exit_2(capsys, argv, message):
    code, error = exit_of([TINY_CONFIG, *argv], capsys)
    assert code == 2
    assert message in error.splitlines()[-1]


def test_resume_flag_sets_the_checkpoint_to_resume():
    tool = _load_tool()
    auto = tool.build_config(build_args(TINY_CONFIG, resume='auto'))
    assert auto.resume is True and auto.load_from is None
    given = tool.build_config(build_args(TINY_CONFIG, resume='ckpt.pth'))
    assert given.resume is True and given.load_from == 'ckpt.pth'


@pytest.mark.slow
def test_trains_and_saves_config_and_checkpoints(train_root, tmp_path):
    work_dir = tmp_path / 'work'
    result = run_train(TINY_CONFIG, train_root, '--work-dir', str(work_dir),
                       '--cfg-options', 'train_dataloader.batch_size=2')
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert 'global batch size 1 x 2 = 2' in output
    assert (work_dir / 'iter_1.pth').is_file()
    assert (work_dir / 'iter_2.pth').is_file()
    saved = Config.fromfile(work_dir / TINY_CONFIG.name)
    assert saved.train_dataloader.batch_size == 2
    assert saved.train_cfg.max_iters == 2
    assert saved.train_dataloader.dataset.data_root == str(train_root)
    checkpoint = torch.load(work_dir / 'iter_2.pth', weights_only=False)
    assert checkpoint['meta']['iter'] == 2
    assert 'rng_state' in checkpoint
    assert int(checkpoint['state_dict']['num_train_iters']) == 2


@pytest.mark.slow
def test_missing_resume_checkpoint_is_named(train_root, tmp_path):
    missing = tmp_path / 'no_such.pth'
    result = run_train(TINY_CONFIG, train_root, '--work-dir',
                       str(tmp_path / 'work'), '--resume', str(missing))
    assert_one_line_error(result, str(missing), 'does not exist')


@pytest.mark.slow
def test_checkpoint_of_another_architecture_is_refused(train_root, tmp_path):
    register_all_modules()
    cfg = Config.fromfile(R50_CONFIG)
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.neck.in_channels = cfg.model.head.in_channels = 256
    resnet_smtc = MODELS.build(cfg.model)
    checkpoint = tmp_path / 'smtc_r18.pth'
    torch.save(dict(state_dict=resnet_smtc.state_dict(), meta=dict()),
               checkpoint)
    result = run_train(TINY_CONFIG, train_root, '--work-dir',
                       str(tmp_path / 'work'), '--cfg-options',
                       f'load_from={checkpoint}', iters=1)
    assert_one_line_error(result, f'error: {checkpoint}: does not fit the '
                          'model (SMTC)')
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()


@pytest.mark.slow
@pytest.mark.parametrize('option, expected', [
    ('model.head.num_slotz=3', "unexpected keyword argument 'num_slotz'"),
    ('model.neck.type=CorrelationFusionX',
     'CorrelationFusionX is not in the mmsmtc::model registry'),
])
def test_config_typos_are_named(train_root, tmp_path, option, expected):
    result = run_train(TINY_CONFIG, train_root, '--work-dir',
                       str(tmp_path / 'work'), '--cfg-options', option)
    assert_one_line_error(result, expected)


def test_tiny_config_saves_the_weights_it_starts_from(train_root, tmp_path):
    """``InitialCheckpointHook``: iter_0.pth holds the initial model only;
    the encoder (frozen for frozen_backbone_iters) equals the trained one,
    the head does not."""
    work_dir = tmp_path / 'run'
    result = run_train(TINY_CONFIG, train_root, '--work-dir', str(work_dir))
    assert result.returncode == 0, last_lines(result)
    initial = load_local_checkpoint(str(work_dir / 'iter_0.pth'))
    trained = load_local_checkpoint(str(work_dir / 'iter_2.pth'))
    assert initial['meta']['iter'] == 0
    assert 'optimizer' not in initial and 'optimizer' in trained
    assert initial['state_dict'].keys() == trained['state_dict'].keys()
    for name, value in initial['state_dict'].items():
        if name.startswith('backbone.'):
            torch.testing.assert_close(value, trained['state_dict'][name])
    assert not torch.equal(initial['state_dict']['head.slots_mu'],
                           trained['state_dict']['head.slots_mu'])
