from .base import BaseVideoSSL
from .bba import BetrayedByAttention
from .clip_photometric_augment import ClipPhotometricAugment
from .smtc import SMTC
from .videosaur import DINOSAUR, VideoSAUR

__all__ = [
    'BaseVideoSSL', 'BetrayedByAttention', 'ClipPhotometricAugment',
    'DINOSAUR', 'SMTC', 'VideoSAUR'
]
