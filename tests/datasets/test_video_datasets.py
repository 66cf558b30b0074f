"""Test-time video datasets: layouts, lazy samples and every bad input."""
import numpy as np
import pytest
import scipy.io
from data_fixtures import (make_davis, object_mask, video_frames,
                           write_frames)
from PIL import Image

from mmsmtc.datasets import (DAVIS2016Dataset, DAVIS2017Dataset,
                             FBMSDataset, JHMDBDataset, SegTrackV2Dataset,
                             VideoFolderDataset, VideoSegmentationDataset,
                             VIPDataset, video_collate)
from mmsmtc.datasets.lazy_sequence import LazyFrameSequence
from mmsmtc.datasets.transforms import (LoadClipFrames, WithholdLastFrame,
                                        loading)
from mmsmtc.utils.palette import write_indexed_png

MASK_PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs')
]


def test_davis2017_sample_is_lazy_and_complete(davis_root):
    dataset = DAVIS2017Dataset(data_root=str(davis_root),
                               pipeline=MASK_PIPELINE)
    assert len(dataset) == 2
    sample = dataset[1]
    frames, data_sample = sample['inputs'], sample['data_samples']
    assert isinstance(frames, LazyFrameSequence) and len(frames) == 3
    assert data_sample.video_name == 'camel'
    assert data_sample.frame_names == ['00000', '00001', '00002']
    assert data_sample.ori_shape == (12, 16)
    assert data_sample.num_frames == 3
    assert data_sample.num_objects == 2
    assert data_sample.object_ids == [1, 2]
    np.testing.assert_array_equal(data_sample.gt_mask_frame_indices,
                                  [0, 1, 2])
    masks = np.asarray(data_sample.gt_masks)
    assert masks.shape == (3, 12, 16) and masks.dtype == np.uint8
    np.testing.assert_array_equal(masks[0], object_mask((12, 16), (1, 2)))
    assert frames[0].shape == (12, 16, 3)


def test_davis2017_annotation_folder_selects_the_task(tmp_path):
    root = make_davis(tmp_path, dict(bear=2), ids=(1, 2, 3),
                      annotation_folder='Annotations_unsupervised')
    with pytest.raises(FileNotFoundError, match='missing annotations'):
        DAVIS2017Dataset(data_root=str(root))
    dataset = DAVIS2017Dataset(
        data_root=str(root),
        annotation_folder='Annotations_unsupervised',
        pipeline=MASK_PIPELINE)
    assert dataset[0]['data_samples'].num_objects == 3


def test_sequence_listed_but_absent_is_an_error(tmp_path):
    root = make_davis(tmp_path, dict(bear=2), listed=['bear', 'ghost'])
    with pytest.raises(FileNotFoundError, match='ghost.*does not exist'):
        DAVIS2017Dataset(data_root=str(root))


def test_empty_sequence_is_an_error(tmp_path):
    root = make_davis(tmp_path, dict(bear=2), listed=['bear', 'empty'])
    (root / 'JPEGImages' / '480p' / 'empty').mkdir()
    with pytest.raises(ValueError, match='empty.*empty sequence'):
        DAVIS2017Dataset(data_root=str(root))


def test_missing_sequence_list_is_an_error(tmp_path):
    root = make_davis(tmp_path, dict(bear=2))
    with pytest.raises(FileNotFoundError, match='train.txt'):
        DAVIS2017Dataset(data_root=str(root), split='train')


def test_missing_frame_annotation_is_an_error(davis_root):
    (davis_root / 'Annotations' / '480p' / 'bear' / '00001.png').unlink()
    with pytest.raises(ValueError, match=r"bear.*\['00001'\]"):
        DAVIS2017Dataset(data_root=str(davis_root))


def test_annotation_without_frame_is_an_error(davis_root):
    write_indexed_png(davis_root / 'Annotations' / '480p' / 'bear' /
                      '00009.png', np.zeros((12, 16), np.uint8))
    with pytest.raises(ValueError, match='00009.png.*no frame'):
        DAVIS2017Dataset(data_root=str(davis_root))


