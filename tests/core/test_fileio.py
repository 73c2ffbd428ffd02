"""All-or-nothing writes: what a stage leaves behind on success and on failure."""

from __future__ import annotations

import os
import stat

import pytest

from callcenterai.fileio import staged_directory, staged_files


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_staged_model_folder_is_readable_by_a_service_user(tmp_path, umask_022):
    # safetensors writes model files 0600, and mkdtemp makes the folder 0700: a
    # container running the service as another user could not read the model.
    dest = tmp_path / "model"
    with staged_directory(dest) as staging:
        weights = staging / "sub" / "weights.bin"
        weights.parent.mkdir()
        weights.write_bytes(b"w")
        weights.chmod(0o600)
    assert mode(dest) == mode(dest / "sub") == 0o755
    assert mode(dest / "sub" / "weights.bin") == 0o644


def test_staged_files_get_plain_file_modes(tmp_path, umask_022):
    target = tmp_path / "stats.json"
    with staged_files(target) as (staged,):
        staged.write_text("{}")
    assert mode(target) == 0o644 and target.read_text() == "{}"


def test_a_failed_write_leaves_the_previous_outputs_as_they_were(tmp_path):
    dest, target = tmp_path / "model", tmp_path / "stats.json"
    dest.mkdir()
    (dest / "old.txt").write_text("old model")
    target.write_text("old stats")
    with pytest.raises(RuntimeError):
        with staged_directory(dest) as staging:
            (staging / "new.txt").write_text("half")
            raise RuntimeError("the stage failed")
    with pytest.raises(RuntimeError):
        with staged_files(target) as (staged,):
            staged.write_text("half")
            raise RuntimeError("the stage failed")
    assert [p.name for p in dest.iterdir()] == ["old.txt"] and target.read_text() == "old stats"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "stats.json"]  # no staging left
