"""A teacher network that follows a student by exponential moving average."""
import copy
from typing import Iterable, List, Mapping, Optional, Sequence

import torch
from torch import nn


class EMATeacher(nn.ModuleDict):
    """Copies of student modules, updated as ``t = m * t + (1 - m) * s``.

    Holds one copy per part (``teacher['backbone']``, ...; state-dict keys
    ``<name>.<part>.*``). Every parameter and every floating-point buffer
    (BatchNorm running statistics) follows its student by the moving
    average; integer buffers (``num_batches_tracked``) are copied. Parts in
    ``frozen_parts`` keep the weights they were given by :meth:`copy_from`
    (e.g. SMTC's teacher encoder stays the pretrained one). The teacher
    never receives gradients and always runs in eval mode, whatever mode
    its owner is switched to. The update is one fused ``torch._foreach_*``
    call over all tensors.

    Args:
        student (Mapping[str, nn.Module]): The parts to copy (deep copies
            are taken; call :meth:`copy_from` after initialising the student).
        momentum (float): ``m`` in ``[0, 1]``; 1 keeps every part as copied.
        frozen_parts (Sequence[str]): Parts never updated.
    """

    def __init__(self,
                 student: Mapping[str, nn.Module],
                 momentum: float = 0.999,
                 frozen_parts: Sequence[str] = ()) -> None:
        super().__init__({
            name: copy.deepcopy(module)
            for name, module in student.items()
        })
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        unknown = set(frozen_parts) - set(student)
        if unknown:
            raise ValueError(f'frozen_parts {sorted(unknown)} are not parts '
                             f'of the teacher {sorted(student)}')
        self.momentum = float(momentum)
        self.frozen_parts = tuple(frozen_parts)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> 'EMATeacher':
        """Stay in eval mode (no dropout, frozen normalisation statistics)."""
        return super().train(False)

    @torch.no_grad()
    def copy_from(self, student: Mapping[str, nn.Module]) -> None:
        """Set every tensor of every part to the student's."""
        for name, module in self.items():
            module.load_state_dict(student[name].state_dict())

    def updated_parts(self, skip: Iterable[str] = ()) -> List[str]:
        """The parts :meth:`average_from` changes: neither frozen nor in
        ``skip``."""
        skip = set(skip) | set(self.frozen_parts)
        return [name for name in self if name not in skip]

    @torch.no_grad()
    def average_from(self,
               student: Mapping[str, nn.Module],
               skip: Optional[Iterable[str]] = None) -> None:
        """One moving-average step from ``student``.

        Args:
            student: The student's parts, by the same names.
            skip: Parts left unchanged this step (e.g. an encoder that did
                not train in the previous step: its average would not move
                but would accumulate rounding).
        """
        if self.momentum == 1.0:
            return
        averaged, sources = [], []
        for name in self.updated_parts(skip or ()):
            teacher_state = self[name].state_dict(keep_vars=True)
            student_state = student[name].state_dict(keep_vars=True)
            for key, value in teacher_state.items():
                source = student_state[key]
                if value.is_floating_point():
                    averaged.append(value.data)
                    sources.append(source.data)
                else:
                    value.copy_(source)
        if averaged:
            torch._foreach_mul_(averaged, self.momentum)
            torch._foreach_add_(averaged, sources, alpha=1.0 - self.momentum)
