from .initial_checkpoint_hook import InitialCheckpointHook
from .overlay_hook import VideoOverlayHook
from .rng_state_hook import RNGStateHook
from .visualization_hook import VideoVisualizationHook

__all__ = [
    'InitialCheckpointHook', 'RNGStateHook', 'VideoOverlayHook',
    'VideoVisualizationHook'
]
