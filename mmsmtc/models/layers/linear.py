"""``nn.Linear`` whose CPU products go through :func:`mmsmtc.ops.linear`."""
import torch
import torch.nn as nn

from mmsmtc.ops import linear


class Linear(nn.Linear):
    """``nn.Linear`` whose forward is :func:`linear` (same parameters and
    state-dict keys): oneDNN for float32 CPU products where
    :func:`mmsmtc.ops.onednn_linear_preferred`, else ``F.linear``."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return linear(inputs, self.weight, self.bias)

    @classmethod
    def sharing_parameters_of(cls, layer: nn.Linear) -> 'Linear':
        """A new :class:`Linear` holding ``layer``'s own weight and bias
        (the same ``Parameter`` objects) and training flag."""
        new = cls(layer.in_features, layer.out_features,
                  bias=layer.bias is not None, device='meta')
        new.weight = layer.weight
        new.bias = layer.bias
        new.train(layer.training)
        return new


def use_fast_cpu_linear(module: nn.Module) -> nn.Module:
    """Replace every ``nn.Linear`` (exactly that class) inside ``module`` by
    a :class:`Linear` sharing its parameters.

    The layers are new modules set on their parents (as
    ``torch.ao.quantization`` swaps modules), so call it before hooks are
    registered on them or references to them are kept. Subclasses of
    ``nn.Linear`` are left alone: their forward may differ.

    Returns:
        nn.Module: ``module``, changed in place.
    """
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear:
                setattr(parent, name, Linear.sharing_parameters_of(child))
    return module
