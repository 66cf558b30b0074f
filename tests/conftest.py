"""Shared pytest fixtures and markers for mmsmtc."""
import logging
import os
from pathlib import Path

import pytest

#: Real sample data shipped beside the checkout (read-only); may be absent.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / 'shared' / 'data'
#: Small real fixtures inside the repository (sources: tests/data/README.md).
VENDORED_DATA = Path(__file__).resolve().parent / 'data'


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """The real sample data folder, or a clean skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f'real sample data not found at {SHARED_DATA}')
    return SHARED_DATA


@pytest.fixture(scope='session')
def davis_masks() -> Path:
    """Real DAVIS-2017 masks inside the repository (see its README.md)."""
    return VENDORED_DATA / 'davis2017_masks'


@pytest.fixture(scope='session')
def vendored_data() -> Path:
    """``tests/data``: small real fixtures that every checkout has."""
    return VENDORED_DATA


@pytest.fixture
def log_records():
    """Records emitted through MMEngine's current logger."""
    records = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = records.append
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def pytest_configure(config):
    """Give libgomp the tools' short spin (mmsmtc.utils.cpu_threads), before
    torch is imported here or in a pytest-xdist worker (they inherit this
    environment): ``pytest -n 2`` runs two processes of two OpenMP threads
    each on two cores, where libgomp's default spinning burns the time
    slices of the threads it waits for. A user's choice is kept.

    Import MMEngine's config module in the main process, before any
    pytest-xdist worker starts. It imports yapf, which on the first import
    after an install writes its grammar cache; two workers doing that at
    once can read a half-written cache (``EOFError: Ran out of input`` while
    collecting), as happened on a fresh CI environment."""
    if 'OMP_WAIT_POLICY' not in os.environ:
        os.environ.setdefault('GOMP_SPINCOUNT', '3000')
    import mmengine.config  # noqa: F401


def pytest_collection_modifyitems(config, items):
    import torch
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason='needs a CUDA device')
    for item in items:
        if 'gpu' in item.keywords:
            item.add_marker(skip_gpu)
