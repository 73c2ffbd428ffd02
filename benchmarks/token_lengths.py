"""How long the tickets are in word pieces, and what each max_length cap cuts.

  .venv/bin/python -m benchmarks.token_lengths [data/processed/train.csv] [--caps 64 96 128]

Texts are normalised and tokenised as the stage does (``encode_texts``), without a cap.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from callcenterai.config import TrainTransformerParams, load_section
from callcenterai.data import TEXT, load_processed
from callcenterai.models.finetune import resolve_checkpoint
from callcenterai.models.tokens import encode_texts
from callcenterai.stages.train_transformer import load_tokenizers

UNCAPPED = 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, nargs="?", default=Path("data/processed/train.csv"))
    parser.add_argument("--caps", type=int, nargs="+", default=[64, 96, 128])
    args = parser.parse_args()
    params = load_section("train_transformer", TrainTransformerParams)
    _, tokenizer = load_tokenizers(resolve_checkpoint(params.checkpoint), params.checkpoint, UNCAPPED)
    ids, _ = encode_texts(tokenizer, load_processed(args.csv)[TEXT].tolist(), UNCAPPED)
    lengths = np.array([len(row) for row in ids])
    p50, p90, p99 = np.percentile(lengths, [50, 90, 99])
    print(
        f"{len(lengths)} tickets: mean {lengths.mean():.1f} word pieces, "
        f"p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}"
    )
    print("| cap | tickets longer | word pieces kept | word pieces vs the first cap |\n|---|---|---|---|")
    first = np.minimum(lengths, args.caps[0]).sum()
    for cap in args.caps:
        kept = np.minimum(lengths, cap).sum()
        print(f"| {cap} | {(lengths > cap).mean():.1%} | {kept / lengths.sum():.1%} | {kept / first:.3f} |")


if __name__ == "__main__":
    main()
