"""Timing training steps, each variant in its own interpreter.

Shared by the training-step benchmarks (``bench_train_step.py``,
``bench_videosaur_train_step.py``). A variant runs in a worker process
(the benchmark script started again with the variant's arguments), so its
peak resident memory is its own; the main process starts the workers,
asks them for timed repeats and collects their final records.

Protocol (a JSON object per line on the worker's stdout after
:data:`REPLY_PREFIX`; its other lines are logs): the worker builds its
model, runs one warm-up step and replies ``{"ready": true}``; each ``run``
line on its stdin times ``steps`` steps and replies ``{"seconds": mean,
"cpu_seconds": mean}`` (wall-clock and the process's CPU time per step);
``stop`` makes it reply its final record (peak memory and whatever the
benchmark adds) and exit. :func:`serve_steps` is the worker's side,
:class:`StepWorker` the main process's.
"""
import argparse
import collections
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from mmsmtc.ops.cpu_gemm import (ONEDNN_ENV_VAR, default_rule,
                                 describe_processor, processor_info)

#: Start of a worker's reply line (other lines are its logs).
REPLY_PREFIX = '@bench-reply '


def add_timing_arguments(parser: argparse.ArgumentParser,
                         steps: int) -> None:
    """The options every step benchmark takes: ``--device``, ``--steps``
    (default ``steps``), ``--repeats`` and ``--threads``."""
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda when available)')
    parser.add_argument('--steps', type=int, default=steps,
                        help='timed steps per repeat (after 1 warm-up step)')
    parser.add_argument(
        '--repeats', type=int, default=3,
        help='repeats, interleaved across the variants on the CPU; the best '
        'mean is reported, and the median')
    parser.add_argument('--threads', type=int, default=2,
                        help='torch CPU threads')


def reply(message: dict) -> None:
    """Send ``message`` to the main process (worker side)."""
    print(REPLY_PREFIX + json.dumps(message), flush=True)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def peak_memory_mib(device: torch.device) -> float:
    """The process's peak resident memory on the CPU, the peak allocated
    GPU memory on a CUDA device (since the last reset), in MiB."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def describe_machine(device: str) -> List[str]:
    """Report lines: the processor (model name, vendor, ISA flags) and the
    GPU, or on the CPU the GEMM backend mmsmtc's ViT picks by default on
    this processor (:mod:`mmsmtc.ops.cpu_gemm`)."""
    lines = [f'processor: {describe_processor()}']
    if device == 'cuda':
        lines.append(f'GPU: {torch.cuda.get_device_name()}')
    else:
        info = processor_info()
        use, why = default_rule(info['vendor'], info['torch_capability'])
        lines.append('mmsmtc\'s default GEMM on this processor ('
                     f'{ONEDNN_ENV_VAR} unset): '
                     f'{"oneDNN" if use else "PyTorch GEMM"} ({why})')
    return lines


def serve_steps(step: Callable[[], None], device: torch.device,
                steps: int) -> None:
    """The worker's loop: warm up, then time ``steps`` calls of ``step`` for
    every ``run`` request until ``stop``.

    The GPU's peak memory statistics are reset after the warm-up step, so
    that :func:`peak_memory_mib` covers the timed steps. The caller replies
    its final record after this returns.
    """
    step()
    synchronize(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    reply(dict(ready=True))
    for command in sys.stdin:
        if command.strip() == 'stop':
            return
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        synchronize(device)
        reply(dict(seconds=(time.perf_counter() - start) / steps,
                   cpu_seconds=(time.process_time() - cpu_start) / steps))


class StepWorker:
    """One variant in its own interpreter, built once and then timed on
    request, so that the variants' repeats can be interleaved.

    Args:
        name: The variant's name, for error messages.
        command: The worker's command line.
        env: Its environment (default: this process's).
    """

    def __init__(self,
                 name: str,
                 command: Sequence[str],
                 env: Optional[Dict[str, str]] = None) -> None:
        self.name = name
        self.process = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=env)
        self.output_tail = collections.deque(maxlen=40)
        self.seconds: List[float] = []
        self.cpu_seconds: List[float] = []
        self._read()  # ready

    def _read(self) -> dict:
        """The worker's next reply; the end of its other output (logs,
        errors) is kept for the error message should it fail."""
        for line in self.process.stdout:
            if line.startswith(REPLY_PREFIX):
                return json.loads(line[len(REPLY_PREFIX):])
            self.output_tail.append(line)
        self.process.wait()
        raise RuntimeError(
            f'variant {self.name} exited with status '
            f'{self.process.returncode}:\n{"".join(self.output_tail)}')

    def _ask(self, command: str) -> dict:
        self.process.stdin.write(command + '\n')
        self.process.stdin.flush()
        return self._read()

    def run(self) -> None:
        """Time one repeat."""
        timing = self._ask('run')
        self.seconds.append(timing['seconds'])
        self.cpu_seconds.append(timing['cpu_seconds'])

    def stop(self) -> dict:
        """The worker's final record plus ``seconds`` (the best repeat's
        mean wall-clock seconds per step), ``median`` (the median
        repeat's) and ``cpu_seconds`` (the least CPU time per step of the
        worker process, all its threads: on a machine shared with other
        processes, the measure they disturb least with one thread)."""
        result = self._ask('stop')
        self.process.wait()
        return dict(result, seconds=min(self.seconds),
                    median=statistics.median(self.seconds),
                    cpu_seconds=min(self.cpu_seconds))


def time_workers(start_workers: Sequence[Callable[[], StepWorker]],
                 repeats: int, side_by_side: bool) -> List[dict]:
    """Final records (see :meth:`StepWorker.stop`) of several variants.

    Args:
        start_workers: One callable per variant starting its worker.
        repeats: Timed repeats per variant.
        side_by_side: Build all workers first (one busy at a time) and
            interleave their repeats in a rotating order, so that a burst
            of load from other processes on a shared machine hits all of
            them alike (the CPU). Otherwise they run one after another
            (on a GPU their memory would add up).
    """
    if not side_by_side:
        results = []
        for start in start_workers:
            worker = start()
            for _ in range(repeats):
                worker.run()
            results.append(worker.stop())
        return results
    workers = [start() for start in start_workers]
    for repeat in range(repeats):
        shift = repeat % len(workers)
        for worker in workers[shift:] + workers[:shift]:
            worker.run()
    return [worker.stop() for worker in workers]
