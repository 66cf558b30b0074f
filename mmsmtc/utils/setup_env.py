"""Register every mmsmtc module and set the default registry scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmsmtc package that registers modules.

    Args:
        init_default_scope (bool): Whether to make ``'mmsmtc'`` the current
            default scope, so that configs without ``default_scope`` and code
            that builds from a bare ``Registry`` still find mmsmtc modules.
            Defaults to True.
    """
    import mmsmtc.datasets  # noqa: F401
    import mmsmtc.datasets.transforms  # noqa: F401
    import mmsmtc.engine  # noqa: F401
    import mmsmtc.evaluation  # noqa: F401
    import mmsmtc.models  # noqa: F401
    import mmsmtc.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmsmtc', scope_name='mmsmtc')
    elif current.scope_name != 'mmsmtc':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmsmtc"; `register_all_modules` switches to a new '
                      'default scope "mmsmtc".')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S%f')
        DefaultScope.get_instance(f'mmsmtc-{stamp}', scope_name='mmsmtc')
