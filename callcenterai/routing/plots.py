"""The routing stage's picture: accuracy against the share of tickets the transformer sees."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def call_rate_png(curve: list[dict], chosen: dict, references: dict[str, float], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot([p["call_rate"] for p in curve], [p["accuracy"] for p in curve], "-", lw=2, label="routed")
    for (name, accuracy), style in zip(references.items(), ("--", ":")):
        ax.axhline(accuracy, color="grey", ls=style, lw=1, label=f"{name} ({accuracy:.4f})")
    ax.plot([chosen["call_rate"]], [chosen["accuracy"]], "o", color="crimson")
    ax.annotate(
        f"policy: {chosen['call_rate']:.1%} to the transformer, accuracy {chosen['accuracy']:.4f}",
        (chosen["call_rate"], chosen["accuracy"]),
        textcoords="offset points",
        xytext=(10, -25),
        fontsize=9,
    )
    ax.set_xlabel("share of tickets sent to the transformer too")
    ax.set_ylabel("accuracy (held-out half of the test split)")
    ax.set_xlim(0, 1.01)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Routing: accuracy versus transformer calls")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
