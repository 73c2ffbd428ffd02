"""The classifier services as the agent sees them: one pooled client, timeouts, a circuit breaker.

A call that fails (refused connection, timeout, 5xx) opens the backend's
circuit: later calls skip it at once instead of waiting again, and a background
probe (``GET /ready`` with a short timeout) closes it when the backend answers
ready. So a hanging backend costs the timeout once, not once per ticket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Iterable

import orjson

from callcenterai.agent.http_client import BackendClient, CallFailed, CallTimedOut, Reply, StaleConnection
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.httpkit.schemas import CLIENT_KEY_HEADER

log = logging.getLogger("callcenterai.agent")
PROBE_TIMEOUT = 1.0


class ChallengerFailed(Exception):
    """The challenger gave no answer; ``error`` says why in a word (timeout, http_5xx, ...)."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class BackendUnavailable(Exception):
    """The backend could not answer this call; ``reason`` says why, in a few words."""

    def __init__(self, backend: str, reason: str):
        super().__init__(f"{backend}: {reason}")
        self.backend, self.reason = backend, reason


@dataclass
class BackendState:
    ready: bool = False
    circuit_open: bool = False
    reason: str | None = "not probed yet"
    opened_at: float | None = None
    model: dict | None = None  # the model reference /ready last reported
    card: dict | None = None  # GET /model, refreshed when the served version changes
    failures: int = 0
    challenger: dict | None = None  # {"name", "version"} /ready last reported; None: no challenger


