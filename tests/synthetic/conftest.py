"""Fixtures of the synthetic benchmark tests: one tiny generated set."""
import pytest

from mmsmtc.datasets.synthetic import generate_synthetic_benchmark

#: Arguments of the tiny set shared by the layout tests.
TINY = dict(num_train=2, num_val=2, num_frames=4, size=(48, 64), seed=3)


@pytest.fixture(scope='session')
def tiny_args():
    """Arguments of :func:`generate_synthetic_benchmark` for a tiny set."""
    return dict(TINY)


@pytest.fixture(scope='session')
def tiny_set(tmp_path_factory):
    """``(out_dir, summary)`` of a tiny synthetic set."""
    out_dir = tmp_path_factory.mktemp('synthetic') / 'set'
    summary = generate_synthetic_benchmark(out_dir, **TINY)
    return out_dir, summary
