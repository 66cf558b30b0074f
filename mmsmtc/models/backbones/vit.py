"""DINO and DINOv2 Vision Transformers on timm blocks.

Archs: DINO ViT-S/16, ViT-S/8, ViT-B/16, ViT-B/8 (``'vit-s16'``,
``'vit-s8'``, ``'vit-b16'``, ``'vit-b8'``, trained at 224) and DINOv2
ViT-S/14, ViT-B/14 (``'dinov2-vit-s14'``, ``'dinov2-vit-b14'``, with
LayerScale, trained at 518: a 37 x 37 positional grid).

Interface (consumed by necks, heads, the SMTC algorithm and label
propagation)::

    backbone = MODELS.build(dict(type='VisionTransformer', arch='vit-s16',
                                 out_types=('tokens', 'keys')))
    tokens, keys = backbone(images)   # images (N, 3, H, W), normalised
    # tokens: (N, C, H / p, W / p) last block's patch tokens
    # keys:   (N, C, H / p, W / p) last block's attention keys

``C = embed_dim`` (384 for ViT-S, 768 for ViT-B), ``p`` the patch size.
"""
import contextlib
import logging
from functools import partial
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from timm.layers import DropPath, LayerScale, PatchEmbed
from timm.models.vision_transformer import Attention, Block
from torch import nn

from mmsmtc.ops import linear, resize_to_multiple
from mmsmtc.registry import MODELS
from ..layers import Linear, use_fast_cpu_linear
from .checkpoint_key_map import KeyMap
from .image_input import check_image_batch
from .key_mapped_backbone import KeyMappedBackbone
from .pos_embed import POS_EMBED_INTERPOLATIONS

#: Parameters of one DINO block, named as in DINO (and timm).
BLOCK_PARAMETERS = ('norm1.weight', 'norm1.bias', 'attn.qkv.weight',
                    'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias',
                    'norm2.weight', 'norm2.bias', 'mlp.fc1.weight',
                    'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias')
#: LayerScale parameters of one DINOv2 block (DINOv2's and timm's names).
LAYER_SCALE_PARAMETERS = ('ls1.gamma', 'ls2.gamma')
#: LayerScale's initial value (DINOv2's ``layerscale`` and timm's DINOv2
#: ``init_values``); pretrained weights replace it.
LAYER_SCALE_INIT = 1e-5
#: Last-block parameters the keys are computed without.
PARAMETERS_AFTER_KEYS = ('attn.proj.', 'ls1.', 'norm2.', 'mlp.', 'ls2.')


