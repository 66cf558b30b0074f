"""tools/model_converters/videosaur_official_to_mmsmtc.py: the released
architectures' key layout, variant inference and refusal, the command line
on the official golden checkpoint."""
import importlib.util
import pathlib
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmsmtc.registry import MODELS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'model_converters' / 'videosaur_official_to_mmsmtc.py'
spec = importlib.util.spec_from_file_location('videosaur_converter', TOOL)
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)
GOLDEN = ROOT / 'tests' / 'data' / 'videosaur_official' / 'golden.pt'
CONFIGS = {
    'movi': 'configs/videosaur/'
    'videosaur_vit-b8-dino_1xb128-100k_movi-c-224x224.py',
    'ytvis': 'configs/videosaur/'
    'videosaur_vit-b16-dino_1xb128-100k_ytvis2021-224x224.py',
}


def official_keys_of(config: str, final_norm: bool = True):
    """The official state dict a model of ``config`` corresponds to (the
    converter's prefix map inverted, timm's final norm added), as meta
    tensors: names and shapes only."""
    model = MODELS.build(Config.fromfile(str(ROOT / config)).model)
    inverse = {mine: theirs
               for theirs, mine in converter.VIDEO_PREFIXES.items()}
    official = {}
    for key, value in model.state_dict().items():
        if key == 'num_train_iters':
            continue
        prefix = next(p for p in inverse if key.startswith(p))
        official[inverse[prefix] + key[len(prefix):]] = torch.empty(
            value.shape, device='meta')
    if final_norm:
        for name in ('weight', 'bias'):
            official[f'encoder.module.backbone.model.norm.{name}'] = (
                torch.empty(768, device='meta'))
    return official, model


@pytest.mark.parametrize('variant', ['movi', 'ytvis'])
def test_released_layout_converts_to_the_config_model(variant):
    """Every official key of the released architecture maps onto the
    config's model, shape for shape, and the variant is inferred."""
    official, model = official_keys_of(CONFIGS[variant])
    converted, report = converter.convert_state_dict(official)
    assert report['variant'] == variant
    assert report['ignored'] == [
        'encoder.module.backbone.model.norm.bias',
        'encoder.module.backbone.model.norm.weight'
    ]
    expected = model.state_dict()
    assert set(converted) == set(expected)
    for key, value in expected.items():
        assert converted[key].shape == value.shape, key


def test_released_parameter_counts():
    """Trainable parameters as the official models (spec addenda)."""
    for variant, count in (('movi', 6_341_648), ('ytvis', 4_693_636)):
        _, model = official_keys_of(CONFIGS[variant])
        trainable = sum(p.numel() for p in model.parameters()
                        if p.requires_grad)
        assert trainable == count, variant


def test_given_variant_must_match():
    official, _ = official_keys_of(CONFIGS['ytvis'], final_norm=False)
    converter.convert_state_dict(official, 'ytvis')
    with pytest.raises(converter.ConversionError) as error:
        converter.convert_state_dict(official, 'movi-c')
    message = str(error.value)
    assert 'not a movi-c model (ytvis)' in message
    assert 'num_patches: 196 in the checkpoint, 784 for movi' in message
    assert 'slot_dim: 64 in the checkpoint, 128 for movi' in message
    with pytest.raises(converter.ConversionError, match='unknown variant'):
        converter.convert_state_dict(official, 'kitti')


def test_image_layout_and_bad_state_dicts():
    coco = {
        'initializer.mean': torch.empty(1, 1, 256, device='meta'),
        'encoder.backbone.model.patch_embed.proj.weight': torch.empty(
            768, 3, 14, 14, device='meta'),
        'encoder.backbone.model.blocks.0.ls1.gamma': torch.empty(
            768, device='meta'),
        'encoder.output_transform.layers.0.weight': torch.empty(
            768, device='meta'),
        'processor.corrector.to_q.weight': torch.empty(
            256, 256, device='meta'),
        'processor.corrector.mlp.layers.0.weight': torch.empty(
            256, device='meta'),
        'decoder.pos_emb': torch.empty(1, 1, 256, 256, device='meta'),
        'decoder.mlp.layers.6.weight': torch.empty(769, 2048, device='meta'),
    }
    converted, report = converter.convert_state_dict(coco)
    assert report['variant'] == 'coco'
    assert 'backbone.blocks.0.ls1.gamma' in converted
    assert 'processor.corrector.mlp.layers.0.weight' in converted
    assert 'neck.layers.0.weight' in converted
    with pytest.raises(converter.ConversionError, match='not an official'):
        converter.convert_state_dict({'encoder.cls_token': torch.zeros(1)})
    coco['optimizer.something'] = torch.zeros(1)
    with pytest.raises(converter.ConversionError,
                       match='map to no mmsmtc module: optimizer'):
        converter.convert_state_dict(coco)


def golden_checkpoint(variant='ytvis', **extra):
    golden = torch.load(GOLDEN, weights_only=True)
    state = dict(golden[variant]['state_dict'])
    for name, value in golden['vit_state_dict'].items():
        state['encoder.module.backbone.model.' + name] = value
    return dict(state_dict=state, global_step=5, epoch=0,
                **{'pytorch-lightning_version': '1.8.4.post0'}, **extra)


def test_command_line_two_arguments_and_strict_load(tmp_path, capsys):
    from test_videosaur_official_parity import tiny_model_cfg
    src, dst = tmp_path / 'official.ckpt', tmp_path / 'out' / 'mmsmtc.pth'
    torch.save(golden_checkpoint(), src)
    assert converter.main([str(src), str(dst)]) == 0
    assert 'variant: custom' in capsys.readouterr().out
    model = MODELS.build(tiny_model_cfg('ytvis'))
    state = torch.load(dst, weights_only=True)['state_dict']
    model.load_state_dict(state, strict=True)
    config = tmp_path / 'tiny.py'
    Config(dict(model=tiny_model_cfg('ytvis'))).dump(str(config))
    assert converter.main(
        [str(src), str(dst), '--config', str(config)]) == 0
    Config(dict(model=tiny_model_cfg('movi'))).dump(str(config))
    assert converter.main(
        [str(src), str(dst), '--config', str(config)]) == 1
    assert 'does not fit' in capsys.readouterr().err
    assert converter.main([str(src), str(dst), '--variant', 'ytvis']) == 1
    assert 'not a ytvis model (a non-released architecture)' in (
        capsys.readouterr().err)


def test_pickled_objects_need_the_opt_in(tmp_path, capsys):
    src, dst = tmp_path / 'official.ckpt', tmp_path / 'mmsmtc.pth'
    torch.save(golden_checkpoint(callbacks={'dirpath': pathlib.PurePath(
        'logs')}), src)
    assert converter.main([str(src), str(dst)]) == 1
    assert 'allow-pickle' in capsys.readouterr().err
    assert converter.main([str(src), str(dst), '--allow-pickle']) == 0
