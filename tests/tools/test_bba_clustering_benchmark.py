"""Smoke test of tools/benchmarks/bench_bba_clustering.py at a tiny size:
its official transcription and the mmsmtc path give the same ids, and its
memory-bounded official attention equals the one-einsum form."""
import importlib.util
from pathlib import Path

import torch

BENCHMARK = (Path(__file__).resolve().parents[2] / 'tools' / 'benchmarks' /
             'bench_bba_clustering.py')


def load_benchmark():
    spec = importlib.util.spec_from_file_location('bench_bba_clustering',
                                                  BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_inputs(bench, *extra):
    args = bench.parse_args(['--frames', '8', '--height', '48', '--width',
                             '64', '--ratio', '4', *extra])
    return bench.synthetic_queries_keys(args)


def test_official_attention_in_blocks_equals_one_einsum():
    bench = load_benchmark()
    queries, keys = tiny_inputs(bench)
    scale = bench.HEAD_DIM**-0.5
    whole = bench.official_window_attention(queries[:3], keys, scale)
    # 8 heads x 2 key frames x 48 patches: blocks of 5 patches, the last
    # one short
    blocked = bench.official_window_attention(queries[:3], keys, scale,
                                              max_elements=8 * 96 * 5)
    assert torch.allclose(blocked, whole, atol=1e-7)
    assert torch.allclose(whole.sum(1), torch.ones(len(whole)), atol=1e-5)


def test_both_methods_give_the_same_ids_on_a_subset():
    bench = load_benchmark()
    queries, keys = tiny_inputs(bench, '--subset-frames', '5', '--noise',
                                '0.3', '--feature-scale', '1.2')
    assert queries.shape[0] == 5 and keys.shape[0] == 2
    scale = bench.HEAD_DIM**-0.5
    official, official_count = bench.official_clustering(
        queries, keys, scale, 1.0, max_elements=8 * 96 * 12)
    ours, count = bench.mmsmtc_clustering(queries, keys, scale, 1.0)
    assert count == official_count > 1
    assert torch.equal(bench.first_appearance_ids(official), ours)
