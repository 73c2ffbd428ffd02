"""The agent, as the web interface calls it (the page never calls a classifier directly)."""

from __future__ import annotations

import httpx

from callcenterai.errors import UserError
from callcenterai.httpkit.schemas import CLIENT_KEY_HEADER


class AgentUnavailable(UserError, RuntimeError):
    """The agent did not answer, or refused; the message says which and why."""

    page_status = 502  # the page could not do its work: the fault is not the visitor's


class TicketRefused(AgentUnavailable):
    """The agent refused the ticket itself (a 422: say, nothing left to classify): the visitor's to fix."""

    page_status = 422


class AgentClient:
    def __init__(self, url: str, timeout: float, batch: int, client_key: str | None = None):
        self.url, self.batch = url.rstrip("/"), batch
        headers = {CLIENT_KEY_HEADER: client_key} if client_key else None
        self.client = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def _post(self, path: str, payload: dict) -> dict:
        try:
            response = await self.client.post(self.url + path, json=payload)
        except httpx.HTTPError as exc:
            raise AgentUnavailable(f"the agent at {self.url} did not answer ({type(exc).__name__})") from None
        if response.status_code == 422:
            raise TicketRefused(f"the agent cannot classify this: {_detail(response)}")
        if response.status_code != 200:
            raise AgentUnavailable(f"the agent refused ({response.status_code}): {_detail(response)}")
        return response.json()

    async def classify(self, text: str) -> tuple[dict, dict]:
        """The agent's answer and its redaction (what the models saw) for one ticket, in one call."""
        answer = await self._post("/predict", {"text": text, "include_redaction": True})
        redaction = answer.pop("redaction", None)
        if redaction is None:
            raise AgentUnavailable("the agent sent no redacted text (is it older than this page?)")
        return answer, redaction

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
    """The agent's one-line reason (the shared error shape's ``error``)."""
    try:
        said = response.json()
    except ValueError:
        return response.text[:200]
    detail = said.get("error") or said.get("detail") if isinstance(said, dict) else said
    return detail if isinstance(detail, str) else str(detail)[:300]
