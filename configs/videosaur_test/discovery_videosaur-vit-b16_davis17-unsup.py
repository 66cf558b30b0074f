# DAVIS-2017 val, unsupervised (configs/_base_/datasets/davis17_unsup.py):
# J&F of at most 20 discovered objects per video, official Hungarian
# protocol.
_base_ = ['./_base_/discovery_videosaur_vit-b16-dino.py']
test_dataloader = dict(
    _delete_=True,
    dataset=dict(
        type='DAVIS2017Dataset',
        data_root='data/DAVIS',
        split='val',
        annotation_folder='Annotations_unsupervised',
        pipeline={{_base_.video_test_pipeline}}),
    **_base_.video_test_dataloader)
test_evaluator = dict(
    _delete_=True,
    type='DAVISMetric',
    task='unsupervised',
    collect_device='cpu')
