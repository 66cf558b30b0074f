"""Spa-then-Temp's temporal-step losses (Li & Liu, CVPR 2023).

Each module reads the outputs of :class:`~mmsmtc.models.algorithms.
SpaThenTemp` (``outputs``, see its ``_forward``): for every pyramid level
``levels[l]`` the target-frame and reference-frame student maps
(``target``, ``reference``: ``(B, C, h, w)``), the windowed affinity
``affinity`` ``(B, N, N)`` (target queries, reference keys), its window
``radius`` and its stride ``downsample_rate``; the clean normalised LAB
frames ``lab`` ``(B, 2, 3, H, W)`` and the dropped chroma channel
``drop_channel``; the student's and the teacher's global maps.

Three official behaviours differ from the paper; each is the default and
has a flag for the paper's version (:class:`LocalCorrelationDistillLoss`):
the point-selection "entropy" (``uncertainty``), the per-row threshold
(``threshold``) and the pooled target's row sum (``target_pooling``).
"""
from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmsmtc.ops import local_correlation, windowed_affinity
from mmsmtc.registry import MODELS

#: Added inside the logarithm of the point-selection uncertainty, as
#: officially.
LOG_EPS = 1e-12
#: Added to the weight sum of the masked mean (mmediting's
#: ``mask_reduce_loss``).
WEIGHT_EPS = 1e-12


@MODELS.register_module()
class ChromaReconstructionLoss(nn.Module):
    """Reconstruct the dropped chroma channel of the target frame.

    The official ``stage{l}_l1_loss``: the reference frame's clean channel
    ``v`` subsampled at the level's stride (top-left pixel of every
    ``r x r`` cell, ``[::r, ::r]``) is carried to the target by the
    windowed affinity, upsampled bilinearly (``align_corners=False``) to the
    frame and compared with the target's clean channel ``y``::

        y_hat = upsample(A @ v[::r, ::r])
        loss  = mean SmoothL1(s * y_hat, s * y)          (beta 1, s = 20)

    Args:
        level: Index of the pyramid level (0: layer2, 1: layer3).
        scale: ``s``, the official ``Framework.weight`` (20).
        loss_weight: Factor of the loss (officially 1).
        loss_name: Key in the loss dict.
    """

    def __init__(self, level: int, scale: float = 20.0,
                 loss_weight: float = 1.0, loss_name: str = None) -> None:
        super().__init__()
        self.level = level
        self.scale = scale
        self.loss_weight = loss_weight
        self.loss_name = loss_name or f'loss_stage{level}_l1'

    def forward(self, outputs: Dict) -> Tensor:
        level = outputs['levels'][self.level]
        lab, channel = outputs['lab'], outputs['drop_channel']
        rate = level['downsample_rate']
        affinity = level['affinity']
        height, width = level['target'].shape[-2:]
        values = lab[:, 0, channel, ::rate, ::rate]
        if values.shape[-2:] != (height, width):
            raise ValueError(
                f'level {self.level}: the {lab.shape[-2]}x{lab.shape[-1]} '
                f'frame subsampled by {rate} is {tuple(values.shape[-2:])}, '
                f'not the {height}x{width} feature grid; set '
                'downsample_rate to the level\'s stride')
        carried = torch.bmm(affinity, values.flatten(1).unsqueeze(-1))
        carried = carried.view(-1, 1, height, width)
        upsampled = F.interpolate(carried, size=lab.shape[-2:],
                                  mode='bilinear', align_corners=False)
        target = lab[:, 1, channel].unsqueeze(1)
        loss = F.smooth_l1_loss(upsampled * self.scale, target * self.scale)
        return loss * self.loss_weight


def point_uncertainty(correlation: Tensor, kind: str = 'neg_log_sum'
                      ) -> Tensor:
    """Uncertainty of each query from its ``(B, D, D, h, w)`` local
    correlation (softmax over the ``D^2`` displacements, zeros outside the
    map included).

    ``'neg_log_sum'`` (official): ``sum_d -log(p_d + 1e-12)``, large for
    *peaked* distributions; ``'entropy'`` (paper): ``-sum_d p_d log(p_d +
    1e-12)``. Returns ``(B, h, w)``.
    """
    probs = correlation.flatten(1, 2).softmax(dim=1)
    logs = torch.log(probs + LOG_EPS)
    if kind == 'neg_log_sum':
        return -logs.sum(1)
    if kind == 'entropy':
        return -(probs * logs).sum(1)
    raise ValueError(f"uncertainty must be 'neg_log_sum' or 'entropy', got "
                     f'{kind!r}')


