"""ResNet-18/50 on timm with the strides label propagation needs.

Interface::

    backbone = MODELS.build(dict(type='ResNet', depth=50, out_indices=(2, ),
                                 output_stride=8))
    (res3, ) = backbone(images)   # (N, 3, H, W) -> (N, 1024, H / 8, W / 8)

    # Spa-then-Temp's stride-4 test backbone: average-pool stem, no stride
    # in the stages, no dilation
    backbone = MODELS.build(dict(type='ResNet', depth=18, out_indices=(2, ),
                                 stem_pool='avg', stage_strides=(1, 1, 1)))
"""
import math
from typing import Optional, Sequence, Tuple, Union

import timm
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmsmtc.registry import MODELS
from .checkpoint_key_map import KeyMap
from .image_input import check_image_batch
from .key_mapped_backbone import KeyMappedBackbone

STEM_NAMES = ('conv1', 'bn1', 'act1', 'maxpool')
STAGE_NAMES = ('layer1', 'layer2', 'layer3', 'layer4')
#: Stride of each stage's output without dilation or stride removal.
NATURAL_STAGE_STRIDES = (4, 8, 16, 32)
#: Stride of each stage's first block in the plain network.
NATURAL_BLOCK_STRIDES = (1, 2, 2, 2)
#: The stem's pooling: timm's 3x3 / 2 max-pool, the same window averaged
#: (mmaction / Spa-then-Temp ``pool_type='mean'``: ``AvgPool2d(3, 2, 1)``,
#: padding counted), or none.
STEM_POOLS = ('max', 'avg', 'none')


