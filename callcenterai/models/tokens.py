"""Token ids for the transformer: one encoding for fine-tuning, export and serving.

Only the `tokenizers` library and numpy: the service imports this without torch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from callcenterai.text import normalize_text


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def prepare_tokenizer(tokenizer, max_length: int):
    """No padding (batches pad themselves); truncate one past the limit to see what was cut."""
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length + 1)
    return tokenizer


def encode_texts(tokenizer, texts: Sequence[str], max_length: int) -> tuple[list[list[int]], list[bool]]:
    """Normalised texts as token ids cut to ``max_length`` (the closing special token kept),
    and which texts were cut. Training and serving both encode through here."""
    ids, truncated = [], []
    for encoding in tokenizer.encode_batch([normalize_text(t) for t in texts]):
        row = encoding.ids
        cut = len(row) > max_length
        if cut:
            row = row[: max_length - 1] + row[-1:]
        ids.append(row)
        truncated.append(cut)
    return ids, truncated
