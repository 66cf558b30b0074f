# Synthetic set, DAVIS-2017 unsupervised with the tiny VideoSAUR: slot masks
# -> at most 20 objects with identities over the video
# (ObjectDiscoveryPostProcessor, as for the real DAVIS-2017 configs of
# VideoSAUR), DAVIS J&F (official Hungarian protocol) and video FG-ARI / mBO
# of the same masks.
_base_ = [
    './_base_/videosaur_vit-tiny.py',
    '../_base_/datasets/synthetic_davis17_unsup.py',
    '../_base_/test_runtime.py'
]
model = dict(
    post_processor=dict(
        _delete_=True,
        type='ObjectDiscoveryPostProcessor',
        max_proposals=20,
        score_threshold=0.0,
        min_area=0.001,
        background_rule='border',
        num_background_groups=1,
        same_mask_weight=1.0))
