# The encoder of the tiny synthetic SMTC
# (configs/_base_/models/smtc_vit-tiny.py, the single source of its architecture) in a label-propagation segmentor
# at stride = its patch size. labelprop_smtc_vit-tiny.py adds the
# propagation settings; a checkpoint of tools/train.py with the tiny
# training config loads its student encoder (the segmentor's default
# checkpoint_prefix; 'teacher.backbone.' tests the EMA teacher's).
_base_ = ['../../_base_/models/smtc_vit-tiny.py']
model = dict(
    _delete_=True,
    type='LabelPropagationSegmentor',
    propagator=dict(
        type='LabelPropagator', backbone={{_base_.model.backbone}}),
    stride={{_base_.model.backbone.arch.patch_size}})
