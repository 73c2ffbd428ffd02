"""The agent's one pooled HTTP client to its backends, on aiohttp.

aiohttp rather than httpx here: with many tickets in flight at once, httpx's
pure-Python HTTP parsing and connection pool cost the agent several times the
CPU per call that aiohttp's C parser does (measured side by side in
docs/benchmarks.md). The rest of the project keeps httpx where calls are few.

The backends see only ``Reply`` and the three failures below, so the circuit
breaker does not depend on the library's exception tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

# Below uvicorn's default keep-alive (5 s), so the pool drops an idle connection
# before the backend does instead of reusing one the backend is closing.
KEEPALIVE_SECONDS = 4.0


@dataclass(frozen=True)
class Reply:
    status: int
    content: bytes


class CallFailed(Exception):
    """The call got no answer: refused, reset, or closed mid-answer. The message names the error."""


class CallTimedOut(CallFailed):
    """No answer within the call's timeout."""


class StaleConnection(CallFailed):
    """A pooled connection was closed by the backend as it was reused: worth one more try."""


class BackendClient:
    """Opened in the app's lifespan (aiohttp wants a running event loop), closed at shutdown."""

    def __init__(self, connections: int):
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.connections, keepalive_timeout=KEEPALIVE_SECONDS)
        # trust_env=False: the backends are internal; a proxy from the environment must not see tickets.
        self._session = aiohttp.ClientSession(connector=connector, trust_env=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: dict, timeout: float) -> Reply:
        return await self._request("POST", url, timeout, data=body, headers=headers)

    async def get(self, url: str, timeout: float) -> Reply:
        return await self._request("GET", url, timeout)

    async def _request(self, method: str, url: str, timeout: float, **kwargs) -> Reply:
        if self._session is None:
            raise CallFailed("client not open")
        limit = aiohttp.ClientTimeout(total=timeout)
        try:
            async with self._session.request(method, url, timeout=limit, **kwargs) as response:
                return Reply(response.status, await response.read())
        except TimeoutError:  # aiohttp's connect and read timeouts are TimeoutErrors too
            raise CallTimedOut("timeout") from None
        except aiohttp.ClientConnectorError as exc:  # refused: an OSError, but not a stale connection
            raise CallFailed(f"cannot connect: {exc.os_error.strerror or exc.__class__.__name__}") from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise StaleConnection(f"connection closed ({exc.__class__.__name__})") from None
        except aiohttp.ClientError as exc:
            raise CallFailed(exc.__class__.__name__) from None