def select_points(uncertainty: Tensor, ratio: float,
                  threshold: str = 'row') -> Tensor:
    """``(B, h, w)`` bool mask of the points kept for distillation.

    Both modes sort descending and keep the values strictly above the one
    at index ``k = int(n * ratio) - 1``:

    - ``'row'`` (official): the sort runs along x only (``n = w``) and the
      threshold is sorted row ``k``, ``(B, 1, w)``, broadcast over the rows:
      column ``x`` keeps the points above the ``x``-th largest value of row
      ``k`` (about half the points, biased by column).
    - ``'image'`` (paper; the official ``.flatten(-2)`` commented out): the
      sort runs over the whole map (``n = h * w``): the top ``k`` points.
    """
    if not 0 < ratio <= 1:
        raise ValueError(f'ratio must lie in (0, 1], got {ratio}')
    if threshold == 'row':
        ranked = uncertainty.sort(dim=-1, descending=True).values
        index = int(uncertainty.shape[-1] * ratio) - 1
        if not 0 <= index < uncertainty.shape[-2]:
            raise ValueError(
                f"threshold='row' takes sorted row int(w * ratio) - 1 = "
                f'{index}, outside the {uncertainty.shape[-2]} rows')
        return uncertainty > ranked[:, index:index + 1]
    if threshold == 'image':
        flat = uncertainty.flatten(1)
        ranked = flat.sort(dim=-1, descending=True).values
        index = max(int(flat.shape[-1] * ratio) - 1, 0)
        return (flat > ranked[:, index:index + 1]).view_as(uncertainty)
    raise ValueError(f"threshold must be 'row' or 'image', got "
                     f'{threshold!r}')


def pool_affinity(affinity: Tensor, grid: tuple, factor: int,
                  target_pooling: str = 'avg') -> Tensor:
    """Pool a ``(B, N, N)`` affinity on an ``h x w`` grid to the coarse
    ``(h / f) x (w / f)`` grid: ``f x f`` average pooling over the keys,
    then over the queries. ``'avg'`` (official) leaves rows summing to
    ``1 / f^2``; ``'sum'`` (paper) sums over the keys instead (rows sum
    to 1). Returns ``(B, n, n)``, ``n = N / f^2``."""
    if target_pooling not in ('avg', 'sum'):
        raise ValueError(f"target_pooling must be 'avg' or 'sum', got "
                         f'{target_pooling!r}')
    batch = affinity.shape[0]
    height, width = grid
    keys = F.avg_pool2d(affinity.reshape(batch, -1, height, width), factor)
    keys = keys.flatten(2).transpose(1, 2).reshape(batch, -1, height, width)
    pooled = F.avg_pool2d(keys, factor).flatten(2).transpose(1, 2)
    if target_pooling == 'sum':
        pooled = pooled * factor**2
    return pooled


def masked_mse(pred: Tensor, target: Tensor, row_mask: Tensor) -> Tensor:
    """``sum W (pred - target)^2 / (sum W + 1e-12)`` with ``W`` the
    ``(B, n)`` row mask repeated over the ``n`` columns."""
    weight = row_mask.to(pred.dtype).unsqueeze(-1).expand_as(pred)
    return ((pred - target)**2 * weight).sum() / (weight.sum() + WEIGHT_EPS)


