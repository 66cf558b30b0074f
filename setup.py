"""Install mmsmtc: ``pip install -e ".[tests]"`` (nothing is compiled)."""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def read_requirements(name):
    """Return the requirement lines of ``requirements/<name>.txt``."""
    lines = (ROOT / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [line.strip() for line in lines
            if line.strip() and not line.startswith(('#', '-'))]


def read_version():
    namespace = {}
    exec((ROOT / 'mmsmtc' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='mmsmtc',
    version=read_version(),
    description='Self-supervised object-centric learning in videos (SMTC) '
                'on PyTorch and MMEngine',
    long_description=(ROOT / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'data')),
    install_requires=read_requirements('runtime'),
    extras_require={
        'tests': read_requirements('tests'),
        'optional': read_requirements('optional'),
        'all': read_requirements('tests') + read_requirements('optional'),
    },
    zip_safe=False,
)
