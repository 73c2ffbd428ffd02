"""Text normalisation shared by the pipeline and every service.

The training data was lower-cased, stripped of digits and of most stop words
before it was published; raw text from people is not. Both go through
``normalize_text`` so that "My LAPTOP won't boot!!! ticket #4411" and
"laptop boot ticket" reach the model as the same tokens.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

# A compact English stop-word list. The published data already lacks most of
# these; removing them from raw text keeps serving input in the same shape.
STOP_WORDS = frozenset("""
    a about above after again against all am an and any are aren as at be because
    been before being below between both but by can couldn could did didn do does
    doesn doing don down during each few for from further had hadn has hasn have
    haven having he her here hers herself him himself his how i if in into is isn it
    its itself just ll me mightn more most mustn my myself needn no nor not now of
    off on once only or other our ours ourselves out over own re s same shan she
    should shouldn so some such t than that the their theirs them themselves then
    there these they this those through to too under until up ve very was wasn we
    were weren what when where which while who whom why will with won wouldn y you
    your yours yourself yourselves
    """.split())

# Every ASCII character that is not a letter becomes a space (str.translate is C-fast).
_NOT_LETTERS = str.maketrans({i: " " for i in range(128) if not chr(i).isalpha()})


def normalize_text(text: str) -> str:
    """Lower-case, keep ASCII letters only, drop stop words and one-letter tokens.

    Idempotent: ``normalize_text(normalize_text(x)) == normalize_text(x)``.
    """
    if not text.isascii():
        # NFKD splits accented letters; dropping the accents keeps "café" as "cafe"
        # (and letters outside ASCII go: the model was trained on English tickets).
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = text.lower().translate(_NOT_LETTERS).split()
    return " ".join([w for w in words if len(w) > 1 and w not in STOP_WORDS])


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
