"""``mmsmtc.utils.launch.destroy_process_group``: the tools shut the process
group down after a finished run (a live gloo group can abort the process
while the interpreter tears down)."""
import socket

import pytest
import torch

from mmsmtc.utils.launch import destroy_process_group


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_destroys_the_default_group_and_is_then_a_no_op():
    if not torch.distributed.is_available():
        pytest.skip('torch.distributed is not available in this build')
    assert not torch.distributed.is_initialized()
    torch.distributed.init_process_group(
        backend='gloo', init_method=f'tcp://127.0.0.1:{free_port()}',
        world_size=1, rank=0)
    try:
        assert torch.distributed.is_initialized()
        destroy_process_group()
        assert not torch.distributed.is_initialized()
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    destroy_process_group()
    assert not torch.distributed.is_initialized()
