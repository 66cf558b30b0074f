"""mmsmtc: self-supervised object-centric learning in videos."""
import importlib.metadata as metadata
import re

from .version import __version__

#: Installed distribution -> the versions mmsmtc supports, [low, high).
SUPPORTED_RANGES = {
    'mmengine': ('0.10.4', '0.11.0'),
    'mmcv-lite': ('2.1.0', '2.2.0'),
}


def _release(text: str) -> tuple:
    """The numeric release of a version string, ``'2.1.0rc1'`` -> (2, 1, 0)."""
    match = re.match(r'\d+(\.\d+)*', text)
    return tuple(int(part) for part in match.group().split('.')) \
        if match else ()


def _check_versions() -> None:
    """Refuse unsupported OpenMMLab versions, read from the package metadata
    (no import of the packages themselves, which would load torch)."""
    for name, (low, high) in SUPPORTED_RANGES.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise ImportError(f'mmsmtc {__version__} needs {name}>={low},'
                              f'<{high}, which is not installed; install '
                              'with `pip install -e .`.') from None
        if not _release(low) <= _release(installed) < _release(high):
            raise ImportError(
                f'mmsmtc {__version__} needs {name}>={low},<{high} but found '
                f'{name}=={installed}; reinstall with `pip install -e .`.')


_check_versions()

__all__ = ['__version__']
