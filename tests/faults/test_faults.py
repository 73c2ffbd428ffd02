"""Faults under load, with real processes: nothing lost, everything said.

Each case runs a load on the agent (tests/faults/load.py), breaks one process for real (SIGKILL,
SIGSTOP, a stopped database, SIGTERM, a stopped MLflow), brings it back, and reports what the
clients saw and what the review store holds (reports/fault_suite.json; benchmarks/fault_suite.py
renders it). The cases run in file order and share one set of processes (conftest.py).

MLflow stays down from the MLflow case (second) to the end of the module: the cases after it
need no registry, and the last test asks the live Prometheus, past the version-mismatch alert's
for:, whether that alert ever fired, without a wait of its own.
"""

from __future__ import annotations

import time

import httpx

from tests.faults.cases import SERVICE_DOWN, account_for_store, alert_after, metric, poll_until, routes_after
from tests.faults.load import Load
from tests.faults.prometheus import EVALUATION_SECONDS, alert_for_seconds, alerts
from tests.faults.report import AlertSeen, CaseReport, save
from tests.helpers import API_KEY

NOT_PRODUCTION = "CallCenterAIServedModelNotProduction"
BEFORE_FAULT = 40  # answers before each fault: the load is running for sure
SPOOL_DEPTH = "callcenterai_agent_review_spool_depth"


def assert_nothing_lost(report: CaseReport) -> None:
    assert report.flagged_expected > 0, "no ticket was flagged: the case proves nothing about the store"
    assert (report.lost, report.duplicated) == (0, 0), report


def assert_no_server_errors(report: CaseReport, agent_restarted: bool = False) -> None:
    """No 5xx, no timeout, every ticket answered; connections refused or closed unanswered only
    while the agent itself was stopping or stopped."""
    assert (report.server_errors, report.timeouts, report.given_up) == (0, 0, 0), report
    assert report.answered == report.sent, report
    if not agent_restarted:
        assert (report.refused_connections, report.closed_connections) == (0, 0), report


def test_a_killed_classifier_fires_the_alert_degrades_and_rejoins(fault_stack):
    stack = fault_stack
    report = CaseReport("a", "transformer_svc killed (SIGKILL) under load, then started again")
    with Load(stack.agent.url, "a", stack.texts) as load:
        load.wait_for(BEFORE_FAULT, "answers before the kill")
        killed_at = time.monotonic()
        stack.transformer.kill()
        alert = alert_after(stack.prometheus.url, "transformer_svc", killed_at)
        stack.transformer.start()
        restarted = load.count()
        rejoined = poll_until(lambda: {"ensemble", "transformer"} & routes_after(load, restarted), 60)
        load.wait_for(20, "answers after the restart")
    report.add_load(load)
    report.alerts.append(alert)
    report.notes.append(f"routes after the restart: {sorted(routes_after(load, restarted))}")
    account_for_store(stack, report, [load])
    assert_no_server_errors(report)
    degraded = [o for o in load.outcomes if o.degraded]
    assert degraded and {o.route_model for o in degraded} == {"tfidf"}, report
    assert alert.fired_after_s is not None, f"{SERVICE_DOWN} did not fire: {report}"
    assert alert.fired_after_s <= alert.evaluation_s + 2, report
    assert rejoined, "the agent did not route to the restarted transformer by itself"
    assert_nothing_lost(report)


def test_e_mlflow_down_models_keep_serving_and_reload_says_why(fault_stack):
    """MLflow is stopped here and stays down until the last test of the module."""
    stack = fault_stack
    report = CaseReport("e", "MLflow stopped under load (kept down to the end of the suite)")
    registry = registry_versions(stack.prometheus.url)
    assert registry, "no callcenterai_model_registry_version in Prometheus before the outage"
    with Load(stack.agent.url, "e", stack.texts) as load:
        load.wait_for(BEFORE_FAULT, "answers before MLflow stops")
        stack.mlflow.terminate()
        stack.mlflow_stopped_at = time.monotonic()
        refusals = [reload_refusal(proc) for proc in (stack.tfidf, stack.transformer)]
        # Two polls of the registry and two scrapes: any false mismatch would be pending by now.
        time.sleep(2 * float(stack.tfidf.env["MODEL_POLL_SECONDS"]) + 2 * EVALUATION_SECONDS)
        load.wait_for(20, "answers while MLflow is down")
    report.add_load(load)
    report.notes += [f"/admin/reload: {status} {message[:160]}" for status, message in refusals]
    account_for_store(stack, report, [load])
    assert_no_server_errors(report)
    assert report.degraded == 0, report
    for status, message in refusals:
        assert status in (409, 503) and "cannot reach the mlflow store" in message.lower(), refusals
    assert not alerts(stack.prometheus.url, NOT_PRODUCTION), "the version-mismatch alert went pending"
    assert_nothing_lost(report)


def query(prometheus_url: str, expression: str) -> list:
    answer = httpx.get(prometheus_url + "/api/v1/query", params={"query": expression}, timeout=5)
    return answer.json()["data"]["result"]


def registry_versions(prometheus_url: str) -> list:
    return query(prometheus_url, "callcenterai_model_registry_version")


def served_versions(prometheus_url: str) -> list:
    return query(prometheus_url, "callcenterai_model_served_version")


