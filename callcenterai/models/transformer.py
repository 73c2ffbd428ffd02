"""The fine-tuned transformer as it is served: ONNX Runtime and `tokenizers` only.

No torch and no transformers here, so transformer_svc's image stays small and
starts fast. A model folder holds ``model.onnx`` (int8), ``tokenizer.json`` and
``model_card.json`` (labels, ``max_length``, each file's sha256).

Speed comes from how batches are formed as much as from int8: texts are sorted
by token count and padded only to the longest text of their own batch, so a
batch of short tickets costs what short tickets cost.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from callcenterai.models.tokens import encode_texts, prepare_tokenizer, softmax

if TYPE_CHECKING:
    from callcenterai.model_card import ModelCard

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


def onnx_session(model_path: Path, threads: int | None = None):
    """An ONNX Runtime CPU session; ``threads`` defaults to ORT_THREADS or every core."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(threads or os.environ.get("ORT_THREADS") or 0)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


class OnnxTransformer:
    """Tokenise, batch by length, run the ONNX graph, return probabilities."""

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        labels: Sequence[str],
        max_length: int,
        batch_size: int = 32,
    ):
        from tokenizers import Tokenizer

        self.labels = tuple(labels)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.tokenizer = prepare_tokenizer(Tokenizer.from_file(str(tokenizer_path)), self.max_length)
        self.session = onnx_session(model_path)
        self.input_names = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: Sequence[str]) -> tuple[list[list[int]], list[bool]]:
        return encode_texts(self.tokenizer, texts, self.max_length)

    def _run(self, rows: list[list[int]]) -> np.ndarray:
        width = max(len(r) for r in rows)
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        return self.session.run(None, {k: v for k, v in feeds.items() if k in self.input_names})[0]

    def logits(self, ids: list[list[int]]) -> np.ndarray:
        out = np.empty((len(ids), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._run([ids[i] for i in chunk])
        return out

    def predict_detailed(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        if not texts:
            return np.empty((0, len(self.labels))), []
        ids, truncated = self.encode(texts)
        return softmax(self.logits(ids).astype(np.float64)), truncated

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_detailed(texts)[0]


def load_onnx_transformer(folder: Path, card: ModelCard) -> OnnxTransformer:
    if card.max_length is None:
        raise ValueError("the model card has no max_length")
    return OnnxTransformer(
        Path(folder) / MODEL_FILE,
        Path(folder) / TOKENIZER_FILE,
        labels=card.labels,
        max_length=card.max_length,
        batch_size=card.serving_batch_size or 32,
    )
