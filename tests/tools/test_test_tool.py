"""End-to-end ``tools/test.py`` on a tiny synthetic set with untrained tiny
models: official layouts, result files, numbers recomputed from the written
predictions, videos that cannot be scored alone, options and one-line
errors (exit status 1; usage errors 2)."""
import csv
import importlib.util
import json
import math
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from PIL import Image

from mmsmtc.datasets.synthetic import generate_synthetic_benchmark
from mmsmtc.evaluation import evaluate_davis
from mmsmtc.utils import read_indexed_png, write_indexed_png
from mmsmtc.utils.launch import run_cli

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / 'smtc_test'
SEMI = 'labelprop_vit-tiny_synthetic-davis17-semi.py'
UNSUP = 'discovery_smtc-vit-tiny_synthetic-davis17-unsup.py'
JHMDB = 'labelprop_vit-tiny_synthetic-jhmdb.py'
VIP = 'labelprop_vit-tiny_synthetic-vip.py'
NUM_VAL, NUM_FRAMES, SIZE = 2, 6, (64, 96)
DAVIS_KEYS = ('J&F-Mean', 'J-Mean', 'J-Recall', 'F-Mean', 'F-Recall')
ALPHAS = (0.1, 0.2)


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


def tool_argv(config, checkpoint, work_dir, data_root, *extra):
    return [str(CONFIGS / config), str(checkpoint), '--work-dir',
            str(work_dir), *map(str, extra), '--cfg-options',
            f'test_dataloader.dataset.data_root={data_root}']


def run_tool(config, checkpoint, work_dir, data_root, *extra):
    """Run ``tools/test.py`` in this process; return the results folder."""
    _load_tool().main(tool_argv(config, checkpoint, work_dir, data_root,
                                *extra))
    (results, ) = Path(work_dir).glob('*/results.json')
    return results.parent


def exit_of(argv, capsys):
    """Exit status and stderr of ``tools/test.py ARGV`` run as its
    ``__main__`` (in this process)."""
    tool = _load_tool()
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: tool.main([str(arg) for arg in argv]))
    return exit_info.value.code, capsys.readouterr().err


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


# ---------------------------------------------------------------------------
# Independent scorers of the written predictions (plain loops over the files,
# none of mmsmtc's metric code).
def jhmdb_ground_truth(jhmdb_root: Path, video: str) -> np.ndarray:
    """``(T, J, 2)`` 0-based ``(x, y)`` joints of ``<class>/<video>``."""
    mat = scipy.io.loadmat(jhmdb_root / 'joint_positions' / video /
                           'joint_positions.mat')
    return np.transpose(mat['pos_img'], (2, 1, 0)) - 1


def crw_pck_counts(gt, pred):
    """Per-joint hits ``(A, J)`` and scored entries ``(J,)`` of one video,
    as CRW's ``eval_pck.py`` loops: frame 0 skipped, joints predicted at
    x < 0 skipped, distances over 0.6 x the diagonal of the box of the
    ground-truth joints whose prediction is visible."""
    num_frames, num_joints, _ = gt.shape
    hits = np.zeros((len(ALPHAS), num_joints))
    totals = np.zeros(num_joints)
    for t in range(1, num_frames):
        visible = [j for j in range(num_joints) if pred[t, j, 0] >= 0]
        high, low = np.array([-1.0, -1.0]), np.array([1e6, 1e6])
        for j in visible:
            high, low = np.maximum(high, gt[t, j]), np.minimum(low, gt[t, j])
        scale = 0.6 * math.hypot(*(high - low))
        for j in visible:
            distance = math.hypot(*(pred[t, j] - gt[t, j])) / scale
            totals[j] += 1
            for a, alpha in enumerate(ALPHAS):
                hits[a, j] += distance <= alpha
    return hits, totals


def pck(counts):
    hits = sum(hit for hit, _ in counts)
    totals = sum(total for _, total in counts)
    return {f'jhmdb/PCK@{alpha:g}': float(np.mean(hits[a] / totals))
            for a, alpha in enumerate(ALPHAS)}


