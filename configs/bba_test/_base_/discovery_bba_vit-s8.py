# Object discovery with Betrayed by Attention on DINO ViT-S/8, the official
# evaluation input (start_eval.sh): every video as one clip, frames resized
# bilinearly to 320x480 and normalised with the Kinetics mean/std (as
# src/eval_oneshot.py; the training uses ImageNet's), clusters -> the
# post-processor of discovery_post_processor.py. Weights: the output of
# tools/model_converters/bba_official_to_mmsmtc.py (checkpoint_dino-s-8.pth).
_base_ = [
    '../../_base_/models/bba_vit-s8.py', './discovery_post_processor.py'
]
kinetics_mean = (0.43216 * 255, 0.394666 * 255, 0.37645 * 255)
kinetics_std = (0.22803 * 255, 0.22145 * 255, 0.216989 * 255)
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    model={{_base_.model}},  # its data_preprocessor is unused
    post_processor={{_base_.discovery_post_processor}},
    data_preprocessor=dict(
        type='VideoDataPreprocessor', mean=kinetics_mean, std=kinetics_std),
    input_size=(320, 480),
    size_multiple=8)
