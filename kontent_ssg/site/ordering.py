"""The order of listed items: ``'system.<prop>|elements.<codename> [asc|desc]'``.

Used by planning (listing pages, taxonomy pages) and by templates (``items(order=…)``), on raw
Delivery API items or on the views templates see (anything with a ``raw`` item).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["item_sort_key", "order_names", "place_sorted", "sort_items"]


def order_names(order: str | None) -> tuple[str, ...]:
    """The element an ``order`` reads (none for a system property): what a walk over item
    summaries must hold to sort them."""
    if not order:
        return ()
    kind, _, name = order.split()[0].partition(".")
    return (name,) if kind == "elements" else ()


def item_sort_key(field_path: str) -> Callable[[Any], tuple[Any, ...]]:
    kind, _, name = field_path.partition(".")

    def key(view: Any) -> tuple[Any, ...]:
        raw = getattr(view, "raw", view)
        if kind == "system":
            value = raw["system"].get(name)
        else:
            element = raw.get("elements", {}).get(name) or {}
            value = element.get("value")
            if isinstance(value, list):
                value = value[0].get("codename") if value and isinstance(value[0], dict) else None
        if value is None:
            return (1, 0, "")
        if isinstance(value, (int, float)):
            return (0, value, "")
        return (0, 0, str(value))

    return key


def sort_items(items: list[Any], order: str | None) -> list[Any]:
    """Sort by ``'system.<prop>|elements.<codename> [asc|desc]'``; ties by codename; stable."""

    def codename(v: Any) -> str:
        raw = getattr(v, "raw", v)
        return str(raw["system"]["codename"])

    result = sorted(items, key=codename)
    if not order:
        return result
    parts = order.split()
    descending = len(parts) > 1 and parts[1] == "desc"
    key = item_sort_key(parts[0])
    keyed = [(key(v), v) for v in result]  # each key once (planning sorts every listing)
    if descending:
        # Missing values last in both directions.
        present = [pair for pair in keyed if pair[0][0] == 0]
        present.sort(key=_first, reverse=True)
        return [v for _, v in present] + [v for k, v in keyed if k[0] == 1]
    keyed.sort(key=_first)
    return [v for _, v in keyed]


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def place_sorted(ordered: list[Any], fresh: list[Any], order: str) -> list[Any]:
    """``sort_items(ordered + fresh, order)`` for ``ordered`` already sorted so (and holding
    none of ``fresh``' items): each of ``fresh`` placed by binary search, which reads the sort
    key of a few items instead of all. A webhook rebuild re-orders the taxonomy lists
    holding the changed item: 1,000 items each at 100k articles, sorted afresh ~2 ms."""
    parts = order.split()
    descending = len(parts) > 1 and parts[1] == "desc"
    key = item_sort_key(parts[0])

    def codename(v: Any) -> str:
        return str(getattr(v, "raw", v)["system"]["codename"])

    def before(a: Any, a_key: tuple[Any, ...], b: Any) -> bool:
        """Whether ``a`` (sort key ``a_key``) comes before ``b`` in ``sort_items``' order:
        by key (missing values last either way), ties by codename."""
        b_key = key(b)
        if a_key[0] != b_key[0]:
            return bool(a_key[0] < b_key[0])
        if a_key[0] == 0 and a_key != b_key:
            return bool(a_key > b_key) if descending else bool(a_key < b_key)
        return codename(a) < codename(b)

    result = list(ordered)
    for item in fresh:
        item_key = key(item)
        low, high = 0, len(result)
        while low < high:
            middle = (low + high) // 2
            if before(item, item_key, result[middle]):
                high = middle
            else:
                low = middle + 1
        result.insert(low, item)
    return result
