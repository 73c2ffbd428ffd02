"""Schema-driven fuzzing of every service (both classifiers, the agent, the web interface) over its
own OpenAPI: no 5xx.

Schemathesis builds valid and invalid requests for every operation; Hypothesis
runs them against the real service. (Schemathesis' own pytest plugin is not used:
it does not run under pytest 9 yet, so the strategies are driven directly.)
"""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.helpers import REVIEWER, REVIEWER_PASSWORD

FUZZ_SETTINGS = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(params=["tfidf_service", "transformer_service", "agent_service"])
def fuzzed(request, registry_env):  # registry_env: every service needs it, named so the data mark sees it
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

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            response = case.call(timeout=30)
            assert (
                response.status_code < 500
            ), f"{case.method} {case.path}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert response.json()["error"], response.text

        check()


@pytest.fixture(params=["anonymous", "reviewer"])
def web_visitor(request, web_service):
    """A browser-like session on the web interface: anonymous (no CSRF token sent, so every form
    is refused) or a signed-in reviewer whose token goes with every request, so the fuzzed
    fields reach the routes themselves."""
    session, headers = requests.Session(), {"accept": "text/html"}
    if request.param == "reviewer":
        page = session.get(web_service["url"] + "/login", headers=headers, timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"name": REVIEWER, "password": REVIEWER_PASSWORD, "csrf_token": token}
        signed_in = session.post(web_service["url"] + "/login", data=form, allow_redirects=False, timeout=30)
        assert signed_in.status_code == 303, signed_in.text
        headers["X-CSRF-Token"] = token
    return request.param, session, headers


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_no_form_or_page_of_the_web_interface_causes_a_server_error(web_service, web_visitor, mode):
    kind, session, headers = web_visitor
    schema = schemathesis.openapi.from_url(web_service["url"] + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    forms = {op.label for op in operations if len(op.body)}
    assert forms >= {"POST /classify", "POST /batch", "POST /login", "POST /review/{ticket_id}"}
    nothing_invalid = set()  # free-text parameters only: every value is a valid one
    for operation in operations:
        if kind == "reviewer" and operation.path == "/logout":
            continue  # signing out would leave the rest of the run anonymous
        try:
            _fuzz_page(operation, mode, session, headers, kind)
        except Unsatisfiable:
            nothing_invalid.add(operation.label)
    assert not nothing_invalid & forms, nothing_invalid


def _fuzz_page(operation, mode, session, headers, kind):
    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call(session=session, headers=headers, timeout=30)
        said = f"{case.method} {case.path} as {kind}: {response.status_code} {response.text[:300]}"
        assert response.status_code < 500, said
        if response.status_code >= 400:
            assert response.text.strip(), said  # a refusal says why

    check()
