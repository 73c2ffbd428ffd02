"""The agent, as the web interface calls it (the page never calls a classifier directly)."""

from __future__ import annotations

import re

import httpx

from callcenterai.errors import UserError
from callcenterai.httpkit.schemas import CLIENT_KEY_HEADER


class AgentUnavailable(UserError, RuntimeError):
    """The agent did not answer, or refused; the message says which and why."""

    # The page itself works: it shows the visitor that the agent did not answer and why. A 5xx
    # here would count an agent outage twice (the agent's own ServiceDown alert says it).
    page_status = 200


class TicketRefused(AgentUnavailable):
    """The agent refused the ticket itself (a 422: say, nothing left to classify): the visitor's to fix.

    ``rows``: of a batch, each position the refusal names (``texts.N``) with its reason; empty when
    it names anything else (the batch as a whole, or a field that is no ticket)."""

    page_status = 422

    def __init__(self, message: str, rows: dict[int, str] | None = None):
        super().__init__(message)
        self.rows = rows or {}


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
            raise TicketRefused(
                f"the agent cannot classify this: {_detail(response)}", _refused_rows(response)
            )
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
            yield await self._score_chunk(texts[start : start + self.batch])

    async def _score_chunk(self, chunk: list[str]) -> list[dict]:
        """One answer per ticket: the agent refuses a whole batch for any ticket it cannot classify, so
        those it names are answered ``{"refused": reason}`` and the others are sent again without them."""
        try:
            return await self._predict_batch(chunk)
        except TicketRefused as exc:
            refused = exc.rows
            if not refused or max(refused) >= len(chunk):
                raise
        kept = [i for i in range(len(chunk)) if i not in refused]
        answers = {i: {"refused": reason} for i, reason in refused.items()}
        if kept:  # a second refusal here is not one the agent named: it ends the job, as any other
            answers.update(zip(kept, await self._predict_batch([chunk[i] for i in kept])))
        return [answers[i] for i in range(len(chunk))]

    async def _predict_batch(self, texts: list[str]) -> list[dict]:
        """The agent's answers, each with its redaction: the only text the results may keep."""
        return (await self._post("/predict/batch", {"texts": texts, "include_redaction": True}))[
            "predictions"
        ]

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


TICKET_FIELD = re.compile(r"texts\.(\d+)")


def _refused_rows(response: httpx.Response) -> dict[int, str]:
    """The batch positions a 422 names field by field (the error shape's ``detail``: ``texts.N`` and
    its problem); empty unless every problem it names is one ticket's."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return {}
    rows = {}
    for item in detail if isinstance(detail, list) else []:
        where = TICKET_FIELD.fullmatch(str(item.get("field"))) if isinstance(item, dict) else None
        if where is None:
            return {}
        rows[int(where.group(1))] = str(item.get("problem") or "refused by the agent")
    return rows


def _detail(response: httpx.Response) -> str:
    """The agent's one-line reason (the shared error shape's ``error``)."""
    try:
        said = response.json()
    except ValueError:
        return response.text[:200]
    detail = said.get("error") or said.get("detail") if isinstance(said, dict) else said
    return detail if isinstance(detail, str) else str(detail)[:300]
