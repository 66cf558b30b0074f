from .checkpoint import install_safe_checkpointing, load_local_checkpoint
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .rng_state import capture_rng_state, restore_rng_state
from .runner import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403

__all__ = [
    'capture_rng_state', 'install_safe_checkpointing',
    'load_local_checkpoint', 'restore_rng_state'
]
