"""mmsmtc: self-supervised object-centric learning in videos (SMTC)."""
import mmcv
import mmengine
from mmengine.utils import digit_version

from .version import __version__

MMENGINE_RANGE = ('0.10.4', '0.11.0')
MMCV_RANGE = ('2.1.0', '2.2.0')


def _check_version(name, installed, bounds):
    low, high = bounds
    if not digit_version(low) <= digit_version(installed) < digit_version(high):
        raise ImportError(
            f'mmsmtc {__version__} needs {name}>={low},<{high} but found '
            f'{name}=={installed}; reinstall with `pip install -e .`.')


_check_version('mmengine', mmengine.__version__, MMENGINE_RANGE)
_check_version('mmcv', mmcv.__version__, MMCV_RANGE)

__all__ = ['__version__']
