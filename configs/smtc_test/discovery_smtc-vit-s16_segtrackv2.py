# SegTrack-v2, single-object discovery: J-frame (mean over frames).
_base_ = [
    '_base_/discovery_single_smtc_vit-s16.py',
    '../_base_/datasets/segtrackv2.py', '../_base_/test_runtime.py'
]
