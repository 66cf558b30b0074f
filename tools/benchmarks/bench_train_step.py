"""Benchmark one SMTC training step against an official-equivalent step.

The official shapes (configs/smtc/smtc_vit-s16_4xb32-10k_ytvos-256x256.py):
ViT-S/16, 16 semantic slots x 4 instances, 3 slot iterations, clips of 4
frames at 256x256; batch 2 on the CPU, 32 per GPU. One step is what
``IterBasedTrainLoop`` runs per iteration without data loading: EMA update,
student and teacher forward, the three losses, backward and AdamW step. Both
phases are timed:

- ``frozen``: the encoder is kept fixed (iterations below
  ``frozen_backbone_iters``, the official ``grad_iter``);
- ``trainable``: the encoder trains (at 0.01x the lr).

Baseline, ``official-equivalent``: the same model with the official
behaviours switched on: the encoder always runs with autograd and its
backward is computed (while frozen its lr is 0 instead), the last ViT block
computes its MLP (``out_types=('tokens', 'keys')``), stochastic depth
computes the residual branches it drops and multiplies them by 0
(``skip_dropped_paths=False``), the EMA covers the encoder in both phases,
the instance matching is solved per (clip, slot) matrix by
``scipy.optimize.linear_sum_assignment`` on the host
(``InstanceConsistencyLoss(max_enumerated_instances=0)``), the encoder's
products run on PyTorch's default CPU GEMM (``fast_cpu_linear=False``) and
the process keeps glibc's default allocator settings. mmsmtc instead skips
the encoder's graph while frozen, stops the last block after its keys,
skips the dropped branches, scores all 4! matchings of every matrix at once
on the device and keeps freed host memory for reuse
(:func:`mmsmtc.utils.keep_freed_host_memory`, as ``tools/train.py`` does).
Everything else is shared by both variants and therefore equally fast in
both: the per-branch view augmentation (mmsmtc's ``ClipPhotometricAugment``,
not the official kornia pipeline), the neck, the head, the losses and the
AdamW step. The official code also runs with
``torch.autograd.set_detect_anomaly(True)``; the baseline does not, which
favours it.

On the CPU, mmsmtc is timed twice in the same run: with the encoder's
float32 products on PyTorch's default GEMM (MKL) and on oneDNN
(:mod:`mmsmtc.ops.cpu_gemm`, forced each way with ``MMSMTC_ONEDNN_LINEAR``),
and the report says which one mmsmtc picks on this processor by default.
Every ratio is against the official-equivalent step measured in the same
run. The report starts with the processor (model name, vendor, ISA flags).

Where the time goes (CPU, batch 2): the encoder forward is about 11.4
GFLOP per 256x256 frame (ViT-S/16, 257 tokens: 11 full blocks of about
1.01 GFLOP, the last block's keys, the patch embedding), 16 frames per step
(student and teacher views) = about 182 GFLOP; the trainable phase adds the
student encoder's backward (about twice its forward). So the step is
bounded by the GEMM rate, which depends on the processor and backend: the
MKL in the PyTorch wheels runs AVX2 code on non-Intel processors, oneDNN
runs AVX-512 wherever it exists (numbers in :mod:`mmsmtc.ops.cpu_gemm`).

History, not measured by this script: the issue reported the official SMTC
code at about 4.4 s per step on one idle core at batch 2 and about 2.5 s on
two cores (its processor unstated), and, on an Intel Xeon with AVX-512 and
AMX, mmsmtc (then always on oneDNN there) at 2.16x the official-equivalent
frozen and 0.98x trainable.

Host synchronisation on GPU: the mmsmtc matching never reads costs back
(``enumerate_assignment``); ``--check-sync`` runs the mmsmtc steps under
``torch.cuda.set_sync_debug_mode('warn')`` and prints the synchronising
calls it reports.

Every variant runs in its own process, so the peak resident memory
(``ru_maxrss``) is its own; on GPU the peak allocated memory is reported.
On the CPU a phase's variants are built side by side and their repeats
interleaved (one process busy at a time), so that load from other
processes on a shared machine hits them alike; the best and the median
repeat are printed, with the load average before and after.

Example::

    python tools/benchmarks/bench_train_step.py --threads 2 --repeats 3
"""
import argparse
import os
import sys
import warnings
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from step_workers import (StepWorker, add_timing_arguments, describe_machine,
                          peak_memory_mib, reply, serve_steps, time_workers)

