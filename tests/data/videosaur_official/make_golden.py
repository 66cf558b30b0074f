"""Record the official VideoSAUR model's outputs on tiny models: ``golden.pt``.

Runs the code of the official repository (martius-lab/videosaur, a local
copy given by ``--official-root``; nothing of it is copied here): the
official ``videosaur.models.build`` on the model part of its configs, with
the released configs' structure (``configs/videosaur/movi_c.yml`` and
``ytvis.yml``) shrunk to a tiny random model, and saves what
``tests/models/test_videosaur_official_parity.py`` compares mmsmtc's
VideoSAUR with.

Tiny architecture (both variants): timm ``vit_base_patch8_224_dino`` built
with ``embed_dim=16, depth=2, num_heads=2, patch_size=4, img_size=16`` (a
4x4 = 16-patch grid; ``pretrained=False``), slot dim 12, 3 slots, 3 frames,
batch 2, predictor and allocator with 4 heads (``d_head = 3``, so the
``sqrt(d_head)`` logit quirk matters), renderer width 24.

- ``movi``: like ``movi_c.yml``: allocator 2 blocks, renderer 3 hidden + 1
  (4 layers), decoder output = the 16 similarity logits, loss: temporal
  similarity (temperature 0.075, weight 0.1).
- ``ytvis``: like ``ytvis.yml``: allocator 3 blocks, renderer 2 hidden + 1,
  decoder output = 16 feature channels + 16 logits, losses: feature
  reconstruction (weight 1.0) + temporal similarity (temperature 0.25,
  weight 0.1).

Every parameter is perturbed (``+ 0.05 * N(0, 1)``) after the official
init so that LayerNorms and biases are not at their trivial starts.

Recorded per variant (float32, the official code in float32 on the CPU):
``state_dict`` (the Lightning module's, official key layout, without the
ViT: the ViT is shared, ``vit_state_dict``, and goes under
``encoder.module.backbone.model.``), ``inputs (B, T, 3, 16, 16)``,
``slot_init (B, K, D)`` (fed to the official model instead of its
initializer's draw), ``slots``, ``masks``, ``reconstruction``, the raw and
the weighted losses (``losses``, ``loss_weights``), ``gradients``: those of
the weighted total loss (official ``compute_loss``) for every trained
parameter (official names, the frozen ViT has none), and ``init_zero_keys``:
the (non-ViT) entries that the official build initialises to all zeros,
recorded before the perturbation.

Usage (the official code imports einops, pytorch-lightning, torchmetrics,
omegaconf and webdataset, which mmsmtc does not need; they go into a
scratch folder)::

    git -C <mirror> archive 5d09311 videosaur | tar -x -C /tmp/vsaur_official
    pip install --target /tmp/vsaur_deps --no-deps einops==0.7.0 \\
        pytorch-lightning==1.9.5 torchmetrics==1.2.0 lightning-utilities \\
        omegaconf antlr4-python3-runtime==4.9.3 'setuptools<70' \\
        webdataset==0.2.35 braceexpand
    PYTHONPATH=/tmp/vsaur_official:/tmp/vsaur_deps python -W ignore \\
        tests/data/videosaur_official/make_golden.py \\
        --official-root /tmp/vsaur_official --official-commit 5d09311 \\
        --out tests/data/videosaur_official/golden.pt
"""
import argparse
import sys
from pathlib import Path

import torch

