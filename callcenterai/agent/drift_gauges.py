"""The latest drift run's scores as the agent's Prometheus gauges.

``scripts/monitor_drift.py`` saves each run in the review database; the agent reads
the newest one every DRIFT_REFRESH_SECONDS and exports it, so Prometheus (and the
drift alerts) need no exporter of their own. Before the first run the gauges have
no samples: no drift is not the same as not measured. A database that cannot be read
leaves the last values in place and is logged once until it can be read again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Callable, Iterator

import anyio
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("callcenterai.agent")


class DriftGauges:
    """A collector on ``registry``: ``refresh`` reads the latest run, ``run`` refreshes forever."""

    def __init__(self, registry: CollectorRegistry, reader: Callable[[], dict | None]):
        self.reader = reader  # the latest run as latest_drift_run gives it
        self.latest: dict | None = None
        self.unreadable = False
        registry.register(self)

    def refresh(self) -> bool:
        """Read the latest run; False (values kept, logged once) when the database cannot be read."""
        try:
            latest = self.reader()
        except Exception as error:  # any driver or schema error: the gauges keep what they show
            if not self.unreadable:
                log.warning(
                    "drift gauges: cannot read the latest drift run (%s); keeping the last values", error
                )
            self.unreadable = True
            return False
        if self.unreadable:
            log.info("drift gauges: the review database can be read again")
        self.unreadable = False
        self.latest = latest
        return True

    async def run(self, every: float) -> None:
        while True:
            await anyio.to_thread.run_sync(self.refresh)
            await asyncio.sleep(every)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        run = self.latest  # one read: a refresh in another thread replaces the whole dict
        families = {
            "score": GaugeMetricFamily(
                "callcenterai_drift_score", "Each drift check's score (larger: more drift).", labels=["check"]
            ),
            "threshold": GaugeMetricFamily(
                "callcenterai_drift_threshold",
                "The score above which a check reports drift.",
                labels=["check"],
            ),
            "drifted": GaugeMetricFamily(
                "callcenterai_drift_detected",
                "1 when the check found drift in the last run.",
                labels=["check"],
            ),
        }
        last_run = GaugeMetricFamily(
            "callcenterai_drift_last_run_timestamp_seconds", "When the last drift run was made (Unix time)."
        )
        window = GaugeMetricFamily(
            "callcenterai_drift_window_tickets",
            "Recent tickets compared with the training data in the last run.",
        )
        if run is not None:
            for check, result in sorted(run["checks"].items()):
                for key, family in families.items():
                    if result.get(key) is not None:
                        family.add_metric([check], float(result[key]))
            last_run.add_metric([], dt.datetime.fromisoformat(run["created_at"]).timestamp())
            window.add_metric([], float(run["window_tickets"]))
        yield from (*families.values(), last_run, window)
