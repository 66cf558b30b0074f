"""Save the model as initialised, before the first training step."""
from mmengine.hooks import Hook

from mmsmtc.registry import HOOKS


@HOOKS.register_module()
class InitialCheckpointHook(Hook):
    """Write the weights a run starts from as ``iter_0.pth``.

    MMEngine's ``CheckpointHook`` saves after training iterations only, so a
    run leaves no trace of its initial weights (random initialisation plus
    whatever ``init_cfg`` loaded). Comparing a trained model with *the same
    model untrained* (``tools/quickstart.py``) needs exactly those weights:
    building the config again draws other random numbers. The checkpoint
    holds the model state only (no optimizer or scheduler state) and is
    written to the work directory when a run starts at iteration 0; a
    resumed run writes nothing.

    Args:
        filename (str): Checkpoint name in the work directory.
    """

    priority = 'LOW'

    def __init__(self, filename: str = 'iter_0.pth') -> None:
        self.filename = filename

    def before_train(self, runner) -> None:
        if runner.iter != 0:
            return
        runner.save_checkpoint(runner.work_dir, self.filename,
                               meta=dict(epoch=0, iter=0),
                               save_optimizer=False,
                               save_param_scheduler=False)
