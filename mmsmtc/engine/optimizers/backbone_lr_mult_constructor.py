"""Parameter groups with a backbone learning-rate factor and no weight decay
on 1-D parameters (the official SMTC ``get_params_groups``), as an MMEngine
optimiser-wrapper constructor."""
from typing import Dict, List, Sequence

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from torch import nn

from mmsmtc.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                             OPTIMIZERS)


def backbone_lr_mult_param_groups(
    model: nn.Module,
    lr: float,
    backbone_lr_mult: float = 0.01,
    backbone_prefixes: Sequence[str] = ('backbone.', )
) -> List[Dict]:
    """The four parameter groups of the official SMTC ``get_params_groups``.

    Trainable parameters only (e.g. an EMA teacher is left out), split into
    backbone / rest x decay / no decay; biases and all 1-D parameters get
    no weight decay. Backbone groups start at ``lr * backbone_lr_mult``.

    Returns:
        list[dict]: Non-empty groups in the order ``backbone_decay``,
        ``backbone_no_decay``, ``decay``, ``no_decay`` (each with a
        ``name``); the no-decay groups carry ``weight_decay=0``.
    """
    groups = {
        name: []
        for name in ('backbone_decay', 'backbone_no_decay', 'decay',
                     'no_decay')
    }
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        prefix = 'backbone_' if name.startswith(tuple(backbone_prefixes)) \
            else ''
        no_decay = name.endswith('.bias') or param.dim() == 1
        groups[prefix + ('no_decay' if no_decay else 'decay')].append(param)
    result = []
    for name, params in groups.items():
        if not params:
            continue
        group = dict(name=name, params=params)
        if name.startswith('backbone_'):
            group['lr'] = lr * backbone_lr_mult
        if name.endswith('no_decay'):
            group['weight_decay'] = 0.0
        result.append(group)
    return result


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLrMultOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Build the optimiser on :func:`backbone_lr_mult_param_groups`.

    ``paramwise_cfg`` takes ``backbone_lr_mult`` (default 0.01, the official
    learning-rate factor of the SMTC encoder once it trains) and
    ``backbone_prefixes`` (default ``('backbone.',)``). The optimiser's
    ``weight_decay`` applies to the two decay groups. Official SMTC sets 0.04
    on the first group at construction but its loop overwrites the weight
    decay of groups 0 and 2 with a constant cosine schedule of 0.1 before the
    first step, so the effective official setting is
    ``AdamW(weight_decay=0.1)`` on both decay groups, 0 on the others.

    Example::

        optim_wrapper = dict(
            constructor='BackboneLrMultOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=2e-5, weight_decay=0.1),
            paramwise_cfg=dict(backbone_lr_mult=0.01))
    """

    def _validate_cfg(self) -> None:
        """Require a base lr; accept only the keys this constructor knows."""
        if self.base_lr is None:
            raise ValueError(f'{type(self).__name__} needs optimizer.lr')
        unknown = set(
            self.paramwise_cfg) - {'backbone_lr_mult', 'backbone_prefixes'}
        if unknown:
            raise ValueError(f'{type(self).__name__} paramwise_cfg accepts '
                             'backbone_lr_mult and backbone_prefixes, got '
                             f'unknown keys {sorted(unknown)}')

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if is_model_wrapper(model):
            model = model.module
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cfg['params'] = backbone_lr_mult_param_groups(
            model,
            self.base_lr,
            backbone_lr_mult=self.paramwise_cfg.get('backbone_lr_mult', 0.01),
            backbone_prefixes=self.paramwise_cfg.get('backbone_prefixes',
                                                     ('backbone.', )))
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        wrapper_cfg = self.optim_wrapper_cfg.copy()
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(wrapper_cfg,
                                    default_args=dict(optimizer=optimizer))
