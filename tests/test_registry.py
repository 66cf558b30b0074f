"""Every registry location imports and ``register_all_modules`` works."""
import importlib

import pytest
from mmengine import DefaultScope
from mmengine.registry import Registry

import mmsmtc.registry as registry_module
from mmsmtc.utils import register_all_modules

REGISTRIES = {
    name: value for name, value in vars(registry_module).items()
    if isinstance(value, Registry) and not name.startswith('MMENGINE_')
}


def test_every_registry_has_locations():
    assert len(REGISTRIES) >= 15
    for name, registry in REGISTRIES.items():
        assert registry._locations, f'{name} has no locations'
        assert registry.scope == 'mmsmtc', f'{name} is not in scope mmsmtc'


@pytest.mark.parametrize(
    'location',
    sorted({loc for reg in REGISTRIES.values() for loc in reg._locations}))
def test_every_location_imports(location):
    importlib.import_module(location)


def test_register_all_modules_sets_default_scope():
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmsmtc'
