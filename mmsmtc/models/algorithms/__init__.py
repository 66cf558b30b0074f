from .base import BaseVideoSSL
from .clip_photometric_augment import ClipPhotometricAugment
from .smtc import SMTC
from .videosaur import DINOSAUR, VideoSAUR

__all__ = [
    'BaseVideoSSL', 'ClipPhotometricAugment', 'DINOSAUR', 'SMTC', 'VideoSAUR'
]
