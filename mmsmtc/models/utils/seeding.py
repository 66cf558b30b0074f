"""Test-time randomness drawn per video, independent of order and device.

A model that draws random numbers at test time (SMTC's instance-slot noise,
the slot initialisation of VideoSAUR-like models) gets them from a
generator seeded by ``(seed, video name)``: each video's numbers are the
same whatever the order of the videos, the number of test processes or the
device. The generator lives on the CPU (CPU and CUDA generators give
different streams for one seed); the numbers are moved to the model's
device.
"""
import hashlib

import torch

#: Seeds are kept below 2**63 (``torch.Generator.manual_seed`` takes int64).
_SEED_BITS = 63


def video_seed(seed: int, video_name: str) -> int:
    """A 63-bit seed derived from ``seed`` and the video's name (SHA-256,
    so it is the same in every process, unlike Python's ``hash``)."""
    digest = hashlib.sha256(f'{int(seed)}:{video_name}'.encode()).digest()
    return int.from_bytes(digest[:8], 'little') >> (64 - _SEED_BITS)


def video_generator(seed: int, video_name: str) -> torch.Generator:
    """A CPU generator seeded by :func:`video_seed`."""
    return torch.Generator(device='cpu').manual_seed(
        video_seed(seed, video_name))


def randn_like_device(shape, generator: torch.Generator,
                      like: torch.Tensor) -> torch.Tensor:
    """Standard normal numbers drawn on ``generator``'s device (the CPU),
    returned with ``like``'s dtype and device."""
    noise = torch.randn(shape, generator=generator,
                        device=generator.device)
    return noise.to(device=like.device, dtype=like.dtype)