from mmsmtc.ops import onednn_linear_preferred
from mmsmtc.ops.cpu_gemm import ONEDNN_ENV_VAR
from mmsmtc.registry import MODELS
from mmsmtc.utils import keep_freed_host_memory, register_all_modules

CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'smtc' / \
    'smtc_vit-s16_4xb32-10k_ytvos-256x256.py'
BASELINE = 'official-equivalent'
PHASES = ('frozen', 'trainable')
#: GEMM backend name -> ``MMSMTC_ONEDNN_LINEAR`` value forcing it.
GEMMS = {'pytorch': '0', 'onednn': '1'}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_timing_arguments(parser, steps=3)
    parser.add_argument('--batch-size', type=int, default=None,
                        help='clips per step (default: 2 on CPU, 32 on GPU)')
    parser.add_argument('--size', type=int, default=256,
                        help='frame side in pixels')
    parser.add_argument(
        '--no-onednn', action='store_true',
        help='CPU: time mmsmtc on PyTorch\'s default GEMM only, not on '
        'oneDNN as well')
    parser.add_argument('--check-sync', action='store_true',
                        help='GPU: report host synchronisations in a step')
    parser.add_argument('--variant', nargs=3,
                        metavar=('MODE', 'GEMM', 'PHASE'),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def variants(args) -> list:
    """``(mode, gemm, phase)`` of every timed variant, baseline first.

    ``gemm`` is the mmsmtc encoder's backend (``'pytorch'`` or
    ``'onednn'``); the baseline always uses PyTorch's default, and on a GPU
    the backend is moot (``'pytorch'``)."""
    gemms = ['pytorch']
    if args.device == 'cpu' and not args.no_onednn:
        gemms.append('onednn')
    return [(mode, gemm, phase) for phase in PHASES
            for mode, gemm in [(BASELINE, 'pytorch')] +
            [('mmsmtc', gemm) for gemm in gemms]]


def build_model_and_optimizer(mode: str, phase: str, device: torch.device):
    """The official-shape SMTC and its optim wrapper for one variant.

    Returns:
        tuple: ``(model, optim_wrapper)``, the model in train mode on
        ``device`` with randomly initialised weights (no checkpoint needed).
    """
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    frozen = phase == 'frozen'
    if mode == BASELINE:
        cfg.model.backbone.out_types = ('tokens', 'keys')
        cfg.model.backbone.skip_dropped_paths = False
        for loss in cfg.model.losses:
            if loss.type == 'InstanceConsistencyLoss':
                loss.max_enumerated_instances = 0
        cfg.model.teacher.frozen_parts = ()
        cfg.model.backbone.fast_cpu_linear = False
        cfg.model.frozen_backbone_iters = 0
        if frozen:
            cfg.optim_wrapper.paramwise_cfg.backbone_lr_mult = 0.0
    else:
        cfg.model.backbone.fast_cpu_linear = True
        cfg.model.frozen_backbone_iters = 10**9 if frozen else 0
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device).train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def train_step(model, optim_wrapper, clips: torch.Tensor) -> None:
    """EMA update, both branches, losses, backward and optimizer step."""
    losses = model.loss(clips)
    optim_wrapper.update_params(sum(losses.values()))


def start_worker(variant: tuple, args) -> StepWorker:
    """The worker of one variant (:mod:`step_workers`)."""
    command = [
        sys.executable, __file__, '--device', args.device,
        '--batch-size', str(args.batch_size), '--size', str(args.size),
        '--steps', str(args.steps), '--threads', str(args.threads),
        '--variant', *variant
    ] + (['--check-sync'] if args.check_sync else [])
    env = dict(os.environ, **{ONEDNN_ENV_VAR: GEMMS[variant[1]]})
    return StepWorker('/'.join(variant), command, env)


def serve_variant(mode: str, gemm: str, phase: str, args) -> None:
    """The worker of one variant: times its steps on request, then replies
    its peak memory, the backend the products ran on and (GPU,
    ``--check-sync``) the synchronising calls of a step."""
    device = torch.device(args.device)
    torch.manual_seed(0)
    model, optim_wrapper = build_model_and_optimizer(mode, phase, device)
    clips = torch.randn(args.batch_size, 4, 3, args.size, args.size,
                        device=device)
    serve_steps(lambda: train_step(model, optim_wrapper, clips), device,
                args.steps)
    # the backend the products really ran on (oneDNN may have fallen back)
    ran_on = 'onednn' if (mode == 'mmsmtc' and device.type == 'cpu'
                          and onednn_linear_preferred()) else 'pytorch'
    result = dict(ran_on=ran_on, peak_mib=peak_memory_mib(device))
    if (device.type == 'cuda' and args.check_sync and mode == 'mmsmtc'):
        result['syncs'] = count_syncs(model, optim_wrapper, clips)
    reply(result)


