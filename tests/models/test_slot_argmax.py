"""SlotArgmaxPostProcessor: VideoSAUR's bilinear upsampling of soft slot
masks and arg-max (first slot on ties)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmsmtc.models.discovery import SlotArgmaxPostProcessor
from mmsmtc.registry import TASK_UTILS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils import register_all_modules

register_all_modules()

TOP_LEFT = [[1.0, 0.0], [0.0, 0.0]]
BOTTOM_RIGHT = [[0.0, 0.0], [0.0, 1.0]]


def test_two_by_two_masks_to_four_by_four_by_hand():
    """Bilinear 2 -> 4 (align_corners=False) weighs the two source values
    along an axis by a = (1, .75, .25, 0) and b = 1 - a, so slot 0 (top
    left) scores a_i a_j and slot 1 (bottom right) b_i b_j. On the
    anti-diagonal ties (.1875 = .1875 and 0 = 0) the first slot wins."""
    masks = torch.tensor([[TOP_LEFT, BOTTOM_RIGHT]])
    ids = SlotArgmaxPostProcessor()(masks, (4, 4))
    assert ids.dtype == torch.uint8
    np.testing.assert_array_equal(ids[0].numpy(), [
        [0, 0, 0, 0],
        [0, 0, 0, 1],
        [0, 0, 1, 1],
        [0, 1, 1, 1],
    ])
    # Swapping the slots moves the ties to the new first slot.
    swapped = SlotArgmaxPostProcessor()(masks.flip(1), (4, 4))
    np.testing.assert_array_equal(swapped[0].numpy(), [
        [1, 1, 1, 0],
        [1, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
    ])


def test_equals_the_official_processing_on_random_masks():
    """VideoSAUR's process_masks: one interpolate of the (T, K, h, w)
    masks to the output size, arg-max over K."""
    masks = torch.rand(7, 11, 28, 28).softmax(1)
    reference = F.interpolate(masks, size=(224, 224), mode='bilinear',
                              align_corners=False).argmax(1)
    ids = SlotArgmaxPostProcessor(frame_batch_size=3)(masks, (224, 224))
    torch.testing.assert_close(ids.long(), reference)


def test_process_writes_pred_masks():
    masks = torch.tensor([[TOP_LEFT, BOTTOM_RIGHT]] * 2)
    sample = VideoDataSample(metainfo=dict(video_name='v', ori_shape=(4, 4)))
    sample.pred_slot_masks = masks
    processor = TASK_UTILS.build(dict(type='SlotArgmaxPostProcessor'))
    processor.process(sample)
    assert sample.pred_masks.shape == (2, 4, 4)
    assert sample.pred_masks.dtype == np.uint8
    # output_size wins over ori_shape.
    SlotArgmaxPostProcessor(output_size=(8, 6)).process(sample)
    assert sample.pred_masks.shape == (2, 8, 6)


def test_errors_name_the_video():
    sample = VideoDataSample(metainfo=dict(video_name='cows'))
    with pytest.raises(KeyError, match="cows: the data sample has no "
                       "'pred_slot_masks'"):
        SlotArgmaxPostProcessor().process(sample)
    sample.pred_slot_masks = torch.zeros(1, 2, 2, 2)
    with pytest.raises(KeyError, match="cows: the data sample has no "
                       "'ori_shape'"):
        SlotArgmaxPostProcessor().process(sample)
    sample.pred_slot_masks = torch.full((1, 2, 2, 2), float('nan'))
    with pytest.raises(ValueError, match='cows: masks contains NaN'):
        SlotArgmaxPostProcessor(output_size=(4, 4)).process(sample)
    with pytest.raises(ValueError, match='257 slots'):
        SlotArgmaxPostProcessor()(torch.zeros(1, 257, 2, 2), (2, 2))
    with pytest.raises(ValueError, match='output_size'):
        SlotArgmaxPostProcessor(output_size=(4, ))
