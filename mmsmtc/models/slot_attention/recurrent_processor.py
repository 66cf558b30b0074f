"""VideoSAUR's recurrence: correct the slots on each frame, then predict."""
from typing import Dict, Optional, Union

import torch
from torch import nn

from mmsmtc.registry import MODELS

ModuleOrCfg = Union[dict, nn.Module]


def _build(module: Optional[ModuleOrCfg]) -> Optional[nn.Module]:
    if module is None or isinstance(module, nn.Module):
        return module
    return MODELS.build(module)


@MODELS.register_module()
class RecurrentSlotProcessor(nn.Module):
    """Slot attention over time (official ``ScanOverTime(LatentProcessor)``).

    ::

        s = initial slots (B, K, D)
        for t in frames:
            slots_t, attention_t = corrector(s, features_t,
                                             first_frame_iters if t is the
                                             video's first frame else
                                             corrector.num_iters)
            s = predictor(slots_t)     # the next frame's starting slots

    The decoder uses the corrected slots of each frame; the last
    prediction is returned so that a video split into clips continues
    from it (``is_first_frame=False`` for the following clips).

    Args:
        corrector (dict | nn.Module): e.g. :class:`SlotAttentionCorrector`
            with ``num_iters=2``.
        predictor (dict | nn.Module, optional): e.g. a one-block
            :class:`SlotTransformer`; None passes the slots on (image
            models).
        first_frame_iters (int, optional): Corrector iterations on the
            video's first frame (3 in VideoSAUR); None uses the corrector's.
    """

    def __init__(self,
                 corrector: ModuleOrCfg,
                 predictor: Optional[ModuleOrCfg] = None,
                 first_frame_iters: Optional[int] = None) -> None:
        super().__init__()
        self.corrector = _build(corrector)
        self.predictor = _build(predictor)
        self.first_frame_iters = first_frame_iters

    def forward(self,
                slots: torch.Tensor,
                features: torch.Tensor,
                is_first_frame: bool = True) -> Dict[str, torch.Tensor]:
        """Run the recurrence over a clip.

        Args:
            slots: ``(B, K, D)`` slots to start from: the initial slots of
                the video, or the prediction carried from the previous clip.
            features: ``(B, T, N, C)`` encoder features.
            is_first_frame: Whether ``features[:, 0]`` is the video's
                first frame (it then gets ``first_frame_iters``).

        Returns:
            dict[str, Tensor]: ``slots (B, T, K, D)`` corrected slots,
            ``attention (B, T, K, N)`` the corrector's last attention,
            ``next_slots (B, K, D)`` the prediction after the last frame.
        """
        corrected, attentions = [], []
        for index in range(features.shape[1]):
            num_iters = None
            if index == 0 and is_first_frame:
                num_iters = self.first_frame_iters
            frame_slots, attention = self.corrector(slots, features[:, index],
                                                    num_iters)
            corrected.append(frame_slots)
            attentions.append(attention)
            slots = frame_slots if self.predictor is None else self.predictor(
                frame_slots)
        return dict(
            slots=torch.stack(corrected, dim=1),
            attention=torch.stack(attentions, dim=1),
            next_slots=slots)
