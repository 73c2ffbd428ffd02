"""What ``up`` started, kept in the state folder so that ``status`` and ``down`` find it later."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from callcenterai.stack.layout import StackError
from callcenterai.stack.processes import group_members, is_running, no_process_has, start_ticks
from callcenterai.stack.secrets import write_private
from callcenterai.stack.services import ServiceSpec


@dataclass(frozen=True)
class Started:
    name: str
    pid: int  # also its process group: each service leads its own
    ticks: int | None  # when it began: tells our process from a later one with the same pid
    url: str
    ready_url: str
    log: str
    note: str = ""

    @classmethod
    def of(cls, spec: ServiceSpec, pid: int, log: Path) -> "Started":
        return cls(spec.name, pid, start_ticks(pid), spec.url, spec.ready_url, str(log), spec.note)

    def running(self) -> bool:
        return is_running(self.pid, self.ticks)

    def group_left(self) -> bool:
        """Its group still has processes although it is gone (children that outlived it), or it runs.

        A pid that no process has now cannot have been given to another program's
        group leader, so the group's members are the ones this service started.
        """
        if self.running():
            return True
        return no_process_has(self.pid) and bool(group_members(self.pid))


def save(path: Path, started: list[Started]) -> None:
    write_private(path, json.dumps([asdict(entry) for entry in started], indent=1) + "\n")


def load(path: Path) -> list[Started]:
    if not path.is_file():
        return []
    try:
        return [Started(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]
    except (ValueError, TypeError) as exc:
        raise StackError(f"{path}: not a stack record ({exc}); stop its processes by hand and delete it")
