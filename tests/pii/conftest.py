"""The scrubber the tests in tests/pii share (building one compiles every pattern and recogniser)."""

from __future__ import annotations

import pytest

from callcenterai.pii.scrubber import Scrubber


@pytest.fixture(scope="session")
def scrubber() -> Scrubber:
    return Scrubber()
