"""Which parts of the fine-tuned transformer can be int8 without changing its answers.

  .venv/bin/python -m benchmarks.quantization_variants [--tickets 8604]

Exports models/transformer-fp32 once (fused for ONNX Runtime), then quantises
it with different parts kept in fp32, and scores each on the test split against
the fine-tuned torch model: argmax agreement, accuracy, tickets/s in process
(batches of 32 sorted by length, as the service forms them).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from callcenterai.data import LABEL, TEXT, load_processed

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {
    "all int8 but the head": ["head"],
    "+ embeddings fp32": ["head", "embeddings"],
    "+ feed-forward outputs fp32": ["head", "ffn_output"],
    "+ both (the committed default)": ["head", "ffn_output", "embeddings"],
    "+ both + attention": ["head", "ffn_output", "embeddings", "attention"],
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=None, help="first N test tickets (default: all)")
    args = parser.parse_args()

    from callcenterai.models import finetune
    from callcenterai.models.onnx_export import export_onnx
    from callcenterai.models.tokens import encode_texts, softmax
    from callcenterai.models.transformer import MODEL_FILE, TOKENIZER_FILE, OnnxTransformer
    from callcenterai.stages.train_transformer import TRAINING_CARD, load_tokenizers

    fp32 = ROOT / "models" / "transformer-fp32"
    card = json.loads((fp32 / TRAINING_CARD).read_text())
    labels, max_length = card["labels"], card["max_length"]
    test = load_processed(ROOT / "data" / "processed" / "test.csv").head(args.tickets)
    texts, truth = test[TEXT].tolist(), test[LABEL].map({n: i for i, n in enumerate(labels)}).to_numpy()
    _, tokenizer = load_tokenizers(str(fp32), str(fp32), max_length)
    ids, _ = encode_texts(tokenizer, texts, max_length)
    model = finetune.load_fine_tuned(str(fp32), labels)
    started = time.perf_counter()
    reference = softmax(finetune.torch_logits(model, ids, 32, "cpu").astype(np.float64))
    torch_rate = len(texts) / (time.perf_counter() - started)
    print(
        f"{len(texts)} test tickets; torch fp32 (sorted batches of 32) {torch_rate:.0f} tickets/s, "
        f"accuracy {(reference.argmax(1) == truth).mean():.4f}"
    )
    print("| kept in fp32 | argmax agreement | accuracy | tickets/s in process |\n|---|---|---|---|")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        for name, keep in VARIANTS.items():
            folder = Path(tmp) / name.replace(" ", "_")
            folder.mkdir()
            export_onnx(model, folder, ids, keep)
            tokenizer.save(str(folder / TOKENIZER_FILE))
            served = OnnxTransformer(folder / MODEL_FILE, folder / TOKENIZER_FILE, labels, max_length, 32)
            started = time.perf_counter()
            proba = served.predict_proba(texts)
            rate = len(texts) / (time.perf_counter() - started)
            agreement = (proba.argmax(1) == reference.argmax(1)).mean()
            print(f"| {name} | {agreement:.4f} | {(proba.argmax(1) == truth).mean():.4f} | {rate:.0f} |")


if __name__ == "__main__":
    main()
