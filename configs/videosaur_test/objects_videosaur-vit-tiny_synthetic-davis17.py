# Synthetic set (tools/data/make_synthetic.py), DAVIS-2017 layout: video
# FG-ARI and mBO as VideoSAUR scores them -- every pixel takes its arg-max
# slot (soft masks upsampled bilinearly to the frame size), ids over the
# whole video. Test the checkpoint of
# configs/videosaur/videosaur_vit-tiny_1xb4-2k_synthetic-64x64.py, or 'none'
# for the untrained model.
_base_ = [
    './_base_/videosaur_vit-tiny.py',
    '../_base_/datasets/synthetic_davis17_unsup.py',
    '../_base_/test_runtime.py'
]
test_evaluator = dict(
    _delete_=True, type='ObjectDiscoveryMetric', collect_device='cpu')
