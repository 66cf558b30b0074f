"""Benchmark one VideoSAUR training step against an official-equivalent step.

Default shapes: the MOVi-C config
(configs/videosaur/videosaur_vit-b8-dino_1xb128-100k_movi-c-224x224.py):
frozen DINO ViT-B/8 at 224x224 (784 patches), 11 slots of 128, slot
attention 3 iterations on frame 0 and 2 after, a one-block predictor, the
SlotMixer decoder, the temporal similarity loss; clips of 4 frames, batch 1
on the CPU and the config's (128) on a GPU. ``--config`` picks another
VideoSAUR config. One step is what ``IterBasedTrainLoop`` runs per
iteration without data loading and the lr scheduler: forward (frozen
encoder, slot initialiser, corrector and predictor per frame, decoder),
the losses, backward, gradient clipping at 0.05 and the Adam step.

Baseline, ``official-equivalent``: the same mmsmtc model with the official
behaviours that cost time switched on. What the official code
(martius-lab/videosaur @ 5d09311, paths in its ``videosaur/`` package)
does, and how the baseline reproduces it:

- it decodes every frame and the temporal similarity loss then drops the
  last one (``models.py:237`` runs ``MapOverTime(decoder)`` on all ``T``
  frames; ``losses.py:116-117`` ``remove_last_n_frames=1``): with the
  similarity loss alone (MOVi) the last frame's decoder forward and
  backward are thrown away. mmsmtc's ``loss`` mode leaves that frame out
  when no loss reads it (``reads_last_frame``); the baseline sets
  ``reads_last_frame = True`` on its losses. The YT-VIS configs
  reconstruct every frame, so both decode all of them there;
- its matrix products run on PyTorch's default CPU GEMM: the baseline's
  ViT has ``fast_cpu_linear=False`` (mmsmtc picks oneDNN or MKL by
  processor, :mod:`mmsmtc.ops.cpu_gemm`);
- its process keeps glibc's default allocator settings; mmsmtc keeps freed
  host memory for reuse (:func:`mmsmtc.utils.keep_freed_host_memory`, as
  ``tools/train.py`` does).

Where the official code costs the same as mmsmtc (nothing to switch on):

- the frozen encoder builds no autograd graph in either:
  ``modules/encoders.py:154-155`` sets ``requires_grad_(False)`` and
  ``:191-193`` runs the ViT under ``torch.no_grad()``; mmsmtc runs it
  without autograd too (``VideoSAUR.encode``, and the ViT's own
  ``no_grad`` when built ``frozen``);
- both compute the full last ViT block (the loss targets are its output
  tokens and its keys: ``encoders.py:104-107``, ``vit_block12`` and
  ``vit_block_keys12``) and neither computes the final norm or the head
  (the official ``create_feature_extractor``, ``encoders.py:150``, keeps
  only the traced path);
- slot attention, the predictor, the decoder's layers, the loss maths and
  Adam are the same operations (the parity tests check the numbers).

Small official costs the baseline leaves out (favouring it): the copy of
the block output (``encoders.py:56``), the per-frame stacking of the
processor's outputs (``modules/video.py:135``) and Lightning's logging.

A second reference row, ``official-equivalent, torch 1.13 attention``: the
official code pins torch 1.13.0 and timm 0.9.7 (``poetry.lock``). torch
1.13 has no ``scaled_dot_product_attention``, so timm's ViT attention then
materialises ``softmax(q k^T) v`` with its ``(frames, heads, L, L)``
matrices; on torch >= 2 the official code gets the fused kernel, as
mmsmtc. The row switches timm's ``fused_attn`` off in the baseline's
blocks 0-10 (the last block's attention is mmsmtc's own and stays fused,
favouring the row). ``--no-torch113-attention`` leaves both such rows out.

With ``--official-root`` (a copy of the official ``videosaur`` package,
see tests/data/videosaur_official/make_golden.py; ``--official-deps``: the
folder holding its extra dependencies, e.g. pytorch-lightning, omegaconf,
einops), the official model itself is timed on the same input, built by
``videosaur.models.build`` from the chosen config's architecture with
random weights (no download); after the timing its state dict is checked
to convert strictly (tools/model_converters/videosaur_official_to_mmsmtc.py)
onto the mmsmtc model of the config. Its step is ``forward``, ``compute_loss``,
backward, ``clip_grad_norm_(0.05)`` and Adam (what the Lightning loop runs,
without the loop and its logging); ``official code, torch 1.13
attention`` runs it with ``TIMM_FUSED_ATTN=0``.

Every ratio is against ``official-equivalent`` measured in the same run.
Each variant runs in its own process (:mod:`step_workers`), so the peak
resident memory (``ru_maxrss``) is its own; on a GPU the peak allocated
memory of the timed steps is reported. On the CPU the variants are built
side by side and their repeats interleaved (one process busy at a time),
so that load from other processes on a shared machine hits them alike;
the best and the median repeat are printed, with the load average before
and after, and the least CPU time per step of each variant's process (all
its threads), which other processes disturb much less than the wall clock
when the variants run on one thread (``--threads 1``). The report starts
with the processor.

Example::

    python tools/benchmarks/bench_videosaur_train_step.py --threads 2 \\
        --official-root /tmp/vsaur_official --official-deps /tmp/vsaur_deps
"""
import argparse
import copy
import json
import math
import os
import sys
from pathlib import Path
from typing import Callable, Dict, List

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from step_workers import (StepWorker, add_timing_arguments, describe_machine,
                          peak_memory_mib, reply, serve_steps, time_workers)

