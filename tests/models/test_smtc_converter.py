"""tools/model_converters/smtc_official_to_mmsmtc.py on a fabricated
official ``SlotAttentionAutoEncoder`` state dict."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmsmtc.registry import MODELS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

TOOL = (Path(__file__).resolve().parents[2] / 'tools' / 'model_converters' /
        'smtc_official_to_mmsmtc.py')
spec = importlib.util.spec_from_file_location('smtc_converter', TOOL)
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)

C, S, P, GRID, DEPTH = 16, 3, 2, 4, 2


def official_state_dict():
    """Key names and shapes of the official module tree (ViT keys as DINO)."""
    torch.manual_seed(0)
    shapes = {
        'encoder.cls_token': (1, 1, C),
        'encoder.pos_embed': (1, 1 + 16, C),
        'encoder.patch_embed.proj.weight': (C, 3, 8, 8),
        'encoder.patch_embed.proj.bias': (C, ),
        'encoder.norm.weight': (C, ),
        'encoder.norm.bias': (C, ),
        'transport_proj.weight': (C, GRID * GRID, 1),
        'transport_proj.bias': (C, ),
        'slot_attention.slots_mu': (1, S, 1, C),
        'slot_attention.slots_sigma': (1, S, 1, C),
        'mlp_slot.0.weight': (2 * C, C),
        'mlp_slot.0.bias': (2 * C, ),
        'mlp_slot.2.weight': (C, 2 * C),
        'mlp_slot.2.bias': (C, ),
    }
    for block in range(DEPTH):
        prefix = f'encoder.blocks.{block}.'
        shapes.update({
            prefix + 'norm1.weight': (C, ),
            prefix + 'norm1.bias': (C, ),
            prefix + 'attn.qkv.weight': (3 * C, C),
            prefix + 'attn.qkv.bias': (3 * C, ),
            prefix + 'attn.proj.weight': (C, C),
            prefix + 'attn.proj.bias': (C, ),
            prefix + 'norm2.weight': (C, ),
            prefix + 'norm2.bias': (C, ),
            prefix + 'mlp.fc1.weight': (4 * C, C),
            prefix + 'mlp.fc1.bias': (4 * C, ),
            prefix + 'mlp.fc2.weight': (C, 4 * C),
            prefix + 'mlp.fc2.bias': (C, ),
        })
    for layer in ('norm_input', 'norm_slots', 'norm_pre_ff'):
        shapes[f'slot_attention.{layer}.weight'] = (C, )
        shapes[f'slot_attention.{layer}.bias'] = (C, )
    for layer in ('project_q', 'project_k', 'project_v', 'mlp.0', 'mlp.2'):
        shapes[f'slot_attention.{layer}.weight'] = (C, C)
        shapes[f'slot_attention.{layer}.bias'] = (C, )
    return {key: torch.randn(shape) for key, shape in shapes.items()}


def tiny_model():
    return MODELS.build(
        dict(type='SMTC',
             backbone=dict(type='VisionTransformer',
                           arch=dict(patch_size=8,
                                     embed_dim=C,
                                     depth=DEPTH,
                                     num_heads=2),
                           out_types=('keys', ),
                           pretrain_img_size=32),
             neck=dict(type='CorrelationFusion', in_channels=C,
                       grid_size=GRID),
             head=dict(type='TwoStageSlotAttention',
                       in_channels=C,
                       num_slots=S,
                       num_instances=P)))


def test_converted_checkpoint_loads_strictly_and_keeps_values():
    official = official_state_dict()
    converted, report = converter.convert_state_dict({
        f'module.{k}': v
        for k, v in official.items()
    })
    assert report == dict(missing=[],
                          unexpected=[],
                          ignored=['encoder.norm.bias', 'encoder.norm.weight'])
    model = tiny_model()
    model.load_state_dict(converted, strict=True)
    assert torch.equal(model.head.slots_log_std,
                       official['slot_attention.slots_sigma'])
    assert torch.equal(model.head.instance_projector[2].weight,
                       official['mlp_slot.2.weight'])
    assert torch.equal(model.backbone.blocks[1].attn.qkv.weight,
                       official['encoder.blocks.1.attn.qkv.weight'])
    assert torch.equal(model.teacher['head'].mlp[0].bias,
                       official['slot_attention.mlp.0.bias'])
    assert int(model.num_train_iters) == 0


def test_projection_equals_the_official_conv1d():
    official = official_state_dict()
    converted, _ = converter.convert_state_dict(official)
    model = tiny_model()
    model.load_state_dict(converted)
    feats = torch.randn(1, 2, C, GRID, GRID)
    fused = model.neck(feats)
    flat = feats.flatten(3)
    prev = flat.roll(1, dims=1)[0]
    corr = torch.einsum('tcn,tcm->tnm', prev, flat[0])
    projected = F.conv1d(corr, official['transport_proj.weight'],
                         official['transport_proj.bias'])
    assert torch.allclose(fused.flatten(3)[0], flat[0] + projected, atol=1e-4)


def test_reports_missing_and_unexpected_keys():
    official = official_state_dict()
    del official['mlp_slot.0.bias']
    official['decoder.weight'] = torch.zeros(1)
    _, report = converter.convert_state_dict(official)
    assert report['missing'] == ['mlp_slot.0.bias']
    assert report['unexpected'] == ['decoder.weight']


def test_refuses_a_checkpoint_that_maps_nothing():
    with pytest.raises(converter.ConversionError, match='no key'):
        converter.convert_state_dict({'fc.weight': torch.zeros(2, 2)})


def test_refuses_a_projection_that_is_not_a_conv1d_kernel():
    official = official_state_dict()
    official['transport_proj.weight'] = torch.zeros(C, GRID * GRID)
    with pytest.raises(converter.ConversionError, match=r'\(C, G, 1\)'):
        converter.convert_state_dict(official)


def test_command_line_round_trip(tmp_path, capsys):
    src, dst = tmp_path / 'official.pth', tmp_path / 'out' / 'smtc.pth'
    torch.save(
        dict(iteration=500,
             model_state_dict=official_state_dict(),
             loss=torch.tensor(1.0)), src)
    assert converter.main([str(src), str(dst)]) == 0
    assert 'ignored keys (2)' in capsys.readouterr().out
    state = torch.load(dst, weights_only=True)['state_dict']
    tiny_model().load_state_dict(state, strict=True)


def test_command_line_errors(tmp_path, capsys):
    assert converter.main(
        [str(tmp_path / 'absent.pth'),
         str(tmp_path / 'x.pth')]) == 1
    assert 'absent.pth does not exist' in capsys.readouterr().err
    bad = tmp_path / 'list.pth'
    torch.save([1, 2], bad)
    assert converter.main([str(bad), str(tmp_path / 'x.pth')]) == 1
    assert 'expected a dict' in capsys.readouterr().err
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    assert converter.main([str(garbage), str(tmp_path / 'x.pth')]) == 1
    assert 'garbage.pth is not a readable PyTorch checkpoint' in \
        capsys.readouterr().err
