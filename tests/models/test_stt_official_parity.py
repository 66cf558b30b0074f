"""SpaThenTemp's losses equal the official ``Framework.forward_train``'s.

``tests/data/stt_official_train/golden.npz`` holds, per case, the RGB
frames, the dropped chroma channel, the weights of the tiny student and
teacher networks and the four losses the official code computed from them
in float64 (``make_golden.py`` beside it; README there).
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from mmsmtc.models.algorithms import SpaThenTemp
from mmsmtc.models.data_preprocessors import VideoDataPreprocessor

GOLDEN_DIR = Path(__file__).resolve().parents[1] / 'data/stt_official_train'
OFFICIAL_NAMES = {
    'loss_stage0_l1': 'stage0_l1_loss',
    'loss_stage1_l1': 'stage1_l1_loss',
    'loss_local_corrdis': 'local_corrdis_loss',
    'loss_global_corrdis': 'global_corrdis_loss',
}


def _load_make_golden():
    spec = importlib.util.spec_from_file_location(
        'stt_train_make_golden', GOLDEN_DIR / 'make_golden.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_GOLDEN = _load_make_golden()
GOLDEN = np.load(GOLDEN_DIR / 'golden.npz')
CASES = sorted({key.split('/')[0] for key in GOLDEN.files})


def _network(case, prefix, channels, out_indices):
    network = MAKE_GOLDEN.TinyPyramid(channels, out_indices)
    state = {
        key[len(f'{case}/{prefix}.'):]: torch.from_numpy(GOLDEN[key])
        for key in GOLDEN.files if key.startswith(f'{case}/{prefix}.')
    }
    network.load_state_dict(state)
    return network


def _model(case, **loss_options):
    radius = tuple(GOLDEN[f'{case}/radius'].tolist())
    losses = [
        dict(type='ChromaReconstructionLoss', level=0),
        dict(type='ChromaReconstructionLoss', level=1),
        dict(type='LocalCorrelationDistillLoss', **loss_options),
        dict(type='GlobalCorrelationDistillLoss'),
    ]
    model = SpaThenTemp(
        backbone=_network(case, 'student', MAKE_GOLDEN.STUDENT_CHANNELS,
                          (0, 1, 2)),
        teacher_backbone=_network(case, 'teacher',
                                  MAKE_GOLDEN.TEACHER_CHANNELS, (2, )),
        radius=radius,
        downsample_rate=(4, 8),
        losses=losses,
        data_preprocessor=VideoDataPreprocessor())
    return model.double().train()


def _inputs(model, case):
    clips = torch.from_numpy(GOLDEN[f'{case}/rgb']).permute(0, 1, 4, 2, 3)
    return model.data_preprocessor(dict(inputs=clips), True)['inputs']


@pytest.mark.parametrize('case', CASES)
def test_losses_equal_official(case):
    model = _model(case)
    channel = int(GOLDEN[f'{case}/drop_channel'])
    outputs = model(_inputs(model, case), mode='tensor',
                    drop_channel=channel)
    for loss in model.losses:
        key = f'{case}/loss_{OFFICIAL_NAMES[loss.loss_name]}'
        official = float(GOLDEN[key])
        value = float(loss(outputs).detach())
        assert value == pytest.approx(official, abs=1e-4,
                                      rel=1e-6), loss.loss_name


@pytest.mark.parametrize('case', CASES)
def test_paper_flags_change_the_distillation_loss(case):
    """Each paper-version flag changes the official number (so the parity
    above pins the official choice)."""
    channel = int(GOLDEN[f'{case}/drop_channel'])
    official = float(GOLDEN[f'{case}/loss_local_corrdis_loss'])
    for option in (dict(uncertainty='entropy'), dict(threshold='image'),
                   dict(target_pooling='sum')):
        model = _model(case, **option)
        outputs = model(_inputs(model, case), mode='tensor',
                        drop_channel=channel)
        value = float(model.losses[2](outputs).detach())
        assert abs(value - official) > 1e-3, option
