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
on the device, runs the encoder's float32 products on oneDNN where the
processor has AVX-512 (:mod:`mmsmtc.ops.cpu_gemm`) and keeps freed
host memory for reuse (:func:`mmsmtc.utils.keep_freed_host_memory`, as
``tools/train.py`` does). Everything else is shared by both variants and
therefore equally fast in both: the per-branch view augmentation
(mmsmtc's ``ClipPhotometricAugment``, not the official kornia pipeline),
the neck, the head, the losses and the AdamW step. The official code also
runs with ``torch.autograd.set_detect_anomaly(True)``; the baseline does
not, which favours it.

Where the time goes (CPU, batch 2): the encoder forward is about 11.4
GFLOP per 256x256 frame (ViT-S/16, 257 tokens: 11 full blocks of about
1.01 GFLOP, the last block's keys, the patch embedding), 16 frames per step
(student and teacher views) = about 182 GFLOP; the trainable phase adds the
student encoder's backward (about twice its forward). So the step is
bounded by the GEMM rate. The MKL in the PyTorch wheels runs AVX2 code on
non-Intel processors: on the AMD EPYC (Zen 5) of our CI, 2 threads, it
reaches 155-190 GFLOP/s on these shapes, oneDNN 400 (forward) and 260-280
(weight gradients). On a processor without AVX-512 both backends are
alike and the mmsmtc gain is the skipped work alone (``--no-onednn``
measures that here: 2.0x frozen, 1.14x trainable).

Host synchronisation on GPU: the mmsmtc matching never reads costs back
(``enumerate_assignment``); ``--check-sync`` runs the mmsmtc steps under
``torch.cuda.set_sync_debug_mode('warn')`` and prints the synchronising
calls it reports.

Every variant runs in a fresh process, so the peak resident memory
(``ru_maxrss``) is its own; on GPU the peak allocated memory is reported.
The official code measured in the issue: about 4.4 s per step on one idle
core at batch 2 and about 2.5 s on two cores.

Example::

    python tools/benchmarks/bench_train_step.py --threads 2 --repeats 3
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmsmtc.ops.cpu_gemm import ONEDNN_ENV_VAR
from mmsmtc.registry import MODELS
from mmsmtc.utils import keep_freed_host_memory, register_all_modules

CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'smtc' / \
    'smtc_vit-s16_4xb32-10k_ytvos-256x256.py'
#: Official SMTC seconds per step on the CPU at batch 2 (from the issue).
OFFICIAL_CPU_SECONDS = {'1 idle core': 4.4, '2 cores': 2.5}
MODES = ('mmsmtc', 'official-equivalent')
PHASES = ('frozen', 'trainable')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda when available)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='clips per step (default: 2 on CPU, 32 on GPU)')
    parser.add_argument('--size', type=int, default=256,
                        help='frame side in pixels')
    parser.add_argument('--steps', type=int, default=3,
                        help='timed steps per repeat (after 1 warm-up step)')
    parser.add_argument('--repeats', type=int, default=3,
                        help='repeats; the best mean is reported')
    parser.add_argument('--threads', type=int, default=2,
                        help='torch CPU threads')
    parser.add_argument(
        '--no-onednn', action='store_true',
        help="mmsmtc's products on PyTorch's default CPU GEMM as well "
        '(what a processor without AVX-512 gets)')
    parser.add_argument('--check-sync', action='store_true',
                        help='GPU: report host synchronisations in a step')
    parser.add_argument('--variant', nargs=2, metavar=('MODE', 'PHASE'),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def build_model_and_optimizer(mode: str, phase: str, device: torch.device):
    """The official-shape SMTC and its optim wrapper for one variant.

    Returns:
        tuple: ``(model, optim_wrapper)``, the model in train mode on
        ``device`` with randomly initialised weights (no checkpoint needed).
    """
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    frozen = phase == 'frozen'
    if mode == 'official-equivalent':
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
        cfg.model.frozen_backbone_iters = 10**9 if frozen else 0
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device).train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def train_step(model, optim_wrapper, clips: torch.Tensor) -> None:
    """EMA update, both branches, losses, backward and optimizer step."""
    losses = model.loss(clips)
    optim_wrapper.update_params(sum(losses.values()))


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_variant(mode: str, phase: str, args) -> dict:
    """Seconds per step (best of the repeats) and peak memory of a variant."""
    device = torch.device(args.device)
    torch.manual_seed(0)
    model, optim_wrapper = build_model_and_optimizer(mode, phase, device)
    clips = torch.randn(args.batch_size, 4, 3, args.size, args.size,
                        device=device)
    train_step(model, optim_wrapper, clips)
    synchronize(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    best = float('inf')
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            train_step(model, optim_wrapper, clips)
        synchronize(device)
        best = min(best, (time.perf_counter() - start) / args.steps)
    result = dict(mode=mode, phase=phase, seconds=best)
    if device.type == 'cuda':
        result['peak_mib'] = torch.cuda.max_memory_allocated(device) / 2**20
        if args.check_sync and mode == 'mmsmtc':
            result['syncs'] = count_syncs(model, optim_wrapper, clips)
    else:
        result['peak_mib'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


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


def run_in_subprocess(mode: str, phase: str, args) -> dict:
    """Time one variant in a fresh interpreter (own peak memory)."""
    command = [
        sys.executable, __file__, '--device', args.device, '--batch-size',
        str(args.batch_size), '--size', str(args.size), '--steps',
        str(args.steps), '--repeats', str(args.repeats), '--threads',
        str(args.threads), '--variant', mode, phase
    ] + (['--check-sync'] if args.check_sync else [])
    env = dict(os.environ)
    if args.no_onednn:
        env[ONEDNN_ENV_VAR] = '0'
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f'variant {mode}/{phase} failed:\n'
                           f'{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: list, args) -> None:
    by_key = {(r['mode'], r['phase']): r for r in results}
    print(f'SMTC ViT-S/16 training step, batch {args.batch_size} x 4 frames '
          f'x {args.size}x{args.size}, 16 slots x 4 instances, 3 iterations, '
          f'device {args.device}, {args.threads} threads, mmsmtc GEMM '
          f'{"PyTorch default" if args.no_onednn else "oneDNN if AVX-512"}, '
          f'best of '
          f'{args.repeats} x {args.steps} steps')
    print(f'{"phase":<10} {"mode":<20} {"s/step":>8} {"peak MiB":>9}')
    for phase in PHASES:
        for mode in MODES:
            result = by_key[(mode, phase)]
            print(f'{phase:<10} {mode:<20} {result["seconds"]:8.3f} '
                  f'{result["peak_mib"]:9.0f}')
    for phase in PHASES:
        ours = by_key[('mmsmtc', phase)]['seconds']
        baseline = by_key[('official-equivalent', phase)]['seconds']
        print(f'{phase}: official-equivalent / mmsmtc = '
              f'{baseline / ours:.2f}x')
    for phase in PHASES:
        syncs = by_key[('mmsmtc', phase)].get('syncs')
        if syncs is not None:
            print(f'{phase}: host synchronisations in one mmsmtc step: '
                  f'{len(syncs)} {syncs}')
    if args.device == 'cpu':
        official = ', '.join(f'{value} s on {where}'
                             for where, value in OFFICIAL_CPU_SECONDS.items())
        print(f'official SMTC code at batch 2 (issue): {official}')


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
        print(json.dumps(time_variant(*args.variant, args)))
        return
    results = [
        run_in_subprocess(mode, phase, args) for phase in PHASES
        for mode in MODES
    ]
    report(results, args)


if __name__ == '__main__':
    main()
