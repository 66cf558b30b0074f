from .checkpoint_key_map import (CheckpointError, KeyMap, LoadReport,
                                 load_mapped_checkpoint, map_state_dict,
                                 read_checkpoint, select_state_dict)
from .pos_embed import interpolate_pos_embed_dino
from .resnet import ResNet
from .vit import VisionTransformer

__all__ = [
    'CheckpointError', 'KeyMap', 'LoadReport', 'ResNet', 'VisionTransformer',
    'interpolate_pos_embed_dino', 'load_mapped_checkpoint', 'map_state_dict',
    'read_checkpoint', 'select_state_dict'
]
