# Official DINOSAUR COCO recipe (VideoSAUR repository,
# configs/dinosaur/coco_base14_dinov2.yml): DINOv2 ViT-B/14 at 224x224, 7
# slots, MLP decoder, feature reconstruction; 1 GPU x 64 images, Adam 4e-4,
# warm-up 10k + exponential decay, clip 1.0, 500k iterations.
_base_ = [
    '../_base_/models/dinosaur_vit-b14-dinov2_coco.py',
    '../_base_/datasets/coco.py',
    '../_base_/schedules/dinosaur_adam-expdecay_500k.py',
    '../_base_/default_runtime.py'
]
