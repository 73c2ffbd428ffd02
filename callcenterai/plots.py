"""PNG versions of the evaluation plots.

``dvc plots show`` writes HTML that loads its charting library from a CDN, so
it renders blank offline; these images are readable anywhere and go to MLflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_png(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str, path: Path) -> Path:
    counts = np.asarray(matrix, dtype=float)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            colour = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, int(counts[i, j]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(f"{title}: confusion matrix (colour = share of actual row)")
    return _save(fig, path)


def per_class_f1_png(rows: list[dict], title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 4))
    names = [r["label"] for r in rows]
    values = [r["f1"] for r in rows]
    bars = ax.barh(names, values, color="#4C72B0")
    ax.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    ax.set_xlim(0, 1.05)
    ax.invert_yaxis()
    ax.set_xlabel("F1 on the test split")
    ax.set_title(f"{title}: F1 per class")
    return _save(fig, path)


def reliability_png(rows: list[dict], ece: float, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.plot(
        [r["confidence"] for r in rows],
        [r["accuracy"] for r in rows],
        "o-",
        label=f"model (ECE {ece:.3f})",
    )
    ax.set_xlabel("mean confidence in bin")
    ax.set_ylabel("accuracy in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.set_title(f"{title}: reliability")
    return _save(fig, path)


def coverage_png(rows: list[dict], target: float, coverage: float, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot([r["coverage"] for r in rows], [r["accuracy"] for r in rows], "-", lw=2)
    ax.axhline(target, color="grey", ls="--", lw=1)
    ax.axvline(coverage, color="grey", ls=":", lw=1)
    ax.annotate(
        f"{coverage:.1%} of tickets at {target:.0%} accuracy",
        (coverage, target),
        textcoords="offset points",
        xytext=(-160, -30),
        fontsize=9,
    )
    ax.set_xlabel("coverage (share of tickets answered automatically)")
    ax.set_ylabel("accuracy on those tickets")
    ax.set_xlim(0, 1.01)
    ax.set_title(f"{title}: accuracy versus coverage")
    return _save(fig, path)


def training_history_png(history: Sequence[dict], steps: Sequence[dict], title: str, path: Path) -> Path:
    """Loss (running, per step, and validation per epoch) and accuracy per epoch."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = [row["epoch"] for row in history]
    if steps:
        per_epoch = max(steps[-1]["step"] / max(len(history), 1), 1)
        loss_ax.plot(
            [s["step"] / per_epoch for s in steps], [s["loss"] for s in steps], lw=1, label="train (running)"
        )
    loss_ax.plot(epochs, [r["train_loss"] for r in history], "o-", label="train (epoch mean)")
    loss_ax.plot(epochs, [r["val_loss"] for r in history], "s-", label="validation")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("cross-entropy loss")
    loss_ax.legend()
    acc_ax.plot(epochs, [r["train_accuracy"] for r in history], "o-", label="train")
    acc_ax.plot(epochs, [r["val_accuracy"] for r in history], "s-", label="validation")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_xticks(epochs)
    acc_ax.legend()
    fig.suptitle(f"{title}: training history")
    return _save(fig, path)


def comparison_png(metrics: dict[str, dict], path: Path) -> Path:
    """Models side by side: headline metrics, and F1 per class."""
    names = list(metrics)
    headline = ("accuracy", "macro_f1", "coverage_at_target_accuracy")
    classes = sorted(next(iter(metrics.values()))["per_class_f1"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 2]})
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        offsets = np.arange(len(headline)) + (k - (len(names) - 1) / 2) * width
        values = [metrics[name][m] for m in headline]
        bars = left.bar(offsets, values, width, label=name)
        left.bar_label(bars, fmt="%.3f", fontsize=7, rotation=90, padding=2)
        offsets = np.arange(len(classes)) + (k - (len(names) - 1) / 2) * width
        right.bar(offsets, [metrics[name]["per_class_f1"][c] for c in classes], width, label=name)
    left.set_xticks(range(len(headline)), ["accuracy", "macro-F1", "coverage at\ntarget accuracy"])
    left.set_ylim(0, 1.12)
    left.legend(fontsize=8, loc="lower right")
    right.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    right.set_ylim(0, 1)
    right.set_ylabel("F1 on the test split")
    fig.suptitle("Models on the same test split")
    return _save(fig, path)
