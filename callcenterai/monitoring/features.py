"""What the checks compare, per ticket: its words, those the TF-IDF vocabulary lacks, its language,
and the model's answer.

Both sides go through ``normalize_text``, the function that prepared the training data, so a
window of raw (redacted) tickets is compared with the training split as the model reads both:
case, punctuation, digits and placeholders such as ``<EMAIL>`` make no difference.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from callcenterai.monitoring.windows import DriftInputError
from callcenterai.text import normalize_many

if TYPE_CHECKING:
    from callcenterai.models.loading import LoadedModel
    from callcenterai.routing.language import LanguageDetector

ENGLISH = "en"
# The predictor is fed in slices so a large reference never holds every probability row at once.
PREDICT_BATCH = 2000


def tfidf_vocabulary(model: LoadedModel) -> frozenset[str]:
    """The single words the served TF-IDF model knows (its terms without the word pairs)."""
    compiled = getattr(model.predictor, "compiled", None)
    if model.kind != "tfidf" or compiled is None:
        raise DriftInputError(
            f"{model.source}: a {model.kind} model; the drift checks need the TF-IDF model (its vocabulary)"
        )
    return frozenset(term for term in compiled.arrays.terms if " " not in term)


def language_of(detector: LanguageDetector, text: str) -> str:
    """The language code, English unless the detector is sure of another (as the agent decides)."""
    found = detector.detect(text)
    return ENGLISH if found.english else found.code


def ticket_features(
    texts: Sequence[str], vocabulary: frozenset[str], detector: LanguageDetector
) -> pd.DataFrame:
    """Per ticket: the normalised text, its word count, how many of them are unknown, its language."""
    normalised = normalize_many(texts)
    split = [text.split() for text in normalised]
    return pd.DataFrame(
        {
            "text": normalised,
            "words": [len(words) for words in split],
            "unknown_words": [sum(word not in vocabulary for word in words) for words in split],
            "language": [language_of(detector, text) for text in normalised],
        }
    )


def predictions(model: LoadedModel, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The model's label and confidence (top probability) for each text."""
    labels = np.asarray(model.predictor.labels, dtype=object)
    chosen, confidence = [], []
    for start in range(0, len(texts), PREDICT_BATCH):
        proba = model.predictor.predict_proba(list(texts[start : start + PREDICT_BATCH]))
        chosen.append(labels[proba.argmax(axis=1)])
        confidence.append(proba.max(axis=1))
    return np.concatenate(chosen), np.concatenate(confidence)


def reference_features(
    reference: pd.DataFrame, model: LoadedModel, vocabulary: frozenset[str], detector: LanguageDetector
) -> pd.DataFrame:
    """The training sample's features, with the model's own answers on it as the label and confidence:
    the window's are answers too, so like is compared with like."""
    features = ticket_features(reference["text"].tolist(), vocabulary, detector)
    features["label"], features["confidence"] = predictions(model, features["text"].tolist())
    return features


def window_features(
    window: pd.DataFrame, vocabulary: frozenset[str], detector: LanguageDetector
) -> pd.DataFrame:
    """The window's features, with the label and confidence the agent answered with."""
    features = ticket_features(window["text"].tolist(), vocabulary, detector)
    features["label"] = window["label"].to_numpy()
    features["confidence"] = window["confidence"].to_numpy(dtype=float)
    return features


def most_common_unknown(texts: Sequence[str], vocabulary: frozenset[str], top: int = 10) -> list[list]:
    """The unknown words met most often, ``[word, count]`` pairs: what the model has never seen."""
    counts = Counter(word for text in texts for word in text.split() if word not in vocabulary)
    return [[word, count] for word, count in counts.most_common(top)]
