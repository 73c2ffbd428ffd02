"""The whole product as plain processes on one machine: MLflow, the four services and Prometheus.

``scripts/stack.py up | status | down`` is the command; this package is its logic.
Everything a running stack needs that is not in git (generated secrets, the
review store, logs, pids, Prometheus's data) lives in one state folder,
``<project>/.stack`` by default, which git ignores.
"""
