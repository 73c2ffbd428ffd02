"""The models page without a server: the registry (an MLflow REST stand-in), the agent's /model and
the challengers' live evidence from a real SQLite review store, all written for people."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import httpx
import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.review.store import ReviewStore
from callcenterai.web.agent_client import AgentUnavailable
from callcenterai.web.settings import WebSettings
from tests.helpers import REVIEW_LABELS, flagged_record, policy, store_shadowed
from tests.web.webapp import in_own_loop, serving, visitor, web_app

ACCESS, HARDWARE = REVIEW_LABELS
TFIDF, TRANSFORMER = "callcenterai-tfidf-classifier", "callcenterai-transformer-classifier"
PRODUCTION_TAGS = [
    {"key": "test_accuracy", "value": "0.8557826288899211"},
    {"key": "test_macro_f1", "value": "0.8545358087665845"},
    {"key": "transition.1", "value": json.dumps({"to": "production", "at": "2026-12-05T20:02:56+00:00"})},
]
# More than two decimals anywhere on the page: a figure nobody rounded for people.
RAW_FLOAT = re.compile(r"\d\.\d{3,}")


class ModelsAgent:
    """The agent's GET /model (``described``; None: the agent does not answer) and, on the same
    client as the page uses, an MLflow server whose aliases name ``aliases[(name, alias)]``."""

    def __init__(self, described: dict | None, aliases: dict):
        self.described, self.aliases = described, aliases
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.mlflow))

    def mlflow(self, request: httpx.Request) -> httpx.Response:
        version = self.aliases.get((request.url.params["name"], request.url.params["alias"]))
        if version is None:
            return httpx.Response(404, json={"error_code": "RESOURCE_DOES_NOT_EXIST"})
        described = {"version": version, "creation_timestamp": 1764964976000, "tags": PRODUCTION_TAGS}
        return httpx.Response(200, json={"model_version": described})

    async def models(self) -> dict:
        if self.described is None:
            raise AgentUnavailable("the agent at stand-in did not answer")
        return self.described

    async def aclose(self) -> None:
        await self.client.aclose()


def described(challengers: dict[str, dict]) -> dict:
    """The agent's /model: both backends ready, the routing policy with its thresholds as fitted
    (unrounded), each backend's model card with the classifier's ``challenger``."""
    fitted = policy(
        tfidf_threshold=0.48638515611465044, max_words=None, review_threshold=0.7312540300651444
    ).model_dump(mode="json")
    backends = {
        kind: {
            "ready": True,
            "circuit": "closed",
            "card": {"name": name, "version": "3", "challenger": challengers.get(kind)},
        }
        for kind, name in (("tfidf", TFIDF), ("transformer", TRANSFORMER))
    }
    return {
        "policy": fitted,
        "policy_matches": {"tfidf": True, "transformer": None},
        "backends": backends,
        "warnings": [],
    }


def shadowed(key: str | None, champion: str, challenger: str | None, latency: float | None = None) -> dict:
    """One ticket the tfidf challenger (version 4) read beside production (version 3)."""
    return {
        "ticket_key": key,
        "backend": "tfidf",
        "model_name": TFIDF,
        "champion_version": "3",
        "challenger_version": "4",
        "champion_label": champion,
        "champion_confidence": 0.81234567,
        "challenger_label": challenger,
        "challenger_confidence": None if challenger is None else 0.6654321,
        "latency_ms": latency,
        "error": "timeout" if challenger is None else None,
    }


def fill(database: Path, reviewed: int, challenger_right: int) -> None:
    """``reviewed`` shadowed tickets decided Access by a reviewer (production said Access on all,
    the challenger on ``challenger_right``), two shadowed tickets never flagged, one that timed out."""
    store = ReviewStore(f"sqlite:///{database}")
    keys = [f"key-{n}" for n in range(reviewed)]
    store.add_flagged([{**flagged_record(ACCESS), "ticket_key": key} for key in keys])
    for ticket in store.pending(limit=1000):
        store.record_review(ticket.id, "rita", ACCESS, REVIEW_LABELS)
    rows = [
        shadowed(key, ACCESS, ACCESS if n < challenger_right else HARDWARE, 10.0 + 1.234567 * n)
        for n, key in enumerate(keys)
    ]
    rows += [shadowed(None, HARDWARE, HARDWARE, 40.55555), shadowed(None, ACCESS, ACCESS, 9.87654)]
    rows.append(shadowed(None, ACCESS, None))
    store_shadowed(store, rows)
    store.engine.dispose()


def models_page(folder: Path, agent: ModelsAgent, filled=None, **settings) -> str:
    """The page's text, unescaped, after ``filled(database)`` wrote to the migrated review store."""
    app = web_app(folder, mlflow_url="http://mlflow.test", **settings)

    async def go():
        async with serving(app, agent):
            if filled:
                filled(folder / "review.db")
            async with visitor(app) as client:
                page = await client.get("/models")
        assert page.status_code == 200, page.text
        return page.text

    return in_own_loop(go)


def readable(page: str) -> str:
    """The page unescaped, each run of white space one space (as a browser shows it)."""
    return re.sub(r"\s+", " ", html.unescape(page))


