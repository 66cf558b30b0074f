"""Fixtures of the data-layer tests (helpers in ``data_fixtures.py``)."""
from pathlib import Path

import pytest
from data_fixtures import make_davis

from mmsmtc.utils.setup_env import register_all_modules


@pytest.fixture(scope='session', autouse=True)
def _registered():
    register_all_modules()


@pytest.fixture
def davis_root(tmp_path) -> Path:
    """Two 3-frame videos, 12x16, objects 1 and 2 on every frame."""
    return make_davis(tmp_path / 'DAVIS', dict(bear=3, camel=3))
