"""End-to-end ``tools/test.py`` on a tiny synthetic set with untrained tiny
models: official layouts, result files, numbers recomputed from the PNGs."""
import csv
import importlib.util
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mmsmtc.datasets.synthetic import generate_synthetic_benchmark
from mmsmtc.evaluation import evaluate_davis
from mmsmtc.utils import read_indexed_png
from mmsmtc.utils.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / 'smtc_test'
NUM_VAL, NUM_FRAMES, SIZE = 2, 6, (64, 96)
DAVIS_KEYS = ('J&F-Mean', 'J-Mean', 'J-Recall', 'F-Mean', 'F-Recall')


def _load_tool():
    spec = importlib.util.spec_from_file_location('mmsmtc_test_tool',
                                                  ROOT / 'tools' / 'test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('synthetic') / 'set'
    generate_synthetic_benchmark(
        out_dir, num_train=1, num_val=NUM_VAL, num_frames=NUM_FRAMES,
        size=SIZE, seed=5)
    return out_dir


def run_tool(monkeypatch, config, checkpoint, work_dir, data_root, *extra):
    """Run ``tools/test.py`` in this process; return the results folder."""
    argv = ['test.py', str(CONFIGS / config), str(checkpoint), '--work-dir',
            str(work_dir), '--cfg-options',
            f'test_dataloader.dataset.data_root={data_root}', *extra]
    monkeypatch.setattr(sys, 'argv', argv)
    _load_tool().main()
    (results, ) = Path(work_dir).glob('*/results.json')
    return results.parent


def read_results(results_dir):
    summary = json.loads((results_dir / 'results.json').read_text())
    with open(results_dir / 'per_video.csv') as file:
        rows = list(csv.DictReader(file))
    return summary, rows


def check_png_layout(pred_dir, data_root, num_frames):
    videos = sorted(path.name for path in pred_dir.iterdir())
    assert videos == [f'val_{i:04d}' for i in range(NUM_VAL)]
    for video in videos:
        frames = sorted((data_root / 'JPEGImages' / '480p' / video).iterdir())
        pngs = sorted((pred_dir / video).glob('*.png'))
        assert [p.stem for p in pngs] == [f.stem for f in frames]
        assert len(pngs) == num_frames
        assert read_indexed_png(pngs[0]).shape == SIZE


@pytest.mark.slow
def test_davis_semi_layout_numbers_and_overlays(synthetic, tmp_path,
                                                 monkeypatch):
    work_dir = tmp_path / 'work'
    show_dir = tmp_path / 'show'
    results_dir = run_tool(monkeypatch,
                           'labelprop_vit-tiny_synthetic-davis17-semi.py',
                           'none', work_dir, synthetic / 'DAVIS',
                           '--show-dir', str(show_dir))
    pred_dir = work_dir / 'predictions'
    check_png_layout(pred_dir, synthetic / 'DAVIS', NUM_FRAMES)
    summary, rows = read_results(results_dir)
    metrics = summary['metrics']
    for key in DAVIS_KEYS:
        assert 0.0 <= metrics[f'davis/{key}'] <= 1.0
    recomputed = evaluate_davis(
        synthetic / 'DAVIS', pred_dir, 'semi-supervised', nproc=1)['global']
    for key, value in recomputed.items():
        assert metrics[f'davis/{key}'] == pytest.approx(value, abs=1e-9)
    assert [row['video'] for row in rows] == ['val_0000', 'val_0001', 'ALL']
    assert len(summary['per_video']) == NUM_VAL
    assert (results_dir / 'config.py').is_file()
    assert summary['settings']['checkpoint'] is None
    propagator = summary['settings']['model']['propagator']
    assert (propagator['topk'], propagator['radius']) == (5, 4)
    overlays = sorted((show_dir / 'val_0000').glob('*.png'))
    assert len(overlays) == NUM_FRAMES


@pytest.mark.slow
def test_davis_unsupervised_layout_and_numbers(synthetic, tmp_path,
                                               monkeypatch):
    work_dir = tmp_path / 'work'
    results_dir = run_tool(
        monkeypatch, 'discovery_smtc-vit-tiny_synthetic-davis17-unsup.py',
        'none', work_dir, synthetic / 'DAVIS', '--dump',
        str(tmp_path / 'dump.pkl'))
    pred_dir = work_dir / 'predictions'
    check_png_layout(pred_dir, synthetic / 'DAVIS', NUM_FRAMES)
    for png in pred_dir.glob('*/*.png'):
        assert read_indexed_png(png).max() <= 20
    summary, _ = read_results(results_dir)
    recomputed = evaluate_davis(
        synthetic / 'DAVIS', pred_dir, 'unsupervised', nproc=1)['global']
    for key, value in recomputed.items():
        assert summary['metrics'][f'davis/{key}'] == pytest.approx(
            value, abs=1e-9)
    with open(tmp_path / 'dump.pkl', 'rb') as file:
        dumped = pickle.load(file)
    assert len(dumped) == NUM_VAL
    assert dumped[0]['pred_masks'].shape == (NUM_FRAMES, *SIZE)


@pytest.mark.slow
def test_jhmdb_keypoints_layout(synthetic, tmp_path, monkeypatch):
    work_dir = tmp_path / 'work'
    results_dir = run_tool(monkeypatch,
                           'labelprop_vit-tiny_synthetic-jhmdb.py', 'none',
                           work_dir, synthetic / 'JHMDB')
    files = sorted((work_dir / 'predictions').rglob('*.npy'))
    assert len(files) == NUM_VAL
    keypoints = np.load(files[0])
    assert keypoints.shape[0] == NUM_FRAMES and keypoints.shape[2] == 2
    visible = keypoints[keypoints[..., 0] >= 0]
    assert (visible[:, 0] <= SIZE[1]).all() and (visible[:, 1] <=
                                                 SIZE[0]).all()
    summary, rows = read_results(results_dir)
    for key in ('jhmdb/PCK@0.1', 'jhmdb/PCK@0.2'):
        assert 0.0 <= summary['metrics'][key] <= 1.0
        assert all(0.0 <= float(row[key]) <= 1.0 for row in rows)


@pytest.mark.slow
def test_vip_class_masks(synthetic, tmp_path, monkeypatch):
    work_dir = tmp_path / 'work'
    results_dir = run_tool(monkeypatch, 'labelprop_vit-tiny_synthetic-vip.py',
                           'none', work_dir, synthetic / 'VIP')
    pngs = sorted((work_dir / 'predictions').glob('*/*.png'))
    assert len(pngs) == NUM_VAL * NUM_FRAMES
    assert max(read_indexed_png(png).max() for png in pngs) < 20
    summary, _ = read_results(results_dir)
    assert 0.0 <= summary['metrics']['vip/mIoU'] <= 1.0


def test_checkpoint_of_another_backbone_is_refused(synthetic, tmp_path,
                                                   monkeypatch):
    """A ResNet-18 checkpoint given to the ViT config names the mismatch."""
    from mmsmtc.models.backbones import ResNet
    resnet = ResNet(depth=18, out_indices=(2, ), output_stride=8)
    checkpoint = tmp_path / 'r18.pth'
    torch.save(
        dict(state_dict={f'backbone.{k}': v
                         for k, v in resnet.state_dict().items()}),
        checkpoint)
    with pytest.raises(CheckpointError,
                       match=r'r18\.pth: does not fit the backbone '
                       r'\(VisionTransformer\).*missing.*checkpoint has bn1'):
        run_tool(monkeypatch, 'labelprop_vit-tiny_synthetic-davis17-semi.py',
                 checkpoint, tmp_path / 'work', synthetic / 'DAVIS')


def test_missing_checkpoint_file(synthetic, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        run_tool(monkeypatch, 'labelprop_vit-tiny_synthetic-davis17-semi.py',
                 tmp_path / 'nowhere.pth', tmp_path / 'work',
                 synthetic / 'DAVIS')


def test_dump_needs_a_pickle_name(synthetic, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match='must be .pkl'):
        run_tool(monkeypatch, 'labelprop_vit-tiny_synthetic-davis17-semi.py',
                 'none', tmp_path / 'work', synthetic / 'DAVIS', '--dump',
                 str(tmp_path / 'out.json'))


def test_trained_checkpoint_is_loaded_and_recorded(synthetic, tmp_path,
                                                   monkeypatch):
    """An SMTC-style checkpoint of the config's encoder loads; the settings
    name it."""
    from mmengine.config import Config

    from mmsmtc.registry import MODELS
    cfg = Config.fromfile(
        str(CONFIGS / 'labelprop_vit-tiny_synthetic-davis17-semi.py'))
    encoder = MODELS.build(cfg.model.propagator.backbone)
    checkpoint = tmp_path / 'smtc.pth'
    torch.save(
        dict(state_dict={f'backbone.{k}': v
                         for k, v in encoder.state_dict().items()}),
        checkpoint)
    results_dir = run_tool(monkeypatch,
                           'labelprop_vit-tiny_synthetic-davis17-semi.py',
                           checkpoint, tmp_path / 'work', synthetic / 'DAVIS')
    summary, _ = read_results(results_dir)
    assert summary['settings']['checkpoint'] == str(checkpoint)
