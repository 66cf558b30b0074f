"""``propagate_labels``: the protocol's core on a whole feature tensor."""
import torch

from .streaming import DeviceLike, StreamingLabelPropagation
from .validation import check_frame_features


def propagate_labels(feats: torch.Tensor,
                     first_labels: torch.Tensor,
                     *,
                     topk: int,
                     radius: float,
                     temperature: float,
                     n_context: int,
                     window: str = 'disc',
                     restrict_first_frame: bool = False,
                     context: str = 'pad',
                     tile_size: int = 8,
                     bank_device: DeviceLike = None,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Propagate frame 0's labels through a video (CRW / SMTC protocol).

    Exactly the "Core" of ``label_propagation.md``: L2-normalised features,
    sources frame 0 then the ``n_context`` preceding frames (padded with
    frame 0), radius mask on the short-term sources only, logits divided by
    ``temperature``, top-k over all sources together, softmax, weighted sum
    of the sources' soft labels. Among exactly equal logits the source that
    comes first in that order wins (see :mod:`.topk`). Memory is bounded by
    :class:`StreamingLabelPropagation`; the result does not depend on
    ``tile_size`` or ``bank_device``.

    The defaults are CRW's protocol; ``window='square'``,
    ``restrict_first_frame=True`` and ``context='recent'`` together are the
    Spa-then-Temp / VFS tracker (``VanillaTracker`` with
    ``neighbor_range = 2 * radius``, ``precede_frames = n_context``).

    Args:
        feats: ``(T, C, h, w)`` per-frame features on the label grid, not
            normalised, on any device (all scoring happens there).
        first_labels: ``(K, h, w)`` frame-0 labels (soft or one-hot).
        topk: Number of source cells kept per target cell.
        radius: Window size in grid cells (see ``window``).
        temperature: Logits are cosine similarities divided by this.
        n_context: Number of short-term source frames.
        window: ``'disc'``: short-term sources need a Euclidean grid
            distance ``< radius``; ``'square'``: ``max(|dy|, |dx|) <=
            radius`` grid cells.
        restrict_first_frame: Apply the window to frame 0 (the long-term
            source) too.
        context: ``'pad'``: the ``n_context`` frames before ``t``, padded
            with frame 0; ``'recent'``: the up-to-``n_context`` real frames
            before ``t`` (frame 0 counted again when it is among them; no
            padding).
        tile_size: Side of the square tiles of target cells scored together.
        bank_device: Where past frames are kept (e.g. ``'cpu'``).
        dtype: Floating type of the computation (float32 by default).

    Returns:
        torch.Tensor: ``(T, K, h, w)`` soft labels; ``[0]`` holds
        ``first_labels`` (cast to ``dtype``).

    Raises:
        ValueError: On a bad setting (``topk < 1``, ...), ``T < 1``, a
            labels/features grid mismatch, NaN inputs or unlabelled frame 0.
    """
    check_frame_features(feats, 'feats', ndim=4)
    engine = StreamingLabelPropagation(
        feats[0],
        first_labels,
        topk=topk,
        radius=radius,
        temperature=temperature,
        n_context=n_context,
        window=window,
        restrict_first_frame=restrict_first_frame,
        context=context,
        tile_size=tile_size,
        bank_device=bank_device,
        dtype=dtype)
    outputs = torch.empty(
        feats.shape[0],
        *first_labels.shape,
        dtype=dtype,
        device=feats.device)
    outputs[0] = first_labels
    for frame in range(1, feats.shape[0]):
        outputs[frame] = engine.step(feats[frame])
    return outputs
