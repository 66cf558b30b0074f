"""Object discovery on synthetic videos with known moving objects."""
import logging

import numpy as np
import pytest
import torch

from mmsmtc.evaluation.functional import (evaluate_sequence,
                                          evaluate_unsupervised_sequence,
                                          global_statistics)
from mmsmtc.models.discovery import (ObjectDiscoveryPostProcessor,
                                     foreground_from_tracks,
                                     oracle_best_track_foreground)
from mmsmtc.registry import TASK_UTILS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils.palette import read_indexed_png, write_indexed_png

HEIGHT, WIDTH, FRAMES = 48, 64, 10
#: Frames in which object 3 is hidden.
HIDDEN = (4, 5, 6)


def moving_objects_scene(object_three_moves: bool = False) -> np.ndarray:
    """``(T, H, W)`` uint8 ground truth of three objects.

    Object 2 (10x16) moves left and passes behind object 1 (12x12, moving
    right); object 3 (6x6) is hidden in :data:`HIDDEN` frames and, if
    ``object_three_moves``, comes back 12 pixels lower.
    """
    gt = np.zeros((FRAMES, HEIGHT, WIDTH), np.uint8)
    for t in range(FRAMES):
        gt[t, 14:24, 44 - 3 * t:60 - 3 * t] = 2
        gt[t, 12:24, 6 + 2 * t:18 + 2 * t] = 1
        if t not in HIDDEN:
            row = 32 if object_three_moves and t > HIDDEN[-1] else 20
            gt[t, row:row + 6, 28:34] = 3
    return gt


def candidates_from_gt(gt: np.ndarray,
                       slots: int = 4,
                       instances: int = 2,
                       slot_of_object=None,
                       seed: int = 0):
    """SMTC-like candidates that reproduce ``gt`` exactly.

    Background is candidate ``(0, 0)``; object ``k`` is candidate
    ``(slot_of_object[t][k], p)`` with a random instance index ``p`` per
    frame (SMTC redraws instance slots every frame). Object candidates and
    background score 0.9, unused candidates 0.1. Embeddings are one-hot
    object codes plus noise.

    Returns:
        tuple: semantic ``(T, S, H, W)``, masks ``(T, S, P, H, W)``,
        scores ``(T, S, P)``, embeddings ``(T, S, P, D)``.
    """
    generator = torch.Generator().manual_seed(seed)
    frames = gt.shape[0]
    num_objects = int(gt.max())
    masks = torch.full((frames, slots, instances) + gt.shape[1:], 0.01)
    scores = torch.full((frames, slots, instances), 0.1)
    embeddings = torch.randn((frames, slots, instances, num_objects + 1),
                             generator=generator)
    for t in range(frames):
        masks[t, 0, 0][torch.from_numpy(gt[t] == 0)] = 0.9
        scores[t, 0, 0] = 0.9
        for obj in range(1, num_objects + 1):
            slot = obj if slot_of_object is None else slot_of_object[t][obj]
            inst = int(torch.randint(instances, (1, ), generator=generator))
            if slot == 0:
                inst = 1
            masks[t, slot, inst][torch.from_numpy(gt[t] == obj)] = 0.9
            scores[t, slot, inst] = 0.9
            code = torch.zeros(num_objects + 1)
            code[obj] = 1
            embeddings[t, slot, inst] = code + 0.05 * torch.randn(
                num_objects + 1, generator=generator)
    semantic = masks.sum(2).log()
    return semantic, masks, scores, embeddings


def identity_map(gt: np.ndarray, pred: np.ndarray) -> dict:
    """Predicted id of each gt object per frame where it is visible."""
    ids = {}
    for obj in range(1, int(gt.max()) + 1):
        ids[obj] = {
            t: set(np.unique(pred[t][gt[t] == obj]).tolist())
            for t in range(len(gt)) if (gt[t] == obj).any()
        }
    return ids


def assert_same_objects(gt: np.ndarray, pred: np.ndarray) -> None:
    """``pred`` equals ``gt`` up to one fixed relabelling of the objects."""
    assert pred.shape == gt.shape and pred.dtype == np.uint8
    assert not pred[gt == 0].any()
    for obj, per_frame in identity_map(gt, pred).items():
        values = set().union(*per_frame.values())
        assert len(values) == 1 and 0 not in values, (obj, per_frame)
    assert len(np.unique(pred[pred > 0])) == gt.max()


