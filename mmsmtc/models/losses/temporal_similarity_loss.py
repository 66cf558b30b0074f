"""VideoSAUR's temporal feature-similarity loss."""
from typing import Dict, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmsmtc.registry import MODELS
from .utils import autocast_disabled, get_checked_tensor


def temporal_similarity_targets(keys: Tensor,
                                temperature: float,
                                threshold: float = 0.0) -> Tensor:
    """Where each patch goes in the next frame, as a distribution.

    ``S_t = normalize(keys_t) normalize(keys_{t+1})^T``; entries below
    ``threshold`` (strictly) are masked out, the rest divided by
    ``temperature`` and soft-maxed over the next frame's patches. A row
    without any entry left becomes uniform (official
    ``FeatureTimeSimilarity`` with ``softmax=True``).

    Args:
        keys: ``(B, T, N, C)`` attention keys of the frozen encoder.
        temperature: Softmax temperature.
        threshold: Similarities below it are masked.

    Returns:
        Tensor: ``(B, T - 1, N, N)``; row ``p`` of frame ``t`` is over the
        patches ``q`` of frame ``t + 1`` and sums to 1.
    """
    keys = F.normalize(keys, p=2.0, dim=-1)
    similarity = keys[:, :-1] @ keys[:, 1:].transpose(-2, -1)
    masked = similarity < threshold
    logits = (similarity / temperature).masked_fill(masked, float('-inf'))
    fully_masked = masked.all(dim=-1, keepdim=True)
    logits = logits.masked_fill(fully_masked, 0.0)
    return logits.softmax(dim=-1)


@MODELS.register_module()
class TemporalSimilarityLoss(nn.Module):
    """Cross-entropy between predicted next-frame similarity logits and
    :func:`temporal_similarity_targets` of the encoder keys.

    The decoder's output of frame ``t`` (``t < T - 1``), channels
    ``[first_channel, first_channel + N)``, are logits over the ``N``
    patches of frame ``t + 1`` for each of its ``N`` patches::

        loss = mean over (b, t < T-1, p) of
               -sum_q P[b, t, p, q] log softmax_q(logits[b, t, p, q])

    (the official ``CrossEntropyLoss`` on ``decoder.reconstruction``,
    ``remove_last_n_frames=1``, ``pred_dims``), times ``loss_weight``. The
    targets carry no gradient. Computed in float32 without autocast.

    Args:
        temperature (float): Of the targets (0.075 MOVi, 0.25 YT-VIS
            DINO B/16, 0.15 YT-VIS DINOv2).
        threshold (float): Similarities below it are masked (0.0).
        first_channel (int): Where the logits start in the reconstruction
            (0 MOVi; the feature channels, 768, when the decoder also
            reconstructs features).
        loss_weight (float): 0.1 in the released configs.
        loss_name (str): Key in the loss dict.

    Inputs (the model's ``tensor``-mode dict):
        - ``reconstruction``: ``(B, T, N, C_out)``, or ``(B, T - 1, N,
          C_out)`` without the last frame, which this loss does not read
          (:attr:`reads_last_frame`).
        - ``vit_keys``: ``(B, T, N, C)``.
    """

    #: The last frame's prediction has no target (no next frame), so a
    #: model may leave it out (VideoSAUR does in ``loss`` mode).
    reads_last_frame = False

    def __init__(self,
                 temperature: float,
                 threshold: float = 0.0,
                 first_channel: int = 0,
                 loss_weight: float = 0.1,
                 loss_name: str = 'loss_similarity') -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.threshold = threshold
        self.first_channel = first_channel
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, outputs: Mapping[str, Tensor]) -> Tensor:
        sizes: Dict[str, int] = {}
        keys = get_checked_tensor(outputs, 'outputs', 'vit_keys', 'B T N C',
                                  sizes)
        num_frames, num_patches = sizes['T'], sizes['N']
        if num_frames < 2:
            raise ValueError('TemporalSimilarityLoss needs clips of >= 2 '
                             f'frames, got {tuple(keys.shape)} keys')
        prediction = get_checked_tensor(outputs, 'outputs', 'reconstruction',
                                        'B P N O', sizes)
        if sizes['P'] not in (num_frames, num_frames - 1):
            raise ValueError(
                f"outputs['reconstruction'] has {sizes['P']} frames; the "
                f'{num_frames}-frame vit_keys need {num_frames} or '
                f'{num_frames - 1} (the last left out)')
        end = self.first_channel + num_patches
        if end > sizes['O']:
            raise ValueError(
                f"outputs['reconstruction'] has {sizes['O']} channels; the "
                f'similarity logits need [{self.first_channel}, {end})')
        with autocast_disabled(prediction.device):
            with torch.no_grad():
                targets = temporal_similarity_targets(
                    keys.detach().float(), self.temperature, self.threshold)
            logits = prediction[:, :num_frames - 1, :,
                                self.first_channel:end].float()
            loss = -(targets * logits.log_softmax(dim=-1)).sum(-1).mean()
        return loss * self.loss_weight
