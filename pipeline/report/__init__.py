"""The HTML report of a pipeline run: statistics, anomalies, drift, evaluation, decision, push."""
