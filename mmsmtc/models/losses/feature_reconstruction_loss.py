"""DINOSAUR / VideoSAUR feature reconstruction loss."""
from typing import Dict, Mapping

import torch.nn.functional as F
from torch import Tensor, nn

from mmsmtc.registry import MODELS
from .utils import autocast_disabled, get_checked_tensor


@MODELS.register_module()
class FeatureReconstructionLoss(nn.Module):
    """Mean squared error between the decoder's first ``C`` output channels
    and the frozen encoder's tokens (last block, before the final norm), all
    frames, times ``loss_weight`` (official ``MSELoss`` with ``pred_dims
    [0, C)``). The target carries no gradient; float32 without autocast.

    Args:
        loss_weight (float): 1.0 in the released configs.
        loss_name (str): Key in the loss dict.

    Inputs (the model's ``tensor``-mode dict):
        - ``reconstruction``: ``(B, T, N, C_out)``, ``C_out >= C``.
        - ``vit_tokens``: ``(B, T, N, C)``.
    """

    #: Every frame is reconstructed, the last one too.
    reads_last_frame = True

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_reconstruction') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, outputs: Mapping[str, Tensor]) -> Tensor:
        sizes: Dict[str, int] = {}
        target = get_checked_tensor(outputs, 'outputs', 'vit_tokens',
                                    'B T N C', sizes)
        prediction = get_checked_tensor(outputs, 'outputs', 'reconstruction',
                                        'B T N O', sizes)
        if sizes['O'] < sizes['C']:
            raise ValueError(
                f"outputs['reconstruction'] has {sizes['O']} channels, fewer "
                f"than the {sizes['C']} feature channels to reconstruct")
        with autocast_disabled(prediction.device):
            loss = F.mse_loss(prediction[..., :sizes['C']].float(),
                              target.detach().float())
        return loss * self.loss_weight