def test_unknown_annotation_coverage_is_an_error(davis_root):
    with pytest.raises(ValueError, match='annotation_coverage'):
        DAVIS2017Dataset(data_root=str(davis_root),
                         annotation_coverage='most')


def test_truncated_frame_is_named_when_streamed(davis_root):
    path = davis_root / 'JPEGImages' / '480p' / 'bear' / '00002.jpg'
    path.write_bytes(path.read_bytes()[:200])
    sample = DAVIS2017Dataset(
        data_root=str(davis_root), pipeline=MASK_PIPELINE)[0]
    sample['inputs'][0]
    with pytest.raises(ValueError, match=r'bear/00002\.jpg.*truncated'):
        sample['inputs'][2]


def test_rgb_annotation_is_named(davis_root):
    path = davis_root / 'Annotations' / '480p' / 'bear' / '00000.png'
    Image.fromarray(np.zeros((12, 16, 3), np.uint8)).save(path)
    dataset = DAVIS2017Dataset(
        data_root=str(davis_root), pipeline=MASK_PIPELINE)
    with pytest.raises(ValueError, match=r'bear/00000\.png.*mode'):
        dataset[0]


def test_large_mask_size_mismatch_is_named(davis_root):
    write_indexed_png(
        davis_root / 'Annotations' / '480p' / 'bear' / '00001.png',
        np.zeros((12, 10), np.uint8))
    sample = DAVIS2017Dataset(
        data_root=str(davis_root), pipeline=MASK_PIPELINE)[0]
    with pytest.raises(ValueError, match=r'bear/00001\.png.*12x10'):
        np.asarray(sample['data_samples'].gt_masks)


def test_non_contiguous_ids_keep_the_official_count(tmp_path, monkeypatch):
    root = make_davis(tmp_path, dict(bear=2), ids=(1, 3))
    messages = []
    monkeypatch.setattr(loading, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    sample = DAVIS2017Dataset(data_root=str(root),
                              pipeline=MASK_PIPELINE)[0]
    assert sample['data_samples'].num_objects == 3
    assert sample['data_samples'].object_ids == [1, 3]
    assert len(messages) == 1
    assert 'bear/00000.png' in messages[0] and '[2]' in messages[0]


def test_void_does_not_count_as_an_object():
    mask = np.array([[0, 1, 255]], np.uint8)
    assert loading.first_frame_objects(mask, 'x.png') == (1, [1])


def test_davis2016_unites_objects(davis_root):
    (davis_root / 'ImageSets' / '2016' / 'val.txt').write_text('camel\n')
    dataset = DAVIS2016Dataset(data_root=str(davis_root),
                               pipeline=MASK_PIPELINE)
    assert len(dataset) == 1
    sample = dataset[0]['data_samples']
    masks = np.asarray(sample.gt_masks)
    np.testing.assert_array_equal(
        masks[0], (object_mask((12, 16), (1, 2)) > 0).astype(np.uint8))
    assert sample.num_objects == 1


def test_davis2016_official_layout(tmp_path):
    root = tmp_path / 'DAVIS2016'
    write_frames(root / 'JPEGImages' / '480p' / 'bear',
                 video_frames(2, (12, 16)))
    for t in range(2):
        mask = np.zeros((12, 16), np.uint8)
        mask[2:5, 2:5] = 255
        path = root / 'Annotations' / '480p' / 'bear' / f'{t:05d}.png'
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask, mode='L').save(path)
    (root / 'ImageSets' / '480p').mkdir(parents=True)
    (root / 'ImageSets' / '480p' / 'val.txt').write_text(''.join(
        f'/JPEGImages/480p/bear/{t:05d}.jpg '
        f'/Annotations/480p/bear/{t:05d}.png\n' for t in range(2)))
    dataset = DAVIS2016Dataset(data_root=str(root), pipeline=MASK_PIPELINE)
    assert len(dataset) == 1
    masks = np.asarray(dataset[0]['data_samples'].gt_masks)
    assert masks.max() == 1 and masks.sum() == 2 * 9