def score_jhmdb(work_dir, jhmdb_root):
    """``{video: counts}`` of the written ``<class>/<video>.npy``."""
    counts = {}
    for path in sorted((work_dir / 'predictions').rglob('*.npy')):
        video = str(path.relative_to(work_dir / 'predictions'))[:-4]
        counts[video] = crw_pck_counts(
            jhmdb_ground_truth(jhmdb_root, video), np.load(path))
    return counts


def vip_confusion(pred_dir, gt_dir, num_classes=20):
    """Confusion matrix of the annotated frames of one video; ground-truth
    ids outside ``[0, C)`` (void) are ignored."""
    confusion = np.zeros((num_classes, num_classes), np.int64)
    for gt_path in sorted(gt_dir.glob('*.png')):
        gt = np.array(Image.open(gt_path)).astype(np.int64).ravel()
        pred = np.array(Image.open(pred_dir / gt_path.name)).astype(
            np.int64).ravel()
        keep = gt < num_classes
        confusion += np.bincount(
            gt[keep] * num_classes + pred[keep],
            minlength=num_classes**2).reshape(num_classes, num_classes)
    return confusion


def miou(confusion):
    inter = np.diag(confusion).astype(float)
    union = confusion.sum(0) + confusion.sum(1) - inter
    return float(np.mean(inter[union > 0] / union[union > 0]))


# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_davis_semi_layout_numbers_and_overlays(synthetic, tmp_path):
    work_dir = tmp_path / 'work'
    show_dir = tmp_path / 'show'
    results_dir = run_tool(SEMI, 'none', work_dir, synthetic / 'DAVIS',
                           '--show-dir', show_dir, '--device', 'cpu')
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
    settings = summary['settings']
    assert settings['checkpoint'] is None
    assert (settings['device'], settings['fp16']) == ('cpu', False)
    propagator = settings['model']['propagator']
    assert (propagator['topk'], propagator['radius']) == (5, 4)
    overlays = sorted((show_dir / 'val_0000').glob('*.png'))
    assert len(overlays) == NUM_FRAMES


@pytest.mark.slow
def test_davis_unsupervised_layout_and_numbers(synthetic, tmp_path):
    work_dir = tmp_path / 'work'
    results_dir = run_tool(UNSUP, 'none', work_dir, synthetic / 'DAVIS',
                           '--dump', tmp_path / 'dump.pkl')
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
def test_jhmdb_keypoints_rescored_from_the_files(synthetic, tmp_path):
    work_dir = tmp_path / 'work'
    results_dir = run_tool(JHMDB, 'none', work_dir, synthetic / 'JHMDB')
    counts = score_jhmdb(work_dir, synthetic / 'JHMDB')
    assert len(counts) == NUM_VAL
    keypoints = np.load(work_dir / 'predictions' / 'moving_shapes' /
                        'val_0000.npy')
    assert keypoints.shape[0] == NUM_FRAMES and keypoints.shape[2] == 2
    visible = keypoints[keypoints[..., 0] >= 0]
    assert (visible[:, 0] <= SIZE[1]).all() and (visible[:, 1] <=
                                                 SIZE[0]).all()
    summary, _ = read_results(results_dir)
    assert summary['metrics'] == pytest.approx(pck(counts.values()),
                                               abs=1e-12)
    rows = {row['video']: row for row in summary['per_video']}
    for video, video_counts in counts.items():
        expected = pck([video_counts])
        assert {key: rows[video][key] for key in expected} == \
            pytest.approx(expected, abs=1e-12)


@pytest.mark.slow
def test_vip_class_masks_rescored_from_the_files(synthetic, tmp_path):
    work_dir = tmp_path / 'work'
    results_dir = run_tool(VIP, 'none', work_dir, synthetic / 'VIP')
    pred_root = work_dir / 'predictions'
    gt_root = synthetic / 'VIP' / 'VIP_Fine' / 'Annotations' / 'Category_ids'
    pngs = sorted(pred_root.glob('*/*.png'))
    assert len(pngs) == NUM_VAL * NUM_FRAMES
    assert max(read_indexed_png(png).max() for png in pngs) < 20
    confusions = {video.name: vip_confusion(video, gt_root / video.name)
                  for video in sorted(pred_root.iterdir())}
    assert len(confusions) == NUM_VAL
    summary, _ = read_results(results_dir)
    assert summary['metrics']['vip/mIoU'] == pytest.approx(
        miou(sum(confusions.values())), abs=1e-12)
    for row in summary['per_video']:
        assert row['vip/mIoU'] == pytest.approx(
            miou(confusions[row['video']]), abs=1e-12)


