"""The dense label-propagation algorithm: the baseline and test reference.

A direct transcription of the protocol ("Core" of ``label_propagation.md``,
as the official ``mem_efficient_batched_affinity``): every source cell of
every source frame is scored against every target cell, the radius mask is
added as ``0 / -1e10``, the logits are divided by the temperature, and
``torch.topk`` runs over all sources together. Only target cells are
chunked, so memory grows as ``(1 + n_context) * h * w * chunk_size``.

Among exactly equal logits ``torch.topk`` picks by its selection algorithm
(a heap on CPU when ``64 * k <= n``, introselect otherwise, radix select on
CUDA), so real frames with flat regions can give a result that no other
implementation reproduces. ``tie_break='first'`` replaces it with a stable
sort that keeps the first source in protocol order, the rule mmsmtc fixes.
It shares no code with the memory-bounded implementation on purpose; use
:func:`mmsmtc.apis.propagate_labels` for real work.

The Spa-then-Temp / VFS options follow that tracker's
``masked_attention_efficient``: ``window='square'`` keeps sources with
``max(|dy|, |dx|) <= radius`` and fills the others with ``-inf``;
``restrict_first_frame`` masks frame 0 too; ``context='recent'`` takes
frame 0 then the real frames ``max(0, t - n_context) .. t - 1``.
"""
import torch
import torch.nn.functional as F


def dense_radius_mask(grid_height: int, grid_width: int, targets: slice,
                      radius: float) -> torch.Tensor:
    """Additive mask ``(h * w, n)``: 0 inside ``radius``, -1e10 outside."""
    rows, cols = torch.meshgrid(
        torch.arange(grid_height), torch.arange(grid_width), indexing='ij')
    rows, cols = rows.reshape(-1), cols.reshape(-1)
    distance = ((rows[:, None] - rows[None, targets])**2 +
                (cols[:, None] - cols[None, targets])**2).float()**0.5
    mask = (distance < radius).float()
    mask[mask == 0] = -1e10
    mask[mask == 1] = 0
    return mask


def dense_square_mask(grid_height: int, grid_width: int, targets: slice,
                      radius: float) -> torch.Tensor:
    """``(h * w, n)`` bool: True where ``max(|dy|, |dx|) <= radius``."""
    rows, cols = torch.meshgrid(
        torch.arange(grid_height), torch.arange(grid_width), indexing='ij')
    rows, cols = rows.reshape(-1), cols.reshape(-1)
    return torch.maximum((rows[:, None] - rows[None, targets]).abs(),
                         (cols[:, None] - cols[None, targets]).abs()) <= radius


def dense_source_frames(target: int, n_context: int,
                        context: str) -> list:
    """Source frames of ``target`` in protocol order, frame 0 first."""
    if context == 'recent':
        return [0] + list(range(max(0, target - n_context), target))
    return [0] + [max(0, target - n_context + i) for i in range(n_context)]


def propagate_labels_dense(feats: torch.Tensor,
                           first_labels: torch.Tensor,
                           *,
                           topk: int,
                           radius: float,
                           temperature: float,
                           n_context: int,
                           window: str = 'disc',
                           restrict_first_frame: bool = False,
                           context: str = 'pad',
                           chunk_size: int = 100,
                           tie_break: str = 'topk',
                           dtype: torch.dtype = torch.float32
                           ) -> torch.Tensor:
    """Dense label propagation (no input validation, on feats' device).

    Args:
        feats: ``(T, C, h, w)`` features, not normalised.
        first_labels: ``(K, h, w)`` frame-0 labels.
        topk, radius, temperature, n_context: The protocol settings.
        window, restrict_first_frame, context: As
            :func:`mmsmtc.apis.propagate_labels`.
        chunk_size: Target cells scored per affinity block.
        tie_break: ``'topk'`` (``torch.topk``, as the official code) or
            ``'first'`` (stable sort: ties to the first source).
        dtype: Floating type of the computation. In float32 the logits of
            nearly identical features (flat image regions) differ in the
            last bits between matrix-product shapes, so even this function
            changes its output with ``chunk_size`` at such near-tied cells;
            float64 makes exact comparisons possible.

    Returns:
        torch.Tensor: ``(T, K, h, w)`` soft labels, ``[0] = first_labels``.
    """
    if tie_break not in ('topk', 'first'):
        raise ValueError(
            f"tie_break must be 'topk' or 'first', got {tie_break!r}")
    num_frames, _, height, width = feats.shape
    num_cells = height * width
    flat = F.normalize(feats.to(dtype), dim=1).flatten(2)
    labels = [first_labels.to(dtype).flatten(1)]
    for target in range(1, num_frames):
        sources = dense_source_frames(target, n_context, context)
        masked = slice(0 if restrict_first_frame else 1, None)
        keys = flat[sources]
        source_labels = torch.stack([labels[s] for s in sources], 1)
        source_labels = source_labels.flatten(1)
        prediction = torch.empty_like(labels[0])
        for start in range(0, num_cells, chunk_size):
            chunk = slice(start, min(start + chunk_size, num_cells))
            affinity = torch.einsum('scm,cn->smn', keys, flat[target][:,
                                                                      chunk])
            if window == 'square':
                affinity /= temperature
                outside = ~dense_square_mask(height, width, chunk, radius)
                affinity[masked].masked_fill_(outside, float('-inf'))
            else:
                affinity[masked] += dense_radius_mask(height, width, chunk,
                                                      radius).to(affinity)
                affinity /= temperature
            affinity = affinity.reshape(-1, affinity.shape[-1])
            if tie_break == 'first':
                weights, indices = affinity.sort(
                    dim=0, descending=True, stable=True)
                weights, indices = weights[:topk], indices[:topk]
            else:
                weights, indices = torch.topk(affinity, topk, dim=0)
            weights = F.softmax(weights, dim=0)
            prediction[:, chunk] = (source_labels[:, indices] *
                                    weights[None]).sum(1)
        labels.append(prediction)
    return torch.stack(labels).view(num_frames, -1, height, width)
