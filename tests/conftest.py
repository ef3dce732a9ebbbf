"""Shared pytest fixtures (plain helpers live in ``tests/support/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixtures import REAL_FIXTURES


@pytest.fixture
def real_fixtures() -> Path:
    """The real captured responses; the test is skipped when the folder is absent."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not present at {REAL_FIXTURES}")
    return REAL_FIXTURES
