from .base import BaseVideoSSL
from .clip_photometric_augment import ClipPhotometricAugment
from .smtc import SMTC

__all__ = ['BaseVideoSSL', 'ClipPhotometricAugment', 'SMTC']
