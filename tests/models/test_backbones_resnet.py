"""timm ResNet backbone: torchvision checkpoints, output strides (dilated and
CRW's stride removal), out_indices, frozen BN and frozen stages."""
import pytest
import torch
import torchvision
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmsmtc.models.backbones import ResNet, load_mapped_checkpoint
from mmsmtc.registry import MODELS
from mmsmtc.utils.checkpoint import CheckpointError


def torchvision_stages(network, images):
    """The four residual stage maps of a torchvision ResNet."""
    x = network.maxpool(network.relu(network.bn1(network.conv1(images))))
    outputs = []
    for name in ('layer1', 'layer2', 'layer3', 'layer4'):
        x = getattr(network, name)(x)
        outputs.append(x)
    return outputs


def randomise_batchnorm(network):
    """Non-trivial running statistics so eval-mode BN is really tested."""
    generator = torch.Generator().manual_seed(0)
    for module in network.modules():
        if isinstance(module, nn.BatchNorm2d):
            size = module.num_features
            module.running_mean.copy_(0.1 * torch.randn(size,
                                                        generator=generator))
            module.running_var.copy_(0.5 + torch.rand(size,
                                                      generator=generator))
            module.weight.data.copy_(1 + 0.1 * torch.randn(
                size, generator=generator))
            module.bias.data.copy_(0.1 * torch.randn(size,
                                                     generator=generator))


def save_torchvision(network, path):
    randomise_batchnorm(network)
    torch.save(network.state_dict(), path)
    return network.eval()


