"""Weights-only checkpoint loading: allow-list, refusal, opt-in, and the
explicit installation into MMEngine (never on import)."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmsmtc.engine import install_safe_checkpointing, load_local_checkpoint
from mmsmtc.utils.checkpoint import UNSAFE_ENV_VAR, CheckpointError


class NotAllowListed:
    """A class whose instances must never be unpickled by default."""


def test_mmengine_objects_load_weights_only(tmp_path):
    install_safe_checkpointing()
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


def test_installation_replaces_the_local_scheme():
    install_safe_checkpointing()
    assert CheckpointLoader._schemes[''] is load_local_checkpoint


IMPORT_CHECK = '''
import mmengine.logging, mmengine.runner.checkpoint as ckpt
getstate = mmengine.logging.HistoryBuffer.__getstate__
scheme = ckpt.CheckpointLoader._schemes['']
import mmsmtc.models, mmsmtc.engine, mmsmtc.apis, mmsmtc.utils
from mmsmtc.utils import register_all_modules
register_all_modules()
assert mmengine.logging.HistoryBuffer.__getstate__ is getstate
assert ckpt.CheckpointLoader._schemes[''] is scheme
'''


def test_importing_mmsmtc_changes_nothing_of_mmengine():
    subprocess.run([sys.executable, '-c', IMPORT_CHECK], check=True)


def test_arbitrary_pickle_refused_with_file_and_global(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'obj': NotAllowListed()}, path)
    with pytest.raises(CheckpointError) as error:
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
