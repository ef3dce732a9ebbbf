"""``kontent-ssg import``: a snapshot into an empty Kontent.ai environment, resumably.

The order (docs/MANAGEMENT.md explains each step):

1. **Look.** List what the environment holds (languages, taxonomy groups, content types,
   assets, content items, workflows). Anything without a ``kontent-ssg:`` external id means
   the environment is not empty: stop before writing anything.
2. **Languages.** The default language takes the snapshot's default codename (a new
   environment calls it ``default``); the others are added, falling back as the snapshot's
   manifest says (``fallbacks``), else to the default language.
3. **Taxonomy groups**, then **content types** (taxonomy elements name their group).
4. **Assets**: each binary uploaded (``POST /files/{name}``), then the asset upserted by
   external id with its descriptions per language. Relative asset URLs (a hand-made snapshot's
   ``/images/x.svg``) are read from the site's ``static/`` folder; absolute ones downloaded.
5. **Content items**, upserted by external id (``kontent-ssg:item:<snapshot id>``).
6. **Language variants**, default language first: every element by codename, references by
   external id (linked items, rich-text items, links and assets), components inline with their
   ids kept.
7. **Publish** each variant written (``PUT …/publish``).

Resuming: every object carries an external id derived from the snapshot, and step 1 tells
what exists, so a rerun skips existing taxonomy groups, types, assets and items and every
variant already published, and redoes the rest (upserts are idempotent). A failure anywhere
leaves nothing that a rerun would duplicate; no progress file is needed.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..content.delivery import DEFAULT_LANGUAGE_ID
from ..content.snapshot import Snapshot
from ..errors import ManagementError, SnapshotError
from .client import ManagementClient, segment
from .convert import (
    EXTERNAL_ID_PREFIX,
    AssetInfo,
    References,
    collect_assets,
    external_id,
    item_payload,
    taxonomy_payload,
    translated_variants,
    type_payload,
    variant_payload,
)

__all__ = ["ImportReport", "import_snapshot", "manifest_fallbacks"]

JSON = dict[str, Any]
Say = Callable[[str], None]


@dataclass
class ImportReport:
    """What one run did: per kind, how many were written and how many were already there."""

    written: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0

    def count(self, kind: str, wrote: bool) -> None:
        table = self.written if wrote else self.skipped
        table[kind] = table.get(kind, 0) + 1


def manifest_fallbacks(snapshot_dir: Path) -> dict[str, str]:
    """The optional ``fallbacks`` of a snapshot manifest ({language: fallback language})."""
    try:
        manifest = json.loads((snapshot_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = manifest.get("fallbacks") if isinstance(manifest, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items() if isinstance(v, str)}


def import_snapshot(
    client: ManagementClient,
    snapshot: Snapshot,
    *,
    static_dir: Path | None = None,
    fallbacks: dict[str, str] | None = None,
    say: Say = lambda line: None,
    download: Callable[[str], bytes] | None = None,
) -> ImportReport:
    """Import ``snapshot`` into the client's environment (module docstring: order, resuming)."""
    started = time.monotonic()
    report = ImportReport()
    run = _Import(client, snapshot, static_dir, fallbacks or {}, say, report, download)
    try:
        run.all()
    finally:
        report.requests = client.requests
        report.retries = client.retries
        report.seconds = time.monotonic() - started
    return report


def _ours(entity: JSON) -> bool:
    return str(entity.get("external_id") or "").startswith(EXTERNAL_ID_PREFIX)


