"""How much the fine-tuned transformer's test accuracy moves with the seed alone, and
whether one seed repeats itself to the last bit.

The data is fixed: the row sample and the validation split are drawn once, with
params.yaml's seed, as the stage draws them; each run then fine-tunes with its own
seed (the new head's initial weights, dropout, the batch order) through the stage's
own loop, and scores the test split with the fp32 model. ``--repeat`` trains the
first seed once more in the same process; ``digest`` (sha256 of the test logits)
compares runs across processes. The params are params.yaml's ``train_transformer``
section (the quick mode when setup_mlops.py --quick wrote it), ``--rows`` overriding
``max_train_rows``.

    python -m benchmarks.seed_spread data/processed/train.csv data/processed/test.csv \
        --seeds 1 2 3 4 5 --repeat
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from callcenterai.config import TrainTransformerParams, load_section
from callcenterai.data import LABEL, TEXT, load_processed


def encoded_splits(train_csv: Path, test_csv: Path, params: TrainTransformerParams) -> dict:
    """Labels, the checkpoint, and the encoded train, validation and test splits."""
    from callcenterai.models.finetune import resolve_checkpoint
    from callcenterai.models.tokens import encode_texts
    from callcenterai.stages.train_transformer import load_tokenizers, split_rows

    train_frame, test = load_processed(train_csv), load_processed(test_csv)
    labels = sorted(train_frame[LABEL].unique().tolist())
    index = {label: i for i, label in enumerate(labels)}
    train, val = split_rows(train_frame, params)
    checkpoint = resolve_checkpoint(params.checkpoint)
    _, tokenizer = load_tokenizers(checkpoint, params.checkpoint, params.max_length)
    splits = {"labels": labels, "checkpoint": checkpoint}
    for name, frame in (("train", train), ("val", val), ("test", test)):
        splits[name] = (
            encode_texts(tokenizer, frame[TEXT].tolist(), params.max_length)[0],
            frame[LABEL].map(index).to_numpy(),
        )
    return splits


def run_seed(seed: int, splits: dict, params: TrainTransformerParams) -> dict:
    from sklearn.metrics import f1_score

    from callcenterai.models import finetune, training_loop

    params = params.model_copy(update={"seed": seed})
    device = finetune.pick_device(params.device)
    started = time.perf_counter()
    model, history, best_epoch = training_loop.fine_tune(
        splits["checkpoint"], splits["labels"], *splits["train"], *splits["val"], params, device
    )
    seconds = time.perf_counter() - started
    test_ids, truth = splits["test"]
    logits = finetune.torch_logits(model, test_ids, 64, device)
    predicted = logits.argmax(1)
    return {
        "seed": seed,
        "val_accuracy": history[best_epoch - 1].val_accuracy,
        "test_accuracy": float((predicted == truth).mean()),
        "test_macro_f1": float(f1_score(truth, predicted, average="macro")),
        "fit_seconds": round(seconds, 1),
        "digest": hashlib.sha256(logits.tobytes()).hexdigest()[:16],
    }


def print_table(rows: list[dict], repeated: dict | None) -> None:
    print("| seed | val accuracy | test accuracy | test macro-F1 | fit s | test logits sha256 |")
    print("|---|---|---|---|---|---|")
    for row in rows + ([{**repeated, "seed": f"{repeated['seed']} again"}] if repeated else []):
        print(
            f"| {row['seed']} | {row['val_accuracy']:.4f} | {row['test_accuracy']:.4f} | "
            f"{row['test_macro_f1']:.4f} | {row['fit_seconds']} | `{row['digest']}` |"
        )
    accuracy = np.array([row["test_accuracy"] for row in rows])
    if len(rows) > 1:
        print(
            f"\ntest accuracy over {len(rows)} seeds: mean {accuracy.mean():.4f}, "
            f"std {accuracy.std(ddof=1):.4f}, min {accuracy.min():.4f}, max {accuracy.max():.4f}, "
            f"range {accuracy.max() - accuracy.min():.4f}"
        )
    if repeated:
        same = repeated["digest"] == rows[0]["digest"]
        print(f"seed {repeated['seed']} twice: test logits {'identical' if same else 'DIFFERENT'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_csv", type=Path)
    parser.add_argument("test_csv", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--repeat", action="store_true", help="train the first seed once more")
    parser.add_argument("--rows", type=int, help="max_train_rows (default: params.yaml's)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    params = load_section("train_transformer", TrainTransformerParams, args.params)
    if args.rows:
        params = params.model_copy(update={"max_train_rows": args.rows})
    print(f"params: {params.model_dump(mode='json')}", flush=True)
    splits = encoded_splits(args.train_csv, args.test_csv, params)
    rows = []
    for seed in args.seeds:
        rows.append(run_seed(seed, splits, params))
        print(rows[-1], flush=True)
    repeated = run_seed(args.seeds[0], splits, params) if args.repeat else None
    print_table(rows, repeated)


if __name__ == "__main__":
    main()
