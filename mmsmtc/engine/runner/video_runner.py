"""MMEngine's runner with weights-only checkpoints that must fit the model."""
from typing import Callable, Union

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)

from mmsmtc.models.utils import load_strict
from mmsmtc.registry import RUNNERS
from mmsmtc.utils.checkpoint import model_state_dict
from ..checkpoint import install_safe_checkpointing


@RUNNERS.register_module()
class VideoRunner(Runner):
    """``Runner`` whose checkpoints are weights-only and must fit.

    - Building one installs :func:`install_safe_checkpointing`: MMEngine then
      saves checkpoints that load weights-only and loads local files with
      mmsmtc's allow-list (``--resume`` works on torch >= 2.6 without
      unpickling arbitrary objects).
    - ``load_from`` / ``--resume``: MMEngine loads with ``strict=False`` and
      only logs missing or differently shaped weights, so a checkpoint of
      another architecture would silently train from scratch. Here every
      tensor of the model must be in the file with its shape, else a
      ``CheckpointError`` names the file and the first mismatching tensors;
      extra entries are logged. The file is read once.
    """

    def __init__(self, *args, **kwargs) -> None:
        install_safe_checkpointing()
        super().__init__(*args, **kwargs)

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        """Load ``filename`` into the model after checking that it fits.

        Arguments as MMEngine's; ``strict`` only adds the refusal of
        unexpected keys to the fit check.
        """
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        load_strict(model, model_state_dict(checkpoint), filename,
                    f'model ({type(model).__name__})')
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