@MODELS.register_module()
class ResNet(KeyMappedBackbone):
    """A timm ResNet returning the maps of chosen residual stages.

    Stages are indexed 0..3 (``layer1``..``layer4``, "res2".."res5"). Their
    strides are ``(4, 8, min(16, s), min(32, s))`` for
    ``output_stride=s``:

    - ``s = 32``: the plain network.
    - ``s = 16`` or ``8``: the later stages keep their resolution, either by
      dilation (``dilate=True``, DeepLab style: timm's ``output_stride``,
      identical to torchvision's ``replace_stride_with_dilation``) or, with
      ``dilate=False``, by setting their stride-2 convolutions to stride 1
      without dilation -- CRW's ``resnet.modify`` for its res3 features at
      stride 8 (the label-propagation protocol's ResNet setting).
    - stride 4: there is no ``output_stride=4``; the stride-4 map is stage 0
      (``layer1``), the finest a ResNet has (``out_indices=(0, )``).

    ``stage_strides`` and ``stem_pool`` give any other layout without
    dilation (mmaction's ``strides`` / ``pool_type``, as Spa-then-Temp and
    VFS use): the stride of each built stage's first block (on its 3x3
    convolution and its 1x1 downsample, torchvision style) and the stem's
    pooling. Spa-then-Temp at test: stride 8 = ``stem_pool='none'``,
    ``stage_strides=(1, 2, 2)``; stride 4 = ``stem_pool='avg'``,
    ``stage_strides=(1, 1, 1)``; its training student ``stem_pool='none'``,
    ``stage_strides=(1, 2, 2, 4)``. Checkpoint keys do not change.

    Only the stages up to ``max(out_indices)`` are built; checkpoint keys of
    the others and of the classifier ``fc`` are ignored when loading.

    Args:
        depth (int): 18, 34, 50 or 101.
        out_indices (Sequence[int]): stages to return, increasing.
        output_stride (int): 8, 16 or 32 (see above).
        dilate (bool): dilation (True) or CRW's stride removal (False) for
            ``output_stride < 32``.
        stage_strides (Sequence[int], optional): stride of the first block
            of each built stage (``max(out_indices) + 1`` values, the first
            1: ``layer1`` has no downsample to carry another); None keeps
            ``(1, 2, 2, 2)``. Needs ``output_stride=32``.
        stem_pool (str): one of :data:`STEM_POOLS`.
        norm_eval (bool): keep every BatchNorm in eval mode (frozen running
            statistics) even after ``.train()``.
        frozen_stages (int): -1 freezes nothing, 0 the stem, ``k`` the stem
            and stages ``layer1``..``layer{k}``: no gradients, eval mode.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=...)`` for a torchvision-layout state dict
            (torchvision's or DINO's ResNet-50).
    """

    depths = (18, 34, 50, 101)

    def __init__(self,
                 depth: int = 50,
                 out_indices: Sequence[int] = (3, ),
                 output_stride: int = 32,
                 dilate: bool = True,
                 stage_strides: Optional[Sequence[int]] = None,
                 stem_pool: str = 'max',
                 norm_eval: bool = False,
                 frozen_stages: int = -1,
                 init_cfg: Union[dict, None] = None):
        super().__init__(init_cfg=init_cfg)
        if depth not in self.depths:
            raise ValueError(f'ResNet depth must be one of {self.depths}, '
                             f'got {depth}')
        self.out_indices = self._check_out_indices(out_indices)
        if output_stride not in (8, 16, 32):
            raise ValueError('output_stride must be 8, 16 or 32 (use '
                             'out_indices=(0, ) for the stride-4 map), got '
                             f'{output_stride}')
        self.num_stages = max(self.out_indices) + 1
        if stem_pool not in STEM_POOLS:
            raise ValueError(f'stem_pool must be one of {STEM_POOLS}, got '
                             f'{stem_pool!r}')
        block_strides = self._check_stage_strides(stage_strides,
                                                  output_stride)
        if not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must lie in [-1, '
                             f'{self.num_stages}] for the {self.num_stages} '
                             f'stages built, got {frozen_stages}')
        self.norm_eval = norm_eval
        self.frozen_stages = frozen_stages
        self.strides = tuple(
            min(stride, output_stride) for stride in NATURAL_STAGE_STRIDES)
        if stage_strides is not None or stem_pool != 'max':
            stem = 4 if stem_pool != 'none' else 2
            self.strides = tuple(
                stem * math.prod(block_strides[:index + 1])
                for index in range(self.num_stages))

        network = timm.create_model(
            f'resnet{depth}',
            pretrained=False,
            num_classes=0,
            global_pool='',
            output_stride=output_stride if dilate else 32)
        for name in STEM_NAMES + STAGE_NAMES[:self.num_stages]:
            setattr(self, name, getattr(network, name))
        if not dilate and output_stride < 32:
            self._remove_late_strides()
        if stage_strides is not None:
            self._set_block_strides(block_strides)
        if stem_pool == 'avg':
            self.maxpool = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)
        elif stem_pool == 'none':
            self.maxpool = nn.Identity()
        stage_channels = [info['num_chs'] for info in network.feature_info[1:]]
        self.out_channels = tuple(stage_channels[i] for i in self.out_indices)
        self._freeze_stages()

    @staticmethod
    def _check_out_indices(out_indices: Sequence[int]) -> Tuple[int, ...]:
        out_indices = tuple(out_indices)
        if (not out_indices or sorted(set(out_indices)) != list(out_indices)
                or not all(0 <= index <= 3 for index in out_indices)):
            raise ValueError('out_indices must be increasing stage indices '
                             f'in 0..3, got {out_indices!r}')
        return out_indices

    def _check_stage_strides(self, stage_strides: Optional[Sequence[int]],
                             output_stride: int) -> Tuple[int, ...]:
        """The first-block stride of each built stage."""
        if stage_strides is None:
            return NATURAL_BLOCK_STRIDES[:self.num_stages]
        stage_strides = tuple(stage_strides)
        if (len(stage_strides) != self.num_stages
                or any(int(s) != s or s < 1 for s in stage_strides)
                or stage_strides[0] != 1):
            raise ValueError(
                f'stage_strides must give {self.num_stages} positive '
                f'integers (one per built stage, max(out_indices) + 1), the '
                f'first 1 (layer1 has no downsample), got {stage_strides!r}')
        if output_stride != 32:
            raise ValueError('stage_strides sets the strides itself: leave '
                             f'output_stride at 32, got {output_stride}')
        return stage_strides

    def _set_block_strides(self, block_strides: Sequence[int]) -> None:
        """Put each stage's stride on its first block's strided
        convolutions (the 3x3 and the downsample), no dilation."""
        for index, stride in enumerate(block_strides):
            block = getattr(self, STAGE_NAMES[index])[0]
            strided = block.conv2 if hasattr(block, 'conv3') else block.conv1
            strided.stride = (stride, stride)
            if block.downsample is not None:
                block.downsample[0].stride = (stride, stride)

    def _remove_late_strides(self) -> None:
        """CRW: stride-2 convolutions of stages beyond the output stride
        become stride 1 (no dilation)."""
        for index in range(self.num_stages):
            if self.strides[index] == NATURAL_STAGE_STRIDES[index]:
                continue
            for module in getattr(self, STAGE_NAMES[index]).modules():
                if isinstance(module, nn.Conv2d) and module.stride == (2, 2):
                    module.stride = (1, 1)

    def _frozen_modules(self):
        """The stem and ``layer1..layer{frozen_stages}``."""
        if self.frozen_stages < 0:
            return []
        names = STEM_NAMES + STAGE_NAMES[:self.frozen_stages]
        return [getattr(self, name) for name in names]

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for parameter in module.parameters():
                parameter.requires_grad_(False)

    def train(self, mode: bool = True) -> 'ResNet':
        """Switch mode, keeping frozen stages (and, with ``norm_eval``,
        every BatchNorm) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def checkpoint_key_map(self) -> KeyMap:
        """torchvision key -> module key.

        timm names ResNet parameters and buffers exactly as torchvision does
        (``conv1.weight``, ``bn1.running_mean``,
        ``layer1.0.downsample.0.weight``, ...), and this module keeps those
        names, so every present key maps to itself. ``fc.*`` and the stages
        not built are ignored.
        """
        mapping = {name: name for name in self.state_dict()}
        ignored = ('fc.', ) + tuple(
            f'{name}.' for name in STAGE_NAMES[self.num_stages:])
        return KeyMap(mapping, ignored)

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Encode a batch.

        Args:
            images: ``(N, 3, H, W)`` normalised float images.

        Returns:
            tuple[Tensor]: for each of ``out_indices`` the stage map
            ``(N, C_i, ~H / stride_i, ~W / stride_i)`` (convolution
            arithmetic rounds up: ``ceil(H / stride_i)``).
        """
        check_image_batch(images, type(self).__name__)
        features = images
        for name in STEM_NAMES:
            features = getattr(self, name)(features)
        outputs = []
        for index in range(self.num_stages):
            features = getattr(self, STAGE_NAMES[index])(features)
            if index in self.out_indices:
                outputs.append(features)
        return tuple(outputs)
