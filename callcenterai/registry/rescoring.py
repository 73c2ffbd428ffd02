"""Re-scoring two registry versions on one test split, for the promotion gate."""

from __future__ import annotations

from pathlib import Path

from callcenterai.errors import ModelLoadError, UserError
from callcenterai.registry.promotion import GateUnavailable, Scorer
from callcenterai.registry.store import Version


def rescoring(test_data: Path) -> Scorer:
    """A scorer for ``Registry.promote``: both versions' metrics on ``test_data``."""

    def score(candidate: Version, current: Version) -> tuple[dict, dict]:
        from callcenterai.data import LABEL, TEXT, load_processed
        from callcenterai.evaluation import evaluate_probabilities
        from callcenterai.registry.loading import load_registry_model

        if not Path(test_data).is_file():
            raise UserError(f"{test_data}: test split not found; run `dvc repro` or pass --test-data")
        test = load_processed(test_data)
        results = []
        for version in (candidate, current):
            try:
                model = load_registry_model(f"models:/{version.name}/{version.version}")
            except ModelLoadError as exc:
                if version is candidate:
                    raise
                # Nothing to compare against: say so, and how to go ahead deliberately.
                raise GateUnavailable(
                    f"the gate cannot re-score production version {version.version}: {exc}. Compare "
                    'the logged metrics (`list`) and promote with --force --reason "..."'
                ) from None
            proba = model.predictor.predict_proba(test[TEXT].tolist())
            results.append(evaluate_probabilities(test[LABEL], proba, model.predictor.labels)["metrics"])
        return results[0], results[1]

    return score
