"""A classifier that pools by the mean of the token states, as sentence-transformers
checkpoints were trained to.

``AutoModelForSequenceClassification`` classifies BERT from its pooler, a dense layer
over the [CLS] state. all-MiniLM-L6-v2 was trained as a sentence encoder through
the mean of its token states, and its pooler never was, so fine-tuning through
[CLS] first has to teach the encoder a new summary. On the tickets, one epoch on
5,700 of them reached 0.810 test accuracy through the mean and 0.792 through
[CLS], side by side (docs/benchmarks.md). Training only: imports torch and transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel
from transformers.modeling_outputs import SequenceClassifierOutput

HEAD_FILE = "classifier_head.safetensors"
POOLING_KEY = "classifier_pooling"  # in config.json: which head a saved checkpoint has


def classifier_options(labels: Sequence[str]) -> dict:
    """``from_pretrained``'s options for a classifier over ``labels``, whichever its pooling."""
    return {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {name: i for i, name in enumerate(labels)},
        "attn_implementation": "eager",  # exports to a graph ONNX Runtime can fuse
    }


class MeanPoolingClassifier(torch.nn.Module):
    """Encoder, mean of the unmasked token states, dropout, linear layer to the labels."""

    def __init__(self, encoder, num_labels: int):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        dropout = getattr(self.config, "hidden_dropout_prob", None) or getattr(self.config, "dropout", 0.1)
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(self.config.hidden_size, num_labels)

    @classmethod
    def from_pretrained(
        cls, folder: str, labels: Sequence[str], revision: str | None = None
    ) -> "MeanPoolingClassifier":
        """A fresh head on a checkpoint's encoder, or a saved fine-tuned model with its head;
        ``revision``: the commit of a hub checkpoint (None: ``folder`` is a folder)."""
        encoder = AutoModel.from_pretrained(
            folder, revision=revision, local_files_only=revision is None, **classifier_options(labels)
        )
        encoder.config.update({POOLING_KEY: "mean"})
        model = cls(encoder, len(labels))
        head = Path(folder) / HEAD_FILE
        if head.is_file():
            model.classifier.load_state_dict(load_file(str(head)))
        return model

    def forward(self, input_ids, attention_mask=None) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return SequenceClassifierOutput(logits=self.classifier(self.dropout(pooled)))

    def save_pretrained(self, folder: str) -> None:
        self.encoder.save_pretrained(folder)
        head = {name: tensor.contiguous() for name, tensor in self.classifier.state_dict().items()}
        save_file(head, str(Path(folder) / HEAD_FILE))
