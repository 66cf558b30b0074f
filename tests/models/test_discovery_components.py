"""The pieces of object discovery, hand-computed cases and every error."""
import numpy as np
import pytest
import torch

from mmsmtc.models.discovery import (ObjectDiscoveryPostProcessor,
                                     SingleObjectPostProcessor, TrackLinker,
                                     background_groups, check_discovery_inputs,
                                     extract_candidates,
                                     foreground_from_tracks,
                                     oracle_best_track_foreground,
                                     pairwise_label_iou, rank_tracks,
                                     render_id_maps, track_selection_scores)
from mmsmtc.models.discovery.candidates import border_pixels, upsampled_argmax


def good_inputs(frames=2, slots=3, instances=2, size=4, dim=5):
    """SMTC-like slot masks: ``K = S * P`` masks in ``S`` groups."""
    return dict(
        masks=torch.rand(frames, slots * instances, size, size),
        frame_size=(size, size),
        scores=torch.rand(frames, slots * instances),
        embeddings=torch.rand(frames, slots * instances, dim),
        groups=torch.arange(slots * instances) // instances,
        group_maps=torch.rand(frames, slots, size, size))


def test_inputs_are_converted_to_float_tensors_on_one_device():
    inputs = good_inputs()
    inputs['scores'] = np.ones((2, 6), np.int64)
    inputs['groups'] = np.array([0, 0, 1, 1, 2, 2])
    checked = check_discovery_inputs(**inputs)
    assert checked.scores.dtype == torch.float32
    assert checked.groups.dtype == torch.int64
    assert checked.frame_size == (4, 4) and checked.num_groups == 3


def test_optional_fields_default_to_one_group_per_mask_and_unit_scores():
    checked = check_discovery_inputs(torch.rand(2, 5, 3, 3), (6, 6))
    assert checked.groups.tolist() == [0, 1, 2, 3, 4]
    assert torch.equal(checked.scores, torch.ones(2, 5))
    assert checked.embeddings is None and checked.group_maps is None


@pytest.mark.parametrize('name, value, error, message', [
    ('masks', [[0.5]], TypeError, 'masks must be a tensor'),
    ('masks', torch.rand(2, 6, 4), ValueError,
     r'masks must be \(T, K, h, w\)'),
    ('masks', torch.rand(0, 6, 4, 4), ValueError, r'no frames \(T == 0\)'),
    ('masks', torch.rand(2, 0, 4, 4), ValueError, 'K, h, w >= 1'),
    ('masks', torch.full((2, 6, 4, 4), float('inf')), ValueError,
     'masks contains NaN or infinite'),
    ('scores', torch.rand(2, 3, 2), ValueError, r'scores must be \(T, K\)'),
    ('scores', torch.rand(2, 5), ValueError, 'scores has shape'),
    ('scores', torch.tensor(float('nan')).expand(2, 6), ValueError,
     'scores contains NaN'),
    ('embeddings', torch.rand(2, 5, 5), ValueError, 'embeddings has shape'),
    ('groups', torch.arange(5), ValueError, 'groups has 5 entries'),
    ('groups', torch.tensor([0., 0, 1, 1, 2, 2]), ValueError,
     'groups must hold integers'),
    ('groups', torch.tensor([0, 0, 2, 2, 3, 3]), ValueError, 'without gaps'),
    ('groups', torch.tensor([0, 0, 1, 1, 2, -1]), ValueError,
     'groups must be >= 0'),
    ('group_maps', torch.rand(2, 4, 4, 4), ValueError,
     r'group_maps has shape \(2, 4, 4, 4\)'),
    ('group_maps', torch.rand(3, 3, 4, 4), ValueError, 'group_maps has shape'),
    ('frame_size', (4, 4, 1), ValueError, 'frame_size must be two'),
    ('frame_size', (0, 4), ValueError, 'frame_size must be two'),
    ('frame_size', (4.5, 4), ValueError, 'frame_size must be two'),
    ('frame_size', None, ValueError, 'frame_size must be two'),
    ('frame_size', ('a', 4), ValueError, 'frame_size must be two'),
])
def test_bad_inputs_name_the_argument(name, value, error, message):
    inputs = good_inputs()
    inputs[name] = value
    with pytest.raises(error, match=message):
        check_discovery_inputs(**inputs)


