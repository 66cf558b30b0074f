from .base import BaseVideoSSL
from .bba import BetrayedByAttention
from .clip_photometric_augment import ClipPhotometricAugment
from .moco import MoCo
from .smtc import SMTC
from .spa_then_temp import SpaThenTemp
from .videosaur import DINOSAUR, VideoSAUR

__all__ = [
    'BaseVideoSSL', 'BetrayedByAttention', 'ClipPhotometricAugment',
    'DINOSAUR', 'MoCo', 'SMTC', 'SpaThenTemp', 'VideoSAUR'
]
