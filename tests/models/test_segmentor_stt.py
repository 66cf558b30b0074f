"""LabelPropagationSegmentor with protocol='stt' (Spa-then-Temp / VFS).

The segmentor's output is compared with the protocol computed directly from
its statement (``docs``: spa_then_temp test protocol): uint8 RGB resized
with OpenCV, L*a*b* normalised (50, 0, 0) / (50, 127, 127), the ResNet's
layer3, the dense float64 propagation with the square window on every
source and the recent real-frame context, PIL-nearest one-hot labels and
the min-max normalised argmax (written out here with torch), frame 0 the
given map; joints as Gaussians of 4 image pixels read at the image size.
"""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mmsmtc.apis import (image_joint_label_maps, label_grid_size,
                         propagate_labels_dense, read_out_keypoints_at_image)
from mmsmtc.evaluation.functional.keypoints import normalised_joint_distances
from mmsmtc.evaluation.metrics import PCKMetric
from mmsmtc.models.data_preprocessors import VideoDataPreprocessor
from mmsmtc.models.segmentors import LabelPropagationSegmentor
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils import register_all_modules

register_all_modules()

LAB_MEAN = (50, 0, 0)
LAB_STD = (50, 127, 127)
SETTINGS = dict(topk=5, radius=2, temperature=0.07, n_context=2)


def build(**overrides):
    settings = dict(
        propagator=dict(
            type='LabelPropagator',
            backbone=dict(type='ResNet', depth=18, out_indices=(2, ),
                          stem_pool='none', stage_strides=(1, 2, 2)),
            out_index=0, window='square', restrict_first_frame=True,
            context='recent', **SETTINGS),
        stride=8, protocol='stt', grid_rounding='ceil',
        data_preprocessor=dict(type='VideoDataPreprocessor', mean=LAB_MEAN,
                               std=LAB_STD, color_space='lab'))
    settings.update(overrides)
    torch.manual_seed(0)
    model = LabelPropagationSegmentor(**settings)
    model.init_weights()
    return model.eval()


def make_video(num_frames=5, size=(42, 60), seed=0):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 60, (num_frames, *size, 3), dtype=np.uint8)
    for t in range(num_frames):
        frames[t, 8:22, 6 + 2 * t:20 + 2 * t] = (220, 40, 40)
        frames[t, 24:36, 30:50] = (40, 200, 60)
    annotation = np.zeros(size, np.uint8)
    annotation[8:22, 6:20] = 1
    annotation[24:36, 30:50] = 2
    return frames, annotation


