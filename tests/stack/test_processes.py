"""Starting and stopping with small stand-in processes (no service): a process group with a child is
stopped whole, a pid is trusted only with its start time, `up` stops what it started when one process
fails, and `status` and `down` read what `up` recorded."""

from __future__ import annotations

import socket
import sys

import pytest

from callcenterai.stack import commands, records
from callcenterai.stack.layout import DEFAULT_PORTS, HOST, StackError, StackLayout, resolve_ports
from callcenterai.stack.processes import group_members, launch, port_is_free, start_ticks, stop_groups
from callcenterai.stack.services import ServiceSpec
from tests.helpers import free_port

# A parent that starts a child which ignores SIGTERM: only the group's SIGKILL ends it.
STUBBORN_FAMILY = (
    "import signal, subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)'])\n"
    "time.sleep(300)\n"
)


def _until(condition, tries: int = 100) -> None:
    import time

    for _ in range(tries):
        if condition():
            return
        time.sleep(0.05)


def test_a_group_is_stopped_whole_children_that_ignore_sigterm_included(tmp_path):
    process = launch([sys.executable, "-c", STUBBORN_FAMILY], {}, tmp_path / "log", tmp_path)
    _until(lambda: len(group_members(process.pid)) == 2)
    assert len(group_members(process.pid)) == 2
    assert stop_groups([process.pid], grace=0.5) == []
    process.wait(timeout=10)
    assert group_members(process.pid) == []


def test_a_pid_is_trusted_only_with_the_start_time_recorded_beside_it(tmp_path):
    process = launch([sys.executable, "-c", "import time; time.sleep(300)"], {}, tmp_path / "log", tmp_path)
    try:
        ticks = start_ticks(process.pid)
        entry = records.Started("x", process.pid, ticks, "http://x", "http://x/ready", "log")
        impostor = records.Started("x", process.pid, (ticks or 0) + 1, "http://x", "http://x/ready", "log")
        assert ticks is not None and entry.running() and not impostor.running()
    finally:
        stop_groups([process.pid], grace=5)
        process.wait(timeout=10)
    assert start_ticks(process.pid) is None and not entry.running()


def test_a_port_in_use_is_seen(tmp_path):
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen()
        assert not port_is_free(sock.getsockname()[1])
    assert port_is_free(free_port())


def _layout(tmp_path) -> StackLayout:
    return StackLayout(project=tmp_path, state=tmp_path / "state", ports=resolve_ports(0))


def _web_server(name: str, after: tuple[str, ...] = ()) -> ServiceSpec:
    port = free_port()
    command = (sys.executable, "-m", "http.server", str(port), "--bind", HOST)
    return ServiceSpec(name, port, command, ready_path="/", after=after)


def _fails(name: str) -> ServiceSpec:
    command = (sys.executable, "-c", "import sys; print('cannot open the model store'); sys.exit(3)")
    return ServiceSpec(name, free_port(), command, after=("first",))


def test_up_starts_in_order_status_sees_them_ready_and_down_stops_them(tmp_path):
    layout = _layout(tmp_path)
    plan = [_web_server("second", after=("first",)), _web_server("first")]
    entries = commands.start_all(layout, plan, timeout=60)
    try:
        assert [entry.name for entry in entries] == ["first", "second"]  # second waited for first
        assert [state for _, state in commands.status(layout)] == ["ready", "ready"]
    finally:
        stopped = commands.down(layout)
    assert sorted(entry.name for entry in stopped) == ["first", "second"]
    assert all(start_ticks(entry.pid) is None for entry in entries)
    assert commands.status(layout) == [] and commands.down(layout) == []  # idempotent


def test_a_process_that_exits_stops_the_start_naming_it_with_its_log(tmp_path):
    layout = _layout(tmp_path)
    plan = [_web_server("first"), _fails("broken")]
    with pytest.raises(commands.StartFailed) as failed:
        commands.start_all(layout, plan, timeout=60)
    message = str(failed.value)
    assert message.startswith("broken exited with code 3") and "cannot open the model store" in message
    assert records.load(layout.pids_file) == []  # every process it started stopped, the record dropped
    assert port_is_free(plan[0].port)


def test_a_process_never_ready_stops_the_start_after_the_timeout(tmp_path):
    layout = _layout(tmp_path)
    silent = ServiceSpec("silent", free_port(), (sys.executable, "-c", "import time; time.sleep(300)"))
    with pytest.raises(commands.StartFailed, match="silent not ready after 1 s"):
        commands.start_all(layout, [silent], timeout=1)
    assert records.load(layout.pids_file) == []


def test_up_refuses_a_second_stack_on_the_same_state_and_a_taken_port(tmp_path):
    layout = _layout(tmp_path)
    (tmp_path / "mlflow.db").write_bytes(b"")
    entries = commands.start_all(layout, [_web_server("first")], timeout=60)
    try:
        with pytest.raises(StackError, match="is running"):
            commands.check_can_start(layout)
    finally:
        commands.down(layout)
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen()
        ports = {name: free_port() for name in DEFAULT_PORTS} | {"agent": sock.getsockname()[1]}
        taken = StackLayout(project=tmp_path, state=tmp_path / "s2", ports=resolve_ports(0, ports))
        with pytest.raises(StackError, match=r"\(agent\).*--port-offset"):
            commands.check_can_start(taken)
    assert [entry.name for entry in entries] == ["first"]


def test_up_without_a_store_says_to_run_the_quick_start(tmp_path):
    with pytest.raises(StackError, match="Quick start"):
        commands.check_can_start(_layout(tmp_path))
