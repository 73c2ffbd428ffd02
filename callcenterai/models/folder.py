"""A model folder on disk: its card, its files, and the checks made before anything is read.

A folder holds ``model_card.json`` and the files its kind names (``kinds.py``);
the card records each file's sha256. Before a predictor reads a byte, the card
must validate, the text normalisation must be this code's, no file the kind
does not name may be present, and every served file must match its digest.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from callcenterai.errors import ModelLoadError, UserError
from callcenterai.fileio import sha256_of, staged_directory
from callcenterai.kinds import ModelKind, kind_named
from callcenterai.model_card import CARD_FILE, ModelCard, read_card
from callcenterai.text import NORMALISATION_VERSION

# The served folder's name inside a logged MLflow model (``stages/model_logging.py``
# logs it, ``models/pyfunc.py`` and ``registry/artifacts.py`` find it).
MODEL_DIR_ARTIFACT = "model_dir"


def write_model_folder(dest: Path, card: ModelCard, write_files: Callable[[Path], None]) -> ModelCard:
    """Write a model folder: ``write_files(staging)`` then the card with the files' digests.
    ``dest`` is replaced only when all of it is written; returns the card as written."""
    with staged_directory(Path(dest)) as staging:
        write_files(staging)
        card = seal_model_folder(staging, card)
    return card


def seal_model_folder(folder: Path, card: ModelCard) -> ModelCard:
    """Record the digests of the files now in ``folder`` in its card and write the card."""
    card = card.model_copy(update={"file_sha256": file_digests(Path(folder), kind_named(card.kind))})
    card.write(folder)
    return card


def copy_model_folder(source: Path, dest: Path, card: ModelCard) -> None:
    """Copy a checked model folder with another card; ``dest`` is replaced only when complete."""
    with staged_directory(Path(dest)) as staging:
        for path in Path(source).iterdir():
            if path.is_file() and path.name != CARD_FILE:
                shutil.copy2(path, staging / path.name)
        card.write(staging)


def file_digests(folder: Path, kind: ModelKind) -> dict[str, str]:
    missing = [name for name in kind.served_files if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder}: a {kind.name} model needs {', '.join(missing)}")
    names = [n for n in (*kind.served_files, *kind.other_files) if (folder / n).is_file()]
    return {name: sha256_of(folder / name) for name in names}


def check_normalisation(card: ModelCard, where: str) -> None:
    """Refuse a model trained on text normalised another way: it would load and
    answer, only worse."""
    if card.text_normalisation != NORMALISATION_VERSION:
        raise ModelLoadError(
            f"{where}: trained with text normalisation version {card.text_normalisation!r}, but this "
            f"code applies version {NORMALISATION_VERSION}; retrain it (dvc repro) or serve it with the "
            "release that made it"
        )


def checked_folder(folder: Path) -> tuple[ModelCard, ModelKind]:
    """The folder's card and kind, once everything in it has passed the checks above."""
    folder = Path(folder)
    try:
        card = read_card(folder)
        kind = kind_named(card.kind)
    except UserError as exc:
        raise ModelLoadError(str(exc)) from None
    check_normalisation(card, str(folder))
    strangers = sorted(p.name for p in folder.iterdir() if p.name not in kind.allowed_files)
    if strangers:
        raise ModelLoadError(
            f"{folder}: {', '.join(strangers)} is not a file a {kind.name} model holds; refusing to load it"
        )
    for name in kind.served_files:
        path = folder / name
        if not path.is_file():
            raise ModelLoadError(f"{folder}: {name} is missing")
        expected = card.file_sha256.get(name)
        if expected is None:
            raise ModelLoadError(
                f"{folder}: the model card records no sha256 for {name}; refusing to load it"
            )
        if sha256_of(path) != expected:
            raise ModelLoadError(f"{path}: sha256 does not match the model card; refusing to load it")
    return card, kind
