"""Selection helpers of the exact label propagation."""
import pytest
import torch

from mmsmtc.ops.propagation.topk import largest, merge_topk, pad_ragged_rows


@pytest.mark.parametrize('rows, length, r', [(64, 5000, 36), (3, 1001, 7),
                                             (10, 50, 5), (64, 300, 36),
                                             (2, 4096, 1)])
def test_largest_equals_torch_topk(rows, length, r):
    generator = torch.Generator().manual_seed(rows + length + r)
    values = torch.randn(rows, length, generator=generator)
    values[:, 100:400] = values[:, 100:101]  # a long run of ties
    values[0, :] = 1.0  # a row of ties only
    top_values, columns = largest(values, r)
    expected = values.topk(r, dim=1).values
    assert torch.equal(top_values, expected)
    assert torch.equal(values.gather(1, columns), top_values)
    ordered = columns.sort(dim=1).values
    assert (ordered[:, 1:] != ordered[:, :-1]).all()


def test_merge_topk_breaks_ties_by_order_key():
    values = torch.tensor([[1.0, 2.0, 2.0, 0.5]])
    keys = torch.tensor([[7, 9, 3, 1]])
    top_values, top_keys = merge_topk(values, keys, 2)
    assert top_values.tolist() == [[2.0, 2.0]]
    assert top_keys.tolist() == [[3, 9]]


def test_pad_ragged_rows_packs_each_row_and_pads_with_minus_inf():
    rows = torch.tensor([2, 0, 2, 2])
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    keys = torch.tensor([10, 20, 30, 40])
    padded_values, padded_keys = pad_ragged_rows(rows, values, keys, 3)
    assert padded_values.shape == (3, 3)
    assert padded_values[0].tolist() == [2.0, float('-inf'), float('-inf')]
    assert padded_values[1].tolist() == [float('-inf')] * 3
    assert padded_values[2].tolist() == [1.0, 3.0, 4.0]
    assert padded_keys[2].tolist() == [10, 30, 40]
