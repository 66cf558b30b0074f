"""VideoSAUR's evaluation end to end: shards -> test pipeline ->
ObjectDiscoverySegmentor + SlotArgmaxPostProcessor -> ObjectDiscoveryMetric
in the video test loop, against a direct computation; per-chunk rows and
their per-video seeding."""
import csv
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import nn

from mmsmtc.datasets import ShardWriter, index_shards, read_npy_member
from mmsmtc.engine.runner import VideoRunner
from mmsmtc.evaluation.functional import video_ari, video_mbo
from mmsmtc.models.segmentors import ObjectDiscoverySegmentor
from mmsmtc.models.utils import video_generator
from mmsmtc.registry import DATASETS
from mmsmtc.utils import register_all_modules

register_all_modules()

CONFIGS = Path(__file__).parents[2] / 'configs'
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


class ColourSlots(nn.Module):
    """A stand-in slot model: K = 3 soft masks on a 4x4 grid from the mean
    colour of each cell, plus noise from the per-video generator."""

    def predict_video(self, num_frames, read_clip, sample, generator,
                      device):
        clip = read_clip(slice(0, num_frames))
        sample.pred_slot_masks = slot_masks(clip, generator)
        return sample


def slot_masks(clip, generator):
    cells = F.adaptive_avg_pool2d(clip, 4)  # (T, 3, 4, 4)
    noise = torch.randn(cells.shape, generator=generator)
    return (4 * cells + noise).softmax(1)


def write_ytvis_like(folder):
    """Two videos of 7 and 12 frames (24x32) with two instances."""
    rng = np.random.default_rng(5)
    with ShardWriter(str(folder / 'ytvis-validation-%06d.tar'), 10) as w:
        for key, length in (('17', 7), ('4', 12)):
            frames = rng.integers(0, 120, (length, 24, 32, 3), np.uint8)
            masks = np.zeros((length, 24, 32, 2), np.uint8)
            for t in range(length):
                frames[t, 4:12, 6 + t:16 + t] = (230, 30, 30)
                masks[t, 4:12, 6 + t:16 + t, 0] = 26
                frames[t, 14:22, 2:12] = (30, 30, 230)
                masks[t, 14:22, 2:12, 1] = 5
            w.write(key, dict(video=frames, segmentations=masks))


def ytvis_test_dataloader(data_root, **dataset):
    cfg = Config.fromfile(str(CONFIGS / '_base_/datasets/ytvis2021.py'))
    loader = cfg.test_dataloader.to_dict()
    loader.update(num_workers=0, persistent_workers=False)
    loader['dataset'].update(data_root=str(data_root),
                             shards='ytvis-validation-*.tar', **dataset)
    return loader


def run_test(tmp_path, loader, name):
    segmentor = ObjectDiscoverySegmentor(
        model=ColourSlots(),
        post_processor=dict(type='SlotArgmaxPostProcessor',
                            output_size=(224, 224)),
        size_multiple=16)
    runner = VideoRunner(
        model=segmentor, work_dir=str(tmp_path / name),
        test_dataloader=loader,
        test_evaluator=Config.fromfile(
            str(CONFIGS / '_base_/datasets/ytvis2021.py')).test_evaluator,
        test_cfg=dict(type='VideoTestLoop'), default_scope='mmsmtc')
    metrics = runner.test()
    with open(Path(runner.log_dir) / 'per_video.csv') as file:
        rows = list(csv.DictReader(file))
    return metrics, {row['video']: row for row in rows}


def reference_scores(shard_root, key, start, stop):
    """The official processing written out directly."""
    (sample, ) = [s for s in index_shards(
        sorted(shard_root.glob('ytvis-validation-*.tar'))) if s.key == key]
    frames = read_npy_member(sample, 'video')[start:stop]
    masks = read_npy_member(sample, 'segmentations')[start:stop]
    clip = torch.from_numpy(frames).float().permute(0, 3, 1, 2) / 255.0
    side = 24
    offset = int(round((32 - side) / 2.0))
    clip = clip[..., offset:offset + side]
    clip = F.interpolate(clip, size=(224, 224), mode='bicubic').clamp(0, 1)
    clip = (clip - MEAN) / STD
    soft = slot_masks(clip, video_generator(0, f'{key}_{start // 6}'))
    pred = F.interpolate(soft, size=(224, 224), mode='bilinear',
                         align_corners=False).argmax(1).numpy()
    binary = torch.from_numpy(
        np.moveaxis(masks != 0, -1, 1)[..., offset:offset + side])
    binary = F.interpolate(binary.to(torch.uint8), size=(224, 224),
                           mode='nearest-exact').numpy()
    gt = np.zeros((stop - start, 224, 224), np.uint8)
    for channel in range(binary.shape[1]):
        gt[binary[:, channel] == 1] = channel + 1
    return video_ari(gt, pred), video_mbo(gt, pred)


def test_ytvis_chunks_scored_as_the_official_evaluation(tmp_path):
    write_ytvis_like(tmp_path)
    metrics, rows = run_test(tmp_path, ytvis_test_dataloader(tmp_path),
                             'all')
    # 7 frames -> one 6-frame chunk, 12 -> two; one row per chunk.
    assert list(rows) == ['17_0', '4_0', '4_1', 'ALL']
    references = {
        name: reference_scores(tmp_path, name.split('_')[0],
                               6 * int(name[-1]), 6 * int(name[-1]) + 6)
        for name in ('17_0', '4_0', '4_1')
    }
    # The numbers differ between chunks (the check is not vacuous).
    assert len({ari for ari, _ in references.values()}) == 3
    for name, (ari, mbo) in references.items():
        assert float(rows[name]['objects/FG-ARI']) == pytest.approx(ari)
        assert float(rows[name]['objects/mBO']) == pytest.approx(mbo)
    assert metrics['objects/FG-ARI'] == pytest.approx(
        np.mean([ari for ari, _ in references.values()]))
    # Each chunk's slots are seeded by its own name: testing it alone
    # gives the same numbers.
    _, alone = run_test(tmp_path, ytvis_test_dataloader(
        tmp_path, indices=[2]), 'alone')
    assert alone['4_1']['objects/FG-ARI'] == rows['4_1']['objects/FG-ARI']


def test_synthetic_movi_base_tests_whole_videos(tmp_path):
    from mmsmtc.datasets.synthetic import write_synthetic_movi_shards
    write_synthetic_movi_shards(tmp_path, num_train=2, num_val=2,
                                num_frames=5, size=32, per_shard=2)
    cfg = Config.fromfile(str(CONFIGS / '_base_/datasets/synthetic_movi.py'))
    loader = cfg.test_dataloader.to_dict()
    loader['dataset']['data_root'] = str(tmp_path)
    segmentor = ObjectDiscoverySegmentor(
        model=ColourSlots(),
        post_processor=dict(type='SlotArgmaxPostProcessor'),
        size_multiple=8)
    runner = VideoRunner(
        model=segmentor, work_dir=str(tmp_path / 'work'),
        test_dataloader=loader, test_evaluator=cfg.test_evaluator,
        test_cfg=dict(type='VideoTestLoop'), default_scope='mmsmtc')
    metrics = runner.test()
    assert set(metrics) == {'objects/FG-ARI', 'objects/mBO'}
    train = cfg.train_dataloader.to_dict()
    train['dataset']['data_root'] = str(tmp_path)
    dataset = DATASETS.build(train['dataset'])
    packed = dataset[0]
    assert packed['inputs'].shape == (4, 3, 64, 64)
    assert packed['inputs'].dtype == torch.float32
