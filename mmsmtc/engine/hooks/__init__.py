from .rng_state_hook import RNGStateHook
from .visualization_hook import VideoVisualizationHook

__all__ = ['RNGStateHook', 'VideoVisualizationHook']
