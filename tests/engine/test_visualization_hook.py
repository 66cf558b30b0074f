"""VideoVisualizationHook: prediction panels through MMEngine's Visualizer."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.visualization import Visualizer
from PIL import Image

from mmsmtc.datasets import LazyFrameSequence
from mmsmtc.datasets.synthetic import generate_synthetic_benchmark
from mmsmtc.engine.hooks import VideoVisualizationHook
from mmsmtc.engine.hooks.visualization_hook import slot_id_map, spread_frames
from mmsmtc.registry import HOOKS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils import DAVIS_PALETTE

HEIGHT, WIDTH, FRAMES = 16, 24, 5
PROPAGATION_CONFIG = str(
    Path(__file__).resolve().parents[2] /
    'configs/smtc_test/labelprop_vit-tiny_synthetic-davis17-semi.py')


def make_video(tmp_path, name: str):
    """Lazy frames on disk and a sample with every predicted field."""
    folder = tmp_path / 'frames' / name
    folder.mkdir(parents=True)
    paths = []
    for index in range(FRAMES):
        paths.append(folder / f'{index:05d}.png')
        Image.fromarray(np.full((HEIGHT, WIDTH, 3), 10 * index,
                                np.uint8)).save(paths[-1])
    masks = np.zeros((FRAMES, HEIGHT, WIDTH), np.uint8)
    masks[:, :8, :8] = 3
    semantic = torch.zeros(FRAMES, 2, 4, 6)
    semantic[:, 1, :, 3:] = 1.0
    sample = VideoDataSample(
        metainfo=dict(video_name=name,
                      frame_names=[p.stem for p in paths],
                      mask_fields=('pred_group_maps', 'pred_slot_masks')))
    sample.pred_masks = masks
    sample.pred_group_maps = semantic
    sample.pred_slot_masks = torch.rand(FRAMES, 4, 4, 6)
    sample.pred_slot_scores = torch.rand(FRAMES, 4)  # not a mask field
    return LazyFrameSequence(paths, (HEIGHT, WIDTH)), sample


def blended(grey: int, colour_id: int) -> np.ndarray:
    """A grey pixel under palette colour ``colour_id`` at opacity 0.5."""
    return np.rint(0.5 * grey + 0.5 * DAVIS_PALETTE[colour_id].astype(
        np.float64)).astype(np.uint8)


@pytest.fixture
def runner(tmp_path):
    visualizer = Visualizer(
        name=f'vis_{tmp_path.name}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'vis'))
    return SimpleNamespace(visualizer=visualizer, iter=7)


def test_hook_logs_panels_of_the_first_videos(tmp_path, runner):
    hook = HOOKS.build(
        dict(type='VideoVisualizationHook', max_videos=2, max_frames=3,
             out_dir=str(tmp_path / 'panels')))
    videos = [make_video(tmp_path, f'clip{i}') for i in range(3)]
    hook.before_val_epoch(runner)
    for batch_idx, (frames, sample) in enumerate(videos):
        hook.after_val_iter(runner, batch_idx,
                            dict(inputs=[frames]), [sample])
    images = sorted(p.name for p in (tmp_path / 'vis').rglob('*.png'))
    assert images == [f'val_clip{v}_{f:05d}_7.png' for v in (0, 1)
                      for f in (0, 2, 4)]
    panel = np.array(
        Image.open(next((tmp_path / 'vis').rglob('val_clip1_00004_7.png'))))
    assert panel.shape == (HEIGHT, 4 * WIDTH, 3)
    np.testing.assert_array_equal(panel[:, :WIDTH], 40)
    # Object 3 is blended in its palette colour, its outline opaque.
    np.testing.assert_array_equal(panel[0, WIDTH], blended(40, 3))
    np.testing.assert_array_equal(panel[7, WIDTH], DAVIS_PALETTE[3])
    np.testing.assert_array_equal(panel[HEIGHT - 1, WIDTH], 40)
    # Semantic slot 1 (right half) is drawn as id 2, slot 0 as id 1.
    np.testing.assert_array_equal(panel[0, 3 * WIDTH - 1], blended(40, 2))
    np.testing.assert_array_equal(panel[0, 2 * WIDTH], blended(40, 1))
    np.testing.assert_array_equal(panel[0, 2 * WIDTH + 11], DAVIS_PALETTE[1])
    assert sorted(p.name for p in (tmp_path / 'panels' / 'clip0').iterdir()
                  ) == ['00000.png', '00002.png', '00004.png']


def test_hook_counts_per_epoch_and_interval(tmp_path, runner):
    hook = VideoVisualizationHook(interval=2, max_videos=1, max_frames=1)
    frames, sample = make_video(tmp_path, 'again')
    for epoch_start in (hook.before_test_epoch, hook.before_test_epoch):
        epoch_start(runner)
        hook.after_test_iter(runner, 1, dict(inputs=[frames]), [sample])
        hook.after_test_iter(runner, 2, dict(inputs=[frames]), [sample])
    images = list((tmp_path / 'vis').rglob('*.png'))
    assert [p.name for p in images] == ['test_again_00000_7.png']


def test_hook_draws_only_the_fields_present(tmp_path, runner):
    frames, sample = make_video(tmp_path, 'masks_only')
    del sample.pred_group_maps
    hook = VideoVisualizationHook(max_frames=1)
    hook.after_test_iter(runner, 0, dict(inputs=[frames]), [sample])
    (image, ) = (tmp_path / 'vis').rglob('*.png')
    assert np.array(Image.open(image)).shape == (HEIGHT, 3 * WIDTH, 3)


def test_hook_mask_fields_override_what_the_model_declares(tmp_path,
                                                          runner):
    frames, sample = make_video(tmp_path, 'override')
    hook = VideoVisualizationHook(max_frames=1, mask_fields=())
    hook.after_test_iter(runner, 0, dict(inputs=[frames]), [sample])
    (image, ) = (tmp_path / 'vis').rglob('*.png')
    assert np.array(Image.open(image)).shape == (HEIGHT, 2 * WIDTH, 3)


def test_slot_id_map_and_frame_spread():
    logits = torch.zeros(3, 2, 2)
    logits[2, 1, 1] = 5.0
    ids = slot_id_map(logits, (4, 4))
    assert ids.dtype == np.uint8 and ids.shape == (4, 4)
    np.testing.assert_array_equal(ids[2:, 2:], 3)
    np.testing.assert_array_equal(ids[:2], 1)
    assert spread_frames(10, 3) == [0, 4, 9]
    assert spread_frames(2, 4) == [0, 1]


@pytest.mark.parametrize('kwargs', [
    dict(interval=0), dict(max_frames=0), dict(max_videos=-1)])
def test_hook_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        VideoVisualizationHook(**kwargs)


@pytest.mark.slow
def test_hook_in_a_test_run(tmp_path):
    """The hook as a config's custom hook: panels of one propagated video
    land in the run's local visualisation folder."""
    data_root = tmp_path / 'synthetic'
    generate_synthetic_benchmark(data_root, num_train=1, num_val=2,
                                 num_frames=4, size=(64, 96), seed=3)
    cfg = Config.fromfile(PROPAGATION_CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    # Runs of one config started in the same second share MMEngine's
    # timestamped experiment name, hence its visualizer instance.
    cfg.experiment_name = f'vis_hook_{tmp_path.name}'
    cfg.test_dataloader.dataset.data_root = str(data_root / 'DAVIS')
    cfg.custom_hooks = [
        dict(type='VideoVisualizationHook', max_videos=1, max_frames=2)
    ]
    Runner.from_cfg(cfg).test()
    images = sorted(p.name for p in Path(cfg.work_dir).rglob('vis_image/*'))
    assert images == ['test_val_0000_00000_0.png', 'test_val_0000_00003_0.png']
