"""The VideoSAUR / DINOSAUR configs: models build without weight files and
hold the official recipe's numbers."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmsmtc.registry import MODELS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

ROOT = Path(__file__).resolve().parents[2]
#: config -> (slots, temperature, reconstructs features, lr, clip norm,
#: warm-up, decay steps, iterations)
RELEASED = {
    'videosaur/videosaur_vit-b8-dino_1xb128-100k_movi-c-224x224.py':
    (11, 0.075, False, 4e-4, 0.05, 2500, 100000, 100000),
    'videosaur/videosaur_vit-b8-dino_1xb128-100k_movi-e-224x224.py':
    (15, 0.075, False, 4e-4, 0.05, 2500, 100000, 100000),
    'videosaur/videosaur_vit-b16-dino_1xb128-100k_ytvis2021-224x224.py':
    (7, 0.25, True, 4e-4, 0.05, 2500, 100000, 100000),
    'videosaur/videosaur_vit-b14-dinov2_1xb64-100k_ytvis2021-518x518.py':
    (7, 0.15, True, 2e-4, 0.05, 2500, 100000, 100000),
    'dinosaur/dinosaur_vit-b14-dinov2_1xb64-500k_coco-224x224.py':
    (7, None, True, 4e-4, 1.0, 10000, 100000, 500000),
}


@pytest.mark.parametrize('name', sorted(RELEASED))
def test_released_config(name):
    slots, temperature, reconstructs, lr, clip, warmup, decay, iters = (
        RELEASED[name])
    cfg = Config.fromfile(str(ROOT / 'configs' / name))
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(lr)
    assert cfg.optim_wrapper.clip_grad.max_norm == clip
    (schedule, ) = cfg.param_scheduler
    assert (schedule.type, schedule.warmup_steps, schedule.decay_steps,
            schedule.by_epoch) == ('ExpDecayWithWarmupLR', warmup, decay,
                                   False)
    assert cfg.train_cfg.max_iters == iters
    losses = {loss.type: loss for loss in cfg.model.losses}
    if temperature is not None:
        assert losses['TemporalSimilarityLoss'].temperature == temperature
        assert losses['TemporalSimilarityLoss'].loss_weight == 0.1
    assert ('FeatureReconstructionLoss' in losses) == reconstructs
    model = MODELS.build(cfg.model)
    assert model.slot_initializer.num_slots == slots
    assert model.backbone.frozen
    assert not any(p.requires_grad for p in model.backbone.parameters())
