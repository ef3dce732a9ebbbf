"""Where the tests' data lives: the repository, the example site, the real captured responses.

Real captured Delivery API responses live in ../shared/fixtures/real (beside the repository,
never copied into it); a test that reads one is skipped cleanly when it is absent (a fresh
clone without shared/).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"
EXAMPLE_SITE = REPO / "example-site"


def load_real(name: str) -> Any:
    """Load one real fixture by its path relative to fixtures/real (handles the .NET BOM)."""
    path = REAL_FIXTURES / name
    if not path.is_file():
        pytest.skip(f"real fixture {name} not present")
    return json.loads(path.read_text(encoding="utf-8-sig"))
