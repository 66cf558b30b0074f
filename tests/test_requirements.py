"""The declared dependency floors and Python versions are true.

Each floor is the oldest release with every API mmsmtc calls; the table
names them, and the installed versions must have them (so a test run on the
floors would catch an API the table forgets).
"""
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
#: package -> (oldest version with the APIs, the APIs that need it).
FLOORS = {
    'torch': ('2.5', ('torch.serialization.safe_globals',
                      'torch.serialization.get_unsafe_globals_in_checkpoint',
                      'torch.amp.is_autocast_available')),
    'torchvision': ('0.20', ()),  # the release of torch 2.5
    'numpy': ('1.25', ('numpy.dtypes', )),
}


def declared_floors():
    lines = (ROOT / 'requirements' / 'runtime.txt').read_text().splitlines()
    floors = {}
    for line in lines:
        if line.strip() and not line.startswith('#'):
            requirement = Requirement(line)
            for spec in requirement.specifier:
                if spec.operator == '>=':
                    floors[requirement.name] = Version(spec.version)
    return floors


def test_floors_are_at_least_the_oldest_release_with_the_apis_used():
    floors = declared_floors()
    for package, (version, _) in FLOORS.items():
        assert floors[package] >= Version(version), (package, floors[package])


def test_the_apis_of_the_floors_exist():
    modules = dict(torch=torch, numpy=np)
    for package, (_, apis) in FLOORS.items():
        for api in apis:
            target = modules[package]
            for part in api.split('.')[1:]:
                target = getattr(target, part)


def test_python_versions_agree_between_setup_and_readme():
    setup = (ROOT / 'setup.py').read_text()
    (minimum, ) = re.findall(r"python_requires='>=(3\.\d+)'", setup)
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    assert f'Python ({minimum} or newer' in readme


def test_openmmlab_versions_are_checked_from_metadata(monkeypatch):
    import mmsmtc
    assert mmsmtc._release('2.1.0rc1') == (2, 1, 0)
    assert mmsmtc._release('0.10.7.post1') == (0, 10, 7)
    monkeypatch.setattr(mmsmtc.metadata, 'version', lambda name: '0.9.0')
    with pytest.raises(ImportError, match=r'needs mmengine>=0.10.4,<0.11.0 '
                       r'but found mmengine==0.9.0'):
        mmsmtc._check_versions()

    def missing(name):
        raise mmsmtc.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(mmsmtc.metadata, 'version', missing)
    with pytest.raises(ImportError, match='which is not installed'):
        mmsmtc._check_versions()
