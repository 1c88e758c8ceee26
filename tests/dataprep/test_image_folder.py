"""Labelled picture folders become digits in the data root's form: size, ink, pixel range."""

import numpy as np
import pytest
from PIL import Image

from dataprep.errors import DataError
from dataprep.image_folder import read_image_folder, to_digit_image


def _scan(image, side=32, light_background=True, mode='L'):
    """A picture as a scanner would make it: enlarged, dark ink on light paper by default."""
    ink = image.astype(np.float64) / 16 * 255
    pixels = 255 - ink if light_background else ink
    picture = Image.fromarray(pixels.astype(np.uint8)).resize(
        (side, side), Image.Resampling.NEAREST
    )
    return picture.convert(mode)


def _correlation(first, second):
    return np.corrcoef(first.ravel(), second.ravel())[0, 1]


def test_a_scanned_digit_on_light_paper_comes_back_as_ink_high_in_the_digits_range(all_digits):
    original = all_digits.images[0]

    image = to_digit_image(_scan(original), image_size=8, pixel_max=16)

    assert image.shape == (8, 8) and image.dtype == np.int64
    assert image.min() == 0 and image.max() == 16
    assert _correlation(image, original) > 0.99


def test_dark_paper_colour_pictures_and_mnist_size_are_handled_alike(all_digits):
    original = all_digits.images[5]

    colour = to_digit_image(_scan(original, light_background=False, mode='RGB'), 8, 16)
    mnist_like = to_digit_image(_scan(original, side=56), image_size=28, pixel_max=255)

    assert _correlation(colour, original) > 0.99
    assert mnist_like.shape == (28, 28) and mnist_like.max() == 255
    enlarged = np.asarray(Image.fromarray(original.astype(np.uint8)).resize((28, 28)))
    assert _correlation(mnist_like, enlarged) > 0.95


def test_a_transparent_drawing_is_put_on_white_paper(all_digits):
    original = all_digits.images[3]
    alpha = (original.astype(np.float64) / 16 * 255).astype(np.uint8)
    black_ink = np.zeros((8, 8, 4), dtype=np.uint8)
    black_ink[..., 3] = alpha
    drawing = Image.fromarray(black_ink, 'RGBA').resize((40, 40), Image.Resampling.NEAREST)

    image = to_digit_image(drawing, 8, 16)

    assert _correlation(image, original) > 0.99


def test_folder_is_read_with_labels_from_the_folder_names(all_digits, tmp_path, caplog):
    for index in range(20):
        label = int(all_digits.labels[index])
        folder = tmp_path / 'scans' / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        _scan(all_digits.images[index]).save(folder / f'scan-{index:02d}.png')
    (tmp_path / 'scans' / '3' / 'notes.txt').write_text('not a picture')
    (tmp_path / 'scans' / 'unsorted').mkdir()

    digits = read_image_folder(str(tmp_path / 'scans'), image_size=8, pixel_max=16)

    assert digits.num_examples == 20
    assert digits.label_counts() == {label: 2 for label in range(10)}
    assert digits.images.max() == 16
    assert 'ignoring 1 file(s) that are not pictures' in caplog.text
    assert "ignoring ['unsorted']" in caplog.text


@pytest.mark.parametrize(
    'make, message',
    [
        (lambda root: None, 'not a folder; expected one sub-folder per digit'),
        (lambda root: (root / 'cats').mkdir(parents=True), 'no digit folders'),
        (lambda root: (root / '4').mkdir(parents=True), 'its digit folders hold no pictures'),
        (
            lambda root: ((root / '4').mkdir(parents=True), (root / '4' / 'a.png').write_text('x')),
            'a.png: not a readable picture',
        ),
        (
            lambda root: (
                (root / '4').mkdir(parents=True),
                Image.new('L', (16, 16), 255).save(root / '4' / 'blank.png'),
            ),
            'blank.png: a blank picture, no ink to learn digit 4 from',
        ),
    ],
    ids=['missing', 'no digit folders', 'no pictures', 'unreadable', 'blank'],
)
def test_unusable_folders_are_refused_naming_the_problem(tmp_path, make, message):
    make(tmp_path / 'scans')

    with pytest.raises(DataError, match=message):
        read_image_folder(str(tmp_path / 'scans'), image_size=8, pixel_max=16)
