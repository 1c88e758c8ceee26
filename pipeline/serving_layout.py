"""TF Serving's model directory layout: integer version folders under a model base path.

A version counts only when its folder name is an integer and it holds `saved_model.pb`; the
pusher stages a version under a hidden name and renames it into place, so a reader never sees a
half-written one.
"""

from __future__ import annotations

import os

from tfx.dsl.io import fileio

SAVED_MODEL_FILE = 'saved_model.pb'
FINGERPRINT_FILE = 'fingerprint.pb'
STAGING_PREFIX = '.staging-'


def is_complete_saved_model(path: str) -> bool:
    """Whether `path` holds a SavedModel's graph and variables index."""
    return fileio.exists(os.path.join(path, SAVED_MODEL_FILE)) and fileio.exists(
        os.path.join(path, 'variables', 'variables.index')
    )


def list_versions(model_dir: str) -> list[int]:
    """Complete versions under a model base path, oldest first; [] when it does not exist."""
    if not fileio.exists(model_dir):
        return []
    versions = []
    for name in fileio.listdir(model_dir):
        name = name.rstrip('/')
        if (
            name.isascii()
            and name.isdigit()
            and is_complete_saved_model(os.path.join(model_dir, name))
        ):
            versions.append(int(name))
    return sorted(versions)


def latest_version(model_dir: str) -> int | None:
    """The newest complete version under a model base path, or None."""
    versions = list_versions(model_dir)
    return versions[-1] if versions else None


def same_saved_model(first: str, second: str) -> bool:
    """Whether two folders hold the same SavedModel, by TensorFlow's `fingerprint.pb`.

    The fingerprint hashes the graph, signatures and checkpoint, so a copy matches its source
    and two trainings never match. Folders without a fingerprint never match.
    """
    paths = [os.path.join(folder, FINGERPRINT_FILE) for folder in (first, second)]
    if not all(fileio.exists(path) for path in paths):
        return False
    with fileio.open(paths[0], 'rb') as one, fileio.open(paths[1], 'rb') as other:
        return one.read() == other.read()
