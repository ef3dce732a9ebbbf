"""Planning: every page of the site and what rendering needs to know about them.

The plan is made before any page renders, so that links, ``url_for``, language switchers and
listings can point at any page: routes (:mod:`.routing`), listing membership and order,
taxonomy membership, the alternates of each page in other languages. It is a pure function of
the config and the content; an incremental build whose changes cannot alter it
(:func:`plan_fields`) patches the previous plan instead (:func:`patch_plan`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import Config
from ..content.snapshot import ContentStore
from ..plugins import Plugins, no_plugins
from .ordering import order_names, place_sorted, sort_items
from .routing import RoutePlan, plan_routes, routed_languages

__all__ = ["SitePlan", "TaggedIndex", "patch_plan", "plan_fields", "plan_site"]

JSON = dict[str, Any]


@dataclass
class SitePlan:
    """Routes plus what rendering needs to know about them (alternates, terms, listings)."""

    config: Config
    store: ContentStore
    languages: list[str]
    routes: RoutePlan
    # (kind, key, number) -> ((language, url), ...) in language order
    alternates: dict[tuple[str, str, int], tuple[tuple[str, str], ...]]
    # (group, term codename, language) -> term page URL
    term_urls: dict[tuple[str, str, str], str]
    # (group, term codename, language) -> tagged items (raw), in listing order
    tagged: dict[tuple[str, str, str], list[JSON]]
    # (listing name, language) -> item codenames in order
    listing_items: dict[tuple[str, str], list[str]]
    # group -> the content types whose items a term page lists (None: any type)
    term_types: dict[str, list[str | None]] = field(default_factory=dict)
    # The site's own warnings, met while planning (items without a page, missing base_url)
    warnings: list[str] = field(default_factory=list)
    # The static files (paths relative to the output): links may point at them too
    static: frozenset[str] = frozenset()
    # downloaded assets (a kontent_ssg.assets.local.Localizer), set by the build when on
    assets: Any = None
    # The site's plugins (their pages are planned; render processes install the rest)
    plugins: Plugins = field(default_factory=no_plugins)


def plan_site(
    config: Config,
    store: ContentStore,
    static: Collection[str] = (),
    plugins: Plugins | None = None,
) -> SitePlan:
    """Route every page and precompute listings and taxonomy membership. ``static`` lists the
    static files (relative to the output): a home page is generated only where none is;
    ``plugins`` add pages of their own."""
    plugins = plugins if plugins is not None else no_plugins()
    languages = routed_languages(config, store)
    listing_items: dict[tuple[str, str], list[str]] = {}
    for name, listing in config.listings.items():
        for language in languages:
            raws = list(store.walk(language, order_names(listing.order), {listing.type}, True))
            listing_items[(name, language)] = [
                r["system"]["codename"] for r in sort_items(raws, listing.order)
            ]
    terms: dict[str, list[str]] = {}
    narrower: dict[str, dict[str, list[str]]] = {}
    tagged: dict[tuple[str, str, str], list[JSON]] = {}
    for group, tax in config.taxonomies.items():
        raw_group = store.taxonomies.get(group)
        terms[group] = _flatten_terms((raw_group or {}).get("terms") or [])
        narrower[group] = _subtrees((raw_group or {}).get("terms") or [])
        types = {tax.type} if tax.type is not None else None
        for language in languages:
            # Summaries: taxonomy elements are kept in them (a term page reads its items
            # from the store).
            for raw in store.walk(language, (), types, translated_only=True):
                seen: set[str] = set()
                for element in (raw.get("elements") or {}).values():
                    if element.get("type") != "taxonomy":
                        continue
                    if element.get("taxonomy_group") != group:
                        continue
                    for term in element.get("value") or []:
                        codename = term.get("codename")
                        if codename and codename not in seen:
                            seen.add(codename)
                            tagged.setdefault((group, codename, language), []).append(raw)
    for key, raws in tagged.items():
        tagged[key] = sort_items(raws, "system.last_modified desc")
    counts = {key: len(value) for key, value in listing_items.items()}
    # A term page lists the items tagged with the term or a narrower one.
    term_counts = {
        (group, term, language): sum(
            len(tagged.get((group, t, language), ())) for t in narrower[group][term]
        )
        for group in terms
        for term in terms[group]
        for language in languages
    }
    routes = plan_routes(
        config, store, languages, counts, terms, term_counts, static, plugins.pages.values()
    )
    alternates: dict[tuple[str, str, int], list[tuple[str, str]]] = {}
    term_urls: dict[tuple[str, str, str], str] = {}
    for page in routes.pages:
        if page.kind in ("item", "listing", "taxonomy", "home"):
            alternates.setdefault((page.kind, page.key, page.number), []).append(
                (page.language, page.url)
            )
        if page.kind == "taxonomy":
            group, _, term = page.key.partition("/")
            term_urls[(group, term, page.language)] = page.url
    return SitePlan(
        config=config,
        store=store,
        languages=languages,
        routes=routes,
        # Tuples: a plan is never changed in place (a patched plan is a new one sharing
        # what did not change), which the sitemap's memo relies on.
        alternates={key: tuple(value) for key, value in alternates.items()},
        term_urls=term_urls,
        tagged=tagged,
        listing_items=listing_items,
        term_types={
            group: [tax.type] if tax.type is not None else _types_tagging(store, group)
            for group, tax in config.taxonomies.items()
        },
        warnings=_site_warnings(config, routes),
        static=frozenset(static),
        plugins=plugins,
    )


def _site_warnings(config: Config, routes: RoutePlan) -> list[str]:
    """Warnings about the site as a whole: stored with the build, shown after every build."""
    warnings = [
        f"{codename} ({language}) has no page: {reason}"
        for codename, language, reason in routes.rejected
    ]
    if not config.site.base_url:
        needs = (
            "sitemap.xml, robots.txt and the feed"
            if config.feed is not None
            else "sitemap.xml and robots.txt"
        )
        warnings.append(
            f"[site] base_url is not set: {needs} hold site-relative URLs, which search "
            "engines and feed readers do not accept; set base_url in kontent.toml"
        )
    return warnings


def _subtrees(raw_terms: list[JSON]) -> dict[str, list[str]]:
    """Each term's codename -> itself and every narrower term below it."""
    out: dict[str, list[str]] = {}
    for term in raw_terms:
        below = _subtrees(term.get("terms") or [])
        out.update(below)
        if term.get("codename"):
            out[term["codename"]] = [term["codename"], *_flatten_terms(term.get("terms") or [])]
    return out


