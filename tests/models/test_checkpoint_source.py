"""Where a fine-tune reads its checkpoint: a folder with the hub never asked, or a hub model
only at the commit it is pinned to (a branch or tag can be moved to other files)."""

from __future__ import annotations

import pytest

from callcenterai.errors import UserError
from callcenterai.models.finetune import checkpoint_source, resolve_checkpoint

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_the_packaged_checkpoint_is_a_folder_read_with_no_revision():
    folder = resolve_checkpoint("all-MiniLM-L6-v2")
    assert checkpoint_source(folder) == (folder, None)


@pytest.mark.parametrize("name", ["distilbert-base-multilingual-cased", "org/model@main", "org/model@v1.0"])
def test_a_hub_model_not_pinned_to_a_commit_is_refused_with_the_form_to_use(name):
    with pytest.raises(UserError, match=f"{name}@<the 40-character commit id>"):
        resolve_checkpoint(name)


def test_a_pinned_hub_model_is_read_at_its_commit():
    checkpoint = resolve_checkpoint(f"org/model@{COMMIT}")
    assert checkpoint_source(checkpoint) == ("org/model", COMMIT)


def test_a_folder_whose_name_looks_pinned_is_still_a_folder(tmp_path):
    folder = tmp_path / f"model@{COMMIT}"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert checkpoint_source(resolve_checkpoint(str(folder))) == (str(folder), None)
