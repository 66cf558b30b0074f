"""VideoSAUR (Zadaianchuk et al., NeurIPS 2023) and DINOSAUR (Seitzer et al.,
ICLR 2023): slot attention on frozen DINO features, trained to predict
feature similarities over time (and to reconstruct the features)."""
from typing import Dict, List, Optional, Tuple

import torch

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from ..utils import check_video_clips
from .base import BaseVideoSSL, ModuleOrCfg, build_module


@MODELS.register_module()
class VideoSAUR(BaseVideoSSL):
    """VideoSAUR, the official ``ObjectCentricModel`` for video.

    Call graph (``B`` clips of ``T`` frames, ``N = h * w`` patches, ``K``
    slots of ``D`` channels)::

        inputs (B, T, 3, H, W), normalised
          |-- backbone   frozen DINO ViT, no autograd: per frame
          |              vit_tokens (last block, before the final norm) and
          |              vit_keys (last block's attention keys), (B, T, N, C)
          |-- neck       PatchFeatureMLP: vit_tokens -> features (B, T, N, D)
          |-- slot_initializer  slots of frame 0 (B, K, D), or `slot_init`
          |-- processor  RecurrentSlotProcessor: per frame, slot attention
          |              (3 iterations on the video's first frame, then 2)
          |              and the predictor giving the next frame's start
          |-- decoder    SlotMixerDecoder per frame on the corrected slots
          |
          |-- mode='tensor'  -> dict below
          |-- mode='loss'    -> each of `losses` on that dict:
          |                     loss_similarity (TemporalSimilarityLoss) and,
          |                     for feature-reconstructing configs,
          |                     loss_reconstruction, already weighted; the
          |                     last frame is not decoded when no loss
          |                     reads it (see loss_inputs)
          '-- mode='predict' -> predict_clip: decoder masks at the patch
                                grid; slots carried from clip to clip

    The frozen encoder is the default (``freeze_backbone=True``, build the
    ViT with ``frozen=True`` too); ``pad_last_clip`` defaults to False.

    Args:
        backbone (dict | nn.Module): A
            :class:`~mmsmtc.models.backbones.VisionTransformer` with
            ``out_types=('tokens', 'keys')`` (``('tokens',)`` is enough
            without the similarity loss).
        neck (dict | nn.Module): The encoder's output transform.
        slot_initializer (dict | nn.Module): e.g.
            :class:`~mmsmtc.models.slot_attention.LearnedGaussianSlotInit`.
        processor (dict | nn.Module): A
            :class:`~mmsmtc.models.slot_attention.RecurrentSlotProcessor`.
        decoder (dict | nn.Module): Slots ``(B, K, D)`` -> dict with
            ``reconstruction (B, N, C_out)`` and ``masks (B, K, N)``.
        **kwargs: The other arguments of :class:`BaseVideoSSL` (``losses``,
            ``test_clip_len``, ``data_preprocessor``, ``init_cfg``, ...).
    """

    #: ``pred_slot_masks``: the decoder's soft masks.
    mask_fields = ('pred_slot_masks', )
    carries_clip_state = True
    parts = ('backbone', 'neck', 'slot_initializer', 'processor', 'decoder')

    def __init__(self, backbone: ModuleOrCfg, neck: ModuleOrCfg,
                 slot_initializer: ModuleOrCfg, processor: ModuleOrCfg,
                 decoder: ModuleOrCfg, **kwargs) -> None:
        kwargs.setdefault('freeze_backbone', True)
        kwargs.setdefault('pad_last_clip', False)
        super().__init__(backbone, neck, **kwargs)
        self.slot_initializer = build_module(slot_initializer)
        self.processor = build_module(processor)
        self.decoder = build_module(decoder)

    # ------------------------------------------------------------------
    # the network
    def encode(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(B, T, 3, H, W)`` -> ``vit_tokens`` / ``vit_keys`` (as the
        backbone's ``out_types``) and ``features``, each ``(B, T, N, .)``,
        and ``grid`` ``(h, w)`` (not a tensor)."""
        batch, frames = inputs.shape[:2]
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.backbone_frozen()):
            maps = self.backbone(inputs.flatten(0, 1))
        if isinstance(maps, torch.Tensor):
            maps = (maps, )
        names = tuple(getattr(self.backbone, 'out_types', ('tokens', )))
        if len(names) != len(maps):
            raise ValueError(f'{type(self).__name__}: the backbone returned '
                             f'{len(maps)} maps for out_types {names}')
        outputs = {
            f'vit_{name}': value.flatten(2).transpose(1, 2).unflatten(
                0, (batch, frames))
            for name, value in zip(names, maps)
        }
        if 'vit_tokens' not in outputs:
            raise ValueError(f'{type(self).__name__} needs the backbone\'s '
                             f"'tokens' output; it gives {names}")
        outputs['features'] = self.neck(outputs['vit_tokens'])
        outputs['grid'] = tuple(maps[0].shape[-2:])
        return outputs

    def run(self,
            inputs: torch.Tensor,
            slots: torch.Tensor,
            is_first_frame: bool = True,
            decode_last_frame: bool = True) -> Dict[str, torch.Tensor]:
        """The whole network on a clip from given starting slots.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised clips.
            slots: ``(B, K, D)`` starting slots (frame 0's initial slots,
                or the state carried from the previous clip).
            is_first_frame: Whether ``inputs[:, 0]`` starts the video.
            decode_last_frame: False decodes frames ``0 .. T-2`` only: the
                decoder's outputs (``masks``, ``reconstruction``) then have
                ``T - 1`` frames, the other entries ``T``.

        Returns:
            dict: see :meth:`_forward`, plus ``next_slots (B, K, D)`` and
            ``grid``.
        """
        outputs = self.encode(inputs)
        processed = self.processor(slots, outputs.pop('features'),
                                   is_first_frame)
        decoded_slots = processed['slots']
        if not decode_last_frame:
            decoded_slots = decoded_slots[:, :-1]
        batch, frames = decoded_slots.shape[:2]
        decoded = self.decoder(decoded_slots.flatten(0, 1))
        outputs.update(
            {
                name: value.unflatten(0, (batch, frames))
                for name, value in decoded.items()
            },
            slots=processed['slots'],
            attention_masks=processed['attention'],
            next_slots=processed['next_slots'])
        return outputs

    def initial_slots(self,
                      batch_size: int,
                      slot_init: Optional[torch.Tensor] = None,
                      generator: Optional[torch.Generator] = None
                      ) -> torch.Tensor:
        """``slot_init`` (checked) or a draw of the slot initialiser."""
        if slot_init is None:
            return self.slot_initializer(batch_size, generator)
        expected = (batch_size, self.slot_initializer.num_slots,
                    self.slot_initializer.slot_dim)
        if slot_init.dim() != 3 or slot_init.shape[0] != batch_size or (
                slot_init.shape[2] != expected[2]):
            raise ValueError(f'slot_init must be (B, K, D) = (B={batch_size}'
                             f', K, D={expected[2]}), got '
                             f'{tuple(slot_init.shape)}')
        return slot_init

    # ------------------------------------------------------------------
    # modes
    def _forward(self,
                 inputs: torch.Tensor,
                 data_samples: Optional[List[VideoDataSample]] = None,
                 slot_init: Optional[torch.Tensor] = None,
                 decode_last_frame: bool = True
                 ) -> Dict[str, torch.Tensor]:
        """Raw outputs of ``(B, T, 3, H, W)`` clips.

        Args:
            inputs: Normalised clips.
            data_samples: Unused.
            slot_init: ``(B, K, D)`` initial slots of frame 0; None draws
                them from the slot initialiser (global generator).
            decode_last_frame: False leaves the last frame out of ``masks``
                and ``reconstruction`` (``T - 1`` frames; see :meth:`run`).

        Returns:
            dict[str, Tensor]: ``slots (B, T, K, D)`` corrected slots,
            ``masks (B, T, K, N)`` decoder masks (softmax over slots),
            ``reconstruction (B, T, N, C_out)`` decoder output (feature
            channels first where the config reconstructs features, then the
            ``N`` next-frame similarity logits), ``attention_masks
            (B, T, K, N)`` slot attention of the last iteration,
            ``vit_tokens`` / ``vit_keys`` ``(B, T, N, C)`` the frozen
            encoder's outputs (the losses' targets).
        """
        check_video_clips(inputs, type(self).__name__)
        slots = self.initial_slots(len(inputs), slot_init)
        outputs = self.run(inputs, slots, decode_last_frame=decode_last_frame)
        outputs.pop('next_slots')
        outputs.pop('grid')
        return outputs

    def loss_inputs(self,
                    inputs: torch.Tensor,
                    data_samples: Optional[List[VideoDataSample]] = None,
                    slot_init: Optional[torch.Tensor] = None
                    ) -> Tuple[Dict[str, torch.Tensor]]:
        """The :meth:`_forward` dict, for every loss module.

        The last frame is decoded only if a loss reads it (its
        ``reads_last_frame``, True when absent): the temporal similarity
        loss has no target for it (no next frame), so the similarity-only
        MOVi configs skip its decoder forward and backward, which the
        official code computes and discards (``models.py`` decodes all
        frames, ``losses.py`` drops the last with
        ``remove_last_n_frames``). The losses are the same.
        """
        decode_last_frame = any(
            getattr(loss, 'reads_last_frame', True) for loss in self.losses)
        return (self._forward(inputs, slot_init=slot_init,
                              decode_last_frame=decode_last_frame), )

    def predict_clip(
        self,
        clip: torch.Tensor,
        generator: Optional[torch.Generator] = None,
        state: Optional[torch.Tensor] = None
    ) -> Tuple[Dict[str, torch.Tensor], torch.Tensor]:
        """Decoder masks of one clip, continuing the video's recurrence.

        Args:
            clip: ``(t, 3, H, W)`` normalised frames.
            generator: Draws the initial slots of the video's first clip
                (per video: reproducible in any order and process count).
            state: ``(1, K, D)`` slots predicted after the previous clip's
                last frame; None for the video's first clip.

        Returns:
            tuple: the fields ``pred_slot_masks (t, K, h, w)`` (decoder
            soft masks at the patch grid, sum 1 over slots) and
            ``pred_slot_embeddings (t, K, D)`` (the corrected slots), and
            the new state.
        """
        if state is None:
            slots, first = self.initial_slots(1, generator=generator), True
        else:
            slots, first = state, False
        out = self.run(clip[None], slots, is_first_frame=first)
        fields = dict(
            pred_slot_masks=out['masks'][0].unflatten(-1, out['grid']),
            pred_slot_embeddings=out['slots'][0])
        return fields, out['next_slots']


@MODELS.register_module()
class DINOSAUR(VideoSAUR):
    """DINOSAUR: the image model (official ``input_type: image``).

    The same parts as :class:`VideoSAUR` with a processor without predictor
    (slot attention with its MLP, 3 iterations) and the
    :class:`~mmsmtc.models.decoders.PatchMLPDecoder`; trained by feature
    reconstruction only.

    Inputs are images ``(B, 3, H, W)`` or one-frame clips ``(B, 1, 3, H,
    W)``. ``tensor`` mode returns the :class:`VideoSAUR` keys without the
    ``T`` axis for images (``slots (B, K, D)``, ``masks (B, K, N)``,
    ``reconstruction (B, N, C)``, ...) and with ``T = 1`` for clips.
    ``predict`` treats each frame of a video as an independent image with
    its own draw of initial slots (no state between frames or clips).
    """

    carries_clip_state = False

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[VideoDataSample]] = None,
                mode: str = 'tensor',
                **kwargs):
        """As :meth:`BaseVideoSSL.forward`; ``(B, 3, H, W)`` images are
        one-frame clips."""
        images = isinstance(inputs, torch.Tensor) and inputs.dim() == 4
        if images:
            inputs = inputs.unsqueeze(1)
        outputs = super().forward(inputs, data_samples, mode, **kwargs)
        if images and mode == 'tensor':
            outputs = {name: value[:, 0] for name, value in outputs.items()}
        return outputs

    def _forward(self,
                 inputs: torch.Tensor,
                 data_samples: Optional[List[VideoDataSample]] = None,
                 slot_init: Optional[torch.Tensor] = None,
                 decode_last_frame: bool = True
                 ) -> Dict[str, torch.Tensor]:
        """:meth:`VideoSAUR._forward` of one-frame clips."""
        check_video_clips(inputs, type(self).__name__)
        if inputs.shape[1] != 1:
            raise ValueError(f'{type(self).__name__} is an image model: give'
                             ' (B, 3, H, W) images or (B, 1, 3, H, W) clips,'
                             f' got {tuple(inputs.shape)}')
        return super()._forward(inputs, data_samples, slot_init,
                                decode_last_frame)

    def predict_clip(self,
                     clip: torch.Tensor,
                     generator: Optional[torch.Generator] = None
                     ) -> Dict[str, torch.Tensor]:
        """Masks of ``(t, 3, H, W)`` frames, each an independent image:
        ``pred_slot_masks (t, K, h, w)``, ``pred_slot_embeddings (t, K,
        D)``."""
        slots = self.initial_slots(len(clip), generator=generator)
        out = self.run(clip[:, None], slots)
        return dict(
            pred_slot_masks=out['masks'][:, 0].unflatten(-1, out['grid']),
            pred_slot_embeddings=out['slots'][:, 0])
