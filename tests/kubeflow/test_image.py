"""The pipeline image: what the Dockerfile copies holds everything the compiled spec names.

Docker does not run here, so the Dockerfile is read, not built: its instructions are parsed and
checked against the compiled spec, the package layout and the lock file.
"""

import ast
import functools
import importlib
import importlib.metadata
import os
import re
import shlex
import sys

import pytest
import tomli

from tests.conftest import PROJECT_ROOT

DOTTED = re.compile(r'[A-Za-z_]\w*(\.[A-Za-z_]\w*)+')


def _instructions():
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    with open(os.path.join(PROJECT_ROOT, 'Dockerfile')) as dockerfile:
        text = re.sub(r'\\\n', ' ', dockerfile.read())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith('#')
    ]


def _final_stage():
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == 'FROM')
    return instructions[last_from:]


def _copied_sources():
    """What the final stage copies from the build context, as paths relative to it."""
    sources = []
    for keyword, arguments in _final_stage():
        if keyword == 'COPY' and '--from' not in arguments:
            sources += [part.rstrip('/') for part in shlex.split(arguments)[:-1]]
    return sources


def _ignored():
    with open(os.path.join(PROJECT_ROOT, '.dockerignore')) as ignore:
        lines = [line.strip() for line in ignore]
    return {line for line in lines if line and not line.startswith('#')}


def _packages():
    with open(os.path.join(PROJECT_ROOT, 'pyproject.toml'), 'rb') as pyproject:
        config = tomli.load(pyproject)
    return [
        name.rstrip('*') for name in config['tool']['setuptools']['packages']['find']['include']
    ]


def _locked_distributions():
    with open(os.path.join(PROJECT_ROOT, 'requirements.lock')) as lock:
        lines = [line.split('#')[0].strip() for line in lock]
    return {re.split('[=<>]', line)[0].lower().replace('_', '-') for line in lines if line}


def test_image_is_python_3_10_with_the_locked_dependencies_and_the_package():
    stage = _final_stage()
    runs = ' '.join(arguments for keyword, arguments in _instructions() if keyword == 'RUN')
    arguments = dict(_instructions())

    assert re.search(r'python:3\.10[\w.-]*-slim', arguments['ARG'])
    assert (
        'pip wheel --no-cache-dir --no-deps --wheel-dir /wheels -r /build/requirements.lock' in runs
    )
    assert 'pip install --no-deps /wheels/*.whl' in runs
    assert ('WORKDIR', '/pipeline') in stage
    last_run = [arguments for keyword, arguments in stage if keyword == 'RUN'][-1]
    assert last_run.startswith('pip install --no-deps --no-build-isolation . ')


def test_every_package_is_copied_and_none_is_ignored():
    copied = set(_copied_sources())

    assert set(_packages()) <= copied
    assert {'pyproject.toml', 'README.md'} <= copied
    assert not copied & _ignored()


def _spec_references(spec):
    """Every dotted name in the spec that starts with a project package or tfx."""
    roots = set(_packages()) | {'tfx'}
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and DOTTED.fullmatch(value):
            if value.split('.')[0] in roots:
                found.add(value)

    walk(spec['deploymentSpec'])
    walk(spec['root'])
    return found


def _module_file(dotted):
    """The copied source file defining a dotted name, and the attribute it names (or None)."""
    parts = dotted.split('.')
    for cut in range(len(parts), 0, -1):
        path = os.path.join(PROJECT_ROOT, *parts[:cut])
        for candidate in (path + '.py', os.path.join(path, '__init__.py')):
            if os.path.isfile(candidate):
                attribute = parts[cut] if cut < len(parts) else None
                return os.path.relpath(candidate, PROJECT_ROOT), '.'.join(parts[:cut]), attribute
    return None, None, None


def test_every_module_the_spec_names_is_in_the_image(compiled):
    spec, _, _ = compiled
    copied = _copied_sources()

    references = _spec_references(spec)

    ours = sorted(r for r in references if not r.startswith('tfx.'))
    assert 'runners.kubeflow_entrypoint' in ours
    assert 'models.trainer.run_fn' in ours
    assert 'preprocessing.transform.preprocessing_fn' in ours
    for reference in ours:
        path, module, attribute = _module_file(reference)
        assert path is not None, reference
        assert path.split(os.sep)[0] in copied, reference
        if attribute:
            assert hasattr(importlib.import_module(module), attribute), reference
    for reference in sorted(references - set(ours)):
        module, _, attribute = reference.rpartition('.')
        assert hasattr(importlib.import_module(module), attribute), reference
    assert 'tfx' in _locked_distributions()


@functools.cache
def _module_owners():
    """Installed distributions by the top-level modules they provide."""
    owners = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata['Name'].lower().replace('_', '-')
        tops = set((distribution.read_text('top_level.txt') or '').split())
        for file in distribution.files or []:
            first = file.parts[0]
            if first.endswith('.py'):
                tops.add(first[:-3])
            elif '.' not in first and first != '..':
                tops.add(first)
        for top in tops:
            owners.setdefault(top, set()).add(name)
    return owners


def _imported_top_levels(path):
    with open(path) as source:
        tree = ast.parse(source.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split('.')[0]


@pytest.mark.parametrize('package', _packages())
def test_copied_code_imports_only_copied_packages_and_locked_distributions(package):
    copied = set(_copied_sources())
    locked = _locked_distributions()
    owners_of = _module_owners()
    unresolved = set()

    for folder, _, files in os.walk(os.path.join(PROJECT_ROOT, package)):
        for name in files:
            if not name.endswith('.py'):
                continue
            for top in _imported_top_levels(os.path.join(folder, name)):
                if top in sys.stdlib_module_names or top in copied or top == '__future__':
                    continue
                if not owners_of.get(top, set()) & locked:
                    unresolved.add(f'{os.path.relpath(folder, PROJECT_ROOT)}/{name}: {top}')

    assert not unresolved, sorted(unresolved)