VIT_PREFIX = 'encoder.module.backbone.model.'
EMBED_DIM, DEPTH, HEADS, PATCH, IMAGE = 16, 2, 2, 4, 16
SLOT_DIM, NUM_SLOTS, FRAMES, BATCH = 12, 3, 3, 2
NUM_PATCHES = (IMAGE // PATCH)**2
RENDERER = 24


def model_config(variant: str) -> dict:
    """The model part of the official config, tiny."""
    reconstruct = variant == 'ytvis'
    out_dim = (EMBED_DIM if reconstruct else 0) + NUM_PATCHES
    similarity = dict(
        name='CrossEntropyLoss',
        target_key=f'encoder.vit_block_keys{DEPTH}',
        remove_last_n_frames=1,
        pred_dims=[out_dim - NUM_PATCHES, out_dim],
        target_transform=dict(
            name='utils.FeatureTimeSimilarity',
            softmax=True,
            temperature=0.25 if reconstruct else 0.075,
            threshold=0.0))
    losses = dict(loss_timesim=similarity)
    weights = dict(loss_timesim=0.1)
    if reconstruct:
        losses['loss_featrec'] = dict(
            name='MSELoss', pred_dims=[0, EMBED_DIM])
        weights['loss_featrec'] = 1.0
    return dict(
        input_type='video',
        visualize=False,
        losses=losses,
        loss_weights=weights,
        initializer=dict(name='RandomInit', n_slots=NUM_SLOTS, dim=SLOT_DIM),
        encoder=dict(
            backbone=dict(
                name='TimmExtractor',
                model='vit_base_patch8_224_dino',
                features=[f'vit_block{DEPTH}', f'vit_block_keys{DEPTH}'],
                frozen=True,
                pretrained=False,
                model_kwargs=dict(
                    embed_dim=EMBED_DIM,
                    depth=DEPTH,
                    num_heads=HEADS,
                    patch_size=PATCH,
                    img_size=IMAGE)),
            main_features_key=f'vit_block{DEPTH}',
            output_transform=dict(
                name='networks.two_layer_mlp',
                inp_dim=EMBED_DIM,
                outp_dim=SLOT_DIM,
                hidden_dim=2 * EMBED_DIM,
                layer_norm=True)),
        grouper=dict(
            name='SlotAttention',
            inp_dim=SLOT_DIM,
            slot_dim=SLOT_DIM,
            n_iters=2,
            use_mlp=False),
        latent_processor=dict(first_step_corrector_args=dict(n_iters=3)),
        decoder=dict(
            name='SlotMixerDecoder',
            inp_dim=SLOT_DIM,
            embed_dim=SLOT_DIM,
            outp_dim=out_dim,
            n_patches=NUM_PATCHES,
            allocator=dict(
                name='TransformerEncoder',
                dim=SLOT_DIM,
                memory_dim=SLOT_DIM,
                n_blocks=3 if reconstruct else 2,
                n_heads=4),
            renderer=dict(
                name='MLP',
                inp_dim=SLOT_DIM,
                outp_dim=RENDERER,
                hidden_dims=[RENDERER] * (2 if reconstruct else 3),
                final_activation=True),
            renderer_dim=RENDERER,
            use_layer_norms=True,
            pos_embed_mode='add'),
        predictor=dict(
            name='networks.TransformerEncoder',
            dim=SLOT_DIM,
            n_blocks=1,
            n_heads=4))


def run_variant(variant: str, vit_state: dict, seed: int) -> dict:
    from omegaconf import OmegaConf
    from videosaur import configuration, models
    torch.manual_seed(seed)
    config = OmegaConf.merge(
        OmegaConf.structured(configuration.ModelConfig),
        model_config(variant))
    model = models.build(config, dict(name='Adam', lr=1e-4))
    state = model.state_dict()
    init_zero_keys = sorted(
        name for name, value in state.items()
        if not name.startswith(VIT_PREFIX) and value.is_floating_point()
        and not value.any())
    with torch.no_grad():
        for name, value in state.items():
            if name.startswith(VIT_PREFIX):
                value.copy_(vit_state[name[len(VIT_PREFIX):]])
            else:
                value.add_(0.05 * torch.randn_like(value))
    inputs = torch.randn(BATCH, FRAMES, 3, IMAGE, IMAGE)
    slot_init = model.initializer(BATCH).detach()
    model.initializer.forward = lambda batch_size: slot_init
    model.train()
    outputs = model({'video': inputs})
    total_loss, losses = model.compute_loss(outputs)
    total_loss.backward()
    gradients = {
        name: parameter.grad.clone()
        for name, parameter in model.named_parameters()
        if parameter.grad is not None and not name.startswith(VIT_PREFIX)
    }
    weights = model.loss_weights
    return dict(
        state_dict={
            name: value.clone()
            for name, value in model.state_dict().items()
            if not name.startswith(VIT_PREFIX)
        },
        inputs=inputs,
        slot_init=slot_init,
        slots=outputs['processor']['state'].detach(),
        masks=outputs['decoder']['masks'].detach(),
        reconstruction=outputs['decoder']['reconstruction'].detach(),
        losses={name: value.detach() for name, value in losses.items()},
        loss_weights=dict(weights),
        gradients=gradients,
        init_zero_keys=init_zero_keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--official-root', required=True, type=Path)
    parser.add_argument('--official-commit', required=True)
    parser.add_argument('--out', required=True, type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(args.official_root))
    import timm
    torch.manual_seed(0)
    vit = timm.create_model(
        'vit_base_patch8_224_dino',
        pretrained=False,
        embed_dim=EMBED_DIM,
        depth=DEPTH,
        num_heads=HEADS,
        patch_size=PATCH,
        img_size=IMAGE)
    vit_state = {
        name: value + 0.05 * torch.randn_like(value)
        for name, value in vit.state_dict().items()
        if not name.startswith(('norm.', 'head.', 'fc_norm.'))
    }
    golden = dict(
        official_commit=args.official_commit,
        timm_version=str(timm.__version__),
        torch_version=str(torch.__version__),
        vit_state_dict=vit_state,
        movi=run_variant('movi', vit_state, seed=1),
        ytvis=run_variant('ytvis', vit_state, seed=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(golden, args.out)
    print(f'wrote {args.out} ({args.out.stat().st_size} bytes)')


if __name__ == '__main__':
    main()