def test_too_many_masks_per_frame():
    inputs = good_inputs(frames=1, slots=1, instances=46341, size=1, dim=1)
    with pytest.raises(ValueError, match='K = 46341 masks'):
        check_discovery_inputs(**inputs)


def test_border_pixels_counts_each_ring_pixel_once():
    ids = torch.arange(30).view(5, 6)
    ring = border_pixels(ids)
    assert sorted(ring.tolist()) == sorted(
        set(range(6)) | set(range(24, 30)) | {6, 12, 18, 11, 17, 23})
    assert len(border_pixels(torch.arange(8).view(2, 4))) == 8


def test_extract_candidates_argmax_areas_and_group_counts():
    masks = torch.zeros(1, 2, 2, 4, 4)
    masks[0, 1, 1, :, :2] = 1.0
    masks[0, 0, 1, :, 2:] = 1.0
    masks[0, 0, 1, 1:3, 2:3] = 0.0
    groups = torch.tensor([0, 0, 1, 1])
    candidates = extract_candidates(masks.flatten(1, 2), (4, 4), groups,
                                    masks.sum(2))
    expected = torch.tensor([[3, 3, 1, 1], [3, 3, 0, 1], [3, 3, 0, 1],
                             [3, 3, 1, 1]], dtype=torch.int32)
    assert torch.equal(candidates.labels[0], expected)
    assert candidates.areas[0].tolist() == [2, 6, 0, 8]
    assert candidates.group_areas.tolist() == [8, 8]
    assert candidates.group_border_pixels.tolist() == [6, 6]


def test_groups_without_maps_take_the_group_of_each_pixels_mask():
    masks = torch.zeros(1, 3, 3, 3)
    masks[0, 0] = 1.0  # mask 0 everywhere ...
    masks[0, 2, 1, 1] = 2.0  # ... but the centre, which is mask 2's
    groups = torch.tensor([1, 1, 0])
    candidates = extract_candidates(masks, (3, 3), groups)
    assert candidates.group_areas.tolist() == [1, 8]
    assert candidates.group_border_pixels.tolist() == [0, 8]


def test_extract_candidates_upsamples_bilinearly():
    masks = torch.zeros(1, 2, 2, 2)
    masks[0, 0, :, 0] = 1.0
    masks[0, 1, :, 1] = 1.0
    candidates = extract_candidates(masks, (4, 8), torch.tensor([0, 0]))
    assert candidates.labels.shape == (1, 4, 8)
    assert candidates.labels[0, :, :4].eq(0).all()
    assert candidates.labels[0, :, 4:].eq(1).all()


def test_channel_chunks_do_not_change_the_argmax():
    maps = torch.rand(7, 5, 6, generator=torch.Generator().manual_seed(0))
    maps[5] = maps[1]
    maps[6, 0, 0] = 2.0
    maps[2, 0, 0] = 2.0
    whole = upsampled_argmax(maps, (9, 11), channel_chunk=7)
    reference = torch.nn.functional.interpolate(
        maps[None], (9, 11), mode='bilinear',
        align_corners=False)[0].argmax(0)
    assert torch.equal(whole, reference)
    assert whole[0, 0] == 2
    for chunk in (1, 2, 3):
        assert torch.equal(upsampled_argmax(maps, (9, 11), chunk), whole)


def test_background_rules():
    border = torch.tensor([5, 9, 0, 9])
    area = torch.tensor([50, 10, 0, 20])
    assert background_groups(border, area).tolist() == [
        False, True, False, False]
    assert background_groups(border, area, 'border', 2).tolist() == [
        False, True, False, True]
    assert background_groups(border, area, 'area').tolist() == [
        True, False, False, False]
    assert not background_groups(border, area, 'none', 3).any()
    assert background_groups(border, area, 'border', 9).tolist() == [
        True, True, False, True]
    with pytest.raises(ValueError, match='background_rule must be one of'):
        background_groups(border, area, 'largest')
    with pytest.raises(ValueError, match='num_background_groups'):
        background_groups(border, area, 'area', -1)


