"""Base class of backbones that load foreign checkpoints through a key map."""
from typing import Optional

from mmengine.model import BaseModule

from .checkpoint_key_map import KeyMap, load_mapped_checkpoint


class KeyMappedBackbone(BaseModule):
    """A ``BaseModule`` whose ``Pretrained`` init goes through a key map.

    Building never touches a checkpoint. ``init_weights()`` with
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH, which='teacher')``
    loads ``PATH`` with
    :func:`~mmsmtc.models.backbones.checkpoint_key_map.load_mapped_checkpoint`
    and the subclass's :meth:`checkpoint_key_map` (``which`` picks the
    network of a DINO training checkpoint; default ``'teacher'``;
    ``strict=True`` turns missing or unexpected keys from warnings into a
    :class:`~mmsmtc.utils.checkpoint.CheckpointError`). Without
    it, :meth:`init_random_weights` runs first and then any other
    ``init_cfg`` follows MMEngine's usual rules.
    """

    def checkpoint_key_map(self) -> KeyMap:
        """Source key -> module key for this configuration."""
        raise NotImplementedError

    def init_random_weights(self) -> None:
        """The architecture's own random init (default: what construction
        already did)."""

    def init_weights(self) -> None:
        pretrained = self._pretrained_cfg()
        if pretrained is None:
            self.init_random_weights()
            super().init_weights()
            return
        load_mapped_checkpoint(
            self,
            pretrained['checkpoint'],
            self.checkpoint_key_map(),
            which=pretrained.get('which', 'teacher'),
            strict=pretrained.get('strict', False))
        self._is_init = True

    def _pretrained_cfg(self) -> Optional[dict]:
        """The ``Pretrained`` init config, or None when there is none."""
        init_cfg = self.init_cfg
        if isinstance(init_cfg, dict):
            if init_cfg.get('type') != 'Pretrained':
                return None
            if 'checkpoint' not in init_cfg:
                raise ValueError(f'{type(self).__name__}: Pretrained '
                                 'init_cfg needs a "checkpoint" path')
            return init_cfg
        if isinstance(init_cfg, (list, tuple)) and any(
                cfg.get('type') == 'Pretrained' for cfg in init_cfg):
            raise ValueError(f'{type(self).__name__}: give the Pretrained '
                             'init_cfg as a single dict, not in a list')
        return None
