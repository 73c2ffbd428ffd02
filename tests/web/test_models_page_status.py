"""The challenger's status on the models page, from the agent's /model and the registry's alias."""

from __future__ import annotations

from callcenterai.web.challengers import classifier_says, describe_status, served_challenger

SERVING = {"status": "serving", "version": "4", "reason": None}


def test_the_classifiers_card_is_read_even_beside_the_agents_own_challenger_entry():
    described = {
        "backends": {"tfidf": {"challenger": {"name": "x", "version": "4"}, "card": {"challenger": SERVING}}}
    }
    assert served_challenger(described, "tfidf") == SERVING


def test_nothing_said_of_a_challenger_is_none():
    assert served_challenger(None, "tfidf") is None
    assert served_challenger({"backends": {"tfidf": {"card": None}}}, "tfidf") is None
    assert served_challenger({"backends": {"tfidf": {"card": {"name": "m"}}}}, "tfidf") is None


def test_a_serving_challenger_behind_the_registry_says_which_version_comes_next():
    status, version, said = describe_status(SERVING, "5")
    assert (status, version) == ("serving", "4")
    assert said.startswith("Version 4 reads live tickets in the shadow")
    assert "The registry names version 5 now" in said


def test_a_failed_challenger_keeps_production_serving_in_words():
    failed = {"status": "failed", "version": None, "reason": "CHALLENGER_URI names no challenger"}
    status, version, said = describe_status(failed, None)
    assert (status, version) == ("failed", None)
    assert said == "The challenger failed to load; production serves as before."
    assert classifier_says(failed, status) == "The classifier says: CHALLENGER_URI names no challenger."


def test_a_challenger_only_the_registry_names():
    none = {"status": "none", "version": None, "reason": "not checked yet: the champion is loading"}
    status, version, said = describe_status(none, "6")
    assert (status, version) == ("named", "6")
    assert said == "The registry names version 6 as challenger; the classifier has not loaded it."
    assert classifier_says(none, status) == "The classifier says: not checked yet: the champion is loading."


def test_no_challenger_anywhere_says_how_to_set_one():
    status, version, said = describe_status(None, None)
    assert (status, version) == ("none", None)
    assert said == "No challenger: set one with python scripts/mlflow_registry.py challenger --version N."
    assert classifier_says(SERVING, "serving") is None
