"""tools/model_converters/stt_official_to_mmsmtc.py on synthetic checkpoints
in the official Spa-then-Temp (mmcv ``ConvModule`` ResNet) layout.

mmcv is not installed here, so the official backbone cannot be imported;
the reference network is torchvision's ResNet with Spa-then-Temp's test
layouts applied through torchvision's own modules (stem max-pool removed or
replaced by ``AvgPool2d(3, 2, 1)``, the stride of layer2/layer3's first
block set on its 3x3 convolution and downsample, as mmaction's 'pytorch'
style), and the official checkpoint is that network's state dict renamed to
the official key names (written out here, independently of the converter).
"""
import importlib.util
import re
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from mmsmtc.models.backbones import ResNet

TOOL = (Path(__file__).resolve().parents[2] / 'tools' / 'model_converters' /
        'stt_official_to_mmsmtc.py')
spec = importlib.util.spec_from_file_location('stt_converter', TOOL)
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)

#: Official key counts (spec: 120 for ResNet-18, 318 for ResNet-50).
OFFICIAL_KEYS = {18: 120, 50: 318}


def torchvision_to_official(key):
    """torchvision ResNet key -> the official ConvModule key."""
    if key.startswith('conv1.'):
        return 'conv1.conv.' + key[len('conv1.'):]
    if key.startswith('bn1.'):
        return 'conv1.bn.' + key[len('bn1.'):]
    key = re.sub(r'\.conv(\d)\.weight$', r'.conv\1.conv.weight', key)
    key = re.sub(r'\.bn(\d)\.', r'.conv\1.bn.', key)
    key = key.replace('.downsample.0.', '.downsample.conv.')
    return key.replace('.downsample.1.', '.downsample.bn.')


def random_torchvision(depth, seed=0):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, f'resnet{depth}')()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1, 0.2)
            nn.init.normal_(module.bias, 0, 0.2)
            module.running_mean.normal_(0, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.num_batches_tracked.fill_(7)
    return model.eval()


def official_checkpoint(model, teacher=True):
    """An mmcv training checkpoint of the official model around ``model``."""
    student = {
        'backbone.' + torchvision_to_official(key): value
        for key, value in model.state_dict().items()
        if not key.startswith('fc.')
    }
    state = dict(student)
    if teacher:
        state.update({
            'backbone_t.' + key[len('backbone.'):]: value.clone()
            for key, value in student.items()
        })
    return dict(meta=dict(epoch=800, iter=44000), state_dict=state)


def stt_layout(model, stride):
    """Spa-then-Temp's test backbone on torchvision modules."""
    if stride == 8:
        model.maxpool = nn.Identity()
        return model
    model.maxpool = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)
    for layer in (model.layer2, model.layer3):
        block = layer[0]
        strided = block.conv2 if hasattr(block, 'conv3') else block.conv1
        strided.stride = (1, 1)
        block.downsample[0].stride = (1, 1)
    return model


def layer3(model, images):
    x = model.maxpool(model.relu(model.bn1(model.conv1(images))))
    return model.layer3(model.layer2(model.layer1(x)))


def convert(tmp_path, checkpoint):
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save(checkpoint, src)
    return converter.main([str(src), str(dst)]), dst


@pytest.mark.parametrize('depth', [18, 50])
@pytest.mark.parametrize('stride', [8, 4])
def test_converted_checkpoint_gives_the_official_features(
        tmp_path, depth, stride):
    reference = random_torchvision(depth)
    checkpoint = official_checkpoint(reference)
    student = [k for k in checkpoint['state_dict'] if k[:9] == 'backbone.']
    assert len(student) == OFFICIAL_KEYS[depth]
    code, dst = convert(tmp_path, checkpoint)
    assert code == 0
    layout = dict(stem_pool='none', stage_strides=(1, 2, 2)) \
        if stride == 8 else dict(stem_pool='avg', stage_strides=(1, 1, 1))
    model = ResNet(depth=depth, out_indices=(2, ), **layout,
                   init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    model.eval()
    images = torch.randn(2, 3, 64, 96, generator=torch.Generator()
                         .manual_seed(1))
    with torch.no_grad():
        (ours, ) = model(images)
        expected = layer3(stt_layout(reference, stride), images)
    assert ours.shape == expected.shape == (
        2, model.out_channels[0], 64 // stride, 96 // stride)
    assert (ours - expected).abs().max().item() < 1e-4


def test_the_converted_file_holds_torchvision_names(tmp_path):
    reference = random_torchvision(18)
    code, dst = convert(tmp_path, official_checkpoint(reference, False))
    assert code == 0
    converted = torch.load(dst, weights_only=True)
    expected = {k: v for k, v in reference.state_dict().items()
                if not k.startswith('fc.')}
    assert converted.keys() == expected.keys()
    assert all(torch.equal(converted[k], expected[k]) for k in expected)


def test_a_bare_state_dict_with_a_ddp_prefix_converts(tmp_path):
    state = official_checkpoint(random_torchvision(18))['state_dict']
    code, _ = convert(tmp_path, {'module.' + k: v for k, v in state.items()})
    assert code == 0


@pytest.mark.parametrize('edit, message', [
    (lambda s: s.update({'head.weight': torch.zeros(1)}), 'neither'),
    (lambda s: s.update({'backbone.fc.weight': torch.zeros(1)}),
     'not official'),
    (lambda s: s.pop('backbone.layer3.1.conv2.bn.running_var'), 'missing'),
    (lambda s: s.update({'backbone.conv1.conv.weight': torch.zeros(3)}),
     'do not match'),
    (lambda s: [s.pop(k) for k in list(s) if k.startswith('backbone.')],
     'no backbone'),
])
def test_anything_else_is_a_clear_error(tmp_path, capsys, edit, message):
    checkpoint = official_checkpoint(random_torchvision(18))
    edit(checkpoint['state_dict'])
    code, dst = convert(tmp_path, checkpoint)
    assert code == 1
    assert message in capsys.readouterr().err
    assert not dst.exists()


def test_torchvision_keys_are_refused_not_loaded_at_random(tmp_path, capsys):
    # the official loader (strict=False) would evaluate a random network
    state = {'backbone.' + k: v
             for k, v in random_torchvision(18).state_dict().items()}
    code, _ = convert(tmp_path, dict(state_dict=state))
    assert code == 1
    assert 'not official Spa-then-Temp ResNet keys' in capsys.readouterr().err
