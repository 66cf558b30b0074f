from .base import BaseVideoSSL
from .clip_photometric_augment import ClipPhotometricAugment
from .moco import MoCo
from .smtc import SMTC
from .spa_then_temp import SpaThenTemp

__all__ = [
    'BaseVideoSSL', 'ClipPhotometricAugment', 'MoCo', 'SMTC', 'SpaThenTemp'
]