def count_syncs(model, optim_wrapper, clips) -> list:
    """Messages of the synchronising CUDA calls made by one step."""
    torch.cuda.set_sync_debug_mode('warn')
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            train_step(model, optim_wrapper, clips)
    finally:
        torch.cuda.set_sync_debug_mode('default')
    return sorted({str(warning.message).split('\n')[0] for warning in caught})


def time_phase(phase_variants: list, args) -> list:
    """Results of one phase's variants.

    On the CPU the variants' workers live side by side (one busy at a
    time) and their repeats are interleaved, in a rotating order, so that a
    burst of load from other processes hits all of them alike; on a GPU
    they run one after another (their memory would add up)."""
    records = time_workers(
        [lambda variant=variant: start_worker(variant, args)
         for variant in phase_variants], args.repeats,
        side_by_side=args.device == 'cpu')
    return [
        dict(record, mode=mode, gemm=gemm, phase=phase)
        for record, (mode, gemm, phase) in zip(records, phase_variants)
    ]


def label(result: dict) -> str:
    if result['mode'] == BASELINE:
        return BASELINE
    names = dict(pytorch='PyTorch GEMM', onednn='oneDNN')
    name = f'mmsmtc, {names[result["gemm"]]}'
    if result['ran_on'] != result['gemm']:
        name += f' (ran on {names[result["ran_on"]]}!)'
    return name


def report(results: list, args) -> None:
    print('\n'.join(describe_machine(args.device)))
    print(f'SMTC ViT-S/16 training step, batch {args.batch_size} x 4 frames '
          f'x {args.size}x{args.size}, 16 slots x 4 instances, 3 iterations, '
          f'device {args.device}, {args.threads} threads; s/step: the best '
          f'(and median) of {args.repeats} interleaved repeats of '
          f'{args.steps} steps')
    print(f'{"phase":<10} {"variant":<36} {"s/step":>8} {"(median)":>9} '
          f'{"peak MiB":>9} {BASELINE + " / variant":>30}')
    for phase in PHASES:
        rows = [r for r in results if r['phase'] == phase]
        baseline = next(r for r in rows if r['mode'] == BASELINE)
        for result in rows:
            speedup = baseline['seconds'] / result['seconds']
            print(f'{phase:<10} {label(result):<36} '
                  f'{result["seconds"]:8.3f} {result["median"]:9.3f} '
                  f'{result["peak_mib"]:9.0f} {speedup:29.2f}x')
        onednn = [r for r in rows if r['gemm'] == 'onednn']
        pytorch = [r for r in rows
                   if r['mode'] == 'mmsmtc' and r['gemm'] == 'pytorch']
        if onednn and pytorch:
            print(f'{phase}: mmsmtc PyTorch GEMM / oneDNN = '
                  f'{pytorch[0]["seconds"] / onednn[0]["seconds"]:.2f}x '
                  '(above 1: oneDNN faster)')
        for result in rows:
            if result.get('syncs') is not None:
                print(f'{phase}: host synchronisations in one mmsmtc step: '
                      f'{len(result["syncs"])} {result["syncs"]}')


def main() -> None:
    args = parse_args()
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.batch_size is None:
        args.batch_size = 32 if args.device == 'cuda' else 2
    torch.set_num_threads(args.threads)
    register_all_modules()
    if args.variant is not None:
        if args.variant[0] == 'mmsmtc':
            keep_freed_host_memory()
        serve_variant(*args.variant, args)
        return
    load_before = os.getloadavg()[0]
    results = [
        result for phase in PHASES for result in time_phase(
            [v for v in variants(args) if v[2] == phase], args)
    ]
    report(results, args)
    print(f'load average (1 min) before / after: {load_before:.2f} / '
          f'{os.getloadavg()[0]:.2f} (on {os.cpu_count()} CPUs; other '
          'processes slow every variant)')


if __name__ == '__main__':
    main()
