"""Capture and restore every random number generator a training step uses."""
import random
from typing import Dict

import numpy as np
import torch


def capture_rng_state() -> Dict:
    """Return the states of Python's, numpy's and torch's global generators.

    Returns:
        dict: ``python`` (tuple), ``numpy`` (tuple), ``torch`` (uint8 tensor)
        and ``cuda`` (list of uint8 tensors, empty without CUDA). Everything
        is weights-only serialisable.
    """
    return dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state(),
        cuda=torch.cuda.get_rng_state_all()
        if torch.cuda.is_available() else [],
    )


def restore_rng_state(state: Dict) -> None:
    """Restore the generators captured by :func:`capture_rng_state`.

    Raises:
        KeyError: If ``state`` lacks one of the captured generators.
    """
    random.setstate(_as_python_state(state['python']))
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'].cpu())
    if state['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


def _as_python_state(state):
    """``random.setstate`` needs tuples; serialisation may return lists."""
    version, internal, gauss = state
    return version, tuple(internal), gauss
