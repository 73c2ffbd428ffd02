"""Which version may be the challenger: the one the classifier services shadow beside production.

A challenger is judged against production ticket by ticket (the agent compares the two
answers, reviewers' labels decide which was right), so it must answer with production's
labels; the version in production cannot challenge itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterable

from callcenterai.model_card import read_card
from callcenterai.registry.artifacts import download_served_folder
from callcenterai.registry.store import CHALLENGER, PRODUCTION, RegisteredModel, Version


def version_labels(model: RegisteredModel, version: Version) -> list[str]:
    """The labels a version answers with, from the card in its registered folder."""
    with tempfile.TemporaryDirectory(prefix="callcenterai-labels-") as tmp:
        location = model.artifact_location(version.source)
        folder = model._call(lambda: download_served_folder(location, Path(tmp), model.uri))
        return list(read_card(folder).labels)


def labels_only_on_each_side(reference: Iterable[str], other: Iterable[str]) -> tuple[list[str], list[str]]:
    """The labels only ``reference`` answers with and those only ``other`` does, each sorted;
    both empty when the two answer with the same labels. The one label check of a challenger:
    here before it is named, in the classifier services before it is served."""
    reference, other = set(reference), set(other)
    return sorted(reference - other), sorted(other - reference)


def labels_differ(
    candidate: Version, candidate_labels: list[str], current: Version, current_labels: list[str]
) -> str | None:
    """None when both versions answer with the same labels, else a sentence naming the difference."""
    only_current, only_candidate = labels_only_on_each_side(current_labels, candidate_labels)
    if not only_candidate and not only_current:
        return None
    differences = []
    if only_candidate:
        differences.append(f"only version {candidate.version} has {', '.join(only_candidate)}")
    if only_current:
        differences.append(f"only production version {current.version} has {', '.join(only_current)}")
    return (
        f"version {candidate.version} answers with other labels than production version "
        f"{current.version} ({'; '.join(differences)}): its answers could not be compared with "
        "production's ticket by ticket"
    )


def challenger_refusal(model: RegisteredModel, version: Version) -> str | None:
    """Why ``version`` may not become the challenger, or None when it may."""
    aliases = version.aliases or ()
    if PRODUCTION in aliases:
        return (
            f"version {version.version} is in production; the challenger is compared with production, "
            "so it must be another version"
        )
    if CHALLENGER in aliases:
        return f"version {version.version} is the challenger already"
    current = model.alias_version(PRODUCTION)
    if current is None:
        return None
    return labels_differ(version, version_labels(model, version), current, version_labels(model, current))