def smtc_discovery(post, semantic, masks, scores, frame_size,
                   embeddings=None):
    """Run ``post`` on SMTC-shaped candidates through the discovery contract:
    ``K = S * P`` slot-major masks in ``S`` groups, the semantic maps as the
    group maps."""
    slots, instances = masks.shape[1:3]
    return post(masks.flatten(1, 2), frame_size, scores.flatten(1),
                None if embeddings is None else embeddings.flatten(1, 2),
                torch.arange(slots * instances) // instances, semantic)


def run(gt, post=None, with_embeddings=True, **kwargs):
    semantic, masks, scores, embeddings = candidates_from_gt(gt, **kwargs)
    post = post or ObjectDiscoveryPostProcessor()
    return smtc_discovery(post, semantic, masks, scores, gt.shape[1:],
                          embeddings if with_embeddings else None)


@pytest.mark.parametrize('with_embeddings', [True, False])
def test_exact_candidates_give_the_ground_truth(with_embeddings):
    gt = moving_objects_scene()
    result = run(gt, with_embeddings=with_embeddings)
    assert_same_objects(gt, result.id_maps.numpy())
    assert result.background_groups.tolist() == [True, False, False, False]
    assert len(result.scores) == 3
    assert torch.all(result.scores[:-1] >= result.scores[1:])


def test_png_round_trip_scores_perfect_j_and_f(tmp_path):
    gt = moving_objects_scene()
    id_maps = run(gt).id_maps.numpy()
    for t, ids in enumerate(id_maps):
        write_indexed_png(tmp_path / 'scene' / f'{t:05d}.png', ids)
    pred = [read_indexed_png(tmp_path / 'scene' / f'{t:05d}.png')
            for t in range(FRAMES)]
    scores = evaluate_unsupervised_sequence(list(gt), pred)
    np.testing.assert_array_equal(scores['J'], 1.0)
    np.testing.assert_array_equal(scores['F'], 1.0)
    stats = global_statistics(
        evaluate_sequence('unsupervised', 'scene', list(gt), pred))
    assert stats['J&F-Mean'] == 1.0


def test_slot_swap_is_undone_by_iou_and_embeddings():
    gt = moving_objects_scene()
    swapped = [{1: 2, 2: 1, 3: 3} if t >= 5 else {1: 1, 2: 2, 3: 3}
               for t in range(FRAMES)]
    for with_embeddings in (True, False):
        result = run(gt, with_embeddings=with_embeddings,
                     slot_of_object=swapped)
        assert_same_objects(gt, result.id_maps.numpy())


def test_reappearing_object_is_relinked_by_its_slot_or_embedding():
    gt = moving_objects_scene(object_three_moves=True)
    assert_same_objects(gt, run(gt, with_embeddings=False).id_maps.numpy())
    no_slot_term = ObjectDiscoveryPostProcessor(same_group_weight=0)
    assert_same_objects(gt, run(gt, no_slot_term).id_maps.numpy())
    without = run(gt, no_slot_term, with_embeddings=False).id_maps.numpy()
    ids = identity_map(gt, without)[3]
    assert ids[0] != ids[FRAMES - 1]


def test_static_reappearing_object_is_relinked_by_iou_alone():
    gt = moving_objects_scene()
    iou_only = ObjectDiscoveryPostProcessor(same_group_weight=0)
    result = run(gt, iou_only, with_embeddings=False)
    ids = identity_map(gt, result.id_maps.numpy())[3]
    values = set().union(*ids.values())
    assert len(values) == 1 and 0 not in values


def test_max_gap_closes_tracks():
    gt = moving_objects_scene()
    post = ObjectDiscoveryPostProcessor(max_gap=2)
    ids = identity_map(gt, run(gt, post).id_maps.numpy())[3]
    assert ids[0] != ids[FRAMES - 1]
    assert len(run(gt, post).scores) == 4


def grid_scene(num_objects: int = 30) -> np.ndarray:
    """Static squares of decreasing size on a grid: ``(T, 64, 96)``."""
    gt = np.zeros((3, 64, 96), np.uint8)
    for obj in range(num_objects):
        row, col = divmod(obj, 6)
        size = 9 - obj // 4
        top, left = 3 + 12 * row, 3 + 15 * col
        gt[:, top:top + size, left:left + size + (obj % 4)] = obj + 1
    return gt


def test_at_most_max_proposals_ordered_by_area():
    gt = grid_scene()
    masks = torch.full((len(gt), 9, 4) + gt.shape[1:], 0.01)
    scores = torch.full((len(gt), 9, 4), 0.1)
    masks[:, 0, 0][torch.from_numpy(gt == 0)] = 0.9
    for obj in range(1, 31):
        slot, inst = divmod(obj + 3, 4)
        masks[:, slot, inst][torch.from_numpy(gt == obj)] = 0.9
        scores[:, slot, inst] = 0.9
    semantic = masks.sum(2).log()
    result = smtc_discovery(ObjectDiscoveryPostProcessor(min_area=0),
                            semantic, masks, scores, gt.shape[1:])
    id_maps = result.id_maps.numpy()
    assert id_maps.max() == 20 and len(result.scores) == 20
    areas = np.bincount(gt[0].ravel(), minlength=31)[1:]
    expected_order = np.argsort(-areas, kind='stable')[:20] + 1
    for rank, obj in enumerate(expected_order, start=1):
        assert np.all(id_maps[gt == obj] == rank)
    dropped = np.isin(gt, np.argsort(-areas, kind='stable')[20:] + 1)
    assert not id_maps[dropped].any()


def test_background_rule_none_keeps_the_background_as_an_object():
    gt = moving_objects_scene()
    result = run(gt, ObjectDiscoveryPostProcessor(background_rule='none'))
    assert not result.background_groups.any()
    id_maps = result.id_maps.numpy()
    assert (id_maps > 0).all() and len(result.scores) == 4
    assert np.all(id_maps[gt == 0] == 1)


def test_low_scores_and_tiny_candidates_are_background():
    gt = moving_objects_scene()
    semantic, masks, scores, _ = candidates_from_gt(gt)
    scores[:, 3] = 0.2
    result = smtc_discovery(ObjectDiscoveryPostProcessor(), semantic, masks,
                            scores, gt.shape[1:])
    assert not result.id_maps.numpy()[gt == 3].any()
    tiny = smtc_discovery(
        ObjectDiscoveryPostProcessor(min_area=40 / (HEIGHT * WIDTH)),
        semantic, masks, scores, gt.shape[1:])
    assert len(tiny.scores) == 2


def test_upsampled_low_resolution_candidates_stay_close():
    gt = moving_objects_scene()
    semantic, masks, scores, embeddings = candidates_from_gt(gt)
    low = torch.nn.functional.avg_pool2d(masks.flatten(0, 2), 4).unflatten(
        0, masks.shape[:3])
    result = smtc_discovery(ObjectDiscoveryPostProcessor(min_area=0),
                            low.sum(2).log(), low, scores, gt.shape[1:],
                            embeddings)
    stats = global_statistics(
        evaluate_sequence('unsupervised', 'scene', list(gt),
                          list(result.id_maps.numpy())))
    assert 0.8 < stats['J-Mean'] < 1.0


@pytest.mark.parametrize('noise, least_j', [(0.3, 0.95), (0.8, 0.5)])
def test_noise_degrades_gracefully(noise, least_j):
    gt = moving_objects_scene()
    semantic, masks, scores, embeddings = candidates_from_gt(gt)
    generator = torch.Generator().manual_seed(1)
    noisy = masks + noise * torch.rand(masks.shape, generator=generator)
    result = smtc_discovery(ObjectDiscoveryPostProcessor(),
                            noisy.sum(2).log(), noisy, scores, gt.shape[1:],
                            embeddings)
    id_maps = result.id_maps.numpy()
    assert 0 < id_maps.max() <= 20
    stats = global_statistics(
        evaluate_sequence('unsupervised', 'scene', list(gt), list(id_maps)))
    assert least_j <= stats['J-Mean'] <= 1.0


def test_single_object_rules_and_oracle():
    gt = moving_objects_scene()
    id_maps = run(gt).id_maps
    union = foreground_from_tracks(id_maps).numpy()
    np.testing.assert_array_equal(union, gt > 0)
    top = foreground_from_tracks(id_maps, 'top').numpy()
    mean_areas = [np.mean([(frame == obj).sum() for frame in gt])
                  for obj in (1, 2)]
    largest = 1 + int(np.argmax(mean_areas))
    assert np.all(id_maps.numpy()[gt == largest] == 1)
    np.testing.assert_array_equal(top, id_maps.numpy() == 1)
    gt_small = (gt == 3).astype(np.uint8)[::3]
    oracle = oracle_best_track_foreground(id_maps, gt_small,
                                          np.arange(0, FRAMES, 3)).numpy()
    np.testing.assert_array_equal(oracle, gt == 3)


def smtc_sample(gt: np.ndarray, with_embeddings: bool = True):
    semantic, masks, scores, embeddings = candidates_from_gt(gt)
    sample = VideoDataSample(
        metainfo=dict(video_name='scene', ori_shape=gt.shape[1:]))
    slots, instances = masks.shape[1:3]
    sample.pred_group_maps = semantic
    sample.pred_slot_masks = masks.flatten(1, 2)
    sample.pred_slot_scores = scores.flatten(1)
    sample.pred_slot_groups = torch.arange(slots * instances) // instances
    if with_embeddings:
        sample.pred_slot_embeddings = embeddings.flatten(1, 2)
    return sample


def test_process_smtc_data_sample_and_build_from_config():
    gt = moving_objects_scene()
    post = TASK_UTILS.build(
        dict(type='ObjectDiscoveryPostProcessor', max_proposals=20))
    sample = post.process(smtc_sample(gt))
    assert isinstance(sample.pred_masks, np.ndarray)
    assert_same_objects(gt, sample.pred_masks)
    assert sample.pred_object_scores.shape == (3, )
    single = TASK_UTILS.build(
        dict(type='SingleObjectPostProcessor', discovery=dict(min_area=0)))
    foreground = single.process(smtc_sample(gt, False)).pred_masks
    np.testing.assert_array_equal(foreground, gt > 0)


def test_process_reports_missing_and_malformed_fields():
    gt = moving_objects_scene()
    post = ObjectDiscoveryPostProcessor()
    sample = smtc_sample(gt)
    del sample.pred_slot_masks
    with pytest.raises(KeyError, match="scene: .*'pred_slot_masks'"):
        post.process(sample)
    sample = VideoDataSample(metainfo=dict(video_name='scene'))
    sample.pred_group_maps = torch.zeros(2, 3, 4, 4)
    sample.pred_slot_masks = torch.zeros(2, 6, 4, 4)
    sample.pred_slot_groups = torch.arange(6) // 2
    with pytest.raises(KeyError, match='ori_shape'):
        post.process(sample)
    sample.set_metainfo(dict(ori_shape=(4, 4)))
    sample.pred_slot_groups = torch.arange(7) // 2
    with pytest.raises(ValueError, match='scene: groups has 7 entries'):
        post.process(sample)
    sample.pred_slot_groups = torch.arange(6) // 2
    sample.pred_slot_scores = torch.zeros(2, 5)
    with pytest.raises(ValueError, match='scene: scores has shape'):
        post.process(sample)
    del sample.pred_slot_scores
    assert post.process(sample).pred_masks.shape == (2, 4, 4)


@pytest.mark.parametrize('num_objects', [255, 260])
def test_uint8_cap_on_proposals_is_logged(num_objects, log_records):
    """With max_proposals=255 (the uint8 limit; the BbA authors' evaluation
    allows 300) a video with more tracks keeps the 255 best and says so."""
    height, width = 16, 17
    frame = np.arange(height * width).reshape(height, width) % num_objects
    masks = torch.from_numpy(
        np.eye(num_objects, dtype=np.float32)[frame]).permute(2, 0, 1)
    sample = VideoDataSample(
        metainfo=dict(video_name='crowd', ori_shape=(height, width)))
    sample.pred_slot_masks = masks[None]
    post = ObjectDiscoveryPostProcessor(
        background_rule='none', max_proposals=255, min_area=0)
    id_maps = post.process(sample).pred_masks
    assert id_maps.max() == 255 and (id_maps > 0).sum() >= 255
    warnings = [
        record.getMessage() for record in log_records
        if record.levelno == logging.WARNING
    ]
    if num_objects > 255:
        assert warnings == [
            'crowd: kept the 255 highest-ranked of 260 tracks (uint8 id '
            'maps hold 255 objects)'
        ]
    else:
        assert not warnings
