"""read_entry_state_dict: the state dict under an official checkpoint's
entry, with errors that name the file."""
import pytest
import torch

from mmsmtc.utils.checkpoint import CheckpointError, read_entry_state_dict


def test_entry_or_bare_state_dict(tmp_path):
    weights = {'a': torch.ones(2)}
    wrapped, bare = tmp_path / 'wrapped.pth', tmp_path / 'bare.pth'
    torch.save({'model_state_dict': weights, 'iteration': 3}, wrapped)
    torch.save(weights, bare)
    for path in (wrapped, bare):
        state = read_entry_state_dict(path, 'model_state_dict')
        assert list(state) == ['a']
        assert torch.equal(state['a'], weights['a'])


def test_bad_files_name_the_file(tmp_path):
    with pytest.raises(CheckpointError, match='absent.pth does not exist'):
        read_entry_state_dict(tmp_path / 'absent.pth', 'state_dict')
    listed = tmp_path / 'list.pth'
    torch.save({'state_dict': [1, 2]}, listed)
    with pytest.raises(CheckpointError,
                       match='list.pth: expected a dict under "state_dict"'):
        read_entry_state_dict(listed, 'state_dict')
