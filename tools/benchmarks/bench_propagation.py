"""Speed and peak memory of label propagation: mmsmtc vs the dense baseline.

Runs on real videos: by default the frames vendored in the repository
(``tests/data/videos/judo``: 6 frames of DAVIS ``judo`` at 240x427, see
``tests/data/README.md``), which the ``judo-*`` cases use; the ``1080p-*``
cases need the full 1920x1080 video of the shared sample data
(``--data-root ../shared/data``, which also holds ``judo`` at 480x854: the
Spa-then-Temp cases ``judo-s8-stt`` and ``judo-s4-stt-r35`` then run on
DAVIS's 60x106 and 120x213 grids). No
pretrained weights exist on the benchmark machines, so features are a fixed
random projection of the frames (a seeded ``stride x stride`` convolution
at the given stride, ``C`` channels): the propagation cost depends on the
grid, ``C``, the settings and ``K``, not on what the features mean.

Both sides use float32 products: the dense baseline through ``torch``'s
default CPU GEMM, as the official code (MKL, which runs AVX2 code on
non-Intel processors), mmsmtc through :func:`mmsmtc.ops.linear` (oneDNN
where the processor has AVX-512); ``--no-onednn`` gives mmsmtc PyTorch's
default too, to separate the algorithm from the GEMM backend.

Each (case, method) runs in a fresh subprocess; peak memory is that
process's peak resident set size (``resource.getrusage(...).ru_maxrss``:
everything, torch allocations included; ``import torch`` alone accounts for
about 530 MiB with a CUDA build, printed as ``import_rss_mib``). Reported
per case:

* ``dense`` (:func:`mmsmtc.apis.propagate_labels_dense`, the protocol
  transcribed: every source cell scored against every target cell, chunks of
  100 target cells as the official code) on frames ``1 .. N-1``; its cost
  per frame does not depend on the frame index;
* ``dense64`` (optional, slow): the same in float64 with ties to the first
  source, the exact protocol that mmsmtc's float32 output reproduces (argmax
  on every cell, probabilities within 1e-5); the float32 ``dense`` run
  differs from it at near-tied cells;
* ``mmsmtc`` (:class:`mmsmtc.apis.StreamingLabelPropagation`) on the same
  frames (outputs compared with the dense ones), then in the steady state:
  the bank is filled with ``n_context`` more frames (``remember``) and the
  next ``--steady-frames`` steps are timed; early frames are cheaper because
  the frame-0 copies that pad the context reuse the frame-0 logits. With
  Spa-then-Temp's ``context='recent'`` early frames have fewer sources for
  both methods, so the dense baseline's frames ``1 .. N-1`` are cheaper than
  its steady state: the "steady" speed-up understates mmsmtc's; "same
  frames" is the like-for-like ratio, and the dense steady state is also
  estimated from its measured cost per source frame (the dense cost is
  linear in the number of source frames) times ``1 + n_context``.

Example::

    python tools/benchmarks/bench_propagation.py
    python tools/benchmarks/bench_propagation.py --frames 3 \\
        --data-root ../shared/data --cases judo-s16-smtc 1080p-s8-r35
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mmsmtc.apis import (StreamingLabelPropagation, first_frame_labels,
                         label_grid_size, propagate_labels_dense,
                         resize_to_multiple)
from mmsmtc.ops import onednn_linear_preferred
from mmsmtc.ops.cpu_gemm import ONEDNN_ENV_VAR, describe_processor
from mmsmtc.ops.propagation.dense_reference import dense_source_frames
from mmsmtc.utils import read_indexed_png
from mmsmtc.utils.launch import run_cli

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225])[:, None, None]

SMTC_S16 = dict(topk=7, radius=7, temperature=0.2, n_context=20)
SMTC_S8_R35 = dict(topk=28, radius=35, temperature=0.2, n_context=20)
CRW_S8 = dict(topk=10, radius=12, temperature=0.05, n_context=20)
#: Spa-then-Temp / VFS: square window on every source, real-frame context;
#: DAVIS window half-sizes 12 (stride 8) and 35 (stride 4).
STT_OPTIONS = dict(window='square', restrict_first_frame=True,
                   context='recent')
STT_S8 = dict(topk=10, radius=12, temperature=0.07, n_context=20,
              **STT_OPTIONS)
STT_S4_R35 = dict(topk=10, radius=35, temperature=0.07, n_context=20,
                  **STT_OPTIONS)

#: name -> (video folder, stride, channels, settings)
CASES = {
    'judo-s16-smtc': ('judo', 16, 384, SMTC_S16),
    'judo-s8-crw': ('judo', 8, 256, CRW_S8),
    'judo-s8-r35': ('judo', 8, 256, SMTC_S8_R35),
    'judo-s8-stt': ('judo', 8, 256, STT_S8),
    'judo-s4-stt-r35': ('judo', 4, 256, STT_S4_R35),
    '1080p-s16-smtc': ('1007_YCTBBdbKSSg', 16, 384, SMTC_S16),
    '1080p-s8-crw': ('1007_YCTBBdbKSSg', 8, 256, CRW_S8),
    '1080p-s8-r35': ('1007_YCTBBdbKSSg', 8, 256, SMTC_S8_R35),
}


def default_data_root() -> Path:
    """``tests/data`` of the repository (the vendored frames)."""
    return Path(__file__).resolve().parents[2] / 'tests' / 'data'


def check_cases(data_root: Path, cases) -> None:
    """Raise ``FileNotFoundError`` naming the video a case needs and that
    ``data_root`` lacks."""
    for case in cases:
        video = Path(data_root) / 'videos' / CASES[case][0]
        if not (video / 'JPEGImages').is_dir():
            raise FileNotFoundError(
                f'{video}: case {case} needs this video (the 1080p cases: '
                'pass --data-root ../shared/data)')


class RandomProjectionFeatures:
    """Seeded ``stride x stride / stride`` convolution of normalised frames."""

    def __init__(self, stride: int, channels: int, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.stride = stride
        self.weight = torch.randn(
            channels, 3, stride, stride, generator=generator) / stride

    def __call__(self, path: Path) -> torch.Tensor:
        """``(C, H // s, W // s)`` features of one frame file."""
        image = np.asarray(Image.open(path).convert('RGB'), np.float32) / 255
        frame = torch.from_numpy(image).permute(2, 0, 1)
        frame = (frame - IMAGENET_MEAN) / IMAGENET_STD
        frame = resize_to_multiple(frame[None], self.stride)
        return F.conv2d(frame, self.weight, stride=self.stride)[0]


def load_case(data_root: Path, name: str):
    folder, stride, channels, settings = CASES[name]
    video = data_root / 'videos' / folder
    frame_paths = sorted((video / 'JPEGImages').glob('*.jpg'))
    annotation = read_indexed_png(sorted((video / 'Annotations').glob(
        '*.png'))[0])
    grid = label_grid_size(*annotation.shape, stride)
    labels, _ = first_frame_labels(annotation, grid)
    return frame_paths, RandomProjectionFeatures(stride,
                                                 channels), labels, settings


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (timings on a GPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def run_worker(args) -> dict:
    """One method on one case, in this (fresh) process."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    import_rss = peak_rss_mib()
    frame_paths, cpu_extract, labels, settings = load_case(
        args.data_root, args.case)
    labels = labels.to(device)

    def extract(path):
        return cpu_extract(path).to(device)

    paths = frame_paths[:args.frames]
    result = dict(case=args.case, method=args.method, frames=len(paths),
                  grid=list(labels.shape[1:]), labels=labels.shape[0])
    if args.method in ('dense', 'dense64'):
        feats = torch.stack([extract(p) for p in paths])
        exact = dict(tie_break='first', dtype=torch.float64)
        synchronize(device)
        start = time.perf_counter()
        out = propagate_labels_dense(
            feats, labels, **settings,
            **(exact if args.method == 'dense64' else {}))
        synchronize(device)
        result['seconds_per_frame'] = (time.perf_counter() - start) / max(
            len(paths) - 1, 1)
        result['source_frames'] = sum(
            len(dense_source_frames(t, settings['n_context'],
                                    settings.get('context', 'pad')))
            for t in range(1, len(paths)))
    else:
        engine = StreamingLabelPropagation(
            extract(paths[0]), labels, tile_size=args.tile_size, **settings)
        out, times = [labels], []
        for path in paths[1:]:
            feats = extract(path)
            synchronize(device)
            start = time.perf_counter()
            out.append(engine.step(feats))
            synchronize(device)
            times.append(time.perf_counter() - start)
        out = torch.stack(out)
        result['seconds_per_frame'] = float(np.mean(times)) if times else 0.
        # Short videos are cycled: only the bank's size matters for speed.
        more = [
            frame_paths[i % len(frame_paths)]
            for i in range(len(paths), len(paths) + settings['n_context'] +
                           args.steady_frames)
        ]
        for path in more[:settings['n_context']]:
            engine.remember(extract(path), out[-1])
        steady = []
        for path in more[settings['n_context']:]:
            feats = extract(path)
            synchronize(device)
            start = time.perf_counter()
            engine.step(feats)
            synchronize(device)
            steady.append(time.perf_counter() - start)
        result['steady_seconds_per_frame'] = float(
            np.mean(steady)) if steady else None
    result['peak_rss_mib'] = peak_rss_mib()
    result['import_rss_mib'] = import_rss
    if device.type == 'cuda':
        result['peak_gpu_mib'] = torch.cuda.max_memory_allocated(
            device) / 2**20
    torch.save(out.cpu(), args.output)
    return result


def spawn(args, case: str, method: str, output: Path) -> dict:
    command = [
        sys.executable, __file__, '--worker', '--case', case, '--method',
        method, '--output',
        str(output), '--frames',
        str(args.frames), '--steady-frames',
        str(args.steady_frames), '--tile-size',
        str(args.tile_size), '--threads',
        str(args.threads), '--data-root',
        str(args.data_root), '--device', args.device
    ]
    env = dict(os.environ)
    if args.no_onednn:
        env[ONEDNN_ENV_VAR] = '0'
    completed = subprocess.run(
        command, check=True, capture_output=True, text=True, env=env)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def compare(ours: torch.Tensor, dense: torch.Tensor) -> dict:
    same_argmax = (ours.argmax(1) == dense.argmax(1)).float().mean().item()
    return dict(
        max_abs_diff=(ours - dense).abs().max().item(),
        argmax_agreement=same_argmax)


def run_case(args, case: str, scratch: Path) -> None:
    results = {}
    for method in args.methods:
        results[method] = spawn(args, case, method, scratch / f'{method}.pt')
        print(f'  {method:6s} {json.dumps(results[method])}', flush=True)
    if {'mmsmtc', 'dense'} <= set(results):
        ours, dense = results['mmsmtc'], results['dense']
        agreement = compare(
            torch.load(scratch / 'mmsmtc.pt'),
            torch.load(scratch / 'dense.pt'))
        steady = ours['steady_seconds_per_frame'] or ours['seconds_per_frame']
        dense_time = dense['seconds_per_frame']
        # the dense cost is linear in the number of source frames: its
        # steady state (1 + n_context sources) from its per-source cost
        dense_steady = dense_time * (dense['frames'] - 1) / dense[
            'source_frames'] * (1 + CASES[case][3]['n_context'])
        same_frames = max(ours['seconds_per_frame'], 1e-9)
        print(f'  {case}: dense {dense_time:.2f} s/frame, '
              f'mmsmtc {ours["seconds_per_frame"]:.2f} s/frame (frames '
              f'1..{args.frames - 1}), steady {steady:.2f} s/frame -> '
              f'speed-up x{dense_time / steady:.1f} (steady), '
              f'x{dense_time / same_frames:.1f} (same frames), '
              f'x{dense_steady / steady:.1f} (steady vs the dense '
              f'steady state estimated from its per-source-frame cost, '
              f'{dense_steady:.2f} s/frame); peak RSS '
              f'dense {dense["peak_rss_mib"]:.0f} MiB, mmsmtc '
              f'{ours["peak_rss_mib"]:.0f} MiB -> '
              f'x{dense["peak_rss_mib"] / ours["peak_rss_mib"]:.1f}; '
              + (f'peak GPU memory dense {dense["peak_gpu_mib"]:.0f} MiB, '
                 f'mmsmtc {ours["peak_gpu_mib"]:.0f} MiB; '
                 if 'peak_gpu_mib' in ours else '') +
              f'max |dp| {agreement["max_abs_diff"]:.2e}, argmax agreement '
              f'{100 * agreement["argmax_agreement"]:.4f}%', flush=True)
    if {'mmsmtc', 'dense64'} <= set(results):
        agreement = compare(
            torch.load(scratch / 'mmsmtc.pt').double(),
            torch.load(scratch / 'dense64.pt'))
        print(f'  {case}: vs the float64 protocol: max |dp| '
              f'{agreement["max_abs_diff"]:.2e}, argmax agreement '
              f'{100 * agreement["argmax_agreement"]:.4f}%', flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', nargs='+', choices=sorted(CASES),
                        default=['judo-s16-smtc', 'judo-s8-crw'])
    parser.add_argument('--methods', nargs='+',
                        choices=['mmsmtc', 'dense', 'dense64'],
                        default=['mmsmtc', 'dense'])
    parser.add_argument('--frames', type=int, default=3,
                        help='frames propagated by both methods (>= 2)')
    parser.add_argument('--steady-frames', type=int, default=1,
                        help='steady-state steps timed for mmsmtc (0: skip)')
    parser.add_argument('--tile-size', type=int, default=8)
    parser.add_argument(
        '--threads', type=int, default=1,
        help='torch threads of each run (1 by default: on a shared 2-core '
        'machine two threads thrash and slow small operations 5x)')
    parser.add_argument(
        '--data-root', type=Path, default=default_data_root(),
        help='folder with videos/<name>/{JPEGImages,Annotations} (default: '
        'the vendored tests/data)')
    parser.add_argument(
        '--device', default='cpu',
        help='cpu or cuda[:N]: where features, labels and the propagation '
        'live (peak GPU memory is reported on CUDA)')
    parser.add_argument(
        '--no-onednn', action='store_true',
        help="mmsmtc's products on PyTorch's default CPU GEMM as well")
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--case', help=argparse.SUPPRESS)
    parser.add_argument('--method', help=argparse.SUPPRESS)
    parser.add_argument('--output', type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    check_cases(args.data_root, args.cases)
    gemm = ('PyTorch default' if args.no_onednn
            or not onednn_linear_preferred() else 'oneDNN')
    print(f'{describe_processor()}; torch {torch.__version__}, {args.threads} '
          f'threads, device {args.device}, frames {args.frames}, data '
          f'{args.data_root}, mmsmtc GEMM: {gemm}')
    with tempfile.TemporaryDirectory() as scratch:
        for case in args.cases:
            print(f'{case}: {CASES[case][:3]} {CASES[case][3]}', flush=True)
            run_case(args, case, Path(scratch))


if __name__ == '__main__':
    run_cli(main, (FileNotFoundError, ))
