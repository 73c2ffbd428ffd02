"""The folder road: from a model folder on disk to a loaded predictor.

A folder is checked (``folder.py``) and handed to its kind's predictor; nothing
on this road unpickles anything. The training and evaluation stages load
folders only, so they use this module alone; a ``models:/`` registry URI is
resolved and downloaded to a folder by ``callcenterai.registry.loading``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from callcenterai.errors import ModelLoadError
from callcenterai.model_card import ModelCard
from callcenterai.models.folder import checked_folder

if TYPE_CHECKING:
    from callcenterai.models.predictor import Predictor


@dataclass
class LoadedModel:
    predictor: Predictor
    card: ModelCard
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def version(self) -> str:
        return self.card.version

    @property
    def kind(self) -> str:
        return self.card.kind


def load_model_dir(folder: Path) -> LoadedModel:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"{folder}: no such model folder")
    card, kind = checked_folder(folder)
    try:
        predictor = kind.load_predictor(folder, card)
    except Exception as exc:  # numpy, onnxruntime and tokenizers raise their own types
        raise ModelLoadError(f"{folder}: cannot load the {kind.name} model ({exc})") from None
    return LoadedModel(predictor=predictor, card=card, source=str(folder))