class Backend:
    def __init__(
        self,
        kind: str,
        url: str,
        client: BackendClient,
        metrics: AgentMetrics,
        timeout: float,
        per_text: float,
        client_key: str | None = None,
    ):
        self.kind, self.name, self.url = kind, f"{kind}_svc", url.rstrip("/")
        self.client, self.metrics = client, metrics
        self.timeout, self.per_text = timeout, per_text
        self.headers = {"content-type": "application/json"}
        if client_key:
            self.headers[CLIENT_KEY_HEADER.lower()] = client_key
        self.state = BackendState()
        self._latency = {
            ep: metrics.backend_latency.labels(backend=self.name, endpoint=ep) for ep in ("one", "batch")
        }

    @property
    def usable(self) -> bool:
        return self.state.ready and not self.state.circuit_open

    def _open(self, reason: str, error: str) -> None:
        self.metrics.backend_errors.labels(backend=self.name, error=error).inc()
        if not self.state.circuit_open:
            log.warning("%s: skipping it until it is ready again: %s", self.name, reason)
        self.state.circuit_open, self.state.ready = True, False
        self.state.reason, self.state.opened_at = reason, time.time()
        self.state.failures += 1
        self.metrics.circuit_open.labels(backend=self.name).set(1)

    def _close(self) -> None:
        if self.state.circuit_open:
            log.info("%s: ready again", self.name)
        self.state.circuit_open, self.state.reason, self.state.opened_at = False, None, None
        self.metrics.circuit_open.labels(backend=self.name).set(0)

    async def _post(self, path: str, payload: dict, texts: int, request_id: str) -> dict:
        if not self.usable:
            raise BackendUnavailable(self.name, self.state.reason or "not ready")
        timeout = self.timeout + self.per_text * texts
        headers = {**self.headers, "x-request-id": request_id}
        started = time.perf_counter()
        try:
            response = await self._send(path, payload, headers, timeout)
        except CallTimedOut:
            self._open(f"no answer within {timeout:.1f} s", "timeout")
            raise BackendUnavailable(self.name, self.state.reason) from None
        except CallFailed as exc:
            self._open(f"unreachable ({exc})", "connection")
            raise BackendUnavailable(self.name, self.state.reason) from None
        if response.status >= 500:
            self._open(f"answered {response.status}", f"http_{response.status}")
            raise BackendUnavailable(self.name, self.state.reason)
        if response.status != 200:
            # The agent's own limits should keep this from happening: a configuration mismatch.
            self.metrics.backend_errors.labels(backend=self.name, error=f"http_{response.status}").inc()
            message = _error_of(response)
            raise BackendUnavailable(self.name, f"refused the ticket ({response.status}: {message})")
        self._latency["batch" if path.endswith("batch") else "one"].observe(time.perf_counter() - started)
        return orjson.loads(response.content)

    async def _send(self, path: str, payload: dict, headers: dict, timeout: float) -> Reply:
        """POST once more when a pooled connection turns out closed: the backend ends idle
        keep-alive connections, and one can close just as it is reused. Timeouts are not
        retried (that would cost the timeout twice)."""
        body = orjson.dumps(payload)
        try:
            return await self.client.post(self.url + path, body, headers, timeout)
        except StaleConnection:
            self.metrics.backend_errors.labels(backend=self.name, error="stale_connection").inc()
            return await self.client.post(self.url + path, body, headers, timeout)

    async def predict(self, text: str, request_id: str) -> dict:
        return await self._post("/predict", {"text": text}, 1, request_id)

    async def predict_batch(self, texts: list[str], request_id: str) -> dict:
        return await self._post("/predict/batch", {"texts": texts}, len(texts), request_id)

    async def challenger_batch(self, texts: list[str], timeout: float) -> dict:
        """The challenger's answers to ``texts`` (the /predict/batch contract), outside the circuit
        breaker: its failures say nothing of the champion. Raises ChallengerFailed."""
        try:
            response = await self._send("/challenger/predict/batch", {"texts": texts}, self.headers, timeout)
        except CallTimedOut:
            raise ChallengerFailed("timeout") from None
        except CallFailed:
            raise ChallengerFailed("unreachable") from None
        if response.status == 404:
            raise ChallengerFailed("no_challenger")
        if response.status != 200:
            raise ChallengerFailed("http_5xx" if response.status >= 500 else f"http_{response.status}")
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise ChallengerFailed("bad_answer") from None

    async def probe(self) -> bool:
        """Ask /ready; on a change of readiness or of the served version, fetch /model."""
        try:
            response = await self.client.get(self.url + "/ready", PROBE_TIMEOUT)
            body = orjson.loads(response.content) if response.content else {}
        except (CallFailed, orjson.JSONDecodeError) as exc:
            reason = "not answering /ready" if isinstance(exc, CallTimedOut) else "unreachable"
            self.state.ready, self.state.reason = False, (
                self.state.reason if self.state.circuit_open else reason
            )
            return False
        if response.status != 200:
            self.state.ready = False
            self.state.reason = f"not ready: {body.get('reason') or response.status}"
            return False
        challenger = body.get("challenger") if isinstance(body.get("challenger"), dict) else None
        changed = body.get("model") != self.state.model or challenger != self.state.challenger
        if changed or self.state.card is None:
            await self._refresh_card()  # the card says the challenger's status too
            self.state.model = body.get("model")
        self.state.challenger = challenger
        self.state.ready = True
        self._close()
        return True

    async def _refresh_card(self) -> None:
        try:
            response = await self.client.get(self.url + "/model", PROBE_TIMEOUT)
            self.state.card = orjson.loads(response.content) if response.status == 200 else None
        except (CallFailed, orjson.JSONDecodeError):
            self.state.card = None

    def describe(self, detailed: bool = False) -> dict:
        """Ready, circuit, model; ``detailed`` adds the URL and the error (for API-key holders)."""
        s = self.state
        described = {
            "ready": self.usable,
            "circuit": "open" if s.circuit_open else "closed",
            "model": s.model,
        }
        if detailed:
            described.update(url=self.url, reason=None if self.usable else s.reason)
        return described

    def challenger_status(self) -> dict | None:
        """The challenger as the backend's model card says (status, version, reason) and whether
        tickets are shadowed to it now; None while the card says nothing of one."""
        status = (self.state.card or {}).get("challenger")
        if not isinstance(status, dict):
            return None
        return {**status, "shadowed": self.state.challenger is not None}


def _error_of(response: Reply) -> str:
    try:
        return str(orjson.loads(response.content).get("error", ""))[:200]
    except (orjson.JSONDecodeError, AttributeError):
        return response.content[:200].decode("utf-8", "replace")


def none_left(backends: Iterable[Backend]) -> str:
    """Why no classifier can answer, backend by backend."""
    return "no classifier available: " + "; ".join(
        f"{b.name}: {b.state.reason or 'not ready'}" for b in backends
    )


async def refresh_cards(backends: Iterable[Backend]) -> None:
    """Fetch every backend's model card again now (a reload must not judge the policy on old cards)."""
    backends = list(backends)
    for backend in backends:
        backend.state.card = None  # the probe fetches it again
    await asyncio.gather(*(b.probe() for b in backends))


async def probe_forever(backends: list[Backend], every: float) -> None:
    while True:
        await asyncio.gather(*(b.probe() for b in backends))
        await asyncio.sleep(every)
