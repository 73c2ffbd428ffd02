"""Text normalisation shared by the pipeline and every service.

The training data was lower-cased and stripped of digits before it was
published; raw text from people is not. Both go through ``normalize_text`` so
that "My LAPTOP won't boot!!! ticket #4411" and "my laptop won boot ticket"
reach the model as the same tokens.

Stop words stay: the published data keeps many ("for", "you", "can", "not"), and
dropping them cost the TF-IDF model 0.002 accuracy in cross-validation
(docs/benchmarks.md). A model is only right with the normalisation it was
trained with, so each model card records ``NORMALISATION_VERSION`` and the
loader refuses a model made with another one.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable, Sequence

from callcenterai.errors import BadInput

# Version 1 also dropped English stop words; version 2 keeps them.
NORMALISATION_VERSION = 2

# Every ASCII character that is not a letter becomes a space (str.translate is C-fast).
_NOT_LETTERS = str.maketrans({i: " " for i in range(128) if not chr(i).isalpha()})


def normalize_text(text: str) -> str:
    """Lower-case, keep ASCII letters only, drop one-letter tokens.

    Idempotent: ``normalize_text(normalize_text(x)) == normalize_text(x)``.
    """
    if not text.isascii():
        # NFKD splits accented letters; dropping the accents keeps "café" as "cafe"
        # (and letters outside ASCII go: the model was trained on English tickets).
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = text.lower().translate(_NOT_LETTERS).split()
    return " ".join([w for w in words if len(w) > 1])


# Every service's one answer (a 422) to a ticket with no words left for a model to read: only an
# e-mail address, a phone number, digits or punctuation. A model would still score it, from nothing.
NOTHING_TO_CLASSIFY = "nothing left to classify after removing personal data, digits and punctuation"


def wordless(texts: Sequence[str]) -> list[int]:
    """The positions of the texts that normalise to nothing."""
    return [i for i, text in enumerate(texts) if not normalize_text(text)]


class NothingToClassify(BadInput):
    """A ticket with no words left (a 422 like every BadInput)."""


def nothing_to_classify(positions: Sequence[int] | None = None) -> NothingToClassify:
    """The refusal of wordless tickets: one ticket (``text``), or the positions of a batch's (``texts.N``)."""
    if positions is None:
        return NothingToClassify(f"text: {NOTHING_TO_CLASSIFY}")
    shown = ", ".join(f"texts.{i}" for i in positions[:5]) + (", ..." if len(positions) > 5 else "")
    return NothingToClassify(f"{shown}: {NOTHING_TO_CLASSIFY}")


def normalize_many(texts: Iterable[str]) -> list[str]:
    """Normalise a sequence of texts (the pipeline's batch form)."""
    return [normalize_text(t) for t in texts]


def as_text_list(data) -> list[str]:
    """Texts as a plain list from a list, array, Series or one-column DataFrame.

    MLflow's pyfunc hands models a DataFrame; the vectorizer wants strings.
    """
    columns = getattr(data, "columns", None)
    if columns is not None:
        if len(columns) != 1:
            raise ValueError(f"expected one text column, got {len(columns)}")
        data = data.iloc[:, 0]
    return [str(t) for t in data]
