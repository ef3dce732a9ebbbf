"""The content model: which content types, elements and taxonomy groups exist.

Names in ``kontent.toml`` and in templates are checked against it (a route for a type that
does not exist, ``{slug}`` in a path when the element is ``url``, ``url_for('articels')``),
so that a typo stops the build with the closest valid name instead of quietly giving a site
without those pages.

The model is what ``/types`` and ``/taxonomies`` say, widened by what the content itself
shows: a type, element or group that items use is known even when the saved model lacks it
(hand-assembled snapshots, element projections in SDK captures). The widening is looked at
only for a name the declared model does not have, so the common case is a dict lookup.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .snapshot import ContentStore

__all__ = ["SYSTEM_PROPERTIES", "ContentModel"]

JSON = dict[str, Any]

#: The ``system`` properties of an item (Delivery API), as route placeholders and listing
#: ``order`` fields may name them.
SYSTEM_PROPERTIES = (
    "id",
    "name",
    "codename",
    "language",
    "type",
    "collection",
    "sitemap_locations",
    "last_modified",
    "workflow",
    "workflow_step",
)


class ContentModel:
    """Lookups of type, element and taxonomy group names over a :class:`ContentStore`."""

    def __init__(self, store: ContentStore) -> None:
        self.store = store

    # -- types -----------------------------------------------------------------------------

    def has_type(self, codename: str) -> bool:
        return codename in self.store.types or codename in self._seen_types

    def type_names(self) -> list[str]:
        return sorted(set(self.store.types) | set(self._seen_types))

    def has_element(self, type_codename: str, element: str) -> bool:
        declared = (self.store.types.get(type_codename) or {}).get("elements") or {}
        if element in declared:
            return True
        return element in self._seen_types.get(type_codename, {})

    def elements(self, type_codename: str) -> dict[str, str]:
        """Element codename → element type (``text``, ``rich_text`` …), declared ones first."""
        found: dict[str, str] = {}
        declared = (self.store.types.get(type_codename) or {}).get("elements") or {}
        for codename, element in declared.items():
            found[codename] = str((element or {}).get("type") or "")
        for codename, kind in self._seen_types.get(type_codename, {}).items():
            found.setdefault(codename, kind)
        return found

    # -- taxonomy groups -------------------------------------------------------------------

    def has_group(self, codename: str) -> bool:
        return codename in self.store.taxonomies or codename in self._seen_groups

    def group_names(self) -> list[str]:
        return sorted(set(self.store.taxonomies) | self._seen_groups)

    def term_codenames(self, group: str) -> list[str]:
        """Every term of ``group``, narrower ones included, in the group's order."""
        out: list[str] = []
        pending = list(((self.store.taxonomies.get(group) or {}).get("terms")) or [])
        while pending:
            term = pending.pop(0)
            if term.get("codename"):
                out.append(term["codename"])
            pending[0:0] = term.get("terms") or []
        return out

    # -- what the content shows (computed on first use) ------------------------------------

    @cached_property
    def _seen_types(self) -> dict[str, dict[str, str]]:
        """Type → element codename → element type, as items and components carry them."""
        seen: dict[str, dict[str, str]] = {}
        for language in self.store.languages:
            lang_items = self.store.snapshot.items.get(language)
            if lang_items is None:
                continue
            # Items: from their summaries, which name every element and its type.
            for summary in lang_items.items.summaries():
                system = summary.light["system"]
                elements = seen.setdefault(str(system.get("type") or ""), {})
                for codename, element_type in summary.shape:
                    elements.setdefault(codename, element_type)
            # Components: summed up as they were stored, not decoded again.
            for kind, shape in lang_items.modular_content.shapes.items():
                elements = seen.setdefault(kind, {})
                for codename, element_type in shape.items():
                    elements.setdefault(codename, element_type)
        seen.pop("", None)
        return seen

    @cached_property
    def _seen_groups(self) -> set[str]:
        groups: set[str] = set()
        for type_json in self.store.types.values():
            for element in (type_json.get("elements") or {}).values():
                if isinstance(element, dict) and element.get("taxonomy_group"):
                    groups.add(str(element["taxonomy_group"]))
        for language in self.store.languages:
            lang_items = self.store.snapshot.items.get(language)
            if lang_items is not None:
                groups |= lang_items.modular_content.groups
        for raw in self._all_items():
            for element in (raw.get("elements") or {}).values():
                if isinstance(element, dict) and element.get("taxonomy_group"):
                    groups.add(str(element["taxonomy_group"]))
        return groups

    def _all_items(self) -> list[JSON]:
        """Every item variant's summary (it keeps every element naming a taxonomy group;
        components are summed up by ``Components.shapes``/``groups``, without decoding
        them)."""
        out: list[JSON] = []
        for language in self.store.languages:
            out.extend(self.store.summaries(language))
        return out
