from .checkpoint import (CHECKPOINT_SAFE_GLOBALS, install_safe_checkpointing,
                         load_local_checkpoint)
from .hooks import *  # noqa: F401,F403
from .rng_state import capture_rng_state, restore_rng_state
from .runner import *  # noqa: F401,F403

install_safe_checkpointing()

__all__ = [
    'CHECKPOINT_SAFE_GLOBALS', 'capture_rng_state', 'install_safe_checkpointing',
    'load_local_checkpoint', 'restore_rng_state'
]