def reload_refusal(proc) -> tuple[int, str]:
    response = httpx.post(proc.url + "/admin/reload", headers={"X-API-Key": API_KEY}, timeout=60)
    try:
        return response.status_code, str(response.json().get("error", response.text))
    except ValueError:
        return response.status_code, response.text


def test_b_a_classifier_that_never_answers_is_skipped_within_the_timeout(fault_stack):
    stack = fault_stack
    report = CaseReport("b", "tfidf_svc frozen (SIGSTOP: accepts connections, never answers), then resumed")
    with Load(stack.agent.url, "b", stack.texts) as load:
        load.wait_for(BEFORE_FAULT, "answers before the freeze")
        frozen_at = time.monotonic()
        stack.tfidf.freeze(True)
        try:
            load.wait_for(20, "answers while tfidf_svc is frozen")
            alert = alert_after(stack.prometheus.url, "tfidf_svc", frozen_at)
        finally:
            stack.tfidf.freeze(False)
        resumed = load.count()
        rejoined = poll_until(lambda: {"ensemble", "tfidf"} & routes_after(load, resumed), 60)
        load.wait_for(20, "answers after the resume")
    report.add_load(load)
    report.alerts.append(alert)
    account_for_store(stack, report, [load])
    assert_no_server_errors(report)
    degraded = [o for o in load.outcomes if o.degraded]
    assert degraded and {o.route_model for o in degraded} == {"transformer"}, report
    assert alert.fired_after_s is not None, f"{SERVICE_DOWN} did not fire: {report}"
    assert rejoined, "the agent did not route to the resumed tfidf_svc by itself"
    assert_nothing_lost(report)


def test_c_review_database_down_for_60_s_loses_and_doubles_nothing(fault_stack):
    stack = fault_stack
    report = CaseReport("c", "review database (PostgreSQL) stopped for 60 s under load, then started")
    with Load(stack.agent.url, "c", stack.texts) as load:
        load.wait_for(BEFORE_FAULT, "answers before the database stops")
        stack.postgres.stop()
        try:
            time.sleep(60)
            report.notes.append(
                f"spool depth at the end of the outage: {metric(stack.agent.url, SPOOL_DEPTH)}"
            )
        finally:
            stack.postgres.start()
        load.wait_for(20, "answers after the database is back")
    report.add_load(load)
    account_for_store(stack, report, [load])
    assert_no_server_errors(report)
    assert_nothing_lost(report)


def test_d_agent_sigterm_finishes_what_is_in_flight_and_loses_nothing(fault_stack):
    stack = fault_stack
    report = CaseReport("d", "agent sent SIGTERM under load, started again on the same port and spool")
    with Load(stack.agent.url, "d", stack.texts) as load:
        load.wait_for(BEFORE_FAULT, "answers before the SIGTERM")
        status = stack.agent.terminate(grace=30)
        report.notes.append(f"agent exit status after SIGTERM: {status}")
        stack.agent.start()
        load.wait_for(20, "answers after the restart")
    report.add_load(load)
    account_for_store(stack, report, [load])
    assert_no_server_errors(report, agent_restarted=True)
    assert_nothing_lost(report)


def test_f_web_interface_with_the_agent_down_says_so(fault_stack):
    from tests.faults.web_case import web_with_agent_down

    report = web_with_agent_down(fault_stack)
    save(report)
    assert report.statuses and report.server_errors == 0, report
    assert all("did not answer" in note for note in report.notes) and len(report.notes) == 2, report


def test_e_the_version_alert_stays_silent_past_its_for(fault_stack):
    """Past its for: (plus a scrape and an evaluation) with MLflow down, the mismatch alert never fired."""
    stack = fault_stack
    if stack.mlflow_stopped_at is None:  # run alone: the outage starts here
        stack.mlflow.terminate()
        stack.mlflow_stopped_at = time.monotonic()
    wait = alert_for_seconds(NOT_PRODUCTION) + 5 + 2 * EVALUATION_SECONDS
    remaining = wait - (time.monotonic() - stack.mlflow_stopped_at)
    if remaining > 0:
        time.sleep(remaining)
    down_for = round(time.monotonic() - stack.mlflow_stopped_at)
    fired = alerts(stack.prometheus.url, NOT_PRODUCTION)
    mlflow_down = [a["state"] for a in alerts(stack.prometheus.url, SERVICE_DOWN, "mlflow")]
    # Both sides of the alert's comparison were still there: its silence is not an empty query's.
    compared = len(registry_versions(stack.prometheus.url)), len(served_versions(stack.prometheus.url))
    stack.mlflow.start()
    report = CaseReport("e2", f"MLflow down {down_for} s, past {NOT_PRODUCTION}'s for: (and a scrape)")
    silent = AlertSeen(NOT_PRODUCTION, "tfidf_svc, transformer_svc", None, wait, should_fire=False)
    report.alerts.append(silent)
    report.notes += [f"{NOT_PRODUCTION} active: {fired}", f"{SERVICE_DOWN}(mlflow): {mlflow_down}"]
    save(report)
    assert not fired, fired
    assert compared == (2, 2), compared
    assert mlflow_down == ["firing"], "MLflow's own outage went unsaid"