@MODELS.register_module()
class LocalCorrelationDistillLoss(nn.Module):
    """Fine-to-coarse correlation distillation at selected points.

    The official ``local_corrdis_loss``: the level-0 affinity, pooled to
    the level-1 grid (:func:`pool_affinity`, detached), teaches the level-1
    affinity, at the level-1 target points selected by the uncertainty of
    their local correlation (``max_displacement`` = the level-1 window
    radius, :func:`point_uncertainty`, :func:`select_points`)::

        loss = masked_mse(A1, sg(pool(A0)), select(u(corr(q1, k1))))

    Args:
        ratio: The official ``T`` (0.7).
        uncertainty: ``'neg_log_sum'`` (official) or ``'entropy'``
            (paper).
        threshold: ``'row'`` (official) or ``'image'`` (paper).
        target_pooling: ``'avg'`` (official) or ``'sum'`` (paper).
        detach_target: Stop the gradient through the target (official
            config: ``detach=True``).
        loss_weight: Factor of the loss (officially 1000).
        loss_name: Key in the loss dict.
    """

    def __init__(self,
                 ratio: float = 0.7,
                 uncertainty: str = 'neg_log_sum',
                 threshold: str = 'row',
                 target_pooling: str = 'avg',
                 detach_target: bool = True,
                 loss_weight: float = 1000.0,
                 loss_name: str = 'loss_local_corrdis') -> None:
        super().__init__()
        self.ratio = ratio
        self.uncertainty = uncertainty
        self.threshold = threshold
        self.target_pooling = target_pooling
        self.detach_target = detach_target
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, outputs: Dict) -> Tensor:
        fine, coarse = outputs['levels'][0], outputs['levels'][-1]
        grid = fine['target'].shape[-2:]
        factor = coarse['downsample_rate'] // fine['downsample_rate']
        if (grid[0] != coarse['target'].shape[-2] * factor
                or grid[1] != coarse['target'].shape[-1] * factor):
            raise ValueError(
                f'the {tuple(grid)} fine grid is not {factor}x the '
                f'{tuple(coarse["target"].shape[-2:])} coarse grid')
        target = pool_affinity(fine['affinity'], grid, factor,
                               self.target_pooling)
        if self.detach_target:
            target = target.detach()
        with torch.no_grad():
            correlation = local_correlation(coarse['target'],
                                            coarse['reference'],
                                            coarse['radius'])
            selected = select_points(
                point_uncertainty(correlation, self.uncertainty),
                self.ratio, self.threshold)
        loss = masked_mse(coarse['affinity'], target, selected.flatten(1))
        return loss * self.loss_weight


@MODELS.register_module()
class GlobalCorrelationDistillLoss(nn.Module):
    """The frozen teacher's global correlation teaches the student's last
    level.

    The official ``global_corrdis_loss``: the student's last map gives
    ``G_s = softmax_j(<q_i, k_j> / sqrt(C))`` over every key; the teacher's
    (RGB input, no gradient) ``G_t = softmax_j(<g_i, g_j> / T_t)`` with raw
    features (``normalize=False``, officially) at ``T_t = 0.07``::

        loss = mean (G_s - G_t)^2

    Args:
        teacher_temperature: ``T_t``.
        normalize: L2-normalise the teacher's features first.
        student_scale: Divide the student's logits by ``sqrt(C)``.
        loss_weight: Factor of the loss (officially 50).
        loss_name: Key in the loss dict.
    """

    def __init__(self,
                 teacher_temperature: float = 0.07,
                 normalize: bool = False,
                 student_scale: bool = True,
                 loss_weight: float = 50.0,
                 loss_name: str = 'loss_global_corrdis') -> None:
        super().__init__()
        self.teacher_temperature = teacher_temperature
        self.normalize = normalize
        self.student_scale = student_scale
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, outputs: Dict) -> Tensor:
        if outputs.get('teacher') is None or outputs.get('global') is None:
            raise KeyError('GlobalCorrelationDistillLoss needs the teacher\'s '
                           'maps and the student\'s global level: give '
                           'SpaThenTemp a teacher_backbone and a student '
                           'with one more out index than radii')
        student = outputs['global']
        student_affinity = windowed_affinity(
            student['target'], student['reference'],
            scale=self.student_scale)
        with torch.no_grad():
            target, reference = outputs['teacher']
            if self.normalize:
                target = F.normalize(target, dim=1)
                reference = F.normalize(reference, dim=1)
            teacher_affinity = windowed_affinity(
                target, reference, scale=False,
                temperature=self.teacher_temperature)
        loss = F.mse_loss(student_affinity, teacher_affinity)
        return loss * self.loss_weight