def _types_tagging(store: ContentStore, group: str) -> list[str | None]:
    """The content types with a taxonomy element of ``group`` ([None]: no type names it, so
    any type may)."""
    found: list[str | None] = []
    for codename, type_json in store.types.items():
        for element in (type_json.get("elements") or {}).values():
            if element.get("type") == "taxonomy" and element.get("taxonomy_group") == group:
                found.append(codename)
                break
    return found or [None]


def _flatten_terms(raw_terms: list[JSON]) -> list[str]:
    out: list[str] = []
    for term in raw_terms:
        if term.get("codename"):
            out.append(term["codename"])
        out.extend(_flatten_terms(term.get("terms") or []))
    return out


def plan_fields(config: Config, type_codename: str) -> set[str]:
    """Fields whose value the site plan reads for items of a type: route placeholders,
    listing order fields, identity."""
    fields = {"system.codename", "system.id", "system.language", "system.type"}
    route = config.routes.get(type_codename)
    if route is not None:
        for name in re.findall(r"\{([^{}]*)\}", route.path):
            if name.startswith("system."):
                fields.add(name)
            elif name != "language":
                fields.add(f"elements.{name}")
    for listing in config.listings.values():
        if listing.type == type_codename:
            fields.add(listing.order.split()[0])
    return fields


TaggedIndex = dict[tuple[str, str], list[tuple[str, str, str]]]


def patch_plan(
    plan: SitePlan, store: ContentStore, changed: set[tuple[str, str]], index: TaggedIndex | None
) -> tuple[SitePlan, TaggedIndex]:
    """The previous plan with the new store and the changed items' new variants in the
    taxonomy lists (re-sorted: they are ordered by last modification). ``index`` maps an
    item variant to the taxonomy lists holding it (built on first use, then kept)."""
    if index is None:
        index = {}
        for key, raws in plan.tagged.items():
            for raw in raws:
                index.setdefault((raw["system"]["codename"], key[2]), []).append(key)
    tagged = dict(plan.tagged)
    moved: dict[tuple[str, str, str], set[str]] = {}
    for item in changed:
        for key in index.get(item, ()):
            moved.setdefault(key, set()).add(item[0])
    for key, codenames in moved.items():
        # The other items' variants are unchanged, and so is their order.
        kept, fresh = [], []
        for raw in plan.tagged[key]:
            codename = raw["system"]["codename"]
            if codename in codenames:
                fresh.append(store.light(codename, key[2]) or raw)
            else:
                kept.append(raw)
        tagged[key] = place_sorted(kept, fresh, "system.last_modified desc")
    # Membership is unchanged (plan-neutral), so the index stays valid for the new lists.
    return replace(plan, store=store, tagged=tagged), index
