"""scripts/predict.py on a stand-in model: a ticket with nothing left to classify keeps its row, empty
but for the reason, and is never scored (a model would answer its prior for it)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from callcenterai.text import NOTHING_TO_CLASSIFY
from tests.helpers import load_script

LABELS = ("Access", "Hardware")


class RecordingPredictor:
    """Scores every text it is given Hardware at 0.7; records the texts."""

    labels = LABELS

    def __init__(self):
        self.seen: list[str] = []

    def predict_proba(self, texts):
        self.seen.extend(texts)
        return np.tile([0.3, 0.7], (len(texts), 1))


def test_rows_with_nothing_to_classify_are_not_scored_and_say_why(tmp_path, monkeypatch):
    predict = load_script("scripts/predict.py")
    predictor = RecordingPredictor()
    model = SimpleNamespace(predictor=predictor, name="stand-in", version="1")
    monkeypatch.setattr(predict, "load_model", lambda uri: model)
    tickets, out = tmp_path / "tickets.csv", tmp_path / "predictions.csv"
    texts = ["!!!", "printer jam", "4411 2024", "?!", "vpn down"]
    pd.DataFrame({"Document": texts}).to_csv(tickets, index=False)

    argv = ["--model", "m", "--input", str(tickets), "--output", str(out), "--batch-size", "1"]
    assert predict.main(argv) == 0
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert predictor.seen == ["printer jam", "vpn down"]
    assert scored.label.tolist() == ["", "Hardware", "", "", "Hardware"]
    assert scored.refused.tolist() == [NOTHING_TO_CLASSIFY, "", NOTHING_TO_CLASSIFY, NOTHING_TO_CLASSIFY, ""]
    assert scored.confidence.tolist() == ["", "0.7", "", "", "0.7"]
    assert scored.p_Access.tolist() == ["", "0.3", "", "", "0.3"]


def test_a_file_of_only_such_rows_is_written_whole_and_no_model_call_is_made(tmp_path, monkeypatch):
    predict = load_script("scripts/predict.py")
    predictor = RecordingPredictor()
    monkeypatch.setattr(
        predict, "load_model", lambda uri: SimpleNamespace(predictor=predictor, name="m", version="1")
    )
    tickets, out = tmp_path / "tickets.csv", tmp_path / "predictions.csv"
    pd.DataFrame({"Document": ["!!!", "12"]}).to_csv(tickets, index=False)

    assert predict.main(["--model", "m", "--input", str(tickets), "--output", str(out)]) == 0
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert predictor.seen == [] and scored.refused.tolist() == [NOTHING_TO_CLASSIFY] * 2
