"""The agent's pooled client against real sockets on loopback: which failure is which, and the one retry.

The servers here are plain asyncio TCP servers speaking just enough HTTP/1.1, so
each can misbehave exactly once on purpose (close a kept-alive connection as it
is reused, or never answer), which a real uvicorn cannot be made to do on cue.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest

from callcenterai.agent.backends import Backend, BackendUnavailable
from callcenterai.agent.http_client import BackendClient, CallFailed, CallTimedOut, StaleConnection
from callcenterai.agent.metrics import AgentMetrics
from tests.helpers import free_port

ANSWER = orjson.dumps({"label": "Hardware"})


async def _read_request(reader: asyncio.StreamReader) -> bool:
    """Read one request (headers and body); False when the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return False
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return True


def _response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )


class DroppingServer:
    """Answers the first request on a connection, then closes it when the next one arrives."""

    def __init__(self):
        self.connections = 0

    async def handle(self, reader, writer):
        self.connections += 1
        answered = 0
        while await _read_request(reader):
            if answered == 1:
                break  # the stale keep-alive: read the request, close without a word
            writer.write(_response(ANSWER))
            await writer.drain()
            answered += 1
        writer.close()


async def _serve(handler):
    port = free_port()
    server = await asyncio.start_server(handler, "127.0.0.1", port)
    return server, f"http://127.0.0.1:{port}"


def _ready_backend(url: str, client: BackendClient, metrics: AgentMetrics, timeout: float = 2.0) -> Backend:
    backend = Backend("tfidf", url, client, metrics, timeout=timeout, per_text=0.0)
    backend.state.ready = True
    return backend


def _stale_count(metrics: AgentMetrics) -> float:
    labels = {"backend": "tfidf_svc", "error": "stale_connection"}
    return metrics.registry.get_sample_value("callcenterai_agent_backend_errors_total", labels) or 0.0


def test_a_connection_closed_as_it_is_reused_is_retried_once_on_a_fresh_one():
    async def scenario():
        dropping = DroppingServer()
        server, url = await _serve(dropping.handle)
        client, metrics = BackendClient(connections=1), AgentMetrics()
        await client.open()
        try:
            backend = _ready_backend(url, client, metrics)
            first = await backend.predict("printer broken", "r1")
            # The pooled connection is reused for this call; the server drops it: one retry, answered.
            second = await backend.predict("printer broken", "r2")
        finally:
            await client.close()
            server.close()
            await server.wait_closed()
        return first, second, dropping.connections, _stale_count(metrics), backend.state.circuit_open

    first, second, connections, stale, circuit_open = asyncio.run(scenario())
    assert first == second == {"label": "Hardware"}
    assert connections == 2
    assert stale == 1
    assert not circuit_open


def test_a_refused_connection_is_a_call_failure_not_a_stale_one():
    async def scenario():
        client = BackendClient(connections=1)
        await client.open()
        try:
            await client.post(f"http://127.0.0.1:{free_port()}/predict", b"{}", {}, timeout=2.0)
        finally:
            await client.close()

    with pytest.raises(CallFailed, match="cannot connect") as caught:
        asyncio.run(scenario())
    assert not isinstance(caught.value, StaleConnection)


def test_a_server_that_never_answers_is_a_timeout_and_opens_the_circuit():
    async def silent(reader, writer):
        await reader.read(65536)
        await asyncio.sleep(30)

    async def scenario():
        server, url = await _serve(silent)
        client, metrics = BackendClient(connections=1), AgentMetrics()
        await client.open()
        backend = _ready_backend(url, client, metrics, timeout=0.3)
        try:
            with pytest.raises(CallTimedOut):
                await client.post(url + "/predict", b"{}", {}, timeout=0.3)
            with pytest.raises(BackendUnavailable, match="no answer within 0.3 s"):
                await backend.predict("printer broken", "r1")
        finally:
            await client.close()
            server.close()
        return backend.state.circuit_open, backend.usable

    circuit_open, usable = asyncio.run(scenario())
    assert circuit_open and not usable
