"""The one road from a model folder or a registry URI to a loaded predictor.

A folder goes straight to the folder road (``models/loading.py``). A registry
URI (``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``) is resolved, its served
folder downloaded and compared with the digest recorded at registration, and
kept in a local cache so a service can start when the registry cannot be
reached; the folder is then loaded by the folder road. Nothing on this road
unpickles anything.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from callcenterai.errors import ModelLoadError, RegistryUnavailable, UserError
from callcenterai.model_card import CARD_FILE, ModelCard
from callcenterai.models.folder import checked_folder, copy_model_folder
from callcenterai.models.loading import LoadedModel, load_model_dir
from callcenterai.registry.artifacts import DIGEST_TAG, check_digest, download_served_folder
from callcenterai.registry.store import RegisteredModel, Version, is_unreachable, resolve_models_uri

REGISTRY_SCHEME = "models:/"
# A service's log is no place for MLflow's download progress bars.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def is_registry_uri(source: str | Path) -> bool:
    return str(source).startswith(REGISTRY_SCHEME)


def load_model(source: str | Path, cache_dir: Path | None = None) -> LoadedModel:
    """A model folder, or a registry URI (kept in ``cache_dir`` when given)."""
    if is_registry_uri(source):
        return load_registry_model(str(source), cache_dir)
    if "://" in str(source) or str(source).startswith("runs:/"):
        raise ModelLoadError(f"{source}: expected a model folder, models:/NAME@ALIAS or models:/NAME/VERSION")
    return load_model_dir(Path(source))


def resolve(uri: str) -> tuple[RegisteredModel, Version]:
    """The version a URI names now; RegistryUnavailable only when the store did not answer."""
    try:
        return resolve_models_uri(uri)
    except UserError as exc:
        error = RegistryUnavailable if is_unreachable(exc) else ModelLoadError
        raise error(str(exc)) from None


def registry_card(card: ModelCard, model: RegisteredModel, version: Version) -> ModelCard:
    return card.model_copy(
        update={
            "version": version.version,
            "aliases": list(version.aliases),
            "stage": version.current_stage,
            "run_id": version.run_id,
            "metrics": version.metrics(),
            "registry_uri": model.uri,
        }
    )


def load_registry_model(uri: str, cache_dir: Path | None = None) -> LoadedModel:
    model, version = resolve(uri)
    cached = cached_copy(cache_dir, version) if cache_dir is not None else None
    if cached is not None:
        return cached
    where = f"{uri} (version {version.version})"
    with tempfile.TemporaryDirectory(prefix="callcenterai-download-") as tmp:
        try:
            location = model.artifact_location(version.source)
            folder = download_served_folder(location, Path(tmp), model.uri)
        except ModelLoadError:
            raise
        except Exception as exc:  # any failure to fetch is a load failure; say which kind
            error = RegistryUnavailable if is_unreachable(exc) else ModelLoadError
            raise error(f"{where}: could not download it ({exc})") from None
        check_digest(folder, version.tags.get(DIGEST_TAG), where)
        card, _ = checked_folder(folder)
        dest = Path(cache_dir) if cache_dir is not None else folder
        copy_model_folder(folder, dest, registry_card(card, model, version))
        loaded = load_model_dir(dest)
    loaded.source = uri
    return loaded


def cached_copy(cache_dir: Path, version: Version) -> LoadedModel | None:
    """The local copy of exactly this version, if one was kept."""
    if not (Path(cache_dir) / CARD_FILE).is_file():
        return None
    try:
        loaded = load_model_dir(Path(cache_dir))
    except ModelLoadError:
        return None
    card = loaded.card
    if (card.name, card.version, card.run_id) != (version.name, version.version, version.run_id):
        return None
    loaded.card = card.model_copy(update={"aliases": list(version.aliases), "stage": version.current_stage})
    return loaded


def load_cached(cache_dir: Path) -> LoadedModel:
    """Whatever copy the cache holds, for a start while the registry is unreachable."""
    if not (Path(cache_dir) / CARD_FILE).is_file():
        raise ModelLoadError(f"{cache_dir}: no local copy")
    return load_model_dir(Path(cache_dir))
