"""The model store loads only complete versions and keeps the newest ones, like TF Serving."""

import shutil

from serving.model_store import ModelStore
from tests.serving.serving_helpers import MODEL_NAME, push_version


def store_for(model_dir, num_versions=2):
    return ModelStore(MODEL_NAME, str(model_dir), num_versions, poll_interval_s=0.1)


def test_staging_incomplete_and_non_integer_folders_are_never_loaded(tmp_path, exported_versions):
    push_version(str(tmp_path), 3, exported_versions[1])
    shutil.copytree(exported_versions[2], tmp_path / '.staging-4')
    shutil.copytree(exported_versions[2], tmp_path / 'backup')
    shutil.copytree(exported_versions[2] + '/variables', tmp_path / '5' / 'variables')
    (tmp_path / '6').write_text('not a folder')
    store = store_for(tmp_path)

    store.poll()

    assert store.versions() == [3]


def test_missing_model_dir_means_no_version_yet(tmp_path):
    store = store_for(tmp_path / 'never-pushed')

    store.poll()

    assert store.versions() == []
    assert store.get() is None


def test_newest_versions_stay_loaded_and_older_ones_are_unloaded(tmp_path, exported_versions):
    for version in (1, 2, 3):
        push_version(str(tmp_path), version, exported_versions[1 + version % 2])
    store = store_for(tmp_path, num_versions=2)

    store.poll()

    assert store.versions() == [3, 2]
    assert store.get().version == 3
    assert store.get(2).version == 2
    assert store.get(1) is None


def test_version_whose_variable_data_is_missing_is_skipped_then_loaded_once_complete(
    tmp_path, exported_versions
):
    push_version(str(tmp_path), 1, exported_versions[1])
    incomplete = tmp_path / '2'
    shutil.copytree(exported_versions[2], incomplete)
    (data_file,) = (incomplete / 'variables').glob('variables.data-*')
    complete_data = data_file.read_bytes()
    data_file.unlink()
    store = store_for(tmp_path)

    store.poll()
    skipped = store.versions()
    data_file.write_bytes(complete_data)
    store.poll()

    assert skipped == [1]
    assert store.versions() == [2, 1]


def test_loaded_version_carries_its_image_spec(tmp_path, exported_versions):
    push_version(str(tmp_path), 1, exported_versions[1])
    store = store_for(tmp_path)

    store.poll()

    loaded = store.get()
    spec = loaded.image_spec
    assert (spec.feature, spec.height, spec.width, spec.pixel_max) == ('image', 8, 8, 16)
    assert spec.signature == 'serving_pixels'
    assert loaded.classes == tuple(str(digit) for digit in range(10))
