"""Scoring files of tickets: one process (``scripts/predict.py``) or Apache Spark (``--engine spark``)."""