def test_davis2016_falls_back_to_the_official_val_list(tmp_path):
    root = make_davis(tmp_path, dict(bear=2))
    for path in (root / 'ImageSets').rglob('*.txt'):
        path.unlink()
    with pytest.raises(FileNotFoundError, match='blackswan'):
        DAVIS2016Dataset(data_root=str(root))
    with pytest.raises(FileNotFoundError, match='no DAVIS-2016 sequence'):
        DAVIS2016Dataset(data_root=str(root), split='train')


def _sparse_video(root, name, num_frames, annotated, size=(10, 14)):
    write_frames(root / 'JPEGImages' / name, video_frames(num_frames, size))
    for t in annotated:
        write_indexed_png(root / 'Annotations' / name / f'{t:05d}.png',
                          object_mask(size, (1, 2)))


def test_fbms_records_sparse_annotations(tmp_path):
    _sparse_video(tmp_path, 'cars1', 6, annotated=(1, 4))
    dataset = FBMSDataset(data_root=str(tmp_path), sequences=['cars1'],
                          pipeline=MASK_PIPELINE)
    sample = dataset[0]['data_samples']
    np.testing.assert_array_equal(sample.gt_mask_frame_indices, [1, 4])
    assert np.asarray(sample.gt_masks).max() == 1


def test_fbms_default_list_names_the_missing_sequence(tmp_path):
    with pytest.raises(FileNotFoundError, match='camel01'):
        FBMSDataset(data_root=str(tmp_path))


def test_segtrackv2_needs_every_frame_annotated(tmp_path):
    _sparse_video(tmp_path, 'worm', 3, annotated=(0, 1))
    with pytest.raises(ValueError, match=r"\['00002'\]"):
        SegTrackV2Dataset(data_root=str(tmp_path), sequences=['worm'])


def test_vip_layout(tmp_path):
    fine = tmp_path / 'VIP_Fine'
    names = ['000000000001', '000000000006', '000000000011']
    write_frames(fine / 'Images' / 'videoA', video_frames(3, (10, 14)),
                 names=names)
    write_indexed_png(
        fine / 'Annotations' / 'Category_ids' / 'videoA' / f'{names[2]}.png',
        np.full((10, 14), 19, np.uint8))
    (fine / 'lists').mkdir()
    (fine / 'lists' / 'val_videos.txt').write_text('videoA\n')
    dataset = VIPDataset(data_root=str(tmp_path), pipeline=MASK_PIPELINE)
    sample = dataset[0]['data_samples']
    assert sample.frame_names == names
    np.testing.assert_array_equal(sample.gt_mask_frame_indices, [2])
    assert np.asarray(sample.gt_masks).max() == 19


def test_video_folder_requires_a_first_frame_annotation(tmp_path):
    video = tmp_path / 'clip'
    write_frames(video / 'JPEGImages', video_frames(3, (10, 14)),
                 names=['00000693', '00000694', '00000695'])
    write_indexed_png(video / 'Annotations' / '00000694.png',
                      object_mask((10, 14), (1, )))
    with pytest.raises(ValueError, match='first frame.*00000693'):
        VideoFolderDataset(data_root=str(video))
    dataset = VideoFolderDataset(data_root=str(video),
                                 annotation_coverage='some')
    assert dataset.get_data_info(0)['mask_frame_indices'] == [1]


def test_video_folder_without_videos_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='no video folder'):
        VideoFolderDataset(data_root=str(tmp_path))


