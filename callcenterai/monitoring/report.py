"""A drift run's files: drift.json (the scores), report.html (readable offline) and Evidently's page.

All are written under temporary names and renamed together once every one is complete,
so a reader never finds half a report, and a failed run leaves the last one in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callcenterai.fileio import staged_files, write_json
from callcenterai.monitoring.report_html import EVIDENTLY_PAGE, render_report

REPORT_PAGE = "report.html"
SCORES_FILE = "drift.json"


def write_report(run: dict, snapshot: Any, out_dir: Path) -> dict:
    """Write the run's files into ``out_dir``; the run with ``report_path`` set to report.html."""
    out_dir = Path(out_dir)
    run = {**run, "report_path": str(out_dir / REPORT_PAGE)}
    targets = [out_dir / SCORES_FILE, out_dir / REPORT_PAGE]
    if snapshot is not None:
        targets.append(out_dir / EVIDENTLY_PAGE)
    with staged_files(*targets) as staged:
        write_json(staged[0], run, sort_keys=False)
        staged[1].write_text(render_report(run, evidently_page=snapshot is not None), encoding="utf-8")
        if snapshot is not None:
            snapshot.save_html(str(staged[2]))
    if snapshot is None:
        (out_dir / EVIDENTLY_PAGE).unlink(
            missing_ok=True
        )  # an older run's page would be taken for this one's
    return run
