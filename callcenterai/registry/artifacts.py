"""Where a logged model keeps the served folder, and its digest.

Both kinds are logged as MLflow pyfunc models from code (``models/pyfunc.py``),
with the served model folder as their one artifact, so a registry download is a
folder of numbers and a card: nothing in it is unpickled, by us or by MLflow.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from callcenterai.errors import ModelLoadError
from callcenterai.fileio import tree_digest
from callcenterai.model_card import read_card
from callcenterai.models.folder import MODEL_DIR_ARTIFACT
from callcenterai.routing.policy import fingerprint_of

DIGEST_TAG = "model_dir_sha256"
# The fingerprint a routing policy names its models by (routing.policy.fingerprint_of).
FINGERPRINT_TAG = "served_files_fingerprint"


def served_folder_in(local: Path, where: str) -> Path:
    """The served folder inside a downloaded logged model; refuses any other layout."""
    try:
        mlmodel = yaml.safe_load((Path(local) / "MLmodel").read_text(encoding="utf-8"))
        artifacts = mlmodel["flavors"]["python_function"]["artifacts"]
        relative = artifacts[MODEL_DIR_ARTIFACT]["path"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        raise ModelLoadError(
            f"{where}: not a CallCenterAI model (no {MODEL_DIR_ARTIFACT} artifact in its MLmodel); "
            "it may predate safe loading: retrain and register it again"
        ) from None
    folder = (Path(local) / relative).resolve()
    if Path(local).resolve() not in folder.parents or not folder.is_dir():
        raise ModelLoadError(f"{where}: its {MODEL_DIR_ARTIFACT} artifact path {relative!r} is not inside it")
    return folder


def served_fingerprint(folder: Path) -> str:
    """The fingerprint of the served files in ``folder``, as a routing policy records it."""
    return fingerprint_of(read_card(folder).file_sha256)


def download_served_folder(artifact_uri: str, dst: Path, tracking_uri: str) -> Path:
    import mlflow

    local = mlflow.artifacts.download_artifacts(
        artifact_uri=artifact_uri, dst_path=str(dst), tracking_uri=tracking_uri
    )
    return served_folder_in(Path(local), artifact_uri)


def check_digest(folder: Path, expected: str | None, where: str) -> None:
    """The served folder must be byte for byte what was registered."""
    if not expected:
        raise ModelLoadError(
            f"{where}: registered without a {DIGEST_TAG} tag, so its files cannot be checked; "
            "register it again (python scripts/mlflow_registry.py register)"
        )
    if tree_digest(folder) != expected:
        raise ModelLoadError(
            f"{where}: its files differ from what was registered ({DIGEST_TAG} mismatch); refusing to load it"
        )