@pytest.mark.slow
def test_video_without_object_gets_nan_and_the_pooled_numbers(
        synthetic, tmp_path, capsys):
    """A video with no ground-truth object cannot be scored alone (DAVIS
    J&F, FG-ARI): its row is NaN with a warning, the run completes and the
    pooled numbers are the official ones."""
    davis = tmp_path / 'DAVIS'
    shutil.copytree(synthetic / 'DAVIS', davis)
    for path in (davis / 'Annotations_unsupervised' / '480p' /
                 'val_0001').glob('*.png'):
        write_indexed_png(path, np.zeros_like(read_indexed_png(path)))
    work_dir = tmp_path / 'work'
    results_dir = run_tool(UNSUP, 'none', work_dir, davis)
    output = capsys.readouterr().out
    assert 'video val_0001: DAVISMetric cannot score it on its own' in output
    assert 'video val_0001: ObjectDiscoveryMetric cannot score it' in output
    summary, rows = read_results(results_dir)
    by_video = {row['video']: row for row in summary['per_video']}
    assert by_video['val_0001'].keys() == by_video['val_0000'].keys()
    assert set(by_video['val_0001'].values()) == {'val_0001', None}
    assert all(value is not None for value in by_video['val_0000'].values())
    assert rows[1]['video'] == 'val_0001'
    assert rows[1]['davis/J&F-Mean'] == 'nan'
    recomputed = evaluate_davis(davis, work_dir / 'predictions',
                                'unsupervised', nproc=1)['global']
    assert summary['metrics']['davis/J&F-Mean'] == pytest.approx(
        recomputed['J&F-Mean'], abs=1e-9)
    assert math.isfinite(summary['metrics']['objects/FG-ARI'])


@pytest.mark.slow
def test_joint_never_visible_in_one_video(synthetic, tmp_path, capsys):
    """A joint outside frame 0 is never predicted in that video: its PCK
    is undefined there (NaN row), the pooled PCK is reported."""
    jhmdb = tmp_path / 'JHMDB'
    shutil.copytree(synthetic / 'JHMDB', jhmdb)
    mat_path = (jhmdb / 'joint_positions' / 'moving_shapes' / 'val_0001' /
                'joint_positions.mat')
    mat = scipy.io.loadmat(mat_path)
    mat['pos_img'][:, 0, 0] = -20.0  # joint 0 off the frame in frame 0
    scipy.io.savemat(mat_path, {key: value for key, value in mat.items()
                                if not key.startswith('__')})
    work_dir = tmp_path / 'work'
    results_dir = run_tool(JHMDB, 'none', work_dir, jhmdb)
    assert 'video moving_shapes/val_0001: PCKMetric cannot score it on its ' \
        'own (PCK: joints [0] have no visible prediction' in \
        capsys.readouterr().out
    counts = score_jhmdb(work_dir, jhmdb)
    assert counts['moving_shapes/val_0001'][1][0] == 0
    summary, _ = read_results(results_dir)
    assert summary['metrics'] == pytest.approx(pck(counts.values()),
                                               abs=1e-12)
    rows = {row['video']: row for row in summary['per_video']}
    assert rows['moving_shapes/val_0001']['jhmdb/PCK@0.1'] is None
    assert rows['moving_shapes/val_0000']['jhmdb/PCK@0.1'] == \
        pytest.approx(pck([counts['moving_shapes/val_0000']])
                      ['jhmdb/PCK@0.1'], abs=1e-12)


# ---------------------------------------------------------------------------
# Options
def build(argv):
    tool = _load_tool()
    return tool.build_config(tool.parse_args([str(arg) for arg in argv]))


