from .checkpoint_key_map import (KeyMap, LoadReport, load_mapped_checkpoint,
                                 map_state_dict, select_state_dict)
from .pos_embed import interpolate_pos_embed_dino
from .resnet import ResNet
from .vit import VisionTransformer

__all__ = [
    'KeyMap', 'LoadReport', 'ResNet', 'VisionTransformer',
    'interpolate_pos_embed_dino', 'load_mapped_checkpoint', 'map_state_dict',
    'select_state_dict'
]
