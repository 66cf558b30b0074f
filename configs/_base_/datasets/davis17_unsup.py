# DAVIS-2017 val, unsupervised multi-object discovery: J&F of at most 20
# objects per video (official Hungarian protocol).
_base_ = ['./davis17_semi.py']
test_dataloader = dict(
    dataset=dict(annotation_folder='Annotations_unsupervised'))
test_evaluator = dict(task='unsupervised')
