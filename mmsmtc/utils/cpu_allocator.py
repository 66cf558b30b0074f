"""Keep freed host memory for reuse instead of handing it back to the OS.

glibc serves large allocations (above a threshold that adapts up to 32 MiB)
with fresh ``mmap`` pages and returns them on ``free``; the top of the heap
is trimmed back to the OS beyond 128 KiB. A training or test step allocates
and frees the same multi-megabyte activations every iteration, so with the
defaults every step pays page faults and zero-filling for each of them
(measured on the SMTC ViT-S/16 step, batch 2, 2 threads: GELU and copies
took about 0.25 s of a 2.5 s step, mostly page faults). Raising both
thresholds once, at process start, lets the heap keep and reuse that memory:
the arithmetic is untouched, the peak resident size is unchanged (memory
that is freed is only kept, not added), but memory freed after the peak
stays with the process until it exits.
"""
import ctypes
import ctypes.util
import platform

#: ``mallopt`` parameters (``malloc.h``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Largest ``M_MMAP_THRESHOLD`` glibc accepts on 64-bit systems.
MAX_MMAP_THRESHOLD = 32 * 2**20
#: Freed memory kept at the top of the heap before trimming.
DEFAULT_TRIM_THRESHOLD = 1024 * 2**20


def keep_freed_host_memory(
        trim_threshold: int = DEFAULT_TRIM_THRESHOLD) -> bool:
    """Make glibc reuse freed blocks of up to 32 MiB instead of unmapping.

    Call once at process start (later calls are harmless). Does nothing
    outside Linux/glibc.

    Args:
        trim_threshold (int): Bytes of free memory kept at the top of the
            heap before it is returned to the OS.

    Returns:
        bool: Whether glibc accepted both settings.
    """
    if platform.system() != 'Linux':
        return False
    name = ctypes.util.find_library('c')
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, MAX_MMAP_THRESHOLD)
        and mallopt(M_TRIM_THRESHOLD, trim_threshold))
