"""Stage prepare: validate and clean the raw tickets, split them into train and test,
and add the reviewed tickets (if a feedback file is given) to the training split only."""

from __future__ import annotations

import logging
from pathlib import Path

from callcenterai.config import PrepareParams
from callcenterai.data import prepare_tickets
from callcenterai.feedback import add_feedback, read_feedback
from callcenterai.fileio import md5_of, staged_files, write_json

log = logging.getLogger(__name__)


def run_prepare(
    raw_csv: Path, out_dir: Path, params: PrepareParams, feedback_csv: Path | None = None
) -> dict:
    prepared = prepare_tickets(raw_csv, params)
    if feedback_csv is not None:
        prepared = add_feedback(prepared, read_feedback(feedback_csv, params))
    stats = {**prepared.stats, "raw_md5": md5_of(raw_csv)}
    out_dir = Path(out_dir)
    targets = [out_dir / "train.csv", out_dir / "test.csv", out_dir / "data_stats.json"]
    with staged_files(*targets) as (train_tmp, test_tmp, stats_tmp):
        prepared.train.to_csv(train_tmp, index=False)
        prepared.test.to_csv(test_tmp, index=False)
        write_json(stats_tmp, stats)
    added = stats.get("feedback", {}).get("added_to_train", 0)
    log.info(
        "prepare: %d train (%d reviewed), %d test rows -> %s",
        stats["rows"]["train"],
        added,
        stats["rows"]["test"],
        out_dir,
    )
    return stats
