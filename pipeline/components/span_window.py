"""ImportExampleGen over a rolling window of spans, resolved when the run starts.

TFX 1.16's ExampleGen driver resolves `{SPAN}` to one span: the newest by default, and its
`RangeConfig` accepts a rolling range of exactly one span or a static range of one span. A wider
rolling window is offered only by a `Resolver` over earlier ExampleGen outputs, which the
open-source Kubeflow Pipelines backend cannot execute, and a static range written into the
pipeline definition would be frozen when a Kubeflow pipeline is compiled.

So the stock driver still resolves the newest span S at run time, on both orchestrators, and
this executor reads the spans S-N+1..S that exist in the data root (the window is clipped to the
available spans). The window size is part of the component's configuration, packed as TFX's own
`RollingRange` in ExampleGen's `custom_config`. Every example keeps the 4:1 hash split, so a row
lands in the same split whichever window reads it.

ExampleGen's cache fingerprint covers the files of span S only. That is exact as long as spans
are only ever added (`dataprep` never rewrites a span, it writes the next one); a person who
removes an older span from the window should run once without the cache.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
from absl import logging
from google.protobuf import any_pb2
from tfx import types
from tfx import v1 as tfx
from tfx.components.example_gen import component as example_gen_component
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen.import_example_gen import executor as import_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from dataprep import example_format, spans

# Custom property of the Examples artifact: the spans read, e.g. '2,3,4'.
WINDOW_SPANS_PROPERTY = 'window_spans'


def window_spans(data_root: str, newest_span: int, span_window: int) -> list[int]:
    """The spans a run reads: those present among the `span_window` spans up to the newest.

    Args:
        data_root: The data root folder (or URI) holding `span-<N>` folders.
        newest_span: The span ExampleGen's driver resolved, the newest one.
        span_window: How many spans the window covers, 1 or more.

    Returns:
        The span numbers, ascending; always ends with `newest_span`.
    """
    first = newest_span - span_window + 1
    present = [span for span in spans.list_spans(data_root) if first <= span < newest_span]
    return present + [newest_span]


def span_pattern(span: int | str) -> str:
    """The file pattern of one span relative to the data root; '{SPAN}' gives ExampleGen's."""
    return f'{spans.SPAN_PREFIX}{span}/*{example_format.FILE_SUFFIX}'


def pack_window(span_window: int) -> example_gen_pb2.CustomConfig:
    """ExampleGen's custom_config carrying the window as a TFX RollingRange."""
    packed = any_pb2.Any()
    packed.Pack(range_config_pb2.RollingRange(num_spans=span_window))
    return example_gen_pb2.CustomConfig(custom_config=packed)


def unpack_window(custom_config: str | None) -> int:
    """The window size from ExampleGen's custom_config JSON; 1 when there is none.

    Args:
        custom_config: The `custom_config` execution property, a CustomConfig as JSON.

    Returns:
        The RollingRange's number of spans.

    Raises:
        ValueError: The custom_config holds something other than a RollingRange.
    """
    if not custom_config or custom_config == 'null':
        return 1
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(custom_config, config)
    rolling = range_config_pb2.RollingRange()
    if not config.custom_config.Unpack(rolling):
        raise ValueError(f'custom_config does not hold a RollingRange: {custom_config}')
    return rolling.num_spans


class SpanWindowExecutor(import_executor.Executor):
    """TFX's ImportExampleGen executor reading every span of the window, not just the newest."""

    def Do(  # noqa: N802 - TFX's executor interface.
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        """Resolves the window around the driver's span, imports it, records it on the output."""
        newest = int(exec_properties[example_gen_utils.SPAN_PROPERTY_NAME])
        span_window = unpack_window(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY))
        data_root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        self._spans = window_spans(data_root, newest, span_window)
        logging.info(
            'Reading %d span(s) %s of a window of %d ending at span %d in %s',
            len(self._spans),
            ','.join(map(str, self._spans)),
            span_window,
            newest,
            data_root,
        )

        super().Do(input_dict, output_dict, exec_properties)

        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY]
        )
        examples.set_string_custom_property(WINDOW_SPANS_PROPERTY, ','.join(map(str, self._spans)))

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 - TFX's name.
        """Reads each span of the window with TFX's import transform and merges them."""
        import_records = super().GetInputSourceToExamplePTransform()
        window = self._spans

        @beam.ptransform_fn
        def import_window(
            pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str
        ) -> beam.pvalue.PCollection:
            del split_pattern  # The newest span's resolved pattern; the window includes it.
            records = [
                pipeline | f'Span{span}' >> import_records(exec_properties, span_pattern(span))
                for span in window
            ]
            return records | 'MergeSpans' >> beam.Flatten()

        return import_window


class ImportExampleGen(tfx.components.ImportExampleGen):
    """TFX's ImportExampleGen reading a rolling window of the newest spans."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(SpanWindowExecutor)

    def __init__(
        self,
        input_base: str,
        input_config: example_gen_pb2.Input,
        output_config: example_gen_pb2.Output,
        span_window: int = 1,
    ) -> None:
        """Configures the import of the newest `span_window` spans of `input_base`.

        Args:
            input_base: The data root holding `span-<N>` folders.
            input_config: One input split whose pattern has the `{SPAN}` placeholder.
            output_config: How the examples are split into train and eval.
            span_window: How many of the newest spans to read, 1 or more.
        """
        if span_window < 1:
            raise ValueError(f'span_window must be at least 1, got {span_window}')
        # TFX's ImportExampleGen takes no custom_config; its base class does, and the payload
        # format both default to is tf.Example.
        example_gen_component.FileBasedExampleGen.__init__(
            self,
            input_base=input_base,
            input_config=input_config,
            output_config=output_config,
            custom_config=pack_window(span_window),
        )
