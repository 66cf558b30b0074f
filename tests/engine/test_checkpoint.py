"""Weights-only checkpoint loading: allow-list, refusal, opt-in."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmsmtc.engine import load_local_checkpoint
from mmsmtc.engine.checkpoint import UNSAFE_ENV_VAR


class NotAllowListed:
    """A class whose instances must never be unpickled by default."""


def test_mmengine_objects_load_weights_only(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(1.5)
    payload = dict(
        state_dict={'w': torch.ones(2)},
        message_hub=dict(log_scalars={'loss': buffer},
                         runtime_info={'eta': np.float64(3.0)}),
        rng=np.random.get_state())
    path = tmp_path / 'ckpt.pth'
    torch.save(payload, path)
    loaded = load_local_checkpoint(str(path))
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 1.5
    assert loaded['message_hub']['runtime_info']['eta'] == 3.0


def test_mmengine_local_scheme_is_replaced():
    assert CheckpointLoader._schemes[''] is load_local_checkpoint


def test_arbitrary_pickle_refused_with_file_and_global(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'obj': NotAllowListed()}, path)
    with pytest.raises(pickle.UnpicklingError) as error:
        load_local_checkpoint(str(path))
    assert 'evil.pth' in str(error.value)
    assert 'NotAllowListed' in str(error.value)
    assert UNSAFE_ENV_VAR in str(error.value)


def test_unsafe_loading_needs_opt_in(tmp_path, monkeypatch):
    path = tmp_path / 'trusted.pth'
    torch.save({'obj': NotAllowListed()}, path)
    monkeypatch.setenv(UNSAFE_ENV_VAR, '1')
    assert isinstance(load_local_checkpoint(str(path))['obj'], NotAllowListed)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_local_checkpoint(str(tmp_path / 'missing.pth'))
