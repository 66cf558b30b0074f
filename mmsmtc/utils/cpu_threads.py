"""OpenMP settings that keep CPU processes near their fair share of a busy
machine.

PyTorch's CPU operators (ATen's ``parallel_for``, MKL, oneDNN) run on the
GNU OpenMP runtime (libgomp) in the PyTorch wheels for Linux. A libgomp
thread that reaches the end of a parallel region busy-waits (spins) before
it sleeps, to catch the next region without a wake-up: by default for
``GOMP_SPINCOUNT=300000`` turns of a ``pause`` loop, about 15 ms on a
recent Intel Xeon (``pause`` takes about 140 cycles there). That is fast on
an idle machine, but when more threads want to run than there are cores
(other processes, parallel jobs) the spinning threads burn the time slices
that the threads they wait for need.

Measured with ``tools/benchmarks/bench_loaded_machine.py`` (the tiny SMTC
training, 2 threads on 2 cores of an Intel Xeon with AVX-512 and AMX;
seconds per iteration, best of several runs)::

    spin count            alone    3 small-op   1 CPU taken by another
                                   torch procs  (single-thread) process
    300000 (libgomp)      0.039    0.69 (13x)   0.8 - 2.0 (20 - 50x)
    10000                 0.040    0.32         0.16
    3000 (mmsmtc tools)   0.041    0.26 (5x)    0.09 (2.3x)
    1000                  0.043    0.24         0.07
    0 (OMP_WAIT_POLICY=PASSIVE)  0.047  0.23    0.08

A fair share is 4x the alone time next to three busy competitors and 2x
next to one. ``GOMP_SPINCOUNT=3000`` (about 0.2 ms) keeps the quiet machine
within 5% of libgomp's default while a loaded machine stays near its fair
share; sleeping at once (``PASSIVE``) costs 20% on a quiet machine, one
thread per process 30%.

libgomp reads the spin count once, when it is loaded, i.e. when ``torch``
is first imported; so ``tools/train.py`` and ``tools/test.py`` put it in
the environment before any import that loads torch, and
``tools/quickstart.py`` passes :func:`openmp_environment` to the jobs it
starts. Importing mmsmtc changes no setting. A user's ``OMP_WAIT_POLICY``,
``GOMP_SPINCOUNT`` or ``OMP_NUM_THREADS`` is kept. Other OpenMP runtimes
(Intel's or LLVM's, e.g. in conda builds) ignore ``GOMP_SPINCOUNT``; their
counterpart is ``KMP_BLOCKTIME``, which mmsmtc leaves alone.

The number of threads per process stays PyTorch's default (the physical
cores) unless the process may run on fewer CPUs (``taskset``, a cpuset) or
shares them with other jobs started together: then it is the CPUs this
process may use divided by the number of jobs.
"""
import os
from typing import Dict, Mapping, Optional

#: libgomp's spin count in the tools (see the module docstring).
SPIN_COUNT = '3000'
#: Variables a user sets to choose the waiting behaviour themselves.
WAIT_VARIABLES = ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has
    one, else all of them)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def openmp_environment(jobs: int = 1,
                       environ: Optional[Mapping[str, str]] = None
                       ) -> Dict[str, str]:
    """An environment for a torch process, one of ``jobs`` run at once.

    Args:
        jobs (int): processes started together on this process's CPUs.
        environ (Mapping, optional): the environment to start from
            (default ``os.environ``); values already in it are kept.

    Returns:
        dict: ``environ`` with ``GOMP_SPINCOUNT=3000`` (unless it sets
        ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``) and, when ``jobs > 1``
        or this process may not use every CPU, ``OMP_NUM_THREADS`` =
        available CPUs // ``jobs`` (at least 1).
    """
    if jobs < 1:
        raise ValueError(f'jobs must be at least 1, got {jobs}')
    env = dict(os.environ if environ is None else environ)
    if not set(WAIT_VARIABLES) & set(env):
        env['GOMP_SPINCOUNT'] = SPIN_COUNT
    cpus = available_cpus()
    if jobs > 1 or cpus < (os.cpu_count() or cpus):
        env.setdefault('OMP_NUM_THREADS', str(max(1, cpus // jobs)))
    return env
