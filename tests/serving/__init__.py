"""Tests of the serving package: REST API, hot reload, page, prediction log."""
