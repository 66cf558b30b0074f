"""Speed and peak memory of Betrayed by Attention's test-time clustering:
mmsmtc vs the official algorithm.

What is timed, for one video (default 100 frames at 320x480, patch 8: a
40x60 grid, ``N = 2400`` patches per frame, key frames every 10 frames:
``M = 24000`` key patches): from the spatio-temporal block's queries and
keys (8 heads of 48) to the cluster id of every patch -- the inference
attention (every patch over the key-frame patches, heads averaged) and the
two-level KL threshold clustering, in the memory-efficient form of the
official ``mem_efficient_hierarchical_cluster`` (the attention of a
3-frame window is computed when needed, twice). The backbone and the
block's ``norm1``/``qkv`` are the same on both sides and left out.

* ``official``: the official ``src/eval_oneshot.py`` algorithm transcribed
  (:func:`official_clustering`): the 8-head attention of a window as one
  einsum, softmax, head mean; ``kl_distance`` with two matrix products; the
  full ``tau``-neighbourhood smoothing; the full distance matrix of the
  smoothed rows and the leader loop over every row; level-2 passes on the
  full centroid distance matrix; the assignment by ``argmin``.
* ``mmsmtc``: :meth:`BetrayedByAttention.cluster_video`'s path,
  :func:`mmsmtc.models.discovery.cluster_attention_windows` with
  :func:`mmsmtc.models.heads.head_averaged_attention` (the attention one
  head and one cache-sized block of rows at a time; one product for the
  self-distance; the smoothing once per distinct neighbourhood; distance
  rows for the leaders only, against the distinct rows still free).

At 320x480 with ten key frames a window's rows are ``7200 x 24000``: the
official form of the window attention would hold three 5 GiB tensors, so
the official side computes it in blocks of at most
``--official-max-logits`` logits (same values; small windows keep the
one-einsum form), and its five ``7200 x 7200 x 24000`` products take
minutes per window on one core: ``--subset-frames 9`` clusters the first
nine frames (three windows, one with a key frame; the whole video has 10
key-frame windows out of 34) over the whole video's key frames, so both
sides run the full-size windows and their ids can be compared; the whole
video is then run for mmsmtc alone (``--methods mmsmtc``).

Inputs: no weights or videos are needed (none can be downloaded on the
benchmark machines). The queries and keys are synthetic but structured:
``--objects`` ellipses move over a background; every patch's feature is its
object's random embedding plus noise, scaled so that the attention of a
patch concentrates on its object's patches, as with DINO keys. The cost
depends on the sizes, the number of clusters and the neighbourhood sizes,
which the run prints.

Each method runs in a fresh subprocess, timed by wall clock and by CPU
time (``time.process_time``, the steadier measure on a shared machine,
best with ``--threads 1``); peak memory is that process's peak
resident set size (``ru_maxrss``; ``import torch`` alone is printed as
``import_rss_mib``). The cluster ids of both are compared (numbered in order
of first appearance): ``identical`` or the number of differing patches.

Example::

    python tools/benchmarks/bench_bba_clustering.py --frames 30 \
        --height 160 --width 240 --threads 1                    # quick
    python tools/benchmarks/bench_bba_clustering.py \
        --subset-frames 9 --threads 1          # full-size windows, both
    python tools/benchmarks/bench_bba_clustering.py \
        --methods mmsmtc --threads 1           # the whole video, mmsmtc
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from mmsmtc.models.discovery import cluster_attention_windows
from mmsmtc.models.discovery.kl_clustering import (distinct_neighbourhoods,
                                                   first_appearance_ids)
from mmsmtc.models.heads import head_averaged_attention
from mmsmtc.ops.cpu_gemm import describe_processor

HEADS, HEAD_DIM = 8, 48
WINDOW = 3
#: Default bound on the official window attention's logits (1 GiB each).
OFFICIAL_MAX_LOGITS = 2**28
#: Peak resident memory the issue allows.
MEMORY_BOUND_MIB = 8192


def synthetic_queries_keys(args):
    """``q`` ``(T, heads, N, d)`` and ``k`` ``(S, heads, N, d)`` (``T``:
    the first ``--subset-frames`` frames when given; the key frames are
    those of the whole video)."""
    generator = torch.Generator().manual_seed(args.seed)
    height, width = args.height // args.patch, args.width // args.patch
    ys = torch.arange(height).float()[:, None] / height
    xs = torch.arange(width).float()[None] / width
    dim = HEADS * HEAD_DIM
    embeddings = torch.randn(args.objects + 1, dim, generator=generator)
    start = torch.rand(args.objects, 2, generator=generator) * 0.6 + 0.2
    velocity = (torch.rand(args.objects, 2, generator=generator) - 0.5) * 0.01
    radius = torch.rand(args.objects, 2, generator=generator) * 0.12 + 0.06
    features = []
    for frame in range(args.frames):
        label = torch.zeros(height, width, dtype=torch.long)
        for obj in range(args.objects):
            centre = (start[obj] + frame * velocity[obj]).clamp(0.1, 0.9)
            inside = (((ys - centre[0]) / radius[obj, 0])**2 +
                      ((xs - centre[1]) / radius[obj, 1])**2) <= 1
            label[inside] = obj + 1
        noise = torch.randn(height * width, dim, generator=generator)
        features.append(embeddings[label.flatten()] + args.noise * noise)
    features = torch.stack(features) * args.feature_scale
    heads = features.unflatten(-1, (HEADS, HEAD_DIM)).transpose(1, 2)
    key_frames = torch.arange(max(1, args.frames // args.ratio)) * args.ratio
    clustered = args.subset_frames or args.frames
    return heads[:clustered].contiguous(), heads[key_frames].contiguous()


# ----------------------------------------------------------------------
# the official algorithm (src/eval_oneshot.py), transcribed
def official_kl(x, y):
    self_entropy = (-torch.einsum('nc,nc->n', x, torch.log(x))[:, None] -
                    torch.einsum('mc,mc->m', y, torch.log(y))[None])
    cross = (-torch.einsum('nc,mc->nm', x, torch.log(y)) -
             torch.einsum('mc,nc->nm', y, torch.log(x)))
    return cross - self_entropy


def official_attention_rows(q, k, scale):
    """The official form: ``q`` ``(t, h, n, c)``, ``k`` ``(s, h, m, c)`` ->
    ``(t n, s m)``: one einsum of all heads' logits, rearranged, softmax,
    head mean."""
    logits = torch.einsum('qhnc,khmc->qkhnm', q, k) * scale
    t, s, h, n, m = logits.shape
    logits = logits.permute(0, 3, 2, 1, 4).reshape(t * n, h, s * m)
    return logits.softmax(dim=-1).mean(dim=1)


def official_window_attention(q, k, scale, max_elements=None):
    """A window's attention rows, :func:`official_attention_rows` at once
    (as officially) when its logits have at most ``max_elements`` elements
    (or no bound is given), else a block of one frame's patches at a time
    within that bound (the same values; the official form holds three
    tensors of ``t * h * n * s * m`` elements, 17 GB at 320x480 with ten
    key frames)."""
    t, h, n, _ = q.shape
    s, _, m, _ = k.shape
    if max_elements is None or t * h * n * s * m <= max_elements:
        return official_attention_rows(q, k, scale)
    rows = max(1, min(n, max_elements // (h * s * m)))
    output = q.new_empty((t * n, s * m))
    for frame in range(t):
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            output[frame * n + start:frame * n + stop] = \
                official_attention_rows(q[frame:frame + 1, :, start:stop], k,
                                        scale)
    return output


def official_leaders(rows, tau):
    distance = official_kl(rows, rows)
    indicator = torch.ones(len(rows))
    centroids = []
    for i in range(len(rows)):
        if indicator[i] == 0:
            continue
        members = (distance[i] <= tau) * (indicator > 0)
        centroids.append(torch.mean(rows[members], dim=0))
        indicator[members] = 0
    return centroids


def official_clustering(q, k, scale, tau, num_iter=10000,
                        max_elements=None):
    level_one = []
    for t in range(0, q.shape[0], WINDOW):
        sample = official_window_attention(q[t:t + WINDOW], k, scale,
                                           max_elements)
        near = (official_kl(sample, sample) <= tau).float()
        smoothed = torch.einsum('bn,nc->bc', near, sample)
        smoothed = smoothed / smoothed.sum(dim=1, keepdim=True)
        level_one += official_leaders(smoothed, tau)
    centroids = level_one
    for _ in range(num_iter):
        merged = official_leaders(torch.stack(centroids), tau)
        if len(merged) == len(centroids):
            break
        centroids = merged
    centroids = torch.stack(merged)
    labels = []
    for t in range(0, q.shape[0], WINDOW):
        sample = official_window_attention(q[t:t + WINDOW], k, scale,
                                           max_elements)
        labels.append(torch.argmin(official_kl(centroids, sample), dim=0))
    return torch.cat(labels), len(centroids)


# ----------------------------------------------------------------------
def mmsmtc_clustering(q, k, scale, tau):
    queries = q.transpose(0, 1).flatten(1, 2)
    keys = k.transpose(0, 1).flatten(1, 2)
    patches = q.shape[2]

    def read_rows(start, stop):
        return head_averaged_attention(
            queries[:, start * patches:stop * patches], keys, scale)

    labels = cluster_attention_windows(read_rows, q.shape[0], tau, WINDOW)
    return labels, int(labels.max()) + 1


def neighbourhood_sizes(q, k, scale, tau):
    """Mean fraction of a window's rows within ``tau`` and the number of
    distinct neighbourhoods (first window)."""
    sample = head_averaged_attention(
        q[:WINDOW].transpose(0, 1).flatten(1, 2),
        k.transpose(0, 1).flatten(1, 2), scale)
    neighbours, inverse = distinct_neighbourhoods(sample, tau)
    counts = torch.bincount(inverse, minlength=len(neighbours))
    density = float((neighbours.sum(1) * counts).sum()) / len(inverse)**2
    return density, len(neighbours), len(inverse)


def run_worker(args) -> None:
    import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.set_num_threads(args.threads or torch.get_num_threads())
    q, k = synthetic_queries_keys(args)
    scale = HEAD_DIM**-0.5
    start = time.perf_counter()
    cpu_start = time.process_time()
    with torch.no_grad():
        if args.worker == 'official':
            labels, clusters = official_clustering(
                q, k, scale, args.tau,
                max_elements=args.official_max_logits or None)
        else:
            labels, clusters = mmsmtc_clustering(q, k, scale, args.tau)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    density = None
    if args.worker == 'mmsmtc':
        density = neighbourhood_sizes(q, k, scale, args.tau)
    torch.save(first_appearance_ids(labels), args.labels)
    print(json.dumps(dict(
        seconds=seconds, cpu_seconds=cpu_seconds, clusters=clusters,
        density=density,
        peak_rss_mib=peak / 1024, import_rss_mib=import_rss / 1024)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=100)
    parser.add_argument('--height', type=int, default=320)
    parser.add_argument('--width', type=int, default=480)
    parser.add_argument('--patch', type=int, default=8)
    parser.add_argument('--ratio', type=int, default=10,
                        help='key frame stride (official --ratio)')
    parser.add_argument('--tau', type=float, default=1.0)
    parser.add_argument('--objects', type=int, default=6)
    parser.add_argument('--noise', type=float, default=1.0,
                        help='feature noise relative to the embeddings')
    parser.add_argument('--feature-scale', type=float, default=0.8,
                        help='scale of the query/key features')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--subset-frames', type=int, default=0,
        help='cluster only the first F frames (over the key frames of the '
        'whole video: the same per-window sizes in a fraction of the time); '
        '0: all frames')
    parser.add_argument(
        '--official-max-logits', type=int, default=OFFICIAL_MAX_LOGITS,
        help='most elements of one block of logits in the official '
        'attention (its one-einsum form is kept when a window fits); 0: no '
        'bound')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (0: torch default)')
    parser.add_argument('--methods', nargs='+',
                        default=['official', 'mmsmtc'],
                        choices=['official', 'mmsmtc'])
    parser.add_argument('--worker', choices=['official', 'mmsmtc'],
                        help=argparse.SUPPRESS)
    parser.add_argument('--labels', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return 0
    argv = list(sys.argv[1:] if argv is None else argv)
    patches = (args.height // args.patch) * (args.width // args.patch)
    key_frames = max(1, args.frames // args.ratio)
    clustered = min(args.subset_frames or args.frames, args.frames)
    windows = -(-clustered // WINDOW)
    print(f'processor: {describe_processor()}')
    print(f'video: {args.frames} frames at {args.height}x{args.width}, '
          f'N = {patches} patches per frame, {key_frames} key frames '
          f'(M = {key_frames * patches}), tau {args.tau}, windows of '
          f'{WINDOW} frames, torch threads '
          f'{args.threads or torch.get_num_threads()}')
    if clustered < args.frames:
        print(f'clustered: the first {clustered} frames only ({windows} '
              f'windows of {WINDOW * patches} rows over the M key patches of '
              'the whole video)')
    window_logits = HEADS * WINDOW * patches * key_frames * patches
    if args.official_max_logits and \
            window_logits > args.official_max_logits:
        print(f'official: window attention in blocks of at most '
              f'{args.official_max_logits} logits (its one-einsum form '
              f'holds 3 x {window_logits * 4 / 2**30:.1f} GiB at once)')
    # the inputs are made in the workers only: Linux keeps a process's peak
    # RSS across fork and exec, so a large parent would inflate theirs
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            labels = Path(tmp) / f'{method}.pt'
            out = subprocess.run(
                [sys.executable, __file__, *argv, '--worker', method,
                 '--labels', str(labels)],
                capture_output=True, text=True)
            if out.returncode:
                print(f'{method}: failed\n{out.stderr[-2000:]}')
                return 1
            results[method] = json.loads(out.stdout.strip().splitlines()[-1])
            results[method]['labels'] = torch.load(labels)
            r = results[method]
            print(f'{method:9s} {r["seconds"]:9.1f} s (CPU time '
                  f'{r["cpu_seconds"]:9.1f} s)  clusters '
                  f'{r["clusters"]:4d}  peak RSS {r["peak_rss_mib"]:8.0f} MiB'
                  f' (import torch: {r["import_rss_mib"]:.0f} MiB)')
    if 'mmsmtc' in results:
        density, distinct, rows = results['mmsmtc']['density']
        print('first window (measured after the timing): neighbourhood '
              f'density {density:.3f}, {distinct} distinct neighbourhoods '
              f'of {rows} rows')
    if len(results) == 2:
        official, ours = results['official'], results['mmsmtc']
        differing = int((official['labels'] != ours['labels']).sum())
        same = 'identical' if differing == 0 else \
            f'{differing} of {len(ours["labels"])} patches differ'
        ratio = official['seconds'] / ours['seconds']
        cpu_ratio = official['cpu_seconds'] / ours['cpu_seconds']
        print(f'speed-up mmsmtc vs official: {ratio:.2f}x wall clock, '
              f'{cpu_ratio:.2f}x CPU time; cluster ids: {same}')
    for method, result in results.items():
        bounded = result['peak_rss_mib'] < MEMORY_BOUND_MIB
        print(f'{method}: {result["cpu_seconds"] / windows:.2f} s CPU time '
              f'per window; peak RSS {result["peak_rss_mib"] / 1024:.2f} '
              f'GiB (bound {MEMORY_BOUND_MIB // 1024} GiB: '
              f'{"ok" if bounded else "EXCEEDED"})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
