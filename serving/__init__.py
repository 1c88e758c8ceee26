"""Serving of the pushed digit model: TF Serving's REST API, the drawing page, the prediction log.

`python -m serving` runs TensorFlow Serving itself where `tensorflow_model_server` is installed,
and otherwise a stand-in with the same REST API that also serves the drawing page at `/` and logs
each prediction as a tf.Example for later skew and drift checks.
"""
