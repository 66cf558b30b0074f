# SegTrack-v2, single-object discovery with Betrayed by Attention: the
# union of the discovered objects is the foreground.
_base_ = [
    '_base_/discovery_single_bba_vit-s8.py',
    '../_base_/datasets/segtrackv2.py', '../_base_/test_runtime.py'
]
