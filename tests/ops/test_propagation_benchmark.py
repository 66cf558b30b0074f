"""Smoke test of tools/benchmarks/bench_propagation.py on the vendored real
frames (its default data)."""
import importlib.util
from argparse import Namespace
from pathlib import Path

import pytest
import torch

BENCHMARK = (Path(__file__).resolve().parents[2] / 'tools' / 'benchmarks' /
             'bench_propagation.py')


def load_benchmark():
    spec = importlib.util.spec_from_file_location('bench_propagation',
                                                  BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize('case, grid', [('judo-s16-smtc', [15, 26]),
                                        ('judo-s8-stt', [30, 53])])
def test_worker_runs_both_methods_and_they_agree(tmp_path, case, grid):
    bench = load_benchmark()
    data_root = bench.default_data_root()
    bench.check_cases(data_root, [case])
    results = {}
    for method in ('mmsmtc', 'dense'):
        args = Namespace(
            case=case, method=method, frames=2, steady_frames=1,
            tile_size=8, threads=torch.get_num_threads(),
            data_root=data_root, output=tmp_path / f'{method}.pt',
            device='cpu')
        results[method] = bench.run_worker(args)
        assert results[method]['peak_rss_mib'] > 0
    # 240x427 frames at the case's stride, floor rounding.
    assert results['mmsmtc']['grid'] == grid
    assert results['mmsmtc']['steady_seconds_per_frame'] > 0
    agreement = bench.compare(
        torch.load(tmp_path / 'mmsmtc.pt'), torch.load(tmp_path / 'dense.pt'))
    assert agreement['argmax_agreement'] == 1.0
    assert agreement['max_abs_diff'] < 1e-5


def test_random_projection_features_have_the_stride(vendored_data):
    bench = load_benchmark()
    frame = sorted(
        (vendored_data / 'videos/judo/JPEGImages').glob('*.jpg'))[0]
    feats = bench.RandomProjectionFeatures(stride=16, channels=5)(frame)
    assert feats.shape == (5, 15, 26)


def test_default_data_is_the_vendored_frames(vendored_data):
    assert load_benchmark().default_data_root() == vendored_data


def test_a_case_without_its_video_is_named(vendored_data):
    bench = load_benchmark()
    with pytest.raises(FileNotFoundError,
                       match='1007_YCTBBdbKSSg: case 1080p-s8-r35 needs'):
        bench.check_cases(vendored_data, ['judo-s8-crw', '1080p-s8-r35'])
