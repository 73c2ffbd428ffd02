"""benchmarks/health_under_attack.py, shortened: it starts the agent and its stubs, measures
/health both ways, and the crafted tickets it sends never get a 5xx."""

from __future__ import annotations

import ast
import re

import pytest

from tests.helpers import policy, run_script


@pytest.mark.slow  # runs a pipeline or starts servers
def test_the_tool_reports_health_both_ways_and_crafted_tickets_get_no_5xx(tmp_path):
    policy().write(tmp_path)
    result = run_script(
        "-m",
        "benchmarks.health_under_attack",
        "--seconds",
        "2",
        "--policy",
        tmp_path / "policy.json",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for way in ("idle", "under attack"):
        assert re.search(rf"^  {way} +\d+ answers +p50 +[\d.]+ ms +p99 +[\d.]+ ms", out, re.MULTILINE), out
    statuses = ast.literal_eval(re.search(r"by status (\{.*\})", out).group(1))
    assert statuses and all(key.split()[1] in ("200", "422") for key in statuses), statuses
    assert re.search(r"^bar /health p99 <= 50 ms under attack: (met|NOT met)", out, re.MULTILINE)
