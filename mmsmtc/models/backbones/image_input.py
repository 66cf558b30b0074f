"""Input checks shared by backbones."""
import torch


def check_image_batch(images: torch.Tensor, owner: str) -> None:
    """Fail loudly unless ``images`` is a float ``(N, 3, H, W)`` batch."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f'{owner} expects a tensor, got '
                        f'{type(images).__name__}')
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f'{owner} expects images of shape (N, 3, H, W), got '
                         f'{tuple(images.shape)}')
    if not images.is_floating_point():
        raise TypeError(f'{owner} expects normalised float images, got '
                        f'{images.dtype}')
