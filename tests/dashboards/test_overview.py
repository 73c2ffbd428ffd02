"""The overview dashboard's code and its committed JSON: one is the other, every panel queries, every
query parses, and every series a query reads is one the services export or a recording rule makes."""

from __future__ import annotations

import json

from callcenterai.dashboards.overview import OVERVIEW_JSON, overview_json
from callcenterai.dashboards.panels import DATASOURCE
from tests.dashboards.queries import (
    committed_dashboard,
    exported_names,
    metric_names,
    panel_queries,
    panels,
    promtool_parse,
    recorded_names,
)
from tests.helpers import run_script

# The series issue 30 asks the dashboard to show, each read by at least one panel.
ASKED_FOR = {
    "job:callcenterai_requests:rate5m",
    "job:callcenterai_requests_5xx:ratio_rate5m",
    "job_endpoint:callcenterai_request_latency_seconds:p50_5m",
    "job_endpoint:callcenterai_request_latency_seconds:p95_5m",
    "job_endpoint:callcenterai_request_latency_seconds:p99_5m",
    "callcenterai_agent_routes_total",
    "job:callcenterai_agent_transformer_calls:ratio_rate5m",
    "callcenterai_agent_policy_expected_transformer_rate",
    "job:callcenterai_agent_review:ratio_rate5m",
    "callcenterai_agent_policy_expected_review_rate",
    "callcenterai_agent_pii_entities_total",
    "callcenterai_agent_confidence_bucket",
    "callcenterai_prediction_confidence_bucket",
    "callcenterai_predictions_total",
    "callcenterai_model_info",
    "callcenterai_model_served_version",
    "callcenterai_model_registry_version",
    "callcenterai_agent_circuit_open",
    "callcenterai_agent_review_store_total",
    "callcenterai_agent_review_spool_depth",
}
# And issue 33's drift and challenger row: the agent's copy of the last drift run, its shadow calls,
# and each classifier's challenger.
ASKED_FOR |= {
    "callcenterai_drift_score",
    "callcenterai_drift_threshold",
    "callcenterai_drift_detected",
    "callcenterai_drift_last_run_timestamp_seconds",
    "job_backend:callcenterai_shadow_agreement:ratio_rate10m",
    "callcenterai_shadow_tickets_total",
    "job_backend:callcenterai_shadow_latency_seconds:p95_10m",
    "callcenterai_challenger_loaded",
    "callcenterai_challenger_load_failures_total",
}


def test_the_committed_json_is_what_the_code_builds():
    assert OVERVIEW_JSON.read_text(encoding="utf-8") == overview_json(), (
        "the dashboard JSON and callcenterai/dashboards differ: edit the code, then run "
        "python scripts/build_dashboard.py"
    )


def test_the_check_mode_refuses_a_hand_edited_copy_and_accepts_a_fresh_one(tmp_path):
    copy = tmp_path / "overview.json"
    edited = json.loads(overview_json())
    edited["title"] = "edited by hand"
    copy.write_text(json.dumps(edited, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    refused = run_script("scripts/build_dashboard.py", "--check", "--output", copy)
    assert refused.returncode == 1 and "differs" in refused.stderr, refused.stdout + refused.stderr

    assert run_script("scripts/build_dashboard.py", "--output", copy).returncode == 0
    accepted = run_script("scripts/build_dashboard.py", "--check", "--output", copy)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_every_panel_has_a_query_on_the_provisioned_datasource():
    dashboard = committed_dashboard()
    assert len(panels(dashboard)) >= 15
    for panel in panels(dashboard):
        assert panel.get("targets"), f"{panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target["expr"].strip(), f"{panel['title']!r} has an empty query"
            assert target["datasource"] == {"type": DATASOURCE.type_val, "uid": DATASOURCE.uid}


def test_every_query_parses(tmp_path):
    queries = panel_queries(committed_dashboard())
    checked = promtool_parse([query.expr for query in queries], tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(queries)} rules found" in checked.stdout, checked.stdout


def test_the_parse_check_refuses_a_query_that_does_not_parse(tmp_path):
    checked = promtool_parse(["sum by (job) (rate(callcenterai_requests_total[1m])"], tmp_path)
    assert checked.returncode != 0 and "parse error" in checked.stdout + checked.stderr


def test_every_series_a_query_reads_is_exported_by_a_service_or_recorded_by_a_rule():
    dashboard = committed_dashboard()
    known = exported_names() | recorded_names()
    variables = [variable["query"] for variable in dashboard["templating"]["list"]]
    for name, expr in [(q.name, q.expr) for q in panel_queries(dashboard)] + [
        ("variable", v) for v in variables
    ]:
        read = metric_names(expr)
        assert read, f"{name}: {expr!r} reads no callcenterai series"
        assert read <= known, f"{name}: {sorted(read - known)} neither exported nor recorded"


def test_the_name_check_knows_what_the_services_export_and_what_the_rules_record():
    assert {"callcenterai_requests_total", "callcenterai_agent_confidence_bucket"} <= exported_names()
    assert "callcenterai_model_info" in exported_names()
    assert "job:callcenterai_requests:rate5m" in recorded_names()
    assert "callcenterai_agent_confidence" not in exported_names()  # a histogram has no bare series
    assert {"callcenterai_drift_score", "callcenterai_drift_last_run_timestamp_seconds"} <= exported_names()
    assert metric_names('rate(callcenterai_a_total{reason="callcenterai_x"}[1m]) / job:callcenterai_b:r') == {
        "callcenterai_a_total",
        "job:callcenterai_b:r",
    }


def test_the_panels_show_every_series_the_issue_asks_for():
    read = set().union(*(metric_names(query.expr) for query in panel_queries(committed_dashboard())))
    assert ASKED_FOR <= read, f"no panel reads {sorted(ASKED_FOR - read)}"
