"""The settings every service reads: a bad value is one line naming the variable, a secret is never echoed."""

from __future__ import annotations

import warnings

import pytest

from callcenterai.agent.settings import AgentSettings
from callcenterai.httpkit.settings import API_KEY_MIN_CHARS, ServiceSettings, SettingsError, settings_from_env
from callcenterai.web.settings import WebSettings


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


# Secrets from files: compose and Kubernetes mount them under /run/secrets, named after the variable.
@pytest.fixture()
def secrets_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCENTERAI_SECRETS_DIR", str(tmp_path))
    for name in ("CALLCENTERAI_API_KEY", "CLIENT_KEYS", "DATABASE_PASSWORD", "SESSION_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_a_variable_is_read_from_its_file_in_the_secrets_folder_in_any_case(secrets_folder):
    (secrets_folder / "CALLCENTERAI_API_KEY").write_text("f" * API_KEY_MIN_CHARS + "\n")
    (secrets_folder / "client_keys").write_text("c" * API_KEY_MIN_CHARS)
    settings = settings_from_env(ServiceSettings, service="test")
    assert settings.api_key == "f" * API_KEY_MIN_CHARS  # the file's trailing newline is not part of it
    assert settings.client_keys == ("c" * API_KEY_MIN_CHARS,)
    assert "f" * API_KEY_MIN_CHARS not in repr(settings)


def test_the_environment_wins_over_the_file(secrets_folder, monkeypatch):
    (secrets_folder / "CALLCENTERAI_API_KEY").write_text("f" * API_KEY_MIN_CHARS)
    monkeypatch.setenv("CALLCENTERAI_API_KEY", "e" * API_KEY_MIN_CHARS)
    assert settings_from_env(ServiceSettings, service="test").api_key == "e" * API_KEY_MIN_CHARS


def test_a_short_key_in_a_file_is_refused_without_echoing_it(secrets_folder):
    (secrets_folder / "CALLCENTERAI_API_KEY").write_text("hunter2-from-a-file")
    with pytest.raises(SettingsError) as refused:
        settings_from_env(ServiceSettings, service="test")
    assert str(refused.value).startswith("CALLCENTERAI_API_KEY: ") and "hunter2" not in str(refused.value)


def test_no_secrets_folder_means_the_environment_alone_and_no_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCENTERAI_SECRETS_DIR", str(tmp_path / "absent"))
    monkeypatch.delenv("CALLCENTERAI_API_KEY", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert settings_from_env(ServiceSettings, service="test").api_key is None


@pytest.mark.parametrize("settings_class", [AgentSettings, WebSettings], ids=["agent", "web"])
def test_the_review_database_password_comes_from_a_file_and_stays_out_of_repr(secrets_folder, settings_class):
    (secrets_folder / "DATABASE_PASSWORD").write_text("pg-password-from-a-file\n")
    settings = settings_from_env(settings_class)
    assert settings.database_password == "pg-password-from-a-file"
    assert "pg-password" not in repr(settings) and "pg-password" not in settings.database_url
