# DAVIS-2017 val, unsupervised multi-object discovery.
_base_ = ['./davis17_semi.py']
test_dataloader = dict(
    dataset=dict(annotation_folder='Annotations_unsupervised'))
