"""Schema-driven fuzzing of every service (both classifiers, the agent) over its own OpenAPI: no 5xx.

Schemathesis builds valid and invalid requests for every operation; Hypothesis
runs them against the real service. (Schemathesis' own pytest plugin is not used:
it does not run under pytest 9 yet, so the strategies are driven directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode


@pytest.fixture(params=["tfidf_service", "transformer_service", "agent_service"])
def fuzzed(request):
    return request.getfixturevalue(request.param)


@pytest.fixture()
def operations(fuzzed):
    schema = schemathesis.openapi.from_url(fuzzed["url"] + "/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in found} >= {"POST /predict", "POST /predict/batch"}
    return found


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_no_input_causes_a_server_error(operations, mode):
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not len(operation.body):
            continue  # nothing to make invalid in a request without a body

        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            response = case.call(timeout=30)
            assert (
                response.status_code < 500
            ), f"{case.method} {case.path}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert response.json()["error"], response.text

        check()
