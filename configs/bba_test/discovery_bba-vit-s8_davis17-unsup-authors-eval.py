# NOT THE OFFICIAL PROTOCOL. DAVIS-2017 val, unsupervised, scored the way
# the Betrayed-by-Attention repository (shvdiwnkozbw/SSL-UVOS) scores it, to
# compare with the authors' published DAVIS-2017 numbers only. mmsmtc's
# number for this method is discovery_bba-vit-s8_davis17-unsup.py (official
# davis2017-evaluation: at most 20 proposals, one assignment per sequence).
# What this variant does, as the authors' code (docs/object_discovery.md,
# "The Betrayed-by-Attention authors' DAVIS evaluation"):
# - every cluster is a proposal, the background one included (no
#   background rule), up to 300 in their evaluator (mmsmtc's uint8 id maps
#   hold 255: the post-processor keeps the 255 highest-ranked clusters
#   and logs a warning naming the video);
# - one Hungarian assignment per frame on J_t + F_t, so a proposal may take
#   a different object in each frame (this can only raise the score);
# - the model never sees a video's last frame (their loader reads frames
#   0..T-2); that frame is scored with a copy of the second-last prediction.
# Decay and per-object rows depend on the proposals' id order, which here
# is the post-processor's rank, not the authors' cluster index; J&F-Mean,
# J/F-Mean and Recall do not. The authors score DAVIS-2017 only.
_base_ = [
    '_base_/discovery_bba_vit-s8.py', '../_base_/datasets/davis17_unsup.py',
    '../_base_/test_runtime.py'
]
model = dict(
    post_processor=dict(background_rule='none', max_proposals=255))
test_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='WithholdLastFrame'),
        dict(type='LoadVideoFrames'),
        dict(type='LoadVideoAnnotations'),
        dict(type='PackVideoInputs'),
    ]))
test_evaluator = dict(
    type='DAVISMetric',
    task='unsupervised',
    protocol='bba-authors',
    collect_device='cpu')