def _jhmdb(root, num_frames=3, num_joints=4, mat_frames=None):
    video = root / 'Rename_Images' / 'walk' / 'v1'
    write_frames(video, video_frames(num_frames, (10, 14)),
                 names=[f'{t:05d}' for t in range(1, num_frames + 1)],
                 suffix='.png')
    positions = np.stack([
        np.arange(1, num_joints + 1)[:, None] + np.arange(
            mat_frames or num_frames)[None] * 10.0,
        np.full((num_joints, mat_frames or num_frames), 5.0)
    ])
    joints = root / 'joint_positions' / 'walk' / 'v1'
    joints.mkdir(parents=True)
    scipy.io.savemat(joints / 'joint_positions.mat', dict(pos_img=positions))
    (root / 'splits').mkdir()
    (root / 'splits' / 'walk_test_split1.txt').write_text(
        'v1.avi 2\nv0.avi 1\n')
    return positions


KEYPOINT_PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadJHMDBKeypoints'),
    dict(type='PackVideoInputs')
]


def test_jhmdb_keypoints_are_zero_based_tjx2(tmp_path):
    positions = _jhmdb(tmp_path, num_joints=4)
    dataset = JHMDBDataset(data_root=str(tmp_path),
                           pipeline=KEYPOINT_PIPELINE)
    assert len(dataset) == 1
    sample = dataset[0]['data_samples']
    assert sample.video_name == 'walk/v1'
    assert sample.frame_names == ['00001', '00002', '00003']
    keypoints = sample.gt_keypoints
    assert keypoints.shape == (3, 4, 2) and keypoints.dtype == np.float32
    for t in range(3):
        for j in range(4):
            assert keypoints[t, j, 0] == positions[0, j, t] - 1
            assert keypoints[t, j, 1] == positions[1, j, t] - 1


def test_jhmdb_crw_style_list(tmp_path):
    _jhmdb(tmp_path)
    (tmp_path / 'list.txt').write_text(
        '/x/Rename_Images/walk/v1 /x/joint_positions/walk/v1/j.mat\n')
    dataset = JHMDBDataset(data_root=str(tmp_path), ann_file='list.txt')
    assert dataset.get_data_info(0)['video_name'] == 'walk/v1'
    (tmp_path / 'bad.txt').write_text('v1\n')
    with pytest.raises(ValueError, match='bad.txt:1'):
        JHMDBDataset(data_root=str(tmp_path), ann_file='bad.txt')


def test_jhmdb_frame_count_mismatch_is_an_error(tmp_path):
    _jhmdb(tmp_path, num_frames=3, mat_frames=4)
    dataset = JHMDBDataset(data_root=str(tmp_path),
                           pipeline=KEYPOINT_PIPELINE)
    with pytest.raises(ValueError, match='4 frames but the video has 3'):
        dataset[0]


def test_withhold_last_frame_keeps_names_and_annotations(davis_root):
    # The Betrayed-by-Attention authors' evaluation input: the model gets
    # frames 0..T-2, the sample keeps all T names and masks.
    dataset = DAVIS2017Dataset(
        data_root=str(davis_root),
        pipeline=[dict(type='WithholdLastFrame')] + MASK_PIPELINE)
    sample = dataset[0]
    assert len(sample['inputs']) == 2
    data_sample = sample['data_samples']
    assert data_sample.frame_names == ['00000', '00001', '00002']
    assert len(data_sample.gt_masks) == 3
    with pytest.raises(ValueError, match='cannot withhold the last frame'):
        WithholdLastFrame()(
            dict(video_name='v', frame_paths=['a.jpg']))


def test_jhmdb_frames_beyond_the_joints_are_kept_and_logged(
        tmp_path, log_records):
    # CRW and VFS score a video longer than its pos_img on the first T_gt
    # frames: the frames stay, the ground truth covers the first two.
    positions = _jhmdb(tmp_path, num_frames=3, mat_frames=2)
    dataset = JHMDBDataset(data_root=str(tmp_path),
                           pipeline=KEYPOINT_PIPELINE)
    sample = dataset[0]
    assert len(sample['inputs']) == 3
    keypoints = sample['data_samples'].gt_keypoints
    assert keypoints.shape == (2, 4, 2)
    assert keypoints[1, 3, 0] == positions[0, 3, 1] - 1
    assert any('only the first 2 are scored' in record.getMessage()
               for record in log_records)


