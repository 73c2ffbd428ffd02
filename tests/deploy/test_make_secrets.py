"""scripts/make_secrets.py: the compose stack's secret files, made once and readable by the containers."""

from __future__ import annotations

import stat

from tests.helpers import run_script


def _modes(folder) -> dict:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}


def test_it_writes_every_secret_the_compose_files_name_and_never_changes_one(tmp_path):
    import yaml

    from callcenterai.config import PROJECT_ROOT

    folder = tmp_path / "secrets"
    result = run_script("scripts/make_secrets.py", "--dir", folder)
    assert result.returncode == 0, result.stderr
    assert "nobody can sign in yet" in result.stderr
    declared = {}
    for compose in ("docker-compose.yml", "docker-compose.team.yml"):
        declared.update(yaml.safe_load((PROJECT_ROOT / compose).read_text())["secrets"])
    assert {spec["file"].rsplit("/", 1)[1] for spec in declared.values()} == {
        p.name for p in folder.iterdir()
    }
    keys = {path.name: path.read_text() for path in folder.iterdir()}
    assert len(keys["callcenterai_api_key"].strip()) >= 32 and keys["reviewers"] == ""
    assert len({value for name, value in keys.items() if name != "reviewers"}) == len(keys) - 1
    again = run_script("scripts/make_secrets.py", "--dir", folder)
    assert again.returncode == 0 and "nothing new" in again.stderr
    assert {path.name: path.read_text() for path in folder.iterdir()} == keys


def test_the_folder_is_private_and_a_reviewers_file_add_reviewer_wrote_becomes_readable(tmp_path):
    folder = tmp_path / "secrets"
    assert run_script("scripts/make_secrets.py", "--dir", folder).returncode == 0
    added = run_script(
        "scripts/add_reviewer.py",
        "alice",
        "--file",
        folder / "reviewers",
        "--password-stdin",
        input="a-test-password-not-a-secret",
    )
    assert added.returncode == 0, added.stderr
    assert run_script("scripts/make_secrets.py", "--dir", folder).returncode == 0
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # Compose mounts each file as it is, and the services run as their own users.
    assert set(_modes(folder).values()) == {0o644}
    assert (folder / "reviewers").read_text().startswith("alice:")
