"""Save random generator states in checkpoints and restore them on resume."""
import random
from typing import Optional

import numpy as np
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

    Data-side randomness (clip sampling, transforms) draws from numpy's and
    Python's global generators. With data-loader workers those live in the
    worker processes, seeded by MMEngine, and the replay of the skipped
    batches reproduces them; the main process's numpy and Python states are
    then restored with torch's. With ``num_workers=0`` the data is drawn in
    the main process and the batch of the first resumed iteration is fetched
    before this hook runs, so restoring numpy and Python there would rewind
    the data stream by one batch: they are left as the replay made them,
    which is exact as long as the model itself draws only from torch.
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
        if self._pending_state is None:
            return
        state = self._pending_state
        if runner.train_dataloader.num_workers == 0:
            state = dict(state, python=random.getstate(),
                         numpy=np.random.get_state())
        restore_rng_state(state)
        self._pending_state = None
