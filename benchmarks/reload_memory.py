"""Resident memory across model reloads: is a replaced model ever freed?

  .venv/bin/python benchmarks/reload_memory.py [--reloads 40] [--model models/tfidf]

Runs the service's ModelHolder on a local model folder and reloads it N times,
printing RSS after each; then the same with ``gc.unfreeze`` disabled, which is
what the holder did before (``gc.freeze`` on every swap, never unfreezing). A
replaced model that is never freed shows as a peak that keeps rising; a freed
one as a plateau (two models are resident for a moment during each swap).
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(model: str, reloads: int, unfreeze: bool) -> list[float]:
    from callcenterai.serving.holder import ModelHolder
    from callcenterai.serving.settings import ClassifierSettings

    if not unfreeze:
        gc.unfreeze = lambda: None  # the holder before the fix
    settings = ClassifierSettings(service="bench", kind="tfidf", model_uri_override=model)
    holder = ModelHolder(settings)
    holder.load_initial()
    sizes = [rss_mb()]
    for _ in range(reloads):
        holder.reload()
        sizes.append(rss_mb())
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reloads", type=int, default=40)
    parser.add_argument("--model", default=str(ROOT / "models" / "tfidf"))
    parser.add_argument("--one", choices=["unfreeze", "freeze-only"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sizes = run(args.model, args.reloads, args.one == "unfreeze")
        print(" ".join(f"{s:.0f}" for s in sizes))
        return
    print(f"RSS in MB after load and after each of {args.reloads} reloads of {args.model}")
    for mode in ("unfreeze", "freeze-only"):
        command = [
            sys.executable,
            __file__,
            "--one",
            mode,
            "--reloads",
            str(args.reloads),
            "--model",
            args.model,
        ]
        sizes = [
            float(x)
            for x in subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
        ]
        half = len(sizes) // 2
        early, late = max(sizes[1:half]), max(sizes[half:])
        print(f"{mode}: loaded {sizes[0]:.0f}; peak over reloads 1-{half - 1} {early:.0f}, later {late:.0f}")
        print("  " + " ".join(f"{s:.0f}" for s in sizes))


if __name__ == "__main__":
    main()