def test_pairwise_label_iou_by_hand():
    first = torch.tensor([[0, 0, 1], [2, 2, 1]])
    second = torch.tensor([[0, 1, 1], [2, 2, 2]])
    iou = pairwise_label_iou(first, second, 3)
    expected = torch.tensor([[1 / 2, 1 / 3, 0], [0, 1 / 3, 1 / 4],
                             [0, 0, 2 / 3]], dtype=torch.float64)
    torch.testing.assert_close(iou, expected)


def test_track_selection_scores_by_hand():
    tracks = torch.tensor([[0, 1, -1], [0, -1, -1], [0, -1, 2], [-1, -1, 2]])
    scores = torch.tensor([[0.8, 0.9, 0.1], [0.6, 0.5, 0.0],
                           [1.0, 0.0, -0.4], [0.0, 0.0, 0.6]])
    areas = torch.tensor([[0.04, 0.25, 0.0], [0.16, 0.0, 0.0],
                          [0.04, 0.0, 0.09], [0.0, 0.0, 0.09]])
    result = track_selection_scores(tracks, scores, areas)
    expected = [0.8 * 3 / 4 * 0.08**0.5, 0.9 / 4 * 0.5, 0.3 / 2 * 0.3]
    torch.testing.assert_close(result,
                               torch.tensor(expected, dtype=torch.float64))
    flat = track_selection_scores(tracks, scores, areas, area_exponent=0)
    torch.testing.assert_close(
        flat, torch.tensor([0.6, 0.225, 0.15], dtype=torch.float64))


def test_rank_tracks_limits_filters_and_breaks_ties_in_order():
    scores = torch.tensor([0.5, 0.9, 0.5, 0.7, 0.1])
    frames = torch.tensor([3, 1, 3, 3, 3])
    assert rank_tracks(scores, frames, 20).tolist() == [3, 1, 4, 2, 5]
    assert rank_tracks(scores, frames, 2).tolist() == [0, 1, 0, 2, 0]
    assert rank_tracks(scores, frames, 3, min_track_frames=2).tolist() == [
        2, 0, 3, 1, 0]


def test_render_id_maps_looks_up_track_ids():
    labels = torch.tensor([[[0, 1], [2, 2]], [[1, 1], [0, 2]]],
                          dtype=torch.int16)
    tracks = torch.tensor([[0, 1, -1], [1, 2, 0]])
    ids = torch.tensor([2, 0, 1])
    id_maps = render_id_maps(labels, tracks, ids)
    assert id_maps.dtype == torch.uint8
    assert id_maps.tolist() == [[[2, 0], [0, 0]], [[1, 1], [0, 2]]]


def test_linker_follows_the_affinity_and_opens_new_tracks():
    labels = torch.tensor([[[0, 1, 1, 2, 2, 0]], [[0, 2, 2, 1, 1, 0]],
                           [[0, 2, 2, 1, 1, 0]]])
    valid = torch.tensor([[False, True, True], [False, True, True],
                          [True, True, True]])
    groups = torch.arange(3)
    tracks = TrackLinker()(labels, valid, groups)
    assert tracks.tolist() == [[-1, 0, 1], [-1, 1, 0], [2, 1, 0]]
    by_group = TrackLinker(iou_weight=0, same_group_weight=1)
    assert by_group(labels, valid, groups)[1].tolist() == [-1, 0, 1]
    strict = TrackLinker(link_threshold=0.9)
    assert strict(labels, valid, groups)[1].tolist() == [-1, 2, 3]


def test_linker_same_group_term_follows_the_groups():
    labels = torch.tensor([[[1, 1]], [[0, 2]]])
    valid = torch.tensor([[False, True, False], [True, False, True]])
    by_group = TrackLinker(iou_weight=0, same_group_weight=1)
    # mask 1 of frame 0 shares a group with mask 0 of frame 1 only
    assert by_group(labels, valid, torch.tensor([0, 0, 1]))[1].tolist() == [
        0, -1, 1]
    # one group per mask: nothing links, every mask starts a track
    assert by_group(labels, valid, torch.arange(3))[1].tolist() == [1, -1, 2]


