"""InfoNCE against a queue of negatives (MoCo)."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmsmtc.registry import MODELS


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """MoCo's contrastive loss.

    For L2-normalised queries ``q`` ``(B, D)``, their positive keys ``k``
    ``(B, D)`` and the queue of negatives ``Q`` ``(D, K)``::

        logits = [q . k, q . Q] / T                 (B, 1 + K)
        loss   = cross_entropy(logits, 0)           (mean over B)

    Args:
        temperature: ``T`` (MoCo v2: 0.2; v1: 0.07).
        loss_weight: Factor of the loss.
        loss_name: Key in the loss dict.
    """

    def __init__(self, temperature: float = 0.2, loss_weight: float = 1.0,
                 loss_name: str = 'loss_contrastive') -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, queries: Tensor, keys: Tensor, queue: Tensor) -> Tensor:
        positive = (queries * keys).sum(1, keepdim=True)
        negative = queries @ queue
        logits = torch.cat([positive, negative], dim=1) / self.temperature
        labels = logits.new_zeros(len(logits), dtype=torch.long)
        return F.cross_entropy(logits, labels) * self.loss_weight
