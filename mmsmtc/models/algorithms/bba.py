"""Betrayed by Attention: clustering a spatio-temporal attention block."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from ..discovery.kl_clustering import cluster_attention_windows
from ..heads.spatio_temporal_block import head_averaged_attention
from ..utils import check_video_clips
from .base import BaseVideoSSL, ModuleOrCfg


def key_frame_indices(num_frames: int, stride: int) -> torch.Tensor:
    """Key frames ``0, r, ..., (S - 1) r`` with ``S = max(1, T // r)``.

    The official code takes ``T // r`` frames, none when ``T < r`` (an
    empty softmax); at least frame 0 is kept here.
    """
    return torch.arange(max(1, num_frames // stride)) * stride


@MODELS.register_module()
class BetrayedByAttention(BaseVideoSSL):
    """Betrayed by Attention (Ding et al., ECCV 2024; official
    ``shvdiwnkozbw/SSL-UVOS``).

    A frozen DINO ViT gives each frame's last-block keys; one
    spatio-temporal transformer block (:class:`SpatioTemporalBlock`) is
    trained on 3-frame clips so that its attention groups patches of one
    object; at test time the attention of every patch over the patches of
    sparse key frames is clustered (:mod:`~mmsmtc.models.discovery.
    kl_clustering`) into video-level objects.

    Call graph (``B`` clips of ``T`` frames, ``N = h * w`` patches)::

        inputs (B, T, 3, H, W), normalised
          |-- mode='loss' (training, official AttEncoder(training=True)):
          |     view_augment -> backbone.forward_with_cls per frame:
          |     keys (B, T, N, C), output cls token (B, T, C)
          |     -> [cls_t ; keys_t] for each frame, concatenated:
          |        (B, T * (1 + N), C) -> block -> tokens, attention
          |     -> cls rows/columns dropped: attention (B, T*N, T*N) after
          |        dropout, head-averaged; tokens (B, T, N, C)
          |     -> anchors = randperm(N)[:num_anchors] (CPU generator)
          |     -> loss_semantic, loss_motion
          |-- mode='tensor': keys (B, T, C, h, w) and the inference
          |     attention (B, T*N, S*N) of every patch over the key frames
          '-- mode='predict' / predict_clip (the whole video as one clip):
                keys, frame_batch frames at a time -> norm1 + Q, K of the
                block (no cls token, as officially) -> attention rows of a
                window of frames at a time -> clustering -> one-hot masks

    Args:
        backbone (dict | nn.Module): A ``VisionTransformer`` with
            ``out_types=('tokens', 'keys')`` (the cls output token needs
            the full last block), frozen.
        head (dict | nn.Module): The ``SpatioTemporalBlock``.
        losses (Sequence[dict]): ``BbASemanticConsistencyLoss`` and
            ``BbAMotionConsistencyLoss``, called with one dict of
            ``attention``, ``tokens`` and ``anchors``.
        num_anchors (int): Anchor patches per training step (official 8).
        key_frame_stride (int): ``r``, key frames every ``r`` frames
            (official ``--ratio`` 10).
        tau (float): Clustering threshold (official ``--tau`` 1.0).
        cluster_window (int): Frames per level-1 window (official 3).
        kl_eps (float, optional): None (official): no epsilon in the KL;
            a value (e.g. 1e-10) keeps it finite for exact zeros.
        frame_batch (int): Frames through the backbone at once at test time
            (bounds its memory; the official code runs one at a time).
        **kwargs: Other :class:`BaseVideoSSL` arguments (``view_augment``,
            ``data_preprocessor``, ``init_cfg``, ...).
    """

    #: One-hot cluster masks.
    mask_fields = ('pred_slot_masks', )

    def __init__(self,
                 backbone: ModuleOrCfg,
                 head: ModuleOrCfg,
                 losses=(),
                 num_anchors: int = 8,
                 key_frame_stride: int = 10,
                 tau: float = 1.0,
                 cluster_window: int = 3,
                 kl_eps: Optional[float] = None,
                 frame_batch: int = 8,
                 **kwargs) -> None:
        kwargs.setdefault('freeze_backbone', True)
        super().__init__(backbone, head=head, losses=losses, **kwargs)
        for name, value in dict(num_anchors=num_anchors,
                                key_frame_stride=key_frame_stride,
                                cluster_window=cluster_window,
                                frame_batch=frame_batch).items():
            if int(value) != value or value < 1:
                raise ValueError(f'{name} must be an integer >= 1, got '
                                 f'{value!r}')
        if 'keys' not in getattr(self.backbone, 'out_types', ()):
            raise ValueError("the backbone must output 'keys' (a "
                             "VisionTransformer with out_types=('tokens', "
                             "'keys'))")
        self.num_anchors = int(num_anchors)
        self.key_frame_stride = int(key_frame_stride)
        self.tau = float(tau)
        self.cluster_window = int(cluster_window)
        self.kl_eps = kl_eps
        self.frame_batch = int(frame_batch)

    # ------------------------------------------------------------------
    # features
    def frame_keys(self, frames: torch.Tensor) -> torch.Tensor:
        """``(n, 3, H, W)`` -> last-block keys ``(n, C, h, w)``, no grad,
        ``frame_batch`` frames at a time."""
        index = self.backbone.out_types.index('keys')
        with torch.no_grad():
            return torch.cat([
                self.backbone(frames[start:start + self.frame_batch])[index]
                for start in range(0, len(frames), self.frame_batch)
            ])

    def inference_queries_keys(
            self, keys: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Block queries of all frames and keys of the key frames.

        Args:
            keys: ``(T, C, h, w)`` backbone keys of one video.

        Returns:
            tuple: queries ``(heads, T * N, d)`` and keys ``(heads, S * N,
            d)`` of the key frames (:func:`key_frame_indices`).
        """
        tokens = keys.flatten(2).transpose(1, 2)  # (T, N, C)
        queries, block_keys = self.head.queries_and_keys(tokens)
        selected = key_frame_indices(len(keys), self.key_frame_stride)
        block_keys = block_keys[selected.to(keys.device)]
        return (queries.transpose(0, 1).flatten(1, 2),
                block_keys.transpose(0, 1).flatten(1, 2))

    def inference_attention(self, keys: torch.Tensor) -> torch.Tensor:
        """``(T, C, h, w)`` keys -> ``(T * N, S * N)`` head-averaged
        attention of every patch over the key-frame patches (rows sum to
        1). The whole matrix: for long videos use :meth:`cluster_video`,
        which computes it a window at a time."""
        with torch.no_grad():
            queries, block_keys = self.inference_queries_keys(keys)
            return head_averaged_attention(queries, block_keys,
                                           self.head.scale)

    # ------------------------------------------------------------------
    # modes
    def _forward(self, inputs: torch.Tensor,
                 data_samples: Optional[List[VideoDataSample]] = None,
                 **kwargs) -> Dict[str, torch.Tensor]:
        """Keys and inference attention of every clip.

        Returns:
            dict[str, Tensor]: ``keys`` ``(B, T, C, h, w)`` (frozen DINO
            last-block keys) and ``attention`` ``(B, T * N, S * N)``.
        """
        check_video_clips(inputs, type(self).__name__)
        keys = torch.stack([self.frame_keys(clip) for clip in inputs])
        attention = torch.stack(
            [self.inference_attention(clip_keys) for clip_keys in keys])
        return dict(keys=keys, attention=attention)

    def training_outputs(self, inputs: torch.Tensor
                         ) -> Dict[str, torch.Tensor]:
        """The official training forward and the anchors of this step.

        Returns:
            dict[str, Tensor]: ``attention`` ``(B, T*N, T*N)`` (after
            attention dropout, head mean, cls rows/columns dropped),
            ``tokens`` ``(B, T, N, C)`` (block outputs of the patches) and
            ``anchors`` ``(num_anchors,)`` patch indices.
        """
        batch, frames = inputs.shape[:2]
        with torch.no_grad():
            maps, cls_tokens = self.backbone.forward_with_cls(
                inputs.flatten(0, 1))
        keys = maps[self.backbone.out_types.index('keys')]
        patches = keys.shape[-2] * keys.shape[-1]
        keys = keys.flatten(2).transpose(1, 2).unflatten(0, (batch, frames))
        cls_tokens = cls_tokens.unflatten(0, (batch, frames))[:, :, None]
        sequence = torch.cat([cls_tokens, keys], dim=2).flatten(1, 2)
        tokens, attention = self.head(sequence)
        attention = attention.mean(dim=1).unflatten(
            1, (frames, 1 + patches)).unflatten(3, (frames, 1 + patches))
        attention = attention[:, :, 1:, :, 1:].flatten(1, 2).flatten(2, 3)
        tokens = tokens.unflatten(1, (frames, 1 + patches))[:, :, 1:]
        anchors = torch.randperm(patches)[:self.num_anchors]
        return dict(attention=attention, tokens=tokens,
                    anchors=anchors.to(inputs.device))

    def loss_inputs(self, inputs: torch.Tensor,
                    data_samples: Optional[List[VideoDataSample]]
                    ) -> Tuple[Dict[str, torch.Tensor]]:
        """The training outputs of the augmented clips (one argument)."""
        return (self.training_outputs(self.augment(inputs)), )

    @torch.no_grad()
    def cluster_video(self, keys: torch.Tensor) -> torch.Tensor:
        """Cluster ids of every patch of a video (official
        ``mem_efficient_inference``: the attention is computed one window of
        ``cluster_window`` frames at a time, twice).

        Args:
            keys: ``(T, C, h, w)`` backbone keys.

        Returns:
            Tensor: ``(T, h, w)`` int64 ids ``0..K-1`` (first appearance).
        """
        frames, _, height, width = keys.shape
        queries, block_keys = self.inference_queries_keys(keys)
        patches = height * width

        def read_rows(start: int, stop: int) -> torch.Tensor:
            return head_averaged_attention(
                queries[:, start * patches:stop * patches], block_keys,
                self.head.scale)

        labels = cluster_attention_windows(read_rows, frames, self.tau,
                                           self.cluster_window, self.kl_eps)
        return labels.view(frames, height, width)

    def predict_clip(self,
                     clip: torch.Tensor,
                     generator: Optional[torch.Generator] = None
                     ) -> Dict[str, torch.Tensor]:
        """One-hot cluster masks of a video (run with
        ``test_clip_len=None``: the clusters are video-level).

        Returns:
            dict[str, Tensor]: ``pred_slot_masks`` ``(T, K, h, w)`` float
            one-hot masks, cluster ``k`` the same object in every frame.
        """
        labels = self.cluster_video(self.frame_keys(clip))
        masks = F.one_hot(labels, int(labels.max()) + 1)
        return dict(pred_slot_masks=masks.permute(0, 3, 1, 2).float())
