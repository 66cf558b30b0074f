# The tiny synthetic VideoSAUR of configs/_base_/models/videosaur_vit-tiny.py
# at test time: each video in one recurrent stream of slots (clips of 4
# frames carry the slots), frames resized to the 64x64 training input (the
# decoder's 8x8 position grid), test-time slots drawn per video from
# (test_seed, video name).
_base_ = ['../../_base_/models/videosaur_vit-tiny.py']
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    model={{_base_.model}},  # its data_preprocessor is unused
    post_processor=dict(type='SlotArgmaxPostProcessor'),
    input_size=(64, 64),
    size_multiple=8,
    test_seed=0)
