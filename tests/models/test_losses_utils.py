"""Shape checks and autocast control of the SMTC losses."""
import pytest
import torch

from mmsmtc.models.losses.utils import autocast_disabled, get_checked_tensor


def test_binds_and_checks_sizes_across_tensors():
    sizes = {}
    outputs = {'a': torch.zeros(2, 3, 4), 'b': torch.zeros(2, 5)}
    assert get_checked_tensor(outputs, 'out', 'a', 'B T N', sizes) is \
        outputs['a']
    assert sizes == {'B': 2, 'T': 3, 'N': 4}
    get_checked_tensor(outputs, 'out', 'b', 'B M', sizes)
    assert sizes['M'] == 5
    with pytest.raises(
            ValueError,
            match=r"out\['b'\] must have shape \(T, M\) with T=3 \(from the "
            r'tensors checked before it\), got \(2, 5\)'):
        get_checked_tensor(outputs, 'out', 'b', 'T M', sizes)


def test_errors_name_the_tensor():
    outputs = {'a': torch.zeros(2, 3), 'ids': torch.zeros(2, dtype=torch.long)}
    with pytest.raises(KeyError, match=r"out\['c'\] is missing; out has "
                       r"keys \['a', 'ids'\]"):
        get_checked_tensor(outputs, 'out', 'c', 'B', {})
    with pytest.raises(TypeError, match=r"out\['ids'\] must be a "
                       'floating-point tensor, got Tensor of torch.int64'):
        get_checked_tensor(outputs, 'out', 'ids', 'B', {})
    with pytest.raises(ValueError,
                       match=r"out\['a'\] must have shape \(B, T, N\), "
                       r'got \(2, 3\)'):
        get_checked_tensor(outputs, 'out', 'a', 'B T N', {})


def test_autocast_disabled_keeps_float32():
    matrix = torch.randn(4, 4)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert (matrix @ matrix).dtype == torch.bfloat16
        with autocast_disabled(matrix.device):
            assert (matrix @ matrix).dtype == torch.float32
    with autocast_disabled(torch.device('meta')):
        meta = torch.empty(2, 2, device='meta')
        assert (meta @ meta).device.type == 'meta'
