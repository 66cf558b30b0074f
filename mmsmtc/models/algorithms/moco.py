"""MoCo v2: contrastive image pre-training with a momentum encoder and a
queue of negatives (He et al., CVPR 2020; Chen et al., arXiv 2003.04297)."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import Tensor

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from .base import BaseVideoSSL, ModuleOrCfg


@MODELS.register_module()
class MoCo(BaseVideoSSL):
    """MoCo v2, step 1 (spatial) of Spa-then-Temp.

    ``facebookresearch/moco`` ``moco/builder.py`` on the generic base. Call
    graph of one step (``B`` samples, two views each)::

        inputs (B, 2, 3, H, W): two independently cropped views of a frame
          |-- view_augment, drawn separately per view (colour, grey, blur)
          |-- query: backbone -> neck (pool + MLP) -> L2-normalise -> q
          |-- key (no_grad): the EMA teacher's backbone and neck (the
          |   momentum encoder, updated before the step), in train mode
          |   as officially (batch statistics), on the batch shuffled
          |   across processes ("shuffle BN") -> L2-normalise -> k
          |-- InfoNCELoss(q, k, queue)
          '-- enqueue k of every process, oldest keys out

    The momentum encoder is the base class's EMA teacher
    (``teacher=dict(momentum=0.999)``) of backbone and neck; its parameters
    follow MoCo's update. Its BatchNorm running statistics are averaged too
    instead of tracked by its own forward passes; they are never used in
    training (batch statistics) and the encoder kept afterwards is the
    query encoder (``backbone.*``), so this changes nothing that is
    trained or exported. Shuffle BN needs several processes: on one
    process the key batch is not shuffled (as the official code, which
    requires DDP).

    Args:
        backbone (dict | nn.Module): The encoder (a ResNet, ``out_indices=
            (3, )``).
        neck (dict | nn.Module): Projection head (``ProjectionMLP``).
        queue_size (int): ``K`` negatives (MoCo: 65536); a multiple of the
            global batch size.
        feat_dim (int): Embedding size (128).
        teacher (dict): Momentum (MoCo: 0.999).
        **kwargs: :class:`BaseVideoSSL` arguments (``losses``: an
            ``InfoNCELoss``, ``view_augment``, ``data_preprocessor``,
            ``init_cfg``).
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 neck: ModuleOrCfg,
                 queue_size: int = 65536,
                 feat_dim: int = 128,
                 teacher: Optional[dict] = None,
                 **kwargs) -> None:
        teacher = {**dict(momentum=0.999), **(teacher or {})}
        super().__init__(backbone, neck, teacher=teacher, **kwargs)
        if queue_size < 1:
            raise ValueError(f'queue_size must be >= 1, got {queue_size}')
        self.queue_size = queue_size
        self.register_buffer(
            'queue', F.normalize(torch.randn(feat_dim, queue_size), dim=0))
        self.register_buffer('queue_ptr', torch.zeros((), dtype=torch.long))

    def encode(self, images: Tensor, teacher: bool = False) -> Tensor:
        """``(N, 3, H, W)`` -> L2-normalised ``(N, D)`` embeddings of the
        query (student) or key (teacher) encoder."""
        parts = self.branch(teacher)
        feats = self.extract_feat(images, parts['backbone'])
        return F.normalize(parts['neck'](feats), dim=1)

    def _forward(self, inputs: Tensor,
                 data_samples: Optional[List[VideoDataSample]] = None
                 ) -> Tensor:
        """Query embeddings ``(B, D)`` of the first view."""
        return self.encode(self._views(inputs)[0])

    def _views(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        if inputs.dim() != 5 or inputs.shape[1] != 2:
            raise ValueError('MoCo trains on two views per sample, (B, 2, '
                             f'3, H, W); got {tuple(inputs.shape)}')
        return inputs[:, 0], inputs[:, 1]

    @torch.no_grad()
    def _keys(self, images: Tensor) -> Tensor:
        """Key embeddings, momentum encoder in train mode, shuffle BN."""
        images, order = batch_shuffle(images)
        parts = list(self.teacher.values())
        for part in parts:
            part.train(True)
        try:
            keys = self.encode(images, teacher=True)
        finally:
            for part in parts:
                part.train(False)
        return batch_unshuffle(keys, order)

    def loss_inputs(self, inputs: Tensor,
                    data_samples: Optional[List[VideoDataSample]]
                    ) -> Tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and the queue before this step's keys enter it."""
        query_view, key_view = self._views(inputs)
        queries = self.encode(self.augment(query_view[:, None])[:, 0])
        keys = self._keys(self.augment(key_view[:, None])[:, 0])
        queue = self.queue.clone().detach()
        self._enqueue(keys)
        return queries, keys, queue

    @torch.no_grad()
    def _enqueue(self, keys: Tensor) -> None:
        keys = torch.cat(dist.all_gather(keys)) \
            if dist.get_world_size() > 1 else keys
        if self.queue_size % len(keys):
            raise ValueError(f'queue_size {self.queue_size} must be a '
                             f'multiple of the global batch {len(keys)}')
        start = int(self.queue_ptr)
        self.queue[:, start:start + len(keys)] = keys.t()
        self.queue_ptr.fill_((start + len(keys)) % self.queue_size)

    def predict_clip(self, clip: Tensor, generator=None):
        raise NotImplementedError(
            'MoCo is a pre-training step: convert its checkpoint with '
            'tools/model_converters/moco_to_mmsmtc.py and use the ResNet')


def batch_shuffle(images: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
    """MoCo's shuffle BN: this process's share of the global batch in a
    random order common to all processes; ``(images, None)`` on one."""
    if dist.get_world_size() == 1:
        return images, None
    gathered = torch.cat(dist.all_gather(images))
    order = torch.randperm(len(gathered), device=gathered.device)
    dist.broadcast(order, src=0)
    local = order.view(dist.get_world_size(), -1)[dist.get_rank()]
    return gathered[local], order


def batch_unshuffle(embeddings: Tensor, order: Optional[Tensor]) -> Tensor:
    """Undo :func:`batch_shuffle` on per-sample outputs."""
    if order is None:
        return embeddings
    gathered = torch.cat(dist.all_gather(embeddings))
    restore = torch.argsort(order)
    return gathered[restore.view(dist.get_world_size(),
                                 -1)[dist.get_rank()]]