@MODELS.register_module()
class VisionTransformer(KeyMappedBackbone):
    """DINO's or DINOv2's ViT returning the last block's patch tokens and/or
    keys.

    The official DINO / SMTC ``vision_transformer.py`` forward, built from
    timm's ``PatchEmbed`` and ``Block`` (pre-norm, qkv attention with bias,
    GELU MLP, LayerNorm eps 1e-6) under DINO's parameter names, so official
    checkpoints load through an identity key map. The DINOv2 archs add
    LayerScale to both residual branches (timm's ``Block(init_values=...)``,
    parameters ``blocks.{i}.ls1.gamma``, ``ls2.gamma``): DINOv2's and
    timm's ``vit_*_patch14_dinov2`` forward, whose checkpoints use the same
    names.

    Call graph of ``forward(images)``::

        images (N, 3, H, W)
          -> resize to (H // p * p, W // p * p) if needed (logged once)
          -> patch_embed -> (N, h * w, C); prepend cls_token
          -> + pos_embed resampled to (h, w)       (N, 1 + h * w, C)
          -> blocks[:-1]
          -> blocks[-1]:
               keys   = K rows of norm1(x) @ qkv          (always)
               tokens = full block (attention + MLP)      (only if asked)
               tokens = norm(tokens)                      (final_norm only)
          -> drop the cls entry, reshape to (N, C, h, w)

    Positional embedding: trained for a ``G x G`` grid
    (``G = pretrain_img_size // p``) and resampled to the input's ``h x w``
    as DINO does (``pos_embed_interpolation='dino'``: bicubic with DINO's
    ``+ 0.1`` scale factor; :func:`~.pos_embed.interpolate_pos_embed_dino`)
    or as timm does (``'timm'``: bicubic to exactly ``(h, w)`` with
    antialiasing, what timm's ``dynamic_img_size=True`` ViTs do, e.g.
    DINOSAUR's DINOv2 at 224; :func:`~.pos_embed.interpolate_pos_embed_timm`).
    Both leave the native grid unchanged.

    Non-multiple inputs: ``H`` or ``W`` not divisible by ``p`` is resized
    bilinearly (``align_corners=False``) down to the largest multiple, the
    label-propagation protocol's pre-processing and the SMTC README's fix
    (the patch embedding would otherwise drop the remainder pixels). A side
    shorter than ``p`` is an error.

    Speed: with ``out_types=('keys',)`` the last block computes only its
    key projection -- no attention, no ``proj``, no MLP. Those unused
    parameters (``blocks[-1].attn.proj``, ``norm2``, ``mlp`` and the
    LayerScales ``ls1``, ``ls2``) then have
    ``requires_grad=False`` so DDP needs no ``find_unused_parameters``.

    Freezing: ``frozen=True`` (or :meth:`freeze`) sets every parameter's
    ``requires_grad`` to False and runs the whole encoder under
    ``torch.no_grad()``, so no graph is built for it; :meth:`unfreeze` turns
    gradients back on. A model whose encoder is fixed only for its first
    training steps (SMTC's ``frozen_backbone_iters``, :class:`BaseVideoSSL`)
    keeps it unfrozen -- the optimiser constructor must see its parameters
    -- and runs those forwards under ``torch.set_grad_enabled(False)``
    instead, which builds no graph either (the official SMTC code
    back-propagates through the encoder while its learning rate is 0 and
    throws the gradient away). Freezing does not touch train/eval mode:
    stochastic depth (``drop_path_rate``) stays active in training mode, as
    in the official code (DINO's default ``drop_path_rate=0.1``; SMTC trains
    with it).

    Stochastic depth without the dropped work (``skip_dropped_paths``): in
    training mode a residual branch (attention or MLP) that timm's
    ``DropPath`` drops for a sample contributes ``0 * branch`` to it, so it
    is not computed for that sample; the kept samples' branches are
    computed on their own and added with timm's ``1 / keep_prob`` scale.
    The keep mask is timm's draw (``bernoulli_`` of the same shape, in the
    same order), so the output equals timm's ``Block`` for the same random
    state whenever the branch is finite. It runs on the CPU only: on other
    devices selecting the kept samples would read the mask back to the host
    (a synchronisation), so the blocks run as timm's there. The last
    block's drop paths (tokens output only) are applied as in timm.

    Args:
        arch (str | dict): ``'vit-s16'``, ``'vit-s8'``, ``'vit-b16'``,
            ``'vit-b8'`` (DINO), ``'dinov2-vit-s14'``, ``'dinov2-vit-b14'``
            (DINOv2) or a dict with ``patch_size``, ``embed_dim``,
            ``depth``, ``num_heads`` and optionally ``layer_scale`` (bool,
            default False: DINOv2's LayerScale) and ``pretrain_img_size``
            (default 224) for tiny test models.
        out_types (Sequence[str]): drawn from ``('tokens', 'keys')`` in that
            order; the outputs, in the same order. ``tokens`` are the last
            block's output patch tokens, ``keys`` its attention keys with all
            heads concatenated head after head (``C = embed_dim``), as in
            the official SMTC encoder.
        final_norm (bool): apply DINO's final LayerNorm to ``tokens``. SMTC
            (training and label propagation) uses the tokens without it, so
            the default is False and the norm is then not built (its
            checkpoint keys are ignored).
        frozen (bool): build frozen (see above).
        pretrain_img_size (int, optional): image size the positional
            embedding was trained at; its grid is
            ``pretrain_img_size // patch_size``. Defaults to the arch's
            (224 for DINO, 518 for DINOv2, a dict's own or 224).
        pos_embed_interpolation (str): how the positional embedding is
            resampled to other grids, ``'dino'`` (default) or ``'timm'``
            (see above).
        mlp_ratio (float): MLP hidden size / embed_dim.
        drop_path_rate (float): stochastic depth, rising linearly from 0 in
            the first block to this value in the last.
        skip_dropped_paths (bool): skip the residual branches stochastic
            depth drops (see above). Defaults to True; False computes them
            and multiplies them by 0, as the official code does.
        fast_cpu_linear (bool): send the blocks' float32 CPU matrix
            products through :func:`mmsmtc.ops.linear`, which runs them on
            oneDNN on non-Intel processors with AVX-512, where that was
            measured about 2x faster than the MKL of the PyTorch wheels
            (AMD EPYC Zen 5), and on PyTorch's default (MKL) elsewhere;
            ``MMSMTC_ONEDNN_LINEAR=0/1`` forces either
            (:mod:`mmsmtc.ops.cpu_gemm`). Same arithmetic up to summation
            order. Defaults to True; False always keeps PyTorch's default,
            as the official code.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint='dino_deitsmall16_pretrain.pth')``; loaded in
            ``init_weights()`` through :meth:`checkpoint_key_map`.
    """

    arch_zoo = {
        'vit-s16': dict(patch_size=16, embed_dim=384, depth=12, num_heads=6),
        'vit-s8': dict(patch_size=8, embed_dim=384, depth=12, num_heads=6),
        'vit-b16': dict(patch_size=16, embed_dim=768, depth=12, num_heads=12),
        'vit-b8': dict(patch_size=8, embed_dim=768, depth=12, num_heads=12),
        'dinov2-vit-s14': dict(patch_size=14, embed_dim=384, depth=12,
                               num_heads=6, layer_scale=True,
                               pretrain_img_size=518),
        'dinov2-vit-b14': dict(patch_size=14, embed_dim=768, depth=12,
                               num_heads=12, layer_scale=True,
                               pretrain_img_size=518),
    }
    #: Settings an arch may leave out, and their values then.
    ARCH_DEFAULTS = dict(layer_scale=False, pretrain_img_size=224)
    OUT_TYPES = ('tokens', 'keys')

    def __init__(self,
                 arch: Union[str, dict] = 'vit-s16',
                 out_types: Sequence[str] = ('tokens', ),
                 final_norm: bool = False,
                 frozen: bool = False,
                 pretrain_img_size: Optional[int] = None,
                 pos_embed_interpolation: str = 'dino',
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 skip_dropped_paths: bool = True,
                 fast_cpu_linear: bool = True,
                 init_cfg: Union[dict, None] = None):
        super().__init__(init_cfg=init_cfg)
        self.skip_dropped_paths = skip_dropped_paths
        settings = self._arch_settings(arch)
        self.out_types = self._check_out_types(out_types)
        self.final_norm = final_norm
        self.patch_size = settings['patch_size']
        self.embed_dim = settings['embed_dim']
        self.depth = settings['depth']
        self.layer_scale = settings['layer_scale']
        self.out_channels = tuple(self.embed_dim for _ in self.out_types)
        if pos_embed_interpolation not in POS_EMBED_INTERPOLATIONS:
            raise ValueError(
                f'pos_embed_interpolation must be one of '
                f'{sorted(POS_EMBED_INTERPOLATIONS)}, got '
                f'{pos_embed_interpolation!r}')
        self.pos_embed_interpolation = pos_embed_interpolation
        if pretrain_img_size is None:
            pretrain_img_size = settings['pretrain_img_size']
        grid = pretrain_img_size // self.patch_size
        norm_layer = partial(nn.LayerNorm, eps=1e-6)

        self.patch_embed = PatchEmbed(
            img_size=None,
            patch_size=self.patch_size,
            in_chans=3,
            embed_dim=self.embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, 1 + grid * grid, self.embed_dim))
        drop_path_rates = torch.linspace(0, drop_path_rate, self.depth)
        self.blocks = nn.ModuleList(
            Block(
                dim=self.embed_dim,
                num_heads=settings['num_heads'],
                mlp_ratio=mlp_ratio,
                qkv_bias=True,
                init_values=LAYER_SCALE_INIT if self.layer_scale else None,
                drop_path=float(rate),
                norm_layer=norm_layer) for rate in drop_path_rates)
        if final_norm:
            self.norm = norm_layer(self.embed_dim)
        if fast_cpu_linear:
            use_fast_cpu_linear(self.blocks)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self._resize_logged = False
        if frozen:
            self.freeze()
        else:
            self.unfreeze()

    @classmethod
    def _arch_settings(cls, arch: Union[str, dict]) -> dict:
        """Validated ``patch_size``/``embed_dim``/``depth``/``num_heads``,
        ``layer_scale`` and ``pretrain_img_size`` (:attr:`ARCH_DEFAULTS`
        unless given)."""
        if isinstance(arch, str):
            if arch not in cls.arch_zoo:
                raise ValueError(f'unknown ViT arch {arch!r}; choose one of '
                                 f'{sorted(cls.arch_zoo)} or give a dict')
            return dict(cls.ARCH_DEFAULTS, **cls.arch_zoo[arch])
        required = {'patch_size', 'embed_dim', 'depth', 'num_heads'}
        optional = set(cls.ARCH_DEFAULTS)
        if not isinstance(arch, dict) or not (required <= set(arch) <=
                                              required | optional):
            raise ValueError(f'a custom ViT arch must be a dict with exactly '
                             f'the keys {sorted(required)} and optionally '
                             f'{sorted(optional)}, got {arch!r}')
        if arch['embed_dim'] % arch['num_heads']:
            raise ValueError(f'embed_dim {arch["embed_dim"]} is not divisible'
                             f' by num_heads {arch["num_heads"]}')
        settings = dict(cls.ARCH_DEFAULTS, **arch)
        if not isinstance(settings['layer_scale'], bool):
            raise ValueError(f'layer_scale of a custom ViT arch must be True '
                             f'or False, got {settings["layer_scale"]!r}')
        return settings

    @classmethod
    def _check_out_types(cls, out_types: Sequence[str]) -> Tuple[str, ...]:
        out_types = tuple(out_types)
        allowed_orders = [(name, ) for name in cls.OUT_TYPES] + [cls.OUT_TYPES]
        if out_types not in allowed_orders:
            raise ValueError(f'out_types must be one of {allowed_orders}, got '
                             f'{out_types!r}')
        return out_types

    def init_random_weights(self) -> None:
        """DINO's random init, run by ``init_weights()`` without a
        checkpoint: truncated normal (std 0.02) for the cls token, the
        positional embedding and Linear weights, zero biases, unit
        LayerNorms, LayerScales at ``1e-5`` (DINOv2's); the patch
        convolution keeps PyTorch's default.
        Construction only draws the cls token and positional embedding
        (the Linear init costs seconds for ViT-B and is wasted when a
        checkpoint is loaded)."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, LayerScale):
                nn.init.constant_(module.gamma, LAYER_SCALE_INIT)

    @property
    def keys_only(self) -> bool:
        """Whether the last block can stop after its key projection."""
        return self.out_types == ('keys', )

    def freeze(self) -> None:
        """No gradients and no autograd graph for the whole encoder."""
        self.frozen = True
        for parameter in self.parameters():
            parameter.requires_grad_(False)

    def unfreeze(self) -> None:
        """Gradients for every parameter that the outputs depend on."""
        self.frozen = False
        last_block = f'blocks.{self.depth - 1}.'
        for name, parameter in self.named_parameters():
            unused = self.keys_only and name.startswith(
                tuple(last_block + part for part in PARAMETERS_AFTER_KEYS))
            parameter.requires_grad_(not unused)

    def checkpoint_key_map(self) -> KeyMap:
        """DINO / DINOv2 / timm checkpoint key -> module key.

        DINO's keys (``cls_token``, ``pos_embed``, ``patch_embed.proj.*``,
        ``blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*``,
        ``norm.*``, plus ``blocks.{i}.{ls1,ls2}.gamma`` for DINOv2) are
        this module's keys, and timm's state dicts of these models use the
        same names. ``head.*`` (DINO's projection head, timm's classifier)
        is ignored, as is ``norm.*`` when ``final_norm`` is False and, for
        the LayerScale (DINOv2) archs, DINOv2's ``mask_token`` (its
        masked-image-modelling token, unused by the forward).
        """
        mapping = {
            name: name
            for name in ('cls_token', 'pos_embed', 'patch_embed.proj.weight',
                         'patch_embed.proj.bias')
        }
        block_parameters = BLOCK_PARAMETERS + (
            LAYER_SCALE_PARAMETERS if self.layer_scale else ())
        for index in range(self.depth):
            for parameter in block_parameters:
                name = f'blocks.{index}.{parameter}'
                mapping[name] = name
        ignored = ('head.', )
        if self.layer_scale:
            ignored += ('mask_token', )
        if self.final_norm:
            mapping.update({'norm.weight': 'norm.weight',
                            'norm.bias': 'norm.bias'})
        else:
            ignored += ('norm.', )
        return KeyMap(mapping, ignored)

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Encode a batch.

        Args:
            images: ``(N, 3, H, W)`` normalised float images.

        Returns:
            tuple[Tensor]: one ``(N, C, H // p, W // p)`` map per entry of
            ``out_types`` (``H, W`` after the patch-multiple resize).
        """
        check_image_batch(images, type(self).__name__)
        images = self._resize_to_patch_multiple(images)
        autograd = torch.no_grad() if self.frozen else contextlib.nullcontext()
        with autograd:
            outputs = self._encode(images)
        grid = (images.shape[-2] // self.patch_size,
                images.shape[-1] // self.patch_size)
        return tuple(
            self._patch_map(outputs[name], grid) for name in self.out_types)

    def _resize_to_patch_multiple(self, images: torch.Tensor) -> torch.Tensor:
        resized = resize_to_multiple(images, self.patch_size,
                                     f'{type(self).__name__} input images')
        if resized is not images and not self._resize_logged:
            print_log(
                f'{type(self).__name__}: input size '
                f'{tuple(images.shape[-2:])} is not a multiple of the patch '
                f'size {self.patch_size}; resizing bilinearly to '
                f'{tuple(resized.shape[-2:])} (logged once)',
                logger='current',
                level=logging.WARNING)
            self._resize_logged = True
        return resized

    def _encode(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Token sequences ``(N, 1 + h * w, C)`` keyed by output type."""
        num_images = images.shape[0]
        grid_height = images.shape[-2] // self.patch_size
        grid_width = images.shape[-1] // self.patch_size
        tokens = self.patch_embed(images)
        tokens = torch.cat(
            (self.cls_token.expand(num_images, -1, -1), tokens), dim=1)
        interpolate = POS_EMBED_INTERPOLATIONS[self.pos_embed_interpolation]
        tokens = tokens + interpolate(self.pos_embed, grid_height, grid_width)
        skip_dropped = (self.skip_dropped_paths and self.training
                        and tokens.device.type == 'cpu')
        for block in self.blocks[:-1]:
            tokens = _block_skipping_dropped_paths(
                block, tokens) if skip_dropped else block(tokens)
        last_block = self.blocks[-1]
        normed = last_block.norm1(tokens)
        if self.keys_only:
            return {'keys': self._key_projection(last_block.attn, normed)}
        attended, keys = self._attention_with_keys(last_block.attn, normed)
        tokens = tokens + last_block.drop_path1(last_block.ls1(attended))
        tokens = tokens + last_block.drop_path2(
            last_block.ls2(last_block.mlp(last_block.norm2(tokens))))
        if self.final_norm:
            tokens = self.norm(tokens)
        return {'tokens': tokens, 'keys': keys}

    def _key_projection(self, attention: Attention,
                        normed: torch.Tensor) -> torch.Tensor:
        """Only the K rows of the qkv projection: ``(N, L, C)``."""
        dim = self.embed_dim
        weight = attention.qkv.weight[dim:2 * dim]
        bias = attention.qkv.bias[dim:2 * dim]
        if isinstance(attention.qkv, Linear):
            return linear(normed, weight, bias)
        return F.linear(normed, weight, bias)

    def _attention_with_keys(
            self, attention: Attention,
            normed: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """timm's attention forward that also returns the keys.

        Args:
            attention: the last block's ``attn``.
            normed: ``(N, L, C)`` output of the block's ``norm1``.

        Returns:
            ``(attention output (N, L, C), keys (N, L, C))``; the keys are the
            qkv projection's K rows, i.e. the heads concatenated in order.
        """
        num_images, length, dim = normed.shape
        qkv = attention.qkv(normed)
        heads = qkv.reshape(num_images, length, 3, attention.num_heads,
                            attention.head_dim).permute(2, 0, 3, 1, 4)
        query, key, value = heads.unbind(0)
        attended = F.scaled_dot_product_attention(query, key, value)
        attended = attended.transpose(1, 2).reshape(num_images, length, dim)
        attended = attention.proj_drop(attention.proj(attended))
        return attended, qkv[..., dim:2 * dim]

    def _patch_map(self, sequence: torch.Tensor,
                   grid: Tuple[int, int]) -> torch.Tensor:
        """``(N, 1 + h * w, C)`` -> ``(N, C, h, w)``, cls entry dropped."""
        num_images, _, dim = sequence.shape
        return sequence[:, 1:].transpose(1, 2).reshape(num_images, dim, *grid)


def _block_skipping_dropped_paths(block: Block,
                                  tokens: torch.Tensor) -> torch.Tensor:
    """timm's ``Block.forward`` on ``(N, L, C)`` tokens, training mode,
    computing each residual branch only for the samples its drop path
    keeps."""
    tokens = _residual_of_kept_samples(
        tokens, lambda x: block.ls1(block.attn(block.norm1(x))),
        block.drop_path1)
    return _residual_of_kept_samples(
        tokens, lambda x: block.ls2(block.mlp(block.norm2(x))),
        block.drop_path2)


def _residual_of_kept_samples(
        tokens: torch.Tensor, branch: Callable[[torch.Tensor], torch.Tensor],
        drop_path: nn.Module) -> torch.Tensor:
    """``tokens + drop_path(branch(tokens))`` without the dropped samples.

    Args:
        tokens: ``(N, L, C)`` block input.
        branch: the residual branch, per sample (``(n, L, C)`` in and out).
        drop_path: the block's ``DropPath`` (or ``Identity`` when its rate
            is 0).

    Returns:
        Tensor: ``(N, L, C)``; the same as timm's ``x + drop_path(branch(x))``
        with the same random state: the keep mask is timm's draw.
    """
    if (not isinstance(drop_path, DropPath) or not drop_path.training
            or drop_path.drop_prob == 0):
        return tokens + drop_path(branch(tokens))
    keep_prob = 1 - drop_path.drop_prob
    scale = tokens.new_empty((tokens.shape[0], 1, 1)).bernoulli_(keep_prob)
    if keep_prob > 0.0 and drop_path.scale_by_keep:
        scale.div_(keep_prob)
    kept = scale.flatten().nonzero().flatten()
    if kept.numel() in (0, tokens.shape[0]):
        # all kept, or none: then the branch's parameters must still get a
        # (zero) gradient, as in timm, for the optimizer's weight decay
        return tokens + branch(tokens) * scale
    return tokens.index_add(0, kept, branch(tokens[kept]) * scale[kept])
