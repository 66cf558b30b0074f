from .base import BaseVideoSSL
from .bba import BetrayedByAttention
from .clip_photometric_augment import ClipPhotometricAugment
from .smtc import SMTC

__all__ = [
    'BaseVideoSSL', 'BetrayedByAttention', 'ClipPhotometricAugment', 'SMTC'
]
