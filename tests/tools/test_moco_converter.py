"""tools/model_converters/moco_to_mmsmtc.py on synthetic checkpoints of the
official MoCo layout, mmsmtc's MoCo and torchvision."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torchvision

from mmsmtc.models.backbones import ResNet

TOOL = (Path(__file__).resolve().parents[2] / 'tools' / 'model_converters' /
        'moco_to_mmsmtc.py')
spec = importlib.util.spec_from_file_location('moco_converter', TOOL)
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)


def official_moco(depth):
    """``main_moco.py``'s checkpoint: DDP-wrapped query/key encoders with
    the MLP head in ``fc`` (``--mlp``) and the queue."""
    torch.manual_seed(depth)
    network = getattr(torchvision.models, f'resnet{depth}')(num_classes=128)
    dim = network.fc.weight.shape[1]
    network.fc = torch.nn.Sequential(torch.nn.Linear(dim, dim),
                                     torch.nn.ReLU(), network.fc)
    state = {}
    for key, value in network.state_dict().items():
        state[f'module.encoder_q.{key}'] = value
        state[f'module.encoder_k.{key}'] = value + 1
    state['module.queue'] = torch.randn(128, 16)
    state['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)
    return dict(epoch=200, arch=f'resnet{depth}', state_dict=state), network


@pytest.mark.parametrize('depth', [18, 50])
def test_official_moco_loads_strictly_with_the_query_encoder(depth, tmp_path):
    checkpoint, network = official_moco(depth)
    src, dst = tmp_path / 'moco.pth.tar', tmp_path / 'out.pth'
    torch.save(checkpoint, src)
    assert converter.main([str(src), str(dst)]) == 0
    converted = torch.load(dst)
    backbone = ResNet(depth=depth, out_indices=(3, ))
    backbone.load_state_dict(converted, strict=True)
    for key, value in network.state_dict().items():
        if not key.startswith('fc.'):
            assert torch.equal(converted[key], value), key
    # the converted ResNet computes torchvision's layer4
    network.fc = torch.nn.Identity()
    network.avgpool = torch.nn.Identity()
    images = torch.randn(1, 3, 64, 64)
    network.eval(), backbone.eval()
    torch.testing.assert_close(backbone(images)[0].flatten(),
                               network(images).flatten())


def test_mmsmtc_moco_and_torchvision_layouts():
    weights = ResNet(depth=18, out_indices=(3, )).state_dict()
    mmsmtc_state = {f'backbone.{k}': v for k, v in weights.items()}
    mmsmtc_state.update({f'teacher.backbone.{k}': v
                         for k, v in weights.items()})
    mmsmtc_state['neck.mlp.0.weight'] = torch.zeros(4, 4)
    mmsmtc_state['queue'] = torch.zeros(4, 4)
    converted, depth, layout = converter.convert(
        dict(state_dict=mmsmtc_state), 'mmsmtc.pth')
    assert (depth, layout) == (18, 'mmsmtc MoCo')
    assert converted.keys() == weights.keys()
    converted, depth, layout = converter.convert(
        {**weights, 'fc.weight': torch.zeros(3, 512)}, 'tv.pth')
    assert (depth, layout) == (18, 'torchvision')


def test_bad_checkpoints_fail_naming_the_keys():
    weights = ResNet(depth=18, out_indices=(3, )).state_dict()
    with pytest.raises(converter.ConversionError, match='neither'):
        converter.convert({'encoder.weight': torch.zeros(1)}, 'x.pth')
    broken = dict(weights)
    broken.pop('layer3.0.conv1.weight')
    with pytest.raises(converter.ConversionError,
                       match='missing.*layer3.0.conv1.weight'):
        converter.convert(broken, 'x.pth')
    wrong = dict(weights, **{'conv1.weight': torch.zeros(64, 3, 3, 3)})
    with pytest.raises(converter.ConversionError, match='wrong shape'):
        converter.convert(wrong, 'x.pth')


def test_main_reports_errors(tmp_path, capsys):
    src = tmp_path / 'bad.pth'
    torch.save({'x': torch.zeros(1)}, src)
    assert converter.main([str(src), str(tmp_path / 'out.pth')]) == 1
    assert 'neither a MoCo checkpoint' in capsys.readouterr().err
