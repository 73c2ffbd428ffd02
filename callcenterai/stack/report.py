"""What ``up`` and ``status`` print: where each process is, and what a newcomer does next."""

from __future__ import annotations

from callcenterai.stack.layout import StackLayout
from callcenterai.stack.records import Started
from callcenterai.stack.secrets import SECRETS, masked


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    return "\n".join(lines)


def reviewer_count(layout: StackLayout) -> int:
    try:
        lines = layout.reviewers_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    return sum(1 for line in lines if line.strip() and not line.lstrip().startswith("#"))


def up_report(layout: StackLayout, entries: list[Started], seconds: float, again: str) -> str:
    """``again`` is what to add to a ``stack.py`` command to reach this stack (its --state)."""
    rows = [
        (entry.name, entry.url, str(entry.pid), layout.shown(layout.log(entry.name))) for entry in entries
    ]
    secret_rows = [
        (f"  {layout.shown(layout.secrets / name)}", masked(_read(layout, name)), what)
        for name, what in SECRETS.items()
    ]
    reviewers = reviewer_count(layout)
    if reviewers:
        accounts = f"{reviewers} reviewer account(s) in {layout.shown(layout.reviewers_file)}; to add one:"
    else:
        accounts = (
            "No reviewer account yet: make the first one (the web interface reads it at the next sign-in):"
        )
    return "\n".join(
        [
            f"The stack is up: every process ready in {seconds:.1f} s, state in {layout.shown(layout.state)}",
            "",
            table(rows, ("service", "URL", "pid", "log")),
            *[f"Note: {entry.name} {entry.note}" for entry in entries if entry.note],
            "",
            "Web interface: " + layout.url("web_interface") + "/  (MLflow UI " + layout.url("mlflow") + ")",
            accounts,
            f"  python scripts/add_reviewer.py NAME --file {layout.shown(layout.reviewers_file)}",
            "Cookies: the web interface runs with COOKIE_SECURE=0 because it serves plain http on 127.0.0.1;",
            "  never run it so on a network (docs/settings.md, COOKIE_SECURE).",
            "Generated secrets (mode 0600, outside git; shown here by their first characters only):",
            table(secret_rows, ("  file", "starts", "what it is")),
            "A ticket through the agent:",
            f"  curl -s {layout.url('agent')}/predict -H 'content-type: application/json' \\",
            f'    -H "X-Client-Key: $(cat {layout.shown(layout.secrets / "agent_client_key")})" \\',
            '    -d \'{"text": "my laptop will not boot"}\'',
            f"Status: python scripts/stack.py status{again}    Stop: python scripts/stack.py down{again}",
        ]
    )


def status_report(layout: StackLayout, found: list[tuple[Started, str]]) -> str:
    if not found:
        return f"No stack recorded in {layout.shown(layout.state)}: every service stopped."
    rows = [
        (entry.name, state, entry.url, str(entry.pid), layout.shown(layout.log(entry.name)))
        for entry, state in found
    ]
    return table(rows, ("service", "state", "URL", "pid", "log"))


def down_report(layout: StackLayout, stopped: list[Started]) -> str:
    if not stopped:
        return f"Nothing running from {layout.shown(layout.state)}."
    return "Stopped: " + ", ".join(f"{entry.name} (pid {entry.pid})" for entry in stopped) + "."


def _read(layout: StackLayout, name: str) -> str:
    try:
        return (layout.secrets / name).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
