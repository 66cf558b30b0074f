from .collect_env import collect_env, git_revision
from .cpu_allocator import keep_freed_host_memory
from .palette import DAVIS_PALETTE, read_indexed_png, write_indexed_png
from .setup_env import register_all_modules

__all__ = [
    'DAVIS_PALETTE', 'collect_env', 'git_revision', 'keep_freed_host_memory',
    'read_indexed_png', 'register_all_modules', 'write_indexed_png'
]
