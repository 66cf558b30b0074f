"""Betrayed by Attention configs: they build without weight files and hold
the official recipe and evaluation settings; the discovery settings keep
the video-level cluster identities."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmsmtc.datasets import sample_clip_indices
from mmsmtc.models.discovery import ObjectDiscoveryPostProcessor
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils import register_all_modules

register_all_modules()

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
TRAIN = CONFIGS / 'bba' / 'bba_vit-s8-dino_8xb1-60k_ytvos-192x384.py'
TEST_CONFIGS = sorted((CONFIGS / 'bba_test').glob('*.py'))


@pytest.mark.parametrize(
    'path', [TRAIN, *TEST_CONFIGS,
             CONFIGS / 'bba' / 'bba_vit-tiny_1xb4-1k_synthetic-64x112.py'],
    ids=lambda path: path.name)
def test_configs_build_without_weights(path):
    cfg = Config.fromfile(str(path))
    model = MODELS.build(cfg.model)
    bba = getattr(model, 'model', model)
    assert type(bba).__name__ == 'BetrayedByAttention'
    assert bba.backbone.frozen and bba.test_clip_len is None


def test_training_recipe():
    cfg = Config.fromfile(str(TRAIN))
    assert cfg.model.backbone.arch == 'vit-s8'
    assert cfg.model.head.num_heads == 8
    assert (cfg.model.head.drop, cfg.model.head.attn_drop) == (0.1, 0.4)
    assert cfg.model.key_frame_stride == 10 and cfg.model.tau == 1.0
    assert cfg.optim_wrapper.optimizer.lr == 1e-5
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.param_scheduler[0].eta_min == 1e-6
    assert cfg.train_cfg.max_iters == 60000
    loader = cfg.train_dataloader
    assert loader.batch_size == 1
    assert (loader.dataset.num_frames, loader.dataset.gap,
            loader.dataset.sampling) == (3, 2, 'bba')
    assert loader.dataset.pipeline[1].size == (192, 384)


def test_evaluation_settings():
    cfg = Config.fromfile(
        str(CONFIGS / 'bba_test' / 'discovery_bba-vit-s8_davis17-unsup.py'))
    assert cfg.model.input_size == (320, 480)
    assert cfg.model.data_preprocessor.mean == pytest.approx(
        (0.43216 * 255, 0.394666 * 255, 0.37645 * 255))
    post = cfg.model.post_processor
    assert post.max_proposals == 20 and post.upsample_mode == 'nearest'
    assert cfg.test_evaluator[0].task == 'unsupervised'


def test_cluster_identities_survive_the_post_processor():
    """Cluster 1 jumps across the frame (no overlap) and disappears for a
    frame: with the BbA settings it keeps one id."""
    cfg = Config.fromfile(
        str(CONFIGS / 'bba_test' / '_base_' / 'discovery_post_processor.py'))
    settings = dict(cfg.discovery_post_processor)
    settings.pop('type')
    post = ObjectDiscoveryPostProcessor(**settings)
    labels = torch.zeros(4, 6, 8, dtype=torch.long)  # 0: the background
    labels[:, 4:5, 3:4] = 2
    labels[0, 1:3, 1:3] = 1
    labels[2, 3:5, 5:7] = 1
    labels[3, 1:3, 5:7] = 1
    masks = torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2)
    ids = post(masks.float(), (12, 16)).id_maps
    first = int(ids[0, 2, 2])
    assert first != 0 and int(ids[2, 6, 10]) == int(ids[3, 2, 10]) == first
    assert int(ids[1].max()) == int(ids[0, 8, 6]) != first  # cluster 2
    assert (ids[:, 0] == 0).all() and (ids[:, :, 0] == 0).all()


def test_nearest_upsampling():
    labels = torch.tensor([[[0, 1], [1, 0]]])
    masks = torch.nn.functional.one_hot(labels, 2).permute(0, 3, 1, 2)
    base = dict(min_area=0.0, background_rule='none',
                iou_weight=0.0, embedding_weight=0.0, same_group_weight=0.0,
                same_mask_weight=1.0, link_threshold=1.0, max_gap=None)
    nearest = ObjectDiscoveryPostProcessor(upsample_mode='nearest', **base)
    ids = nearest(masks.float(), (4, 6)).id_maps[0]
    expected = labels[0].repeat_interleave(2, 0).repeat_interleave(3, 1)
    assert len(torch.unique(ids)) == 2
    assert torch.equal(ids == ids[0, 0], expected == 0)
    with pytest.raises(ValueError, match='upsample_mode'):
        ObjectDiscoveryPostProcessor(upsample_mode='bicubic')


def test_bba_clip_sampling():
    rng = np.random.RandomState(0)
    drawn = {tuple(sample_clip_indices(10, 3, 2, rng, sampling='bba'))
             for _ in range(300)}
    centres = sorted(clip[1] for clip in drawn)
    assert centres[0] == 2 and centres[-1] == 7  # c in [g, L - g - 1]
    assert all(clip[2] - clip[1] == clip[1] - clip[0] == 2 for clip in drawn)
    short = sample_clip_indices(5, 3, 2, rng, sampling='bba')
    assert short[1] - short[0] == 1  # stride lowered: [2, 2] holds one
    with pytest.raises(ValueError, match='sampling'):
        sample_clip_indices(10, 3, 2, rng, sampling='other')


def test_tiny_discovery_segmentor_end_to_end():
    """The tiny synthetic test config on a random video: a whole-video clip
    through the clustering and the post-processor, at most 20 ids that are
    the clusters (video-level)."""
    cfg = Config.fromfile(
        str(CONFIGS / 'bba_test' /
            'discovery_bba-vit-tiny_synthetic-davis17-unsup.py'))
    segmentor = MODELS.build(cfg.model)
    segmentor.init_weights()
    with torch.no_grad():  # peaked attention: several clusters
        segmentor.model.head.attn.qkv.weight.normal_(0, 0.5)
    segmentor.eval()
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(5, 48, 80, 3), dtype=np.uint8)
    sample = VideoDataSample(metainfo=dict(video_name='v', ori_shape=(48,
                                                                      80)))
    (result, ) = segmentor.predict([frames], [sample])
    clusters = result.pred_slot_masks
    assert clusters.shape[0] == 5 and clusters.shape[2:] == (8, 14)
    assert torch.equal(clusters.sum(1), torch.ones(5, 8, 14))
    assert result.pred_masks.shape == (5, 48, 80)
    assert 1 <= result.pred_masks.max() <= 20


def test_authors_evaluation_variant_is_separate_and_labelled():
    path = (CONFIGS / 'bba_test' /
            'discovery_bba-vit-s8_davis17-unsup-authors-eval.py')
    assert 'NOT THE OFFICIAL PROTOCOL' in path.read_text().splitlines()[0]
    cfg = Config.fromfile(str(path))
    post = cfg.model.post_processor
    assert (post.background_rule, post.max_proposals) == ('none', 255)
    pipeline = [step.type for step in cfg.test_dataloader.dataset.pipeline]
    assert pipeline[:2] == ['WithholdLastFrame', 'LoadVideoFrames']
    assert cfg.test_dataloader.dataset.type == 'DAVIS2017Dataset'
    assert (cfg.test_evaluator.type, cfg.test_evaluator.task,
            cfg.test_evaluator.protocol) == ('DAVISMetric', 'unsupervised',
                                             'bba-authors')
    # The official configs keep the official evaluator and every frame.
    for other in TEST_CONFIGS:
        if other != path:
            text = other.read_text()
            assert 'bba-authors' not in text
            assert 'WithholdLastFrame' not in text
