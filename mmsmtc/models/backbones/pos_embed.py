"""Resampling a ViT's learned positional embedding to a new patch grid, as
DINO does (:func:`interpolate_pos_embed_dino`) and as timm does
(:func:`interpolate_pos_embed_timm`), each reproduced number for number.

Both take a ``(1, 1 + G * G, C)`` embedding (class entry first, square
``G x G`` grid in raster order) and return ``(1, 1 + h * w, C)``;
:data:`POS_EMBED_INTERPOLATIONS` names them for the backbones' configs.
"""
import math

import torch
import torch.nn.functional as F


def _square_grid_side(pos_embed: torch.Tensor) -> int:
    """``G`` of a ``(1, 1 + G * G, C)`` embedding; refuses other lengths."""
    num_patches = pos_embed.shape[1] - 1
    side = int(math.sqrt(num_patches))
    if side * side != num_patches:
        raise ValueError(f'pos_embed has {num_patches} patch entries, not a '
                         'square grid')
    return side


def interpolate_pos_embed_dino(pos_embed: torch.Tensor, grid_height: int,
                               grid_width: int) -> torch.Tensor:
    """Resample a ViT's learned positional embedding to a new patch grid.

    Exactly DINO's ``VisionTransformer.interpolate_pos_encoding`` (also
    used by SMTC): the class entry is kept, the square ``G x G`` patch grid
    (``G = sqrt(L - 1)``, 14 for a ViT-/16 trained at 224) is resized
    bicubically (``align_corners=False``) with
    ``scale_factor=((h + 0.1) / sqrt(L - 1), (w + 0.1) / sqrt(L - 1))``.
    The ``+ 0.1`` keeps ``floor(G * scale)`` from rounding down to ``h - 1``;
    because the scale factor (not the output size) is given, PyTorch samples
    the source at ``(i + 0.5) / scale - 0.5``, so the values differ slightly
    from a plain ``size=(h, w)`` resize -- and match DINO's. When the grid
    is already ``G x G`` the embedding is returned unchanged (DINO's
    ``npatch == N and w == h`` shortcut for images that are multiples of
    the patch size).

    Args:
        pos_embed: ``(1, 1 + G * G, C)``, class entry first.
        grid_height: ``h``, patch rows of the input.
        grid_width: ``w``, patch columns of the input.

    Returns:
        ``(1, 1 + h * w, C)``, rows in raster order.
    """
    side = _square_grid_side(pos_embed)
    num_patches = side * side
    if grid_height == grid_width == side:
        return pos_embed
    dim = pos_embed.shape[-1]
    class_entry = pos_embed[:, :1]
    patch_grid = pos_embed[:, 1:].reshape(1, side, side, dim).permute(
        0, 3, 1, 2)
    patch_grid = F.interpolate(
        patch_grid,
        scale_factor=((grid_height + 0.1) / math.sqrt(num_patches),
                      (grid_width + 0.1) / math.sqrt(num_patches)),
        mode='bicubic',
        align_corners=False)
    patch_grid = patch_grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((class_entry, patch_grid), dim=1)


def interpolate_pos_embed_timm(pos_embed: torch.Tensor, grid_height: int,
                               grid_width: int) -> torch.Tensor:
    """Resample a ViT's learned positional embedding the way timm does.

    The semantics of timm's ``resample_abs_pos_embed`` for a ViT with one
    class token (what a timm ViT built with ``dynamic_img_size=True`` adds
    to its tokens, e.g. DINOSAUR's DINOv2 ViT-B/14 trained at 518 and run
    at 224: 37 x 37 -> 16 x 16): the class entry is kept and the square
    ``G x G`` patch grid is resized to exactly ``size=(h, w)``, bicubic,
    ``antialias=True`` (a low-pass filter when shrinking),
    ``align_corners=False``, computed in float32 and cast back to the
    embedding's dtype. The native ``G x G`` grid is returned unchanged
    (timm's shortcut; a same-size bicubic resize is the identity anyway,
    so VideoSAUR's copy of the function without the shortcut gives the
    same numbers).

    Args:
        pos_embed: ``(1, 1 + G * G, C)``, class entry first.
        grid_height: ``h``, patch rows of the input.
        grid_width: ``w``, patch columns of the input.

    Returns:
        ``(1, 1 + h * w, C)``, rows in raster order, ``pos_embed``'s dtype.
    """
    side = _square_grid_side(pos_embed)
    if grid_height == grid_width == side:
        return pos_embed
    dim = pos_embed.shape[-1]
    class_entry = pos_embed[:, :1]
    patch_grid = pos_embed[:, 1:].float().reshape(1, side, side,
                                                  dim).permute(0, 3, 1, 2)
    patch_grid = F.interpolate(
        patch_grid,
        size=(grid_height, grid_width),
        mode='bicubic',
        align_corners=False,
        antialias=True)
    patch_grid = patch_grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((class_entry, patch_grid.to(pos_embed.dtype)), dim=1)


#: ``pos_embed_interpolation`` option -> resampling function.
POS_EMBED_INTERPOLATIONS = {
    'dino': interpolate_pos_embed_dino,
    'timm': interpolate_pos_embed_timm,
}
