"""Layers point one way: which mmsmtc package may import which.

``models`` never imports ``apis``, ``engine`` or the tools; the inference
APIs and the engine sit on top of the models; the foundations import no
package above them. The only exception is ``utils.setup_env``, whose
``register_all_modules`` imports every package inside the function (the
OpenMMLab registration entry point).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'mmsmtc'
#: package -> the mmsmtc packages its modules may import.
ALLOWED = {
    'version': set(),
    'registry': set(),
    'structures': set(),
    'utils': {'version'},
    'ops': {'utils'},
    'visualization': {'utils', 'registry', 'structures'},
    'evaluation': {'utils', 'registry', 'structures'},
    'datasets': {'utils', 'registry', 'structures'},
    'models': {'utils', 'registry', 'structures', 'ops'},
    'engine': {
        'utils', 'registry', 'structures', 'visualization', 'evaluation',
        'models'
    },
    'apis': {
        'utils', 'registry', 'structures', 'ops', 'visualization',
        'datasets', 'models'
    },
}
#: Modules allowed to import any package (lazily, inside a function).
REGISTRATION_ENTRY_POINTS = {'mmsmtc.utils.setup_env'}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported_packages(path: Path, root: Path = PACKAGE):
    """``(package, line)`` of every mmsmtc package ``path`` imports."""
    module = module_name(path, root)
    package = module if path.name == '__init__.py' else module.rsplit(
        '.', 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) -
                                          node.level + 1]
                names = ['.'.join(base + [node.module or ''])]
            else:
                names = [node.module or '']
        else:
            continue
        for name in names:
            parts = name.strip('.').split('.')
            if parts[0] == 'mmsmtc' and len(parts) > 1:
                yield parts[1], node.lineno


def dependency_graph(root: Path = PACKAGE):
    """The package-level import graph of the package at ``root`` and the
    imports that break :data:`ALLOWED`."""
    graph = {name: set() for name in ALLOWED}
    violations = []
    for path in sorted(root.rglob('*.py')):
        module = module_name(path, root)
        parts = module.split('.')
        if len(parts) < 2 or module in REGISTRATION_ENTRY_POINTS:
            continue
        own = parts[1]
        for target, line in imported_packages(path, root):
            if target == own:
                continue
            graph[own].add(target)
            if target not in ALLOWED[own]:
                violations.append(f'{path.relative_to(root.parent)}:'
                                  f'{line} imports mmsmtc.{target}')
    return graph, violations


def test_every_package_is_known():
    modules = {path.stem for path in PACKAGE.glob('*.py')} - {'__init__'}
    packages = {path.parent.name for path in PACKAGE.glob('*/__init__.py')}
    assert modules | packages == set(ALLOWED)


def test_imports_point_one_way():
    _, violations = dependency_graph()
    assert not violations, '\n'.join(violations)


def test_the_package_graph_has_no_cycle():
    graph, _ = dependency_graph()
    state = {}

    def visit(node, path):
        state[node] = 'open'
        for target in graph[node]:
            if state.get(target) == 'open':
                pytest.fail(f'import cycle: {" -> ".join(path + [target])}')
            if target not in state:
                visit(target, path + [target])
        state[node] = 'done'

    for node in graph:
        if node not in state:
            visit(node, [node])


@pytest.mark.parametrize('package, absent', [
    ('mmsmtc.models', ('mmsmtc.apis', 'mmsmtc.engine')),
    ('mmsmtc.evaluation', ('mmsmtc.models', 'mmsmtc.engine', 'mmsmtc.apis')),
    ('mmsmtc.ops.propagation', ('mmsmtc.models', 'mmsmtc.apis')),
])
def test_importing_a_package_loads_no_layer_above_it(package, absent):
    code = (f'import sys, {package}; '
            f'loaded = [m for m in {absent!r} if m in sys.modules]; '
            'assert not loaded, loaded')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_the_check_is_not_vacuous(tmp_path):
    probe = tmp_path / 'mmsmtc' / 'models' / 'probe.py'
    probe.parent.mkdir(parents=True)
    probe.write_text('import torch\n\nfrom ..ops import linear\n'
                     'from mmsmtc.apis import propagate_labels\n')
    _, violations = dependency_graph(tmp_path / 'mmsmtc')
    assert violations == ['mmsmtc/models/probe.py:4 imports mmsmtc.apis']
