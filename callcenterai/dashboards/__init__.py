"""Grafana dashboards as code: built with grafana-foundation-sdk's typed builders, written as the JSON
that deploy/grafana provisions (scripts/build_dashboard.py)."""
