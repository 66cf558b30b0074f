"""tools/benchmarks/bench_videosaur_train_step.py on the tiny VideoSAUR
config: every variant's training step runs, the baselines have the
official behaviours switched on, the worker protocol works, and (when a
copy of the official code is around) the official model of the config is
built, converts strictly onto mmsmtc's and takes a step."""
import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch

from mmsmtc.models.layers import Linear

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / 'tools' / 'benchmarks'
TINY = (ROOT / 'configs' / 'videosaur' /
        'videosaur_vit-tiny_1xb4-2k_synthetic-64x64.py')
#: Where tests/data/videosaur_official/make_golden.py puts the official
#: code and its extra dependencies (override with these variables).
OFFICIAL_ROOT = Path(
    os.environ.get('MMSMTC_VIDEOSAUR_OFFICIAL', '/tmp/vsaur_official'))
OFFICIAL_DEPS = Path(
    os.environ.get('MMSMTC_VIDEOSAUR_OFFICIAL_DEPS', '/tmp/vsaur_deps'))


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(
        'bench_videosaur_train_step',
        BENCHMARKS / 'bench_videosaur_train_step.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.register_all_modules()
    return module


def tiny_clips(bench, cfg):
    size = bench.input_size(cfg)
    assert size == 64
    return torch.randn(1, 4, 3, size, size,
                       generator=torch.Generator().manual_seed(0))


def trained_parameters(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()
            if p.requires_grad}


@pytest.mark.parametrize('variant', ['official-equivalent',
                                     'official-equivalent, torch 1.13 '
                                     'attention', 'mmsmtc'])
def test_mmsmtc_variants_take_a_step(bench, variant):
    cfg = bench.load_config(TINY)
    torch.manual_seed(0)
    model, optim_wrapper = bench.build_mmsmtc(variant, cfg,
                                              torch.device('cpu'))
    official = variant != bench.MMSMTC
    # the switched-on official behaviours, and mmsmtc's defaults
    assert all(loss.reads_last_frame == (
        official or type(loss).__name__ == 'FeatureReconstructionLoss')
        for loss in model.losses)
    fast = isinstance(model.backbone.blocks[0].attn.qkv, Linear)
    assert fast is not official
    explicit = variant == bench.EXPLICIT
    assert [block.attn.fused_attn for block in model.backbone.blocks[:-1]
            ] == [not explicit] * (len(model.backbone.blocks) - 1)
    before = trained_parameters(model)
    bench.mmsmtc_step(model, optim_wrapper, tiny_clips(bench, cfg))
    after = trained_parameters(model)
    assert all(torch.isfinite(value).all() for value in after.values())
    assert any(not torch.equal(before[name], after[name]) for name in after)
    assert all(p.grad is None for p in model.backbone.parameters())


def test_report_has_every_variant_and_the_ratio(bench, capsys):
    args = bench.parse_args(['--config', str(TINY), '--device', 'cpu'])
    args.batch_size = 1
    cfg = bench.load_config(TINY)
    assert bench.chosen_variants(args) == [
        bench.BASELINE, bench.EXPLICIT, bench.MMSMTC]
    results = {
        bench.BASELINE: dict(seconds=2.0, median=2.5, peak_mib=100.0,
                             cpu_seconds=3.0),
        bench.MMSMTC: dict(seconds=1.0, median=1.5, peak_mib=90.0,
                           cpu_seconds=2.0)
    }
    bench.report(results, args, cfg)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('processor: ')
    row = next(line for line in lines if line.startswith('mmsmtc '))
    assert row.split()[1:] == ['1.00', '1.50', '90', '2.00x', '2.00', '1.50x']


@pytest.mark.slow
def test_worker_serves_timed_steps(bench):
    """The worker process of one variant: ready, one timed repeat, final
    record."""
    args = bench.parse_args([
        '--config', str(TINY), '--device', 'cpu', '--batch-size', '1',
        '--steps', '1', '--threads', '1'
    ])
    [record] = bench.time_workers(
        [lambda: bench.start_worker(bench.MMSMTC, args)], 1,
        side_by_side=True)
    assert record['seconds'] > 0 and record['median'] == record['seconds']
    assert record['cpu_seconds'] > 0
    assert record['peak_mib'] > 0


def test_official_model_of_the_config_converts_and_steps(bench,
                                                         monkeypatch):
    if not (OFFICIAL_ROOT / 'videosaur' / 'models.py').is_file():
        pytest.skip(f'no copy of the official VideoSAUR code at '
                    f'{OFFICIAL_ROOT} (see tests/data/videosaur_official/'
                    'make_golden.py; or set MMSMTC_VIDEOSAUR_OFFICIAL)')
    monkeypatch.setattr(sys, 'path', list(sys.path))
    bench.add_official_to_path(OFFICIAL_ROOT, OFFICIAL_DEPS)
    pytest.importorskip('omegaconf', reason='the official code needs '
                        f'omegaconf (in {OFFICIAL_DEPS}?)')
    pytest.importorskip('pytorch_lightning', reason='the official code '
                        f'needs pytorch-lightning (in {OFFICIAL_DEPS}?)')
    cfg = bench.load_config(TINY)
    official_config = bench.official_model_config(cfg)
    assert official_config['encoder']['backbone']['model_kwargs'][
        'img_size'] == 64
    assert set(official_config['losses']) == {'loss_timesim', 'loss_featrec'}
    count = bench.check_official_converts(official_config, cfg)
    model, optimizer = bench.build_official(official_config, 1e-3,
                                            torch.device('cpu'))
    assert count == sum(p.numel() for p in model.parameters())
    before = trained_parameters(model)
    bench.official_step(model, optimizer, tiny_clips(bench, cfg), 0.05)
    after = trained_parameters(model)
    assert any(not torch.equal(before[name], after[name]) for name in after)