def test_linker_embedding_term_overrides_group_identity():
    labels = torch.tensor([[[1, 2]], [[1, 2]]])
    valid = torch.tensor([[False, True, True], [False, True, True]])
    embeddings = torch.tensor([[[0., 0.], [1., 0.], [0., 1.]],
                               [[0., 0.], [0., 2.], [3., 0.]]])
    linker = TrackLinker(iou_weight=0, same_group_weight=0.4)
    groups = torch.arange(3)
    assert linker(labels, valid, groups, embeddings)[1].tolist() == [-1, 1, 0]
    assert linker(labels, valid, groups)[1].tolist() == [-1, 0, 1]


@pytest.mark.parametrize('kwargs, message', [
    (dict(iou_weight=-1), 'iou_weight must be >= 0'),
    (dict(embedding_weight=float('nan')), 'embedding_weight must be >= 0'),
    (dict(iou_weight=0, embedding_weight=0, same_group_weight=0),
     'at least one linking weight'),
    (dict(link_threshold=1.5), 'link_threshold must be in'),
    (dict(max_gap=0), 'max_gap must be'),
    (dict(max_gap=2.5), 'max_gap must be'),
])
def test_linker_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrackLinker(**kwargs)


@pytest.mark.parametrize('kwargs, message', [
    (dict(max_proposals=0), 'max_proposals must be'),
    (dict(max_proposals=256), 'max_proposals must be'),
    (dict(min_area=-0.1), 'min_area must be'),
    (dict(area_exponent=-1), 'area_exponent must be'),
    (dict(min_track_frames=0), 'min_track_frames must be'),
    (dict(background_rule='corners'), 'background_rule must be'),
    (dict(link_threshold=-0.1), 'link_threshold must be'),
])
def test_post_processor_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ObjectDiscoveryPostProcessor(**kwargs)


def test_post_processor_runs_without_valid_candidates():
    inputs = good_inputs()
    inputs['scores'] = torch.zeros(2, 6)
    result = ObjectDiscoveryPostProcessor()(**inputs)
    assert result.id_maps.shape == (2, 4, 4) and not result.id_maps.any()
    assert result.scores.shape == (0, )


def test_foreground_rules_and_errors():
    id_maps = torch.tensor([[[0, 1], [2, 3]]], dtype=torch.uint8)
    assert foreground_from_tracks(id_maps).tolist() == [[[0, 1], [1, 1]]]
    assert foreground_from_tracks(id_maps, 'top').tolist() == [[[0, 1],
                                                                [0, 0]]]
    with pytest.raises(ValueError, match='rule must be one of'):
        foreground_from_tracks(id_maps, 'largest')
    with pytest.raises(ValueError, match=r'id_maps must be \(T, H, W\)'):
        foreground_from_tracks(id_maps.float())
    with pytest.raises(ValueError, match=r'id_maps has no frames'):
        foreground_from_tracks(id_maps[:0])
    with pytest.raises(ValueError, match='rule must be one of'):
        SingleObjectPostProcessor(rule='oracle')
    post = ObjectDiscoveryPostProcessor(max_proposals=3)
    assert SingleObjectPostProcessor(discovery=post).discovery is post


def test_oracle_ignores_void_and_checks_its_inputs():
    id_maps = torch.tensor([[[1, 1, 2, 2]], [[1, 1, 2, 0]]],
                           dtype=torch.uint8)
    gt = np.array([[[0, 255, 1, 1]], [[1, 255, 0, 0]]], np.uint8)
    assert oracle_best_track_foreground(id_maps, gt[:1]).tolist() == [
        [[0, 0, 1, 1]], [[0, 0, 1, 0]]]
    assert oracle_best_track_foreground(id_maps, gt[1:], [1]).tolist() == [
        [[1, 1, 0, 0]], [[1, 1, 0, 0]]]
    empty = oracle_best_track_foreground(torch.zeros_like(id_maps), gt)
    assert not empty.any()
    with pytest.raises(ValueError, match='one index per annotated frame'):
        oracle_best_track_foreground(id_maps, gt, [0])
    with pytest.raises(ValueError, match=r'must lie in \[0, 2\)'):
        oracle_best_track_foreground(id_maps, gt, [0, 2])
    with pytest.raises(ValueError, match='gt_masks frames are'):
        oracle_best_track_foreground(id_maps, gt[:, :, :3])
    with pytest.raises(ValueError, match=r'gt_masks must be \(T, H, W\)'):
        oracle_best_track_foreground(id_maps, gt[0])