def test_seed_sets_the_run_and_the_per_video_test_seed(tmp_path):
    default = build([CONFIGS / UNSUP, 'none', '--work-dir', tmp_path])
    assert default.randomness.seed == 0 and 'test_seed' not in default.model
    cfg = build([CONFIGS / UNSUP, 'none', '--work-dir', tmp_path, '--seed',
                 '7'])
    assert cfg.randomness.seed == 7 and cfg.model.test_seed == 7


def test_seed_of_a_model_without_test_seed_is_logged(tmp_path, monkeypatch):
    config = tmp_path / 'plain_model.py'
    config.write_text(f"_base_ = ['{CONFIGS / SEMI}']\n"
                      "model = dict(_delete_=True, type='SMTC', "
                      'backbone=None, neck=None, head=None)\n')
    tool = _load_tool()
    messages = []
    monkeypatch.setattr(tool, 'print_log',
                        lambda message, **kwargs: messages.append(message))
    cfg = tool.build_config(tool.parse_args(
        [str(config), 'none', '--work-dir', str(tmp_path), '--seed', '3']))
    assert cfg.randomness.seed == 3 and 'test_seed' not in cfg.model
    assert messages == ['--seed 3: SMTC draws no per-video test-time '
                        'randomness (not a BaseVideoSegmentor); only '
                        'randomness.seed is set']


def test_amp_tests_in_fp16(tmp_path):
    cfg = build([CONFIGS / SEMI, 'none', '--work-dir', tmp_path, '--amp'])
    assert cfg.test_cfg.fp16 is True and cfg.test_cfg.type == 'VideoTestLoop'
    assert 'fp16' not in build([CONFIGS / SEMI, 'none', '--work-dir',
                                tmp_path]).test_cfg


def test_load_from_of_the_config_is_logged_and_dropped(tmp_path,
                                                       monkeypatch):
    tool = _load_tool()
    messages = []
    monkeypatch.setattr(tool, 'print_log',
                        lambda message, **kwargs: messages.append(message))
    cfg = tool.build_config(tool.parse_args([
        str(CONFIGS / SEMI), 'none', '--work-dir', str(tmp_path),
        '--cfg-options', 'load_from=old.pth'
    ]))
    assert cfg.load_from is None
    assert messages == ['load_from=old.pth is not used: tools/test.py tests '
                        'CHECKPOINT (none)']


def test_a_test_loop_subclass_is_kept(tmp_path):
    from mmsmtc.engine.runner import VideoTestLoop
    from mmsmtc.registry import LOOPS

    @LOOPS.register_module(force=True)
    class MyVideoTestLoop(VideoTestLoop):
        pass

    cfg = build([CONFIGS / SEMI, 'none', '--work-dir', tmp_path,
                 '--cfg-options', 'test_cfg.type=MyVideoTestLoop'])
    assert cfg.test_cfg.type == 'MyVideoTestLoop'


@pytest.mark.slow
@pytest.mark.gpu
@pytest.mark.parametrize('device, amp', [('cpu', False), ('cuda', True)])
def test_device_and_amp_on_a_cuda_machine(synthetic, tmp_path, device, amp):
    results_dir = run_tool(SEMI, 'none', tmp_path / 'work',
                           synthetic / 'DAVIS', '--device', device,
                           *(['--amp'] if amp else []))
    settings = json.loads((results_dir / 'results.json').read_text())[
        'settings']
    assert settings['device'].split(':')[0] == device
    assert settings['fp16'] is amp


# ---------------------------------------------------------------------------
# Errors: one line, exit status 1; usage errors exit with status 2.
def test_checkpoint_of_another_backbone_is_refused(synthetic, tmp_path,
                                                   capsys):
    """A ResNet-18 checkpoint given to the ViT config names the mismatch."""
    from mmsmtc.models.backbones import ResNet
    resnet = ResNet(depth=18, out_indices=(2, ), output_stride=8)
    checkpoint = tmp_path / 'r18.pth'
    torch.save(
        dict(state_dict={f'backbone.{k}': v
                         for k, v in resnet.state_dict().items()}),
        checkpoint)
    code, error = exit_of(tool_argv(SEMI, checkpoint, tmp_path / 'work',
                                    synthetic / 'DAVIS'), capsys)
    assert code == 1 and error.count('\n') == 1
    assert error.startswith(f'error: {checkpoint}: does not fit the backbone '
                            '(VisionTransformer)')
    assert 'missing' in error and 'checkpoint has bn1' in error