from mmsmtc.models.backbones import VisionTransformer
from mmsmtc.registry import MODELS
from mmsmtc.utils import keep_freed_host_memory, register_all_modules

ROOT = Path(__file__).resolve().parents[2]
CONFIG = (ROOT / 'configs' / 'videosaur' /
          'videosaur_vit-b8-dino_1xb128-100k_movi-c-224x224.py')
CONVERTERS = ROOT / 'tools' / 'model_converters'
BASELINE = 'official-equivalent'
EXPLICIT = 'official-equivalent, torch 1.13 attention'
OFFICIAL = 'official code'
OFFICIAL_EXPLICIT = 'official code, torch 1.13 attention'
MMSMTC = 'mmsmtc'
#: Variants in report order; the official code's need --official-root and
#: the torch 1.13 attention rows can be left out.
VARIANTS = (BASELINE, EXPLICIT, OFFICIAL, OFFICIAL_EXPLICIT, MMSMTC)
#: Official timm names of the encoders (random weights, shapes overridden
#: by the config's architecture).
TIMM_MODELS = {False: 'vit_base_patch8_224_dino',
               True: 'vit_base_patch14_dinov2.lvd142m'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', type=Path, default=CONFIG,
                        help='a VideoSAUR config (default: MOVi-C)')
    add_timing_arguments(parser, steps=2)
    parser.add_argument(
        '--batch-size', type=int, default=None,
        help='clips per step (default: 1 on CPU, the config\'s on GPU)')
    parser.add_argument('--frames', type=int, default=4,
                        help='frames per clip (the configs train on 4)')
    parser.add_argument(
        '--no-torch113-attention', action='store_true',
        help='leave out the rows with timm\'s attention as on the official '
        'torch 1.13')
    parser.add_argument(
        '--official-root', type=Path, default=None,
        help='also time the official model: the folder holding the '
        'official videosaur package (or the package folder itself)')
    parser.add_argument(
        '--official-deps', type=Path, default=None,
        help='a folder with the official code\'s extra dependencies '
        '(appended to the import path)')
    parser.add_argument('--variant', help=argparse.SUPPRESS)
    parser.add_argument('--official-model', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------
# the mmsmtc variants
def load_config(path: Path) -> Config:
    """The config, its encoder without weights (random init)."""
    cfg = Config.fromfile(str(path))
    if cfg.model.get('type') != 'VideoSAUR':
        raise ValueError(f'{path}: a VideoSAUR config is needed, got model '
                         f'type {cfg.model.get("type")!r}')
    cfg.model.backbone.init_cfg = None
    return cfg


def input_size(cfg: Config) -> int:
    """The square input side the config's decoder is built for."""
    arch = cfg.model.backbone.arch
    if isinstance(arch, str):
        arch = VisionTransformer.arch_zoo[arch]
    return math.isqrt(cfg.model.decoder.num_patches) * arch['patch_size']


def build_mmsmtc(variant: str, cfg: Config, device: torch.device):
    """mmsmtc's model and optim wrapper of a variant (:data:`VARIANTS`
    without the official code's), random weights, train mode.

    Returns:
        tuple: ``(model, optim_wrapper)``.
    """
    model_cfg = copy.deepcopy(cfg.model)
    official_behaviour = variant in (BASELINE, EXPLICIT)
    model_cfg.backbone.fast_cpu_linear = not official_behaviour
    model = MODELS.build(model_cfg)
    model.init_weights()
    if official_behaviour:
        for loss in model.losses:  # decode (and discard) the last frame
            loss.reads_last_frame = True
    if variant == EXPLICIT:
        for block in model.backbone.blocks[:-1]:
            block.attn.fused_attn = False
    model.to(device).train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def mmsmtc_step(model, optim_wrapper, clips: torch.Tensor) -> None:
    """Losses, backward, clipping and Adam step (the optim wrapper)."""
    losses = model.loss(clips)
    optim_wrapper.update_params(sum(losses.values()))


# ----------------------------------------------------------------------
# the official code
def add_official_to_path(root: Path, deps=None) -> None:
    """Make ``import videosaur`` find the official package under ``root``
    (its parent folder or the package folder); ``deps`` goes at the end of
    the path, so that installed packages (torch, timm) win."""
    root = Path(root).resolve()
    parent = root.parent if (root / 'models.py').is_file() else root
    if not (parent / 'videosaur' / 'models.py').is_file():
        raise FileNotFoundError(
            f'--official-root {root}: no videosaur/models.py there (give '
            'the folder holding the official videosaur package)')
    if str(parent) not in sys.path:
        sys.path.insert(0, str(parent))
    if deps is not None and str(deps) not in sys.path:
        sys.path.append(str(deps))


def official_model_config(cfg: Config) -> dict:
    """The official ``model`` config section of the architecture of an
    mmsmtc VideoSAUR config (the structure of the official
    configs/videosaur/*.yml), read from its built modules."""
    model = MODELS.build(cfg.model)
    vit = model.backbone
    if vit.final_norm or 'keys' not in vit.out_types:
        raise ValueError('the official encoder gives the last block\'s '
                         'tokens (no final norm) and keys')
    depth, channels = vit.depth, vit.embed_dim
    slot_dim = model.slot_initializer.slot_dim
    num_patches = model.decoder.num_patches
    corrector, predictor = model.processor.corrector, model.processor.predictor
    allocator = model.decoder.allocator
    renderer = [layer.out_features for layer in model.decoder.renderer.layers
                if isinstance(layer, torch.nn.Linear)]
    losses, weights = {}, {}
    for loss in model.losses:
        kind = type(loss).__name__
        if kind == 'TemporalSimilarityLoss':
            first = loss.first_channel
            losses['loss_timesim'] = dict(
                name='CrossEntropyLoss',
                target_key=f'encoder.vit_block_keys{depth}',
                remove_last_n_frames=1,
                pred_dims=[first, first + num_patches],
                target_transform=dict(
                    name='utils.FeatureTimeSimilarity',
                    softmax=True,
                    temperature=loss.temperature,
                    threshold=loss.threshold))
            weights['loss_timesim'] = loss.loss_weight
        elif kind == 'FeatureReconstructionLoss':
            losses['loss_featrec'] = dict(
                name='MSELoss', pred_dims=[0, channels])
            weights['loss_featrec'] = loss.loss_weight
        else:
            raise ValueError(f'no official counterpart of {kind}')
    return dict(
        input_type='video',
        visualize=False,
        losses=losses,
        loss_weights=weights,
        initializer=dict(
            name='RandomInit',
            n_slots=model.slot_initializer.num_slots,
            dim=slot_dim),
        encoder=dict(
            backbone=dict(
                name='TimmExtractor',
                model=TIMM_MODELS[vit.layer_scale],
                features=[f'vit_block{depth}', f'vit_block_keys{depth}'],
                frozen=True,
                pretrained=False,
                model_kwargs=dict(
                    embed_dim=channels,
                    depth=depth,
                    num_heads=vit.blocks[0].attn.num_heads,
                    patch_size=vit.patch_size,
                    img_size=input_size(cfg))),
            main_features_key=f'vit_block{depth}',
            output_transform=dict(
                name='networks.two_layer_mlp',
                inp_dim=channels,
                outp_dim=slot_dim,
                hidden_dim=model.neck.layers[1].out_features,
                layer_norm=True)),
        grouper=dict(
            name='SlotAttention',
            inp_dim=slot_dim,
            slot_dim=slot_dim,
            n_iters=corrector.num_iters,
            use_mlp=corrector.mlp is not None),
        latent_processor=dict(first_step_corrector_args=dict(
            n_iters=model.processor.first_frame_iters)),
        decoder=dict(
            name='SlotMixerDecoder',
            inp_dim=slot_dim,
            embed_dim=slot_dim,
            outp_dim=model.decoder.output_transform.out_features,
            n_patches=num_patches,
            allocator=dict(
                name='TransformerEncoder',
                dim=slot_dim,
                memory_dim=slot_dim,
                n_blocks=len(allocator.blocks),
                n_heads=allocator.blocks[0].self_attn.num_heads),
            renderer=dict(
                name='MLP',
                inp_dim=slot_dim,
                outp_dim=renderer[-1],
                hidden_dims=renderer[:-1],
                final_activation=True),
            renderer_dim=renderer[-1],
            use_layer_norms=True,
            pos_embed_mode='add'),
        predictor=dict(
            name='networks.TransformerEncoder',
            dim=slot_dim,
            n_blocks=len(predictor.blocks),
            n_heads=predictor.blocks[0].self_attn.num_heads))


def build_official(model_config: dict, lr: float, device: torch.device):
    """The official ``ObjectCentricModel`` (random weights, train mode)
    and its Adam optimiser. Needs :func:`add_official_to_path` first."""
    from omegaconf import OmegaConf
    from videosaur import configuration, models
    config = OmegaConf.merge(
        OmegaConf.structured(configuration.ModelConfig), model_config)
    model = models.build(config, dict(name='Adam', lr=lr))
    return model.to(device).train(), model.configure_optimizers()


def official_step(model, optimizer, clips: torch.Tensor,
                  max_norm: float) -> None:
    """What the official Lightning loop runs per step (``training_step``
    without logging, ``gradient_clip_val``, ``Adam.step``)."""
    total, _ = model.compute_loss(model({'video': clips}))
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    params = [p for group in optimizer.param_groups for p in group['params']]
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()


def check_official_converts(model_config: dict, cfg: Config) -> int:
    """Build the official model of ``model_config`` and load its state
    dict, converted by the checkpoint converter, strictly into the mmsmtc
    model of ``cfg``: the two are the same architecture.

    Returns:
        int: the official model's parameter count.
    """
    sys.path.insert(0, str(CONVERTERS))
    try:
        from videosaur_official_to_mmsmtc import convert_state_dict
    finally:
        sys.path.remove(str(CONVERTERS))
    official, _ = build_official(model_config, 1e-4, torch.device('cpu'))
    converted, _ = convert_state_dict(official.state_dict())
    mmsmtc_model = MODELS.build(cfg.model)
    mmsmtc_model.load_state_dict(converted, strict=True)
    return sum(p.numel() for p in official.parameters())


# ----------------------------------------------------------------------
# workers
def build_step(variant: str, cfg: Config, clips: torch.Tensor,
               official_config=None) -> Callable[[], None]:
    """One training step of ``variant`` on ``clips`` (built on their
    device)."""
    max_norm = cfg.optim_wrapper.clip_grad.max_norm
    if variant in (OFFICIAL, OFFICIAL_EXPLICIT):
        model, optimizer = build_official(
            official_config, cfg.optim_wrapper.optimizer.lr, clips.device)
        return lambda: official_step(model, optimizer, clips, max_norm)
    model, optim_wrapper = build_mmsmtc(variant, cfg, clips.device)
    return lambda: mmsmtc_step(model, optim_wrapper, clips)


def serve_variant(args) -> None:
    """The worker of one variant: times its steps on request, then replies
    its peak memory."""
    device = torch.device(args.device)
    cfg = load_config(args.config)
    official_config = None
    if args.variant in (OFFICIAL, OFFICIAL_EXPLICIT):
        add_official_to_path(args.official_root, args.official_deps)
        official_config = json.loads(args.official_model)
    elif args.variant == MMSMTC:
        keep_freed_host_memory()
    size = input_size(cfg)
    torch.manual_seed(0)
    clips = torch.randn(args.batch_size, args.frames, 3, size, size,
                        device=device)
    step = build_step(args.variant, cfg, clips, official_config)
    serve_steps(step, device, args.steps)
    reply(dict(peak_mib=peak_memory_mib(device)))


def start_worker(variant: str, args, official_config=None) -> StepWorker:
    command = [
        sys.executable, __file__, '--config', str(args.config), '--device',
        args.device, '--batch-size', str(args.batch_size), '--frames',
        str(args.frames), '--steps', str(args.steps), '--threads',
        str(args.threads), '--variant', variant
    ]
    env = dict(os.environ)
    if official_config is not None:
        command += ['--official-root', str(args.official_root),
                    '--official-model', json.dumps(official_config)]
        if args.official_deps is not None:
            command += ['--official-deps', str(args.official_deps)]
        if variant == OFFICIAL_EXPLICIT:
            env['TIMM_FUSED_ATTN'] = '0'
    return StepWorker(variant, command, env)


def chosen_variants(args) -> List[str]:
    """The variants to time, in report order."""
    chosen = list(VARIANTS)
    if args.official_root is None:
        chosen = [v for v in chosen if v not in (OFFICIAL, OFFICIAL_EXPLICIT)]
    if args.no_torch113_attention:
        chosen = [v for v in chosen if v not in (EXPLICIT, OFFICIAL_EXPLICIT)]
    return chosen


def report(results: Dict[str, dict], args, cfg: Config) -> None:
    print('\n'.join(describe_machine(args.device)))
    model = cfg.model
    print(f'VideoSAUR training step, {args.config.name}: batch '
          f'{args.batch_size} x {args.frames} frames, '
          f'{model.slot_initializer.num_slots} slots, device {args.device}, '
          f'{args.threads} threads; s/step: the best (and median) of '
          f'{args.repeats} interleaved repeats of {args.steps} steps')
    cpu = args.device == 'cpu'
    print(f'{"variant":<42} {"s/step":>7} {"(median)":>8} {"peak MiB":>8} '
          f'{"ratio":>6}' + (f' {"CPU s/step":>10} {"ratio":>6}' if cpu
                             else ''))
    baseline = results[BASELINE]
    for variant, result in results.items():
        line = (f'{variant:<42} {result["seconds"]:7.2f} '
                f'{result["median"]:8.2f} {result["peak_mib"]:8.0f} '
                f'{baseline["seconds"] / result["seconds"]:5.2f}x')
        if cpu:
            cpu_ratio = baseline['cpu_seconds'] / result['cpu_seconds']
            line += f' {result["cpu_seconds"]:10.2f} {cpu_ratio:5.2f}x'
        print(line)
    print(f'ratio: {BASELINE} / variant (above 1: the variant is faster)'
          + ('; CPU s/step: CPU time of the variant\'s process, all its '
             'threads (least disturbed by other processes with --threads '
             '1)' if cpu else ''))


def main() -> None:
    args = parse_args()
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = load_config(args.config)
    if args.batch_size is None:
        args.batch_size = (cfg.train_dataloader.batch_size
                           if args.device == 'cuda' else 1)
    if args.variant is not None:
        serve_variant(args)
        return
    official_config = None
    if args.official_root is not None:
        add_official_to_path(args.official_root, args.official_deps)
        official_config = official_model_config(cfg)
    load_before = os.getloadavg()[0]
    variants = chosen_variants(args)
    records = time_workers(
        [lambda variant=variant: start_worker(
            variant, args,
            official_config if variant.startswith(OFFICIAL) else None)
         for variant in variants], args.repeats,
        side_by_side=args.device == 'cpu')
    report(dict(zip(variants, records)), args, cfg)
    print(f'load average (1 min) before / after: {load_before:.2f} / '
          f'{os.getloadavg()[0]:.2f} (on {os.cpu_count()} CPUs; other '
          'processes slow every variant)')
    if official_config is not None:  # after the timing: memory
        count = check_official_converts(official_config, cfg)
        print(f'the official model ({count / 1e6:.2f}M parameters) converts '
              f'strictly onto the mmsmtc model of {args.config.name}')


if __name__ == '__main__':
    main()