def part(page: str, element_id: str) -> str:
    """The readable text of the element with this id, up to its closing section."""
    return readable(page).split(f'id="{element_id}"')[1].split("</section>")[0]


SERVING = {"status": "serving", "version": "4", "reason": None}


def test_the_policy_and_registry_are_written_for_people_with_no_unrounded_figure(tmp_path):
    aliases = {(TFIDF, "production"): "3", (TRANSFORMER, "production"): "2"}
    page = models_page(tmp_path, ModelsAgent(described({}), aliases))
    assert RAW_FLOAT.findall(page) == []
    text = readable(page)
    assert "TF-IDF answers alone when it is at least 48.6 % sure" in text
    assert "No length rule: a ticket of any length may be answered by TF-IDF alone." in text
    assert "no limit" not in text
    assert "less than 73.1 % sure" in text
    assert "at least 90 % likely French goes to both models" in text
    assert "2 Dec 2026, 00:00 UTC" in text  # when the policy was fitted
    registry = text.split('id="registry"')[1].split("</table>")[0]
    assert "85.6 %" in registry and "85.5 %" in registry  # test accuracy, macro-F1
    assert "5 Dec 2026, 20:02 UTC" in registry  # promoted


def test_a_challenger_worse_on_reviewed_tickets_shows_its_evidence_and_the_refusal(tmp_path):
    aliases = {(TFIDF, "challenger"): "4"}
    agent = ModelsAgent(described({"tfidf": SERVING}), aliases)
    page = models_page(
        tmp_path,
        agent,
        lambda database: fill(database, reviewed=12, challenger_right=6),
        registry_tolerance=0.02,
        registry_min_reviewed=10,
    )
    assert RAW_FLOAT.findall(page) == []
    tfidf = part(page, "challenger-tfidf")
    assert "Version 4 reads live tickets in the shadow; its answers are never returned." in tfidf
    assert "15 tickets shadowed, 1 without an answer from the challenger" in tfidf
    assert "Same label as production on 57.1 % of the answered tickets" in tfidf  # 8 of 14
    assert "12 tickets reviewed: production right on 12, challenger on 6" in tfidf
    assert "Compared with production version 3." in tfidf
    verdict = tfidf.split('class="verdict')[1]
    assert "Promotion would be refused:" in verdict
    assert (
        "challenger right on 50 % of 12 reviewed tickets, production on 100 %: 50 points worse, "
        "more than the gate allows (2 points)"
    ) in verdict
    gate = "more than 2 points below production's, once there are at least 10 reviewed tickets to say so"
    assert gate in readable(page)
    transformer = part(page, "challenger-transformer")
    assert (
        "No challenger: set one with python scripts/mlflow_registry.py challenger --version N" in transformer
    )
    assert "shadowed" not in transformer


def test_too_few_reviewed_tickets_give_no_verdict(tmp_path):
    agent = ModelsAgent(described({"tfidf": SERVING}), {})
    page = models_page(tmp_path, agent, lambda database: fill(database, reviewed=3, challenger_right=0))
    tfidf = part(page, "challenger-tfidf")
    assert "No verdict yet:" in tfidf and "not enough reviewed tickets yet (3 of the 30 needed)" in tfidf
    assert "Promotion would" not in tfidf


def test_a_challenger_as_good_as_production_would_pass(tmp_path):
    agent = ModelsAgent(described({"tfidf": SERVING}), {})
    page = models_page(
        tmp_path,
        agent,
        lambda database: fill(database, reviewed=5, challenger_right=5),
        registry_min_reviewed=5,
    )
    verdict = part(page, "challenger-tfidf").split('class="verdict')[1]
    assert "Promotion would pass the live check:" in verdict and "as good as production" in verdict


def test_a_refused_challenger_says_so_with_the_classifiers_reason(tmp_path):
    refused = {
        "status": "refused",
        "version": "7",
        "reason": "version 7 refused: its labels differ from the champion's: missing Storage",
    }
    page = models_page(tmp_path, ModelsAgent(described({"transformer": refused}), {}))
    transformer = part(page, "challenger-transformer")
    assert "Version 7 was refused at load; production serves as before." in transformer
    assert (
        "The classifier says: version 7 refused: its labels differ from the champion's: missing Storage."
        in (transformer)
    )
    assert "No ticket shadowed to it yet." in transformer and "verdict" not in transformer


def test_with_the_agent_down_the_registry_names_the_challenger(tmp_path):
    aliases = {(TFIDF, "production"): "3", (TFIDF, "challenger"): "4"}
    page = models_page(
        tmp_path,
        ModelsAgent(None, aliases),
        lambda database: fill(database, reviewed=2, challenger_right=1),
    )
    assert "the agent at stand-in did not answer" in page
    tfidf = part(page, "challenger-tfidf")
    assert "The registry names version 4 as challenger; the classifier may not serve it" in tfidf
    assert "2 tickets reviewed: production right on 2, challenger on 1" in tfidf


def test_the_pages_live_gate_defaults_are_params_yaml_registry_values():
    """The web image carries no params.yaml: its settings repeat the registry section's values."""
    registry = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))["registry"]
    settings = WebSettings()
    assert settings.registry_tolerance == registry["tolerance"]
    assert settings.registry_min_reviewed == registry["min_reviewed_tickets"]
