"""Save random generator states in checkpoints and restore them on resume."""
from typing import Optional

from mmengine.hooks import Hook

from mmsmtc.engine.rng_state import capture_rng_state, restore_rng_state
from mmsmtc.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed run draw the same random numbers as an uninterrupted one.

    MMEngine restores weights, optimizer, schedulers and the iteration on
    resume and re-seeds the generators, then replays the data loader up to the
    resumed iteration. Model-side randomness (SMTC's instance-slot noise,
    dropout) would then differ from the uninterrupted run. This hook stores the
    generator states with every checkpoint and restores them right before the
    first resumed iteration, after the data loader has been replayed.

    Data-side randomness must not depend on the main process's global
    generators for the replay to be exact (mmsmtc's transforms draw from
    their own seeded generators; data-loader workers are seeded by MMEngine).
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending_state: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = capture_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending_state = checkpoint.get('rng_state')
        if self._pending_state is None:
            runner.logger.warning(
                'The checkpoint has no generator states (not written by '
                'mmsmtc); the resumed run draws different random numbers.')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if self._pending_state is not None:
            restore_rng_state(self._pending_state)
            self._pending_state = None
