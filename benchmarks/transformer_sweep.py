"""Fine-tune the transformer under several settings and compare them on one machine.

Each variant overrides ``train_transformer`` in params.yaml (``max_length=128``,
``learning_rate=2e-4`` ...) and is trained from the same checkpoint with the
stage's own code (split, encoding, training loop). The table gives validation
accuracy (the split the stage selects on), test accuracy and macro-F1 of the
fp32 model, and, when ``--tfidf-proba`` is given, the test scores of its
probability average with the TF-IDF model. Settings are chosen by validation
accuracy; the test columns are for orientation. Meant for a GPU (minutes) but
runs anywhere.

    python -m benchmarks.transformer_sweep data/processed/train.csv data/processed/test.csv \
        --tfidf-proba tfidf_test_proba.npz --variant base \
        --variant max_length=128 --variant learning_rate=2e-4,epochs=3

Write the TF-IDF probabilities with ``--dump-tfidf models/tfidf OUT.npz`` (it needs
the full project; the sweep itself needs torch, transformers, tokenizers, pandas,
scikit-learn and pydantic, not MLflow).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import f1_score

from callcenterai.config import ConfigError, TrainTransformerParams, load_section, validate_section
from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.evaluation import average_probabilities


def parse_variant(text: str, base: dict) -> TrainTransformerParams:
    """``base`` or ``key=value,key=value`` over ``base`` (the params.yaml section), validated."""
    overrides = {}
    if text != "base":
        for part in text.split(","):
            key, sign, value = part.partition("=")
            if not sign:
                raise SystemExit(f"variant {text!r}: expected key=value, got {part!r}")
            overrides[key.strip()] = yaml.safe_load(value)
    try:
        return validate_section("train_transformer", TrainTransformerParams, {**base, **overrides}, text)
    except ConfigError as exc:
        raise SystemExit(f"variant {exc}") from None


def run_variant(name, params, frames, checkpoint, tfidf) -> dict:
    from callcenterai.models import finetune, training_loop
    from callcenterai.models.tokens import encode_texts, softmax
    from callcenterai.stages.train_transformer import load_tokenizers, split_rows

    train_frame, test = frames
    labels = sorted(train_frame[LABEL].unique().tolist())
    index = {label: i for i, label in enumerate(labels)}
    train, val = split_rows(train_frame, params)
    _, tokenizer = load_tokenizers(checkpoint, params.checkpoint, params.max_length)
    encode = lambda frame: encode_texts(tokenizer, frame[TEXT].tolist(), params.max_length)[0]  # noqa: E731
    device = finetune.pick_device(params.device)
    started = time.perf_counter()
    model, history, best_epoch = training_loop.fine_tune(
        checkpoint,
        labels,
        encode(train),
        train[LABEL].map(index).to_numpy(),
        encode(val),
        val[LABEL].map(index).to_numpy(),
        params,
        device,
    )
    seconds = time.perf_counter() - started
    truth = test[LABEL].map(index).to_numpy()
    proba = softmax(finetune.torch_logits(model, encode(test), 64, device).astype(np.float64))
    row = {
        "variant": name,
        "val_accuracy": history[best_epoch - 1].val_accuracy,
        "best_epoch": best_epoch,
        "test_accuracy": float((proba.argmax(1) == truth).mean()),
        "test_macro_f1": f1_score(truth, proba.argmax(1), average="macro"),
        "fit_seconds": round(seconds, 1),
        "device": str(device),
    }
    if tfidf is not None:  # the pipeline's ensemble: the same averaging as the evaluate stage
        names, mean = average_probabilities([(labels, proba), (list(tfidf["labels"]), tfidf["proba"])])
        predicted = np.array([index[name] for name in names])[mean.argmax(1)]
        row["ensemble_accuracy"] = float((predicted == truth).mean())
        row["ensemble_macro_f1"] = f1_score(truth, predicted, average="macro")
    return row


def dump_tfidf(model_dir: Path, test_csv: Path, out: Path) -> None:
    from callcenterai.models.loading import load_model_dir

    model = load_model_dir(model_dir)
    texts = load_processed(test_csv)[TEXT].tolist()
    np.savez(out, proba=model.predictor.predict_proba(texts), labels=np.array(model.predictor.labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_csv", type=Path)
    parser.add_argument("test_csv", type=Path)
    parser.add_argument("--variant", action="append", default=[], help="'base' or key=value,key=value")
    parser.add_argument("--checkpoint", help="a local checkpoint folder (default: params.yaml's)")
    parser.add_argument("--tfidf-proba", type=Path, help="npz from --dump-tfidf, for the ensemble columns")
    parser.add_argument("--dump-tfidf", nargs=2, type=Path, metavar=("MODEL_DIR", "OUT_NPZ"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, help="append one JSON line per variant here")
    args = parser.parse_args()
    if args.dump_tfidf:
        dump_tfidf(args.dump_tfidf[0], args.test_csv, args.dump_tfidf[1])
        return

    from callcenterai.models.finetune import resolve_checkpoint

    base = load_section("train_transformer", TrainTransformerParams, args.params).model_dump()
    variants = {text: parse_variant(text, base) for text in args.variant or ["base"]}  # all, before any run
    checkpoint = args.checkpoint or resolve_checkpoint(base["checkpoint"])
    frames = (load_processed(args.train_csv), load_processed(args.test_csv))
    tfidf = dict(np.load(args.tfidf_proba)) if args.tfidf_proba else None
    for text, params in variants.items():
        row = run_variant(text, params, frames, checkpoint, tfidf)
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
