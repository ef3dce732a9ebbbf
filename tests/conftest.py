"""Shared test fixtures.

Real captured Delivery API responses live in ../shared/fixtures/real (beside the repo, never
copied into it). Tests that need them take the ``real_fixtures`` fixture and are skipped
cleanly when the folder is absent (a fresh clone without shared/).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"
EXAMPLE_SITE = REPO / "example-site"
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
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not present at {REAL_FIXTURES}")
    return REAL_FIXTURES


def load_real(name: str) -> Any:
    """Load one real fixture by its path relative to fixtures/real (handles the .NET BOM)."""
    path = REAL_FIXTURES / name
    if not path.is_file():
        pytest.skip(f"real fixture {name} not present")
    return json.loads(path.read_text(encoding="utf-8-sig"))