def test_jhmdb_bad_mat_files_are_named(tmp_path):
    _jhmdb(tmp_path)
    mat = tmp_path / 'joint_positions' / 'walk' / 'v1' / 'joint_positions.mat'
    dataset = JHMDBDataset(data_root=str(tmp_path),
                           pipeline=KEYPOINT_PIPELINE)
    scipy.io.savemat(mat, dict(other=np.zeros(3)))
    with pytest.raises(ValueError, match='no `pos_img`'):
        dataset[0]
    scipy.io.savemat(mat, dict(pos_img=np.zeros((3, 4, 3))))
    with pytest.raises(ValueError, match=r'\(2, J, T\)'):
        dataset[0]
    mat.write_bytes(b'garbage')
    with pytest.raises(ValueError, match='cannot read'):
        dataset[0]
    mat.unlink()
    with pytest.raises(FileNotFoundError, match='missing joint positions'):
        JHMDBDataset(data_root=str(tmp_path))


def test_jhmdb_without_split_files_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='test_split1'):
        JHMDBDataset(data_root=str(tmp_path))


def test_video_collate_keeps_whole_videos(davis_root):
    dataset = DAVIS2017Dataset(data_root=str(davis_root),
                               pipeline=MASK_PIPELINE)
    batch = video_collate([dataset[0], dataset[1]])
    assert [len(v) for v in batch['inputs']] == [3, 3]
    assert [s.video_name for s in batch['data_samples']] == ['bear', 'camel']
    with pytest.raises(KeyError, match='PackVideoInputs'):
        video_collate([dict(inputs=None)])


def test_empty_annotation_folder_is_an_error(tmp_path):
    _sparse_video(tmp_path, 'cars1', 3, annotated=())
    (tmp_path / 'Annotations' / 'cars1').mkdir(parents=True)
    with pytest.raises(ValueError, match='cars1.*holds no PNG'):
        FBMSDataset(data_root=str(tmp_path), sequences=['cars1'])


def test_annotations_follow_frame_order(tmp_path):
    video = tmp_path / 'v'
    write_frames(video / 'JPEGImages', video_frames(11, (6, 8)),
                 names=[str(t) for t in range(11)])
    for t in (0, 2, 10):
        write_indexed_png(video / 'Annotations' / f'{t}.png',
                          np.full((6, 8), t, np.uint8))
    info = VideoFolderDataset(data_root=str(video)).get_data_info(0)
    assert info['frame_names'][:3] == ['0', '1', '2']
    assert info['mask_frame_indices'] == [0, 2, 10]
    assert [p.rsplit('/', 1)[1] for p in info['mask_paths']] == [
        '0.png', '2.png', '10.png']


def test_sequence_list_without_names_is_an_error(davis_root):
    (davis_root / 'ImageSets' / '2017' / 'val.txt').write_text('\n  \n')
    with pytest.raises(ValueError, match='val.txt: sequence list names no'):
        DAVIS2017Dataset(data_root=str(davis_root))


def test_missing_frame_folder_without_a_list_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='frame folder does not'):
        VideoSegmentationDataset(data_root=str(tmp_path))


def test_every_sub_folder_without_a_list(davis_root):
    dataset = VideoSegmentationDataset(
        data_root=str(davis_root),
        data_prefix=dict(img='JPEGImages/480p', ann='Annotations/480p'))
    assert [dataset.get_data_info(i)['video_name']
            for i in range(len(dataset))] == ['bear', 'camel']


def test_jhmdb_missing_list_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='list.txt.*does not exist'):
        JHMDBDataset(data_root=str(tmp_path), ann_file='list.txt')


def test_clip_frames_of_different_sizes_are_an_error(tmp_path):
    first, = write_frames(tmp_path / 'a', video_frames(1, (8, 8)))
    second, = write_frames(tmp_path / 'b', video_frames(1, (8, 10)))
    with pytest.raises(ValueError, match=r'b/00000\.jpg.*differs'):
        LoadClipFrames()(dict(frame_paths=[str(first), str(second)]))
