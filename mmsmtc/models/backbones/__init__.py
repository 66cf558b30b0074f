from .checkpoint_key_map import (KeyMap, LoadReport, load_mapped_checkpoint,
                                 map_state_dict, select_state_dict)
from .pos_embed import (POS_EMBED_INTERPOLATIONS, interpolate_pos_embed_dino,
                        interpolate_pos_embed_timm)
from .resnet import ResNet
from .vit import VisionTransformer

__all__ = [
    'KeyMap', 'LoadReport', 'POS_EMBED_INTERPOLATIONS', 'ResNet',
    'VisionTransformer', 'interpolate_pos_embed_dino',
    'interpolate_pos_embed_timm', 'load_mapped_checkpoint', 'map_state_dict',
    'select_state_dict'
]
