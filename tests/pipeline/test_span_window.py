"""The rolling window of spans: resolved from the data root at run time, read by the executor."""

import os

import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from pipeline.components import span_window
from pipeline.config import PipelineConfig
from pipeline.pipeline import SPAN_PATTERN, create_pipeline


def test_window_is_clipped_to_the_spans_present_and_ends_with_the_newest(tmp_path):
    for name in ('span-1', 'span-2', 'span-4', 'span-5'):
        (tmp_path / name).mkdir()
    root = str(tmp_path)

    assert span_window.window_spans(root, 5, 1) == [5]
    assert span_window.window_spans(root, 5, 3) == [4, 5]
    assert span_window.window_spans(root, 5, 10) == [1, 2, 4, 5]


def test_pipeline_carries_the_window_as_a_tfx_rolling_range(tmp_path):
    config = PipelineConfig(work_root=str(tmp_path), data_root=str(tmp_path), span_window=3)

    (example_gen,) = [n for n in create_pipeline(config).components if n.id == 'ImportExampleGen']
    properties = example_gen.exec_properties

    assert span_window.unpack_window(properties['custom_config']) == 3
    # The driver still resolves the newest span at run time; nothing is fixed at definition.
    assert properties['range_config'] is None
    assert '{SPAN}' in properties['input_config']


def test_a_window_below_one_span_is_refused():
    with pytest.raises(ValueError, match='span_window must be at least 1, got 0'):
        PipelineConfig(span_window=0)


def _run_executor(data_root, newest, window, output_dir):
    """Runs the executor as ExampleGen's driver would hand it the newest span."""
    examples = standard_artifacts.Examples()
    examples.uri = output_dir
    pattern = SPAN_PATTERN.replace('{SPAN}', str(newest))
    input_config = example_gen_pb2.Input(
        splits=[example_gen_pb2.Input.Split(name='span', pattern=pattern)]
    )
    output_config = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name='train', hash_buckets=4),
                example_gen_pb2.SplitConfig.Split(name='eval', hash_buckets=1),
            ]
        )
    )
    exec_properties = {
        'input_base': data_root,
        'input_config': proto_utils.proto_to_json(input_config),
        'output_config': proto_utils.proto_to_json(output_config),
        'output_data_format': example_gen_pb2.FORMAT_TF_EXAMPLE,
        'output_file_format': example_gen_pb2.FORMAT_TFRECORDS_GZIP,
        'custom_config': proto_utils.proto_to_json(span_window.pack_window(window)),
        'span': newest,
    }
    span_window.SpanWindowExecutor().Do({}, {'examples': [examples]}, exec_properties)
    return examples


def _images_by_split(output_dir):
    found = {}
    for split in ('train', 'eval'):
        files = tf.io.gfile.glob(os.path.join(output_dir, f'Split-{split}', '*.gz'))
        dataset = tf.data.TFRecordDataset(files, compression_type='GZIP')
        found[split] = sorted(
            tuple(tf.train.Example.FromString(r).features.feature['image'].int64_list.value)
            for r in dataset.as_numpy_iterator()
        )
    return found


def test_executor_reads_every_span_of_the_window_and_keeps_each_row_in_its_split(digits, tmp_path):
    images, labels = digits
    root = str(tmp_path / 'data')
    for span, (start, end) in enumerate([(0, 150), (150, 300), (300, 450)], start=1):
        write_span(
            DigitSet(images[start:end].reshape(-1, 8, 8), labels[start:end], 't'), root, span
        )

    newest_only = _run_executor(root, 3, 1, str(tmp_path / 'one'))
    window = _run_executor(root, 3, 2, str(tmp_path / 'two'))

    assert newest_only.get_string_custom_property('window_spans') == '3'
    assert window.get_string_custom_property('window_spans') == '2,3'
    one, two = _images_by_split(newest_only.uri), _images_by_split(window.uri)
    assert len(one['train']) + len(one['eval']) == 150
    assert len(two['train']) + len(two['eval']) == 300
    # The hash split depends on the row alone: span 3's rows land in the same split either way.
    assert set(one['train']) <= set(two['train'])
    assert set(one['eval']) <= set(two['eval'])
