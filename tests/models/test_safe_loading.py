"""Loading a model never runs code from the registry, and a refused model leaves the old one serving.

Each attack plants a payload whose unpickling would create a marker file: the
test checks both that the load is refused with a message naming the culprit
and that the marker was never written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from callcenterai.errors import ModelLoadError
from callcenterai.fileio import sha256_of
from callcenterai.models.loading import load_model_dir
from callcenterai.models.tfidf import load_pipeline
from callcenterai.registry.loading import load_model


class Payload:
    """Unpickling this creates ``marker``: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture()
def model_copy(trained_project, tmp_path) -> Path:
    folder, _ = trained_project
    copy = tmp_path / "tfidf"
    shutil.copytree(folder / "models" / "tfidf", copy)
    return copy


def reseal(folder: Path, name: str) -> None:
    """What an attacker who controls the folder would do: make the card match the planted file."""
    card = json.loads((folder / "model_card.json").read_text())
    card["file_sha256"][name] = sha256_of(folder / name)
    (folder / "model_card.json").write_text(json.dumps(card))


def test_a_pickle_file_in_a_model_folder_is_refused_by_name(model_copy, tmp_path):
    import pickle

    marker = tmp_path / "ran"
    (model_copy / "model.pkl").write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ModelLoadError, match="model.pkl is not a file a tfidf model holds"):
        load_model_dir(model_copy)
    assert not marker.exists()


def test_a_pickled_object_array_in_the_compiled_model_is_refused(model_copy, tmp_path):
    marker = tmp_path / "ran"
    with np.load(model_copy / "compiled.npz") as saved:
        arrays = {name: saved[name] for name in saved.files}
    arrays["bias"] = np.array([Payload(marker)], dtype=object)
    np.savez(model_copy / "compiled.npz", **arrays)
    reseal(model_copy, "compiled.npz")
    with pytest.raises(ModelLoadError, match="compiled.npz holds a pickled object array"):
        load_model_dir(model_copy)
    assert not marker.exists()


def test_a_changed_file_is_refused_before_it_is_read(model_copy):
    with open(model_copy / "vocabulary.json", "a") as handle:
        handle.write(" ")
    with pytest.raises(ModelLoadError, match="vocabulary.json: sha256 does not match the model card"):
        load_model_dir(model_copy)


def test_a_skops_pipeline_with_a_type_outside_the_allowlist_is_refused(tmp_path):
    import os

    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "pipeline.skops"
    skops.io.dump(FunctionTransformer(os.system), str(path))
    with pytest.raises(ValueError, match="types outside the allowlist: .*system"):
        load_pipeline(path)


def test_only_registry_uris_and_folders_are_accepted(tmp_path):
    for source in ("runs:/abc/model", "s3://bucket/model", "http://host/model"):
        with pytest.raises(ModelLoadError, match="expected a model folder, models:/NAME@ALIAS"):
            load_model(source)


BLOCKED = ("sklearn", "skops", "joblib", "cloudpickle", "torch", "transformers")


@pytest.mark.parametrize("kind", ["tfidf", "transformer"])
def test_a_served_model_loads_with_no_unpickler_importable(trained_project, kind):
    """The services' road needs none of the libraries that can run code from a file:
    with them made unimportable, both kinds still load and answer."""
    import subprocess
    import sys

    folder, _ = trained_project
    code = (
        "import sys\n"
        f"for name in {BLOCKED!r}: sys.modules[name] = None\n"
        "from callcenterai.registry.loading import load_model\n"
        f"model = load_model({str(folder / 'models' / kind)!r})\n"
        "print(model.predictor.predict_proba(['printer broken']).sum())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert abs(float(result.stdout.split()[-1]) - 1.0) < 1e-6
