"""Global-pooled MLP projection head (MoCo v2, SimCLR)."""
import torch
from torch import Tensor, nn

from mmsmtc.registry import MODELS


@MODELS.register_module()
class ProjectionMLP(nn.Module):
    """Average-pool a map, then ``Linear -> ReLU -> Linear``.

    MoCo v2's head (``facebookresearch/moco`` ``--mlp``: the ResNet's ``fc``
    replaced by ``Linear(C, C), ReLU, Linear(C, 128)``, biases on).

    Args:
        in_channels: ``C`` of the ``(N, C, h, w)`` input map.
        hidden_channels: Width of the hidden layer (MoCo v2: ``C``).
        out_channels: Embedding size (MoCo v2: 128).
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int = 128) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, out_channels))

    def forward(self, feats: Tensor) -> Tensor:
        """``(N, C, h, w)`` -> ``(N, out_channels)``."""
        if feats.dim() != 4:
            raise ValueError('ProjectionMLP expects (N, C, h, w) maps, got '
                             f'{tuple(feats.shape)}')
        return self.mlp(torch.flatten(feats.mean(dim=(2, 3)), 1))
