from .davis_api import evaluate_davis
from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