def direct_features(model, frames, size):
    resized = np.stack([
        cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
        for f in frames
    ]) if tuple(frames.shape[1:3]) != tuple(size) else frames
    lab = np.stack([
        cv2.cvtColor(f.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
        for f in resized
    ])
    video = (torch.from_numpy(lab).permute(0, 3, 1, 2) -
             torch.tensor(LAB_MEAN).view(3, 1, 1)) / torch.tensor(
                 LAB_STD).view(3, 1, 1)
    with torch.no_grad():
        return model.propagator.backbone(video.float())[0]


def direct_propagation(feats, labels):
    return propagate_labels_dense(
        feats.double(), labels.double(), dtype=torch.float64,
        tie_break='first', window='square', restrict_first_frame=True,
        context='recent',
        **SETTINGS)


def pil_nearest(ids, size):
    return np.asarray(Image.fromarray(ids).resize(size[::-1], Image.NEAREST))


def official_minmax_argmax(soft, size):
    """Ids and the margin between the two best normalised channels."""
    pred = F.interpolate(soft[None], size=size, mode='bilinear',
                         align_corners=False)
    low = pred.flatten(2).min(-1)[0][..., None, None]
    high = pred.flatten(2).max(-1)[0][..., None, None]
    pred = torch.where(high > 0, (pred - low) / (high - low + 1e-12), pred)
    best = pred[0].topk(2, dim=0).values
    return pred.argmax(1)[0].numpy(), (best[0] - best[1]).numpy()


@pytest.mark.parametrize('input_size', [None, (48, 64)])
def test_masks_follow_the_spa_then_temp_protocol(input_size):
    frames, annotation = make_video()
    model = build(input_size=input_size)
    sample = VideoDataSample(metainfo=dict(video_name='square'))
    sample.gt_masks = annotation[None]
    (sample, ) = model.predict([frames], [sample])
    size = input_size or frames.shape[1:3]
    feats = direct_features(model, frames, size)
    grid = label_grid_size(*size, 8, 'ceil')
    assert tuple(feats.shape[-2:]) == grid
    ids = pil_nearest(pil_nearest(annotation, size), grid).astype(np.int64)
    labels = F.one_hot(torch.from_numpy(ids)).permute(2, 0, 1).float()
    soft = direct_propagation(feats, labels)
    given = F.interpolate(
        torch.from_numpy(pil_nearest(annotation, size).copy()).float()[
            None, None], size=frames.shape[1:3], mode='nearest')[0, 0]
    np.testing.assert_array_equal(sample.pred_masks[0], given.numpy())
    # one-hot soft labels on flat squares upsample to exact 0.5 / 0.5 ties
    # between channels, decided by rounding; compare where the protocol's
    # two best channels differ by more than rounding
    decided = 0
    for frame in range(1, len(soft)):
        ids, margin = official_minmax_argmax(soft[frame], frames.shape[1:3])
        clear = margin > 1e-6
        np.testing.assert_array_equal(sample.pred_masks[frame][clear],
                                      ids[clear])
        decided += clear.mean() / (len(soft) - 1)
    assert decided > 0.99
    assert set(np.unique(sample.pred_masks[1:])) == {0, 1, 2}


def test_keypoints_follow_the_spa_then_temp_protocol():
    frames, _ = make_video(size=(40, 56))
    joints = np.array([[12.0, 14.0], [40.0, 30.0], [5.5, 33.2]])
    sample = VideoDataSample(metainfo=dict(video_name='pose'))
    sample.gt_keypoints = np.repeat(joints[None], 5, 0)
    model = build(label_type='keypoints', input_size=(32, 32),
                  keypoint_topk=5)
    (sample, ) = model.predict([frames], [sample])
    assert sample.pred_keypoints.shape == (5, 3, 2)
    labels, input_maps = image_joint_label_maps(joints, (40, 56), (32, 32),
                                                (4, 4))
    assert labels.shape == (3, 4, 4)  # no background channel
    soft = direct_propagation(direct_features(model, frames, (32, 32)),
                              labels)
    expected = [read_out_keypoints_at_image(torch.from_numpy(input_maps),
                                            (40, 56))]
    expected += [read_out_keypoints_at_image(s, (40, 56)) for s in soft[1:]]
    np.testing.assert_allclose(sample.pred_keypoints, np.stack(expected),
                               rtol=1e-6)
    # frame 0 is read from the input-size maps: within a pixel of the joints
    assert np.abs(sample.pred_keypoints[0] - joints).max() < 1.5


def test_image_joint_maps_are_4_pixel_gaussians_without_background():
    _, input_maps = image_joint_label_maps(
        np.array([[20.0, 10.0]]), (30, 40), (30, 40), (4, 5))
    peak = input_maps[0]
    assert peak[10, 20] == 1
    assert peak[10, 24] == pytest.approx(np.exp(-16 / 32))
    assert peak[10, 33] == 0  # outside the 25 x 25 window (int(x - 12))


def test_read_out_at_image_averages_the_top_pixels():
    soft = torch.zeros(2, 4, 4)
    soft[0, 1, 2] = 1.0
    coords = read_out_keypoints_at_image(soft, (4, 4), topk=1)
    assert coords[0].tolist() == [2.0, 1.0]
    assert coords[1].tolist() == [-1.0, -1.0]


def test_spa_then_temp_pck_scores_frame_zero_and_needs_positive_x():
    gt = np.array([[[10.0, 10.0], [20.0, 20.0]]] * 2)
    pred = gt.copy()
    pred[1, 0, 0] = 0.0  # x == 0: visible for CRW, not for VFS
    _, crw = normalised_joint_distances(gt, pred)
    _, vfs = normalised_joint_distances(gt, pred, skip_first_frame=False,
                                        visibility='x > 0')
    assert crw.tolist() == [[False, False], [True, True]]
    assert vfs.tolist() == [[True, True], [False, True]]
    with pytest.raises(ValueError, match='PCK protocol must be one of'):
        PCKMetric(protocol='x > -1')
    assert PCKMetric(protocol='vfs').settings.visibility == 'x > 0'


def test_lab_preprocessing_matches_opencv():
    frames = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3),
                                               dtype=np.uint8)
    preprocessor = VideoDataPreprocessor(mean=LAB_MEAN, std=LAB_STD,
                                         color_space='lab')
    out = preprocessor.normalize_frames(frames)
    lab = cv2.cvtColor(frames[1].astype(np.float32) / 255,
                       cv2.COLOR_RGB2Lab)
    expected = (lab - np.array(LAB_MEAN)) / np.array(LAB_STD)
    np.testing.assert_allclose(out[1].permute(1, 2, 0).numpy(), expected,
                               atol=1e-5)
    with pytest.raises(ValueError, match='color_space'):
        VideoDataPreprocessor(color_space='hsv')


def test_bad_protocol_and_propagator_options_are_named():
    with pytest.raises(ValueError, match='protocol'):
        build(protocol='vfs')
    with pytest.raises(ValueError, match='window'):
        build(propagator=dict(type='LabelPropagator', backbone=dict(
            type='ResNet', depth=18, out_indices=(2, )), window='circle',
            **SETTINGS))
