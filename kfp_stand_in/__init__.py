"""A stand-in for the Kubeflow Pipelines launcher, for tests only: runs a compiled spec here.

Not part of the product and not installed with it; see `launcher` for what it reproduces.
"""
