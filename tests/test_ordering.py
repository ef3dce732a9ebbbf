"""Placing changed items into a sorted list gives the order a full sort gives."""

from __future__ import annotations

import random

import pytest

from kontent_ssg.site.ordering import place_sorted, sort_items


def _raw(codename: str, modified: str | None, rank: float | None) -> dict:  # type: ignore[type-arg]
    system = {"codename": codename}
    if modified is not None:
        system["last_modified"] = modified
    elements = {} if rank is None else {"rank": {"type": "number", "value": rank}}
    return {"system": system, "elements": elements}


@pytest.mark.parametrize(
    "order",
    [
        "system.last_modified desc",
        "system.last_modified asc",
        "elements.rank desc",
        "elements.rank",
    ],
)
def test_placing_fresh_items_is_a_full_sort(order: str) -> None:
    rng = random.Random(order)
    for _ in range(200):
        # Few distinct values: ties (broken by codename) and missing values (last) are common.
        items = [
            _raw(
                f"item_{rng.randrange(1000):03d}_{n}",
                rng.choice([None, "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", "2025-12-31"]),
                rng.choice([None, 1, 2, 2.5, -3]),
            )
            for n in range(rng.randrange(0, 30))
        ]
        fresh_count = rng.randrange(0, min(4, len(items)) + 1)
        fresh, rest = items[:fresh_count], items[fresh_count:]
        ordered = sort_items(rest, order)
        assert place_sorted(ordered, fresh, order) == sort_items(items, order)
        assert ordered == sort_items(rest, order)  # not changed in place