def test_torchvision_resnet18_checkpoint_matches_torchvision(tmp_path):
    torch.manual_seed(0)
    reference = save_torchvision(torchvision.models.resnet18(),
                                 tmp_path / 'r18.pth')
    model = MODELS.build(
        dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3),
             init_cfg=dict(type='Pretrained',
                           checkpoint=str(tmp_path / 'r18.pth'))))
    model.init_weights()
    images = torch.randn(2, 3, 64, 80)
    with torch.no_grad():
        outputs = model.eval()(images)
        expected = torchvision_stages(reference, images)
    for got, want in zip(outputs, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert model.out_channels == (64, 128, 256, 512)


@pytest.mark.slow
def test_dilated_output_stride_8_matches_torchvision_dilation(tmp_path):
    torch.manual_seed(0)
    reference = save_torchvision(
        torchvision.models.resnet50(
            replace_stride_with_dilation=[False, True, True]),
        tmp_path / 'r50.pth')
    model = ResNet(depth=50, out_indices=(1, 2), output_stride=8)
    report = load_mapped_checkpoint(model, tmp_path / 'r50.pth',
                                    model.checkpoint_key_map())
    assert not hasattr(model, 'layer4')
    assert {'fc.weight', 'fc.bias', 'layer4.0.conv1.weight'} <= set(
        report.ignored)
    assert report.missing == [] and report.unexpected == []
    images = torch.randn(1, 3, 48, 40)
    with torch.no_grad():
        res3, res4 = model.eval()(images)
        expected = torchvision_stages(reference, images)
    assert res4.shape == (1, 1024, 6, 5)
    torch.testing.assert_close(res3, expected[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(res4, expected[2], rtol=1e-4, atol=1e-4)
    assert model.out_channels == (512, 1024)


def test_crw_stride_removal_matches_crw_modify(tmp_path):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18()
    for layer in (reference.layer3, reference.layer4):
        for module in layer.modules():
            if isinstance(module, nn.Conv2d) and module.stride == (2, 2):
                module.stride = (1, 1)
    save_torchvision(reference, tmp_path / 'crw.pth')
    model = ResNet(depth=18, out_indices=(2, ), output_stride=8,
                   dilate=False)
    load_mapped_checkpoint(model, tmp_path / 'crw.pth',
                           model.checkpoint_key_map())
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        (res3, ) = model.eval()(images)
        expected = torchvision_stages(reference, images)[2]
    assert res3.shape == (1, 256, 8, 8)
    torch.testing.assert_close(res3, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('output_stride, dilate, sides', [
    (32, True, (16, 8, 4, 2)),
    (16, True, (16, 8, 4, 4)),
    (8, True, (16, 8, 8, 8)),
    (16, False, (16, 8, 4, 4)),
])
def test_output_strides(output_stride, dilate, sides):
    model = ResNet(depth=18, out_indices=(0, 1, 2, 3),
                   output_stride=output_stride, dilate=dilate).eval()
    with torch.no_grad():
        outputs = model(torch.randn(1, 3, 64, 64))
    assert tuple(o.shape[-1] for o in outputs) == sides
    assert model.strides == tuple(64 // side for side in sides)


def test_stride_4_map_is_layer1_and_later_stages_are_not_built():
    model = ResNet(depth=18, out_indices=(0, )).eval()
    assert not hasattr(model, 'layer2')
    (res2, ) = model(torch.randn(1, 3, 40, 56))
    assert res2.shape == (1, 64, 10, 14)


def test_norm_eval_keeps_batchnorm_frozen_after_train():
    model = ResNet(depth=18, out_indices=(1, ), norm_eval=True)
    model.train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and not any(m.training for m in norms)
    running_mean = model.bn1.running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert torch.equal(model.bn1.running_mean, running_mean)
    plain = ResNet(depth=18, out_indices=(1, )).train()
    assert all(m.training for m in plain.modules()
               if isinstance(m, _BatchNorm))


def test_frozen_stages_have_no_gradients_and_stay_in_eval():
    model = ResNet(depth=18, out_indices=(1, ), frozen_stages=1).train()
    frozen = [model.conv1, model.bn1, model.layer1]
    assert not any(p.requires_grad for m in frozen for p in m.parameters())
    assert not any(m.training for f in frozen for m in f.modules())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert model.layer2.training
    (res3, ) = model(torch.randn(1, 3, 32, 32))
    res3.sum().backward()
    assert model.conv1.weight.grad is None
    assert model.layer2[0].conv1.weight.grad is not None


def test_mismatched_checkpoint_is_refused(tmp_path):
    path = tmp_path / 'r50_stem.pth'
    torch.save({'conv1.weight': torch.zeros(32, 3, 7, 7)}, path)
    model = ResNet(depth=18, out_indices=(0, ),
                   init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError, match='r50_stem.pth.*conv1.weight'):
        model.init_weights()


@pytest.mark.parametrize('kwargs, match', [
    (dict(depth=26), 'depth must be one of'),
    (dict(out_indices=()), 'out_indices'),
    (dict(out_indices=(2, 1)), 'out_indices'),
    (dict(out_indices=(4, )), 'out_indices'),
    (dict(output_stride=4), 'out_indices=\\(0, \\) for the stride-4'),
    (dict(out_indices=(1, ), frozen_stages=3), 'frozen_stages'),
    (dict(stem_pool='mean'), 'stem_pool'),
    (dict(out_indices=(2, ), stage_strides=(1, 2)), 'stage_strides'),
    (dict(out_indices=(2, ), stage_strides=(2, 2, 2)), 'stage_strides'),
    (dict(out_indices=(2, ), stage_strides=(1, 0, 2)), 'stage_strides'),
    (dict(out_indices=(2, ), stage_strides=(1, 2, 2), output_stride=8),
     'output_stride'),
])
def test_bad_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResNet(**{'depth': 18, **kwargs})


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r'ResNet expects images of shape'):
        ResNet(depth=18, out_indices=(0, ))(torch.randn(3, 32, 32))


@pytest.mark.parametrize('depth', [18, 50])
def test_stage_strides_and_stem_pool_give_spa_then_temp_layouts(depth):
    images = torch.randn(1, 3, 64, 98)
    layouts = [
        # (kwargs, expected strides, expected (h, w) per output)
        (dict(stem_pool='none', stage_strides=(1, 2, 2)), (2, 4, 8),
         [(8, 13)]),
        (dict(stem_pool='avg', stage_strides=(1, 1, 1)), (4, 4, 4),
         [(16, 25)]),
    ]
    for kwargs, strides, sizes in layouts:
        model = ResNet(depth=depth, out_indices=(2, ), **kwargs).eval()
        assert model.strides == strides
        with torch.no_grad():
            (out, ) = model(images)
        assert [tuple(out.shape[-2:])] == sizes
    student = ResNet(depth=depth, out_indices=(1, 2, 3), stem_pool='none',
                     stage_strides=(1, 2, 2, 4))
    with torch.no_grad():
        shapes = [tuple(o.shape[-2:]) for o in student(images)]
    assert shapes == [(16, 25), (8, 13), (2, 4)]
    assert isinstance(student.maxpool, torch.nn.Identity)


def test_avg_stem_pool_counts_the_padding():
    model = ResNet(depth=18, out_indices=(0, ), stem_pool='avg')
    assert isinstance(model.maxpool, torch.nn.AvgPool2d)
    assert model.maxpool.count_include_pad
    assert (model.maxpool.kernel_size, model.maxpool.stride,
            model.maxpool.padding) == (3, 2, 1)


def test_stage_strides_keep_the_checkpoint_keys():
    plain = ResNet(depth=50, out_indices=(2, ))
    strided = ResNet(depth=50, out_indices=(2, ), stem_pool='avg',
                     stage_strides=(1, 1, 1))
    assert plain.state_dict().keys() == strided.state_dict().keys()
