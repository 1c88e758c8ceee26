"""Pushing to TF Serving's layout: atomic, monotonic versions, no duplicate of the served model."""

import os
import shutil

import pytest

from pipeline import serving_layout
from pipeline.components import pusher
from pipeline.components.pusher import next_version, push_atomically


def _fake_saved_model(folder, fingerprint: bytes) -> str:
    os.makedirs(os.path.join(folder, 'variables'))
    for name, content in [
        ('saved_model.pb', b'graph'),
        ('fingerprint.pb', fingerprint),
        ('variables/variables.index', b'index'),
        ('variables/variables.data-00000-of-00001', b'weights'),
    ]:
        with open(os.path.join(folder, name), 'wb') as out:
            out.write(content)
    return str(folder)


def test_push_writes_an_integer_version_and_leaves_no_staging_folder(tmp_path):
    model = _fake_saved_model(tmp_path / 'model', b'a')
    model_dir = str(tmp_path / 'serving' / 'digits')

    pushed = push_atomically(model, model_dir)

    assert os.listdir(model_dir) == [os.path.basename(pushed)]
    assert os.path.basename(pushed).isdigit()
    assert serving_layout.list_versions(model_dir) == [int(os.path.basename(pushed))]


def test_a_new_model_gets_a_higher_version_even_within_the_same_second(tmp_path):
    model_dir = str(tmp_path / 'serving')
    first = push_atomically(_fake_saved_model(tmp_path / 'a', b'a'), model_dir)
    second = push_atomically(_fake_saved_model(tmp_path / 'b', b'b'), model_dir)

    assert int(os.path.basename(second)) > int(os.path.basename(first))
    assert next_version(model_dir, now=0) == int(os.path.basename(second)) + 1


def test_the_model_already_served_is_not_pushed_again(tmp_path):
    model = _fake_saved_model(tmp_path / 'model', b'same')
    model_dir = str(tmp_path / 'serving')
    first = push_atomically(model, model_dir)

    again = push_atomically(model, model_dir)

    assert again == first
    assert len(os.listdir(model_dir)) == 1


@pytest.mark.parametrize('missing', ['saved_model.pb', 'variables/variables.index'])
def test_incomplete_or_staging_folders_are_not_versions(tmp_path, missing):
    model_dir = tmp_path / 'serving'
    complete = _fake_saved_model(model_dir / '5', b'x')
    _fake_saved_model(model_dir / '9', b'y')
    os.remove(model_dir / '9' / missing)
    shutil.copytree(complete, model_dir / '.staging-12')

    assert serving_layout.list_versions(str(model_dir)) == [5]
    assert serving_layout.latest_version(str(model_dir)) == 5


def test_folders_with_non_ascii_digits_are_not_versions(tmp_path):
    model_dir = tmp_path / 'serving'
    _fake_saved_model(model_dir / '7', b'x')
    _fake_saved_model(model_dir / '²', b'y')

    assert serving_layout.list_versions(str(model_dir)) == [7]
    assert next_version(str(model_dir), now=0) == 8


def test_on_an_object_store_saved_model_pb_is_copied_last(tmp_path, monkeypatch):
    model = _fake_saved_model(tmp_path / 'model', b'a')
    copied = []
    monkeypatch.setattr(
        pusher.io_utils,
        'copy_dir',
        lambda src, dst, deny_regex_patterns=(): copied.append(
            ('dir', dst, tuple(deny_regex_patterns))
        ),
    )
    monkeypatch.setattr(
        pusher.io_utils, 'copy_file', lambda src, dst: copied.append(('file', dst, ()))
    )
    monkeypatch.setattr(pusher.serving_layout, 'list_versions', lambda model_dir: [])

    pushed = push_atomically(model, 'gs://bucket/serving/digits')

    assert copied == [
        ('dir', pushed, (r'saved_model\.pb',)),
        ('file', f'{pushed}/saved_model.pb', ()),
    ]
