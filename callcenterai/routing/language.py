"""Language detection with py3langid, whose model ships inside the package (no download)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
# The detector's cost grows with the text; the first 200 characters name the language
# of a ticket as well as the whole one does, at about half the cost.
SAMPLE_CHARS = 200


@dataclass(frozen=True)
class Language:
    code: str
    probability: float
    english: bool  # False only when the detector is sure enough of another language


class LanguageDetector:
    def __init__(self, languages: tuple[str, ...], min_probability: float, min_words: int):
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self.identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self.identifier.set_languages(list(languages))
        self.min_probability, self.min_words = min_probability, min_words

    def detect(self, text: str) -> Language:
        """On the lower-cased text, as the thresholds were measured (the test split is lower case):
        "MY LAPTOP WON'T BOOT" is no less English. Placeholders (<EMAIL>) are left out."""
        words = _PLACEHOLDER.sub(" ", text[: SAMPLE_CHARS * 2]).lower()[:SAMPLE_CHARS]
        code, probability = self.identifier.classify(words)
        sure = probability >= self.min_probability and len(words.split()) >= self.min_words
        return Language(code, round(float(probability), 4), english=code == "en" or not sure)
