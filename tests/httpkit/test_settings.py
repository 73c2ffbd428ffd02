"""The settings every service reads: a bad value is one line naming the variable, a secret is never echoed."""

from __future__ import annotations

import pytest

from callcenterai.httpkit.settings import API_KEY_MIN_CHARS, ServiceSettings, SettingsError, settings_from_env


def test_a_short_api_key_is_refused_naming_the_minimum_without_echoing_it(monkeypatch):
    monkeypatch.setenv("CALLCENTERAI_API_KEY", "hunter2-short")
    with pytest.raises(SettingsError) as refused:
        settings_from_env(ServiceSettings, service="test")
    message = str(refused.value)
    assert message.startswith("CALLCENTERAI_API_KEY: ") and f"at least {API_KEY_MIN_CHARS}" in message
    assert "hunter2" not in message and "\n" not in message


def test_a_long_enough_api_key_is_kept_and_an_empty_one_means_none(monkeypatch):
    monkeypatch.setenv("CALLCENTERAI_API_KEY", "k" * API_KEY_MIN_CHARS)
    assert settings_from_env(ServiceSettings, service="test").api_key == "k" * API_KEY_MIN_CHARS
    monkeypatch.setenv("CALLCENTERAI_API_KEY", "")
    assert settings_from_env(ServiceSettings, service="test").api_key is None


def test_another_bad_value_still_shows_what_was_given(monkeypatch):
    monkeypatch.setenv("MAX_BODY_BYTES", "lots")
    with pytest.raises(SettingsError, match=r"^MAX_BODY_BYTES: .*\(got 'lots'\)$"):
        settings_from_env(ServiceSettings, service="test")
