"""Shared pytest fixtures (plain helpers live in ``tests/support/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixtures import REAL_FIXTURES

SOAK = Path(__file__).resolve().parent / "soak"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/soak (minutes of load) runs only when named: ``python -m pytest tests/soak``."""
    if collection_path != SOAK:
        return None
    for arg in config.args:
        named = Path(arg.split("::")[0]).resolve()
        if named == SOAK or SOAK in named.parents:
            return None
    return True


@pytest.fixture
def real_fixtures() -> Path:
    """The real captured responses; the test is skipped when the folder is absent."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not present at {REAL_FIXTURES}")
    return REAL_FIXTURES
