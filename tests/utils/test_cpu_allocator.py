"""glibc allocator settings that keep freed host memory."""
import platform

import pytest

from mmsmtc.utils import cpu_allocator, keep_freed_host_memory


def test_returns_false_outside_linux(monkeypatch):
    monkeypatch.setattr(platform, 'system', lambda: 'Darwin')
    assert keep_freed_host_memory() is False


def test_returns_false_without_a_c_library(monkeypatch):
    monkeypatch.setattr(platform, 'system', lambda: 'Linux')
    monkeypatch.setattr(cpu_allocator.ctypes.util, 'find_library',
                        lambda name: None)
    assert keep_freed_host_memory() is False


def test_sets_both_thresholds_through_mallopt(monkeypatch):
    calls = []

    class FakeLibc:

        def __init__(self, name):
            self.mallopt = self

        def __call__(self, parameter, value):
            calls.append((parameter, value))
            return 1

    monkeypatch.setattr(platform, 'system', lambda: 'Linux')
    monkeypatch.setattr(cpu_allocator.ctypes.util, 'find_library',
                        lambda name: 'libc.so.6')
    monkeypatch.setattr(cpu_allocator.ctypes, 'CDLL', FakeLibc)
    assert keep_freed_host_memory(trim_threshold=1234) is True
    assert calls == [(cpu_allocator.M_MMAP_THRESHOLD,
                      cpu_allocator.MAX_MMAP_THRESHOLD),
                     (cpu_allocator.M_TRIM_THRESHOLD, 1234)]


@pytest.mark.skipif(
    platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc',
    reason='needs Linux with glibc')
def test_glibc_accepts_the_settings():
    assert keep_freed_host_memory() is True