@pytest.mark.parametrize('argv, message', [
    ([CONFIGS / 'nope.py', 'none'],
     f'{CONFIGS / "nope.py"}: config file does not exist'),
    ([CONFIGS / SEMI, 'nowhere.pth'], 'checkpoint nowhere.pth does not '
     "exist (pass 'none' to test without one)"),
    ([CONFIGS / SEMI, 'none', '--cfg-options',
      'test_dataloader.dataset.data_root=no_data'],
     'no_data/ImageSets/2017/val.txt: sequence list does not exist'),
    ([CONFIGS / SEMI, 'none', '--cfg-options', 'model.propagator.topkk=5'],
     "unexpected keyword argument 'topkk'"),
    ([CONFIGS / SEMI, 'none', '--cfg-options', 'test_cfg.type=TestLoop'],
     "test_cfg.type='TestLoop': tools/test.py runs a VideoTestLoop"),
])
def test_user_errors_are_one_line(tmp_path, capsys, argv, message):
    # A run name of its own: runners built in the same second would share
    # MMEngine's logger (named after the config and the second).
    code, error = exit_of([
        *argv, '--work-dir', tmp_path, '--cfg-options',
        f'experiment_name={tmp_path.name}'
    ], capsys)
    assert code == 1
    assert error.startswith('error: ') and error.count('\n') == 1
    assert message in error


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available')
def test_cuda_asked_without_cuda(tmp_path, capsys):
    code, error = exit_of([CONFIGS / SEMI, 'none', '--work-dir', tmp_path,
                           '--device', 'cuda'], capsys)
    assert code == 1
    assert error == 'error: --device cuda: CUDA is not available here (use ' \
        '--device cpu)\n'


@pytest.mark.parametrize('argv, message', [
    (['--dump', 'out.json'], '--dump out.json: the file must be .pkl'),
    (['--device', 'tpu'], "argument --device: 'tpu': expected cpu, cuda"),
    (['--device', 'cuda:0', '--launcher', 'slurm'],
     '--device cuda:0 with --launcher slurm'),
    (['--cfg-options', 'model'], "argument --cfg-options: 'model' is not "
     'KEY=VALUE'),
])
def test_usage_errors_exit_2(capsys, argv, message):
    code, error = exit_of([CONFIGS / SEMI, 'none', *argv], capsys)
    assert code == 2
    assert message in error.splitlines()[-1]


def test_command_line_error_is_one_line_without_traceback(tmp_path):
    """The real ``__main__``, in its own process."""
    result = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'test.py'),
         str(CONFIGS / SEMI), str(tmp_path / 'nowhere.pth')],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr == f'error: checkpoint {tmp_path / "nowhere.pth"} ' \
        "does not exist (pass 'none' to test without one)\n"


def test_trained_checkpoint_is_loaded_and_recorded(synthetic, tmp_path):
    """An SMTC-style checkpoint of the config's encoder loads; the settings
    name it."""
    from mmengine.config import Config

    from mmsmtc.registry import MODELS
    cfg = Config.fromfile(str(CONFIGS / SEMI))
    encoder = MODELS.build(cfg.model.propagator.backbone)
    checkpoint = tmp_path / 'smtc.pth'
    torch.save(
        dict(state_dict={f'backbone.{k}': v
                         for k, v in encoder.state_dict().items()}),
        checkpoint)
    results_dir = run_tool(SEMI, checkpoint, tmp_path / 'work',
                           synthetic / 'DAVIS')
    summary, _ = read_results(results_dir)
    assert summary['settings']['checkpoint'] == str(checkpoint)
