"""The agent, as the web interface calls it (the page never calls a classifier directly)."""

from __future__ import annotations

import asyncio

import httpx

from callcenterai.errors import UserError


class AgentUnavailable(UserError, RuntimeError):
    """The agent did not answer, or refused; the message says which and why."""


class AgentClient:
    def __init__(self, url: str, timeout: float, batch: int):
        self.url, self.batch = url.rstrip("/"), batch
        self.client = httpx.AsyncClient(timeout=timeout)

    async def _post(self, path: str, payload: dict) -> dict:
        try:
            response = await self.client.post(self.url + path, json=payload)
        except httpx.HTTPError as exc:
            raise AgentUnavailable(f"the agent at {self.url} did not answer ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise AgentUnavailable(f"the agent refused ({response.status_code}): {_detail(response)}")
        return response.json()

    async def classify(self, text: str) -> tuple[dict, dict]:
        """The agent's answer and its redaction (what the models saw) for one ticket."""
        return await asyncio.gather(
            self._post("/predict", {"text": text}), self._post("/redact", {"text": text})
        )

    async def score(self, texts: list[str]):
        """The answers in chunks, as they come (so a page can show progress)."""
        for start in range(0, len(texts), self.batch):
            answer = await self._post("/predict/batch", {"texts": texts[start : start + self.batch]})
            yield answer["predictions"]

    async def models(self) -> dict:
        try:
            response = await self.client.get(self.url + "/model")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise AgentUnavailable(f"the agent at {self.url} did not answer ({type(exc).__name__})") from None
        return response.json()

    async def ready(self) -> bool:
        try:
            return (await self.client.get(self.url + "/ready", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        await self.client.aclose()


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:200]
    return detail if isinstance(detail, str) else str(detail)[:300]
