"""The real sample videos of ../shared/data/videos load as documented."""
import numpy as np
import pytest

from mmsmtc.datasets import VideoFolderDataset, frame_io

PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs')
]


@pytest.fixture(scope='module')
def videos(shared_data):
    dataset = VideoFolderDataset(
        data_root=str(shared_data / 'videos'), pipeline=PIPELINE)
    return {dataset[i]['data_samples'].video_name: dataset[i]
            for i in range(len(dataset))}


def test_judo_sparse_masks_and_repaired_size(videos, monkeypatch):
    messages = []
    monkeypatch.setattr(frame_io, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    judo = videos['judo']
    sample = judo['data_samples']
    assert len(judo['inputs']) == 16 and sample.ori_shape == (480, 854)
    np.testing.assert_array_equal(sample.gt_mask_frame_indices,
                                  [0, 5, 8, 13])
    masks = np.asarray(sample.gt_masks)
    assert masks.shape == (4, 480, 854)
    assert [sorted(set(np.unique(m)) - {0}) for m in masks] == [[1], [2],
                                                                [3], [4]]
    assert (masks[1][:, 853] == 0).all()
    assert len(messages) == 1 and 'judo/Annotations/00005.png' in messages[0]
    assert judo['inputs'][15].shape == (480, 854, 3)


@pytest.mark.parametrize('name,num_frames', [('1001_3iEIq5HBY1s', 45),
                                             ('1007_YCTBBdbKSSg', 44)])
def test_1080p_videos(videos, name, num_frames):
    video = videos[name]
    sample = video['data_samples']
    assert len(video['inputs']) == num_frames
    assert sample.ori_shape == (1080, 1920)
    assert sample.frame_names[0].isdigit() and len(sample.frame_names[0]) == 8
    assert sample.num_objects in (43, 44)
    assert sample.num_objects == max(sample.object_ids)
    assert sample.gt_mask_frame_indices.tolist() == [0]
    assert video['inputs'][num_frames - 1].shape == (1080, 1920, 3)
