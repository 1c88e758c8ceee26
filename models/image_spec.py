"""What a model's input image looks like: size and pixel range, read from the curated schema.

The spec travels inside every exported SavedModel as the asset `image_spec.json`, so whoever
serves a version (the REST server, the draw-a-digit page) turns a picture into exactly the input
the model was trained on: the same size, orientation and intensity range.
"""

from __future__ import annotations

import dataclasses
import json
import math

from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.utils import io_utils

from preprocessing import features

IMAGE_SPEC_FILE = 'image_spec.json'
PIXELS_SIGNATURE = 'serving_pixels'


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """A square grayscale image stored row-major, background 0 and ink up to pixel_max.

    Attributes:
        height: Rows of pixels.
        width: Columns of pixels.
        pixel_min: Smallest raw pixel value in the training data's range (background).
        pixel_max: Largest raw pixel value (full ink): 16 for scikit-learn digits, 255 for MNIST.
        feature: Name of the pixel feature.
        signature: Serving signature that takes raw pixel rows.
    """

    height: int
    width: int
    pixel_min: int
    pixel_max: int
    feature: str = features.IMAGE_KEY
    signature: str = PIXELS_SIGNATURE

    @property
    def num_pixels(self) -> int:
        """Pixels per image."""
        return self.height * self.width

    def to_json(self) -> str:
        """Serialises the spec, with the class names, for the `image_spec.json` asset."""
        fields = dataclasses.asdict(self)
        fields['classes'] = [str(digit) for digit in range(features.NUM_CLASSES)]
        return json.dumps(fields, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ImageSpec:
        """Reads a spec written by `to_json`."""
        fields = json.loads(text)
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in fields.items() if name in names})


def image_spec_from_schema(schema: schema_pb2.Schema) -> ImageSpec:
    """Derives the image spec from the schema's `image` feature: its shape and int domain.

    Args:
        schema: A curated schema with a fixed-shape `image` feature and an int domain.

    Returns:
        The spec of a square image with as many pixels as the feature's shape.

    Raises:
        ValueError: The schema has no fixed-size `image` feature, no int domain, or a pixel count
            that is not a perfect square.
    """
    image = next((f for f in schema.feature if f.name == features.IMAGE_KEY), None)
    if image is None or len(image.shape.dim) != 1:
        raise ValueError(f'schema: feature {features.IMAGE_KEY!r} needs a one-dimensional shape')
    if not image.HasField('int_domain'):
        raise ValueError(f'schema: feature {features.IMAGE_KEY!r} needs an int_domain (min, max)')

    num_pixels = image.shape.dim[0].size
    side = math.isqrt(num_pixels)
    if side * side != num_pixels:
        raise ValueError(f'schema: {num_pixels} pixels per image is not a square image')
    domain = image.int_domain
    return ImageSpec(height=side, width=side, pixel_min=domain.min, pixel_max=domain.max)


def load_schema(path: str) -> schema_pb2.Schema:
    """Reads a schema in text format from a local path or URI."""
    return io_utils.parse_pbtxt_file(path, schema_pb2.Schema())