class _Import:
    def __init__(
        self,
        client: ManagementClient,
        snapshot: Snapshot,
        static_dir: Path | None,
        fallbacks: dict[str, str],
        say: Say,
        report: ImportReport,
        download: Callable[[str], bytes] | None,
    ) -> None:
        self.client = client
        self.snapshot = snapshot
        self.static_dir = static_dir
        self.fallbacks = fallbacks
        self.say = say
        self.report = report
        self.download = download or _download
        self.languages = snapshot.language_codenames

    def all(self) -> None:
        env = self.look()
        self.import_languages(env["languages"])
        self.import_taxonomies(env["taxonomies"])
        self.import_types(env["types"])
        self.import_assets(env["assets"])
        items = self.import_items(env["items"])
        self.published_steps = env["published_steps"]
        written = self.import_variants(items, env["languages"], self.published_steps)
        self.publish(written)
        self.report.warnings.extend(self.refs.warnings)

    # -- 1. look ---------------------------------------------------------------------------

    def look(self) -> dict[str, Any]:
        c = self.client
        env: dict[str, Any] = {
            "languages": c.list_all("languages", "languages", what="list languages"),
            "taxonomies": c.list_all("taxonomies", "taxonomies", what="list taxonomy groups"),
            "types": c.list_all("types", "types", what="list content types"),
            "assets": c.list_all("assets", "assets", what="list assets"),
            "items": c.list_all("items", "items", what="list content items"),
        }
        workflows = c.get("workflows", what="list workflows")
        env["published_steps"] = {
            str((w.get("published_step") or {}).get("id"))
            for w in workflows or []
            if isinstance(w, dict)
        }
        foreign = {
            kind: sum(1 for entity in env[kind] if not _ours(entity))
            for kind in ("taxonomies", "types", "assets", "items")
        }
        if any(foreign.values()):
            what = ", ".join(
                f"{n} {label}"
                for (kind, n), label in zip(
                    foreign.items(),
                    ("taxonomy groups", "content types", "assets", "content items"),
                    strict=True,
                )
                if n
            )
            raise ManagementError(
                f"environment {c.environment_id} is not empty: it holds {what} that "
                "kontent-ssg import did not create",
                hint="import into a new, empty environment (Kontent.ai: Environment settings > "
                "Environments > Create new environment, starting empty)",
            )
        resumed = sum(len(env[k]) for k in ("taxonomies", "types", "assets", "items"))
        self.say(
            f"environment {c.environment_id}: "
            + (f"resuming ({resumed} objects from an earlier import)" if resumed else "empty")
        )
        self.refs = References.of(self.snapshot)
        return env

    # -- 2. languages ------------------------------------------------------------------------

    def import_languages(self, existing: list[JSON]) -> None:
        by_codename = {str(lang.get("codename")): lang for lang in existing}
        names = {
            (lang.get("system") or {}).get("codename"): (lang.get("system") or {}).get("name")
            for lang in self.snapshot.languages
        }
        wanted_default = self.snapshot.default_language
        default = next(
            (
                lang
                for lang in existing
                if lang.get("is_default") or lang.get("id") == DEFAULT_LANGUAGE_ID
            ),
            None,
        )
        if default is None:
            raise ManagementError("the environment has no default language (unexpected)")
        if default.get("codename") != wanted_default:
            if wanted_default in by_codename:
                raise ManagementError(
                    f"language {wanted_default!r} exists but is not the environment's default",
                    hint=f"make {wanted_default!r} the default language in Kontent.ai, or "
                    "import into a new environment",
                )
            operations: list[JSON] = [
                {"op": "replace", "property_name": "codename", "value": wanted_default}
            ]
            if names.get(wanted_default):
                operations.append(
                    {"op": "replace", "property_name": "name", "value": names[wanted_default]}
                )
            self.client.patch(
                f"languages/{segment(str(default['id']))}",
                operations,
                what=f"rename the default language to {wanted_default!r}",
            )
            self.say(
                f"languages: default language {default.get('codename')!r} renamed to "
                f"{wanted_default!r}"
            )
            by_codename[wanted_default] = {**default, "codename": wanted_default}
        for language in self.languages[1:]:
            found = by_codename.get(language)
            if found is not None:
                if found.get("is_active") is False:
                    self.client.patch(
                        f"languages/{segment(str(found['id']))}",
                        [{"op": "replace", "property_name": "is_active", "value": True}],
                        what=f"activate language {language!r}",
                    )
                self.report.count("languages", False)
                continue
            fallback = self.fallbacks.get(language, wanted_default)
            created = self.client.post(
                "languages",
                {
                    "name": names.get(language) or language,
                    "codename": language,
                    "external_id": external_id("language", language),
                    "is_active": True,
                    "fallback_language": {"codename": fallback},
                },
                what=f"add language {language!r}",
            )
            by_codename[language] = created
            self.report.count("languages", True)
            self.say(f"languages: added {language!r} (falls back to {fallback!r})")
        existing[:] = list(by_codename.values())

    # -- 3. taxonomy groups and content types --------------------------------------------------

    def import_taxonomies(self, existing: list[JSON]) -> None:
        self._create_all(
            "taxonomies",
            "taxonomy groups",
            existing,
            [(taxonomy_payload(g), g["system"]["codename"]) for g in self.snapshot.taxonomies],
        )

    def import_types(self, existing: list[JSON]) -> None:
        self._create_all(
            "types",
            "content types",
            existing,
            [(type_payload(t), t["system"]["codename"]) for t in self.snapshot.types],
        )

    def _create_all(
        self, path: str, label: str, existing: list[JSON], wanted: list[tuple[JSON, str]]
    ) -> None:
        have = {str(e.get("external_id")) for e in existing}
        for payload, codename in wanted:
            if payload["external_id"] in have:
                self.report.count(path, False)
                continue
            try:
                self.client.post(path, payload, what=f"create {label[:-1]} {codename!r}")
            except ManagementError as exc:
                # A create retried after its answer was lost: the first one went through.
                if exc.status not in (400, 409) or not self._exists(path, payload["external_id"]):
                    raise
            self.report.count(path, True)
        self._tally(path, label)

    def _exists(self, path: str, ext: str) -> bool:
        return (
            self.client.find(f"{path}/external-id/{segment(ext)}", what=f"look up {ext}")
            is not None
        )

    # -- 4. assets ---------------------------------------------------------------------------

    def import_assets(self, existing: list[JSON]) -> None:
        have = {str(a.get("external_id")) for a in existing}
        assets = list(collect_assets(self.snapshot).values())
        for number, asset in enumerate(assets, 1):
            if asset.external_id in have:
                self.report.count("assets", False)
                continue
            data = self._asset_bytes(asset)
            kind = asset.content_type or mimetypes.guess_type(asset.file_name)[0]
            reference = self.client.upload(
                asset.file_name,
                data,
                kind or "application/octet-stream",
                what=f"upload {asset.file_name!r}",
            )
            self.client.put(
                f"assets/external-id/{segment(asset.external_id)}",
                {
                    "file_reference": {"id": reference["id"], "type": "internal"},
                    "title": asset.file_name,
                    "descriptions": [
                        {"language": {"codename": language}, "description": text}
                        for language, text in asset.descriptions.items()
                        if language in self.languages and text
                    ],
                },
                what=f"create asset {asset.file_name!r}",
            )
            self.report.count("assets", True)
            if number % 25 == 0:
                self.say(f"assets: {number}/{len(assets)}")
        self._tally("assets", "assets")

    def _asset_bytes(self, asset: AssetInfo) -> bytes:
        parts = httpx.URL(asset.url)
        if parts.scheme in ("http", "https"):
            return self.download(asset.url)
        if self.static_dir is None:
            raise SnapshotError(
                f"asset {asset.url!r} has a relative URL and no site folder was given to read "
                "it from",
                hint="pass --site SITE: relative asset URLs are read from SITE/static",
            )
        path = (self.static_dir / asset.url.lstrip("/")).resolve()
        if not path.is_relative_to(self.static_dir.resolve()) or not path.is_file():
            raise SnapshotError(
                f"asset {asset.url!r}: {path} is not a file in {self.static_dir}",
                hint="relative asset URLs are read from the site's static folder",
            )
        return path.read_bytes()

    # -- 5. items ----------------------------------------------------------------------------

    def import_items(self, existing: list[JSON]) -> dict[str, JSON]:
        """Every item by external id (those there already and those created)."""
        items = {str(i.get("external_id")): i for i in existing}
        seen: set[str] = set()
        for _, variant in translated_variants(self.snapshot):
            ext = external_id("item", variant["system"]["id"])
            if ext in seen:
                continue
            seen.add(ext)
            if ext in items:
                self.report.count("items", False)
                continue
            items[ext] = self.client.put(
                f"items/external-id/{segment(ext)}",
                item_payload(variant),
                what=f"create content item {variant['system']['codename']!r}",
            )
            self.report.count("items", True)
        self._tally("items", "content items")
        return items

    # -- 6. variants -------------------------------------------------------------------------

    def import_variants(
        self, items: dict[str, JSON], languages: list[JSON], published_steps: set[str]
    ) -> list[tuple[str, str, str]]:
        """Write every variant not yet published; returns (item ext, language, codename)."""
        published = self._published(items, languages, published_steps)
        written = []
        variants = list(translated_variants(self.snapshot))
        for number, (language, variant) in enumerate(variants, 1):
            codename = variant["system"]["codename"]
            ext = external_id("item", variant["system"]["id"])
            if (ext, language) in published:
                self.report.count("variants", False)
                continue
            self.client.put(
                f"items/external-id/{segment(ext)}/variants/codename/{segment(language)}",
                variant_payload(variant, self.refs),
                what=f"write {codename!r} ({language})",
            )
            written.append((ext, language, codename))
            self.report.count("variants", True)
            if number % 25 == 0:
                self.say(f"variants: {number}/{len(variants)}")
        self._tally("variants", "language variants")
        return written

    def _published(
        self, items: dict[str, JSON], languages: list[JSON], published_steps: set[str]
    ) -> set[tuple[str, str]]:
        """(item external id, language) of the variants already published."""
        ext_by_id = {str(i.get("id")): ext for ext, i in items.items()}
        language_by_id = {str(lang.get("id")): str(lang.get("codename")) for lang in languages}
        out: set[tuple[str, str]] = set()
        for content_type in self.snapshot.types:
            ext = external_id("type", content_type["system"]["codename"])
            for variant in self.client.list_all(
                f"types/external-id/{segment(ext)}/variants",
                "variants",
                what=f"list variants of {content_type['system']['codename']!r}",
            ):
                if _step(variant) not in published_steps:
                    continue
                item = ext_by_id.get(str((variant.get("item") or {}).get("id")))
                language = language_by_id.get(str((variant.get("language") or {}).get("id")))
                if item and language:
                    out.add((item, language))
        return out

    # -- 7. publish --------------------------------------------------------------------------

    def publish(self, written: Iterable[tuple[str, str, str]]) -> None:
        count = 0
        for ext, language, codename in written:
            path = f"items/external-id/{segment(ext)}/variants/codename/{segment(language)}"
            try:
                self.client.put(f"{path}/publish", what=f"publish {codename!r} ({language})")
            except ManagementError as exc:
                # A publish retried after its answer was lost finds the variant published.
                if exc.status not in (400, 409) or not self._is_published(path):
                    raise
            count += 1
        self.report.written["published"] = count
        self.say(f"published: {count} language variants")

    def _is_published(self, path: str) -> bool:
        variant = self.client.find(path, what="look up a variant") or {}
        return _step(variant) in self.published_steps

    def _tally(self, kind: str, label: str) -> None:
        wrote = self.report.written.get(kind, 0)
        skipped = self.report.skipped.get(kind, 0)
        self.say(f"{label}: {wrote} created" + (f", {skipped} already there" if skipped else ""))


def _step(variant: JSON) -> str:
    """The id of a variant's workflow step (``workflow.step_identifier``, or the older
    ``workflow_step``)."""
    step = ((variant.get("workflow") or {}).get("step_identifier") or {}).get("id")
    return str(step or (variant.get("workflow_step") or {}).get("id"))


def _download(url: str) -> bytes:
    """An absolute asset URL's bytes (no credentials are ever sent to it)."""
    try:
        response = httpx.get(url, timeout=60.0, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise ManagementError(f"cannot download asset {url}: {exc}") from None
    if response.status_code != 200:
        raise ManagementError(f"cannot download asset {url}: HTTP {response.status_code}")
    return response.content
