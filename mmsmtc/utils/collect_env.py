"""Environment and revision information logged at the start of every run."""
import subprocess
from pathlib import Path

from mmengine.utils.dl_utils import collect_env as collect_base_env

import mmsmtc


def git_revision() -> str:
    """Short git revision of the mmsmtc checkout (``'unknown'`` outside git),
    suffixed with ``+dirty`` when the working tree has uncommitted changes."""
    root = Path(mmsmtc.__file__).resolve().parents[1]
    try:
        revision = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'], cwd=root,
            capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ['git', 'status', '--porcelain', '--untracked-files=no'],
            cwd=root, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return revision + ('+dirty' if dirty.strip() else '')


def collect_env() -> dict:
    """MMEngine's environment report plus the mmsmtc version and revision."""
    env = collect_base_env()
    env['mmsmtc'] = f'{mmsmtc.__version__} ({git_revision()})'
    return env
