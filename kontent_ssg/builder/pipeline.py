"""The build, as PRODUCT.md's pipeline: one code path for full and incremental builds.

:meth:`Builder.run` reads top-down like the pipeline:

1. **Content**: the content now and what changed since the last build
   (:class:`~kontent_ssg.incremental.engine.ContentTracker`: crawl, saved snapshot, webhook
   notifications, Sync API). A full build is the case where everything changed.
2. **Plan** every page (routes, listings, taxonomy terms), or patch the previous plan when
   the change cannot alter it.
3. **Choose** the pages to render: all of them, or the dependants of the stale dependency keys
   plus pages that appeared.
4. **Render** them, each staged beside the output by the process that rendered it
   (:mod:`.parallel`, :class:`~kontent_ssg.builder.output.StagedWriter`).
5. **Judge** the whole site: pages not re-rendered keep the problems recorded when they were;
   ``--strict`` fails here, before anything is visible.
6. **Publish**: write down what is about to change (the publish journal), then
7. **record** what each page read and met and the content fingerprints, then move the staged
   pages and static files into place, delete the pages that went, install the manifest.

An incremental build differs from a full one only in step 3 (which pages) and in what step 7
replaces. A failure anywhere before step 6 leaves the output exactly as it was; from step 6 on
a build that is killed is completed by the next one (:mod:`.journal`), which also removes what
a build killed earlier left staged.

With ``[site] download_assets`` the assets the content references are downloaded between
steps 2 and 3 (pages state the real size of each image), and the files the pages of the site
use, image variants made then, are staged after step 4 with the pages (docs/ASSETS.md).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..content.snapshot import ContentStore
from ..content.webhooks import Change, parse_webhook
from ..errors import BuildError, RouteError, UnknownNameError, UsageError, WebhookError
from ..incremental.engine import ContentTracker, Delta
from ..incremental.fingerprints import ContentKey
from ..incremental.state import BuildState, PageRecord, Problems, is_corrupt, state_path
from ..progress import Progress
from ..speed import FrozenHeap, gc_paused, keep_for_good, young_gc_threshold
from . import machine
from .journal import Journal, Publication, build_lock, lock_path, publish, recover
from .output import (
    DELTA_SHARE,
    MANIFEST_FORMAT,
    OutputCheck,
    StagedWriter,
    delta_path,
    list_static_files,
    load_manifest,
    manifest_path,
    os_error,
    outputs_intact,
    stage_manifest,
)
from .report import BuildReport, fail_if_strict, finish_report, unique_links

if TYPE_CHECKING:
    from ..assets.stage import AssetStage
    from ..site.plan import SitePlan, TaggedIndex
    from ..site.routing import Page
    from ..site.validate import TemplateUses
    from .parallel import RenderedPage

__all__ = ["BuildOptions", "Builder", "build"]

JSON = dict[str, Any]
Log = Any  # Callable[[str], None]


#: An idle builder's output checks are this many times their duration apart (at most ~5 %
#: of its time; see Builder.check_output_now).
IDLE_CHECK_SHARE = 20


def _quiet(message: str) -> None:
    return None


@dataclass
class BuildOptions:
    """What the command line asked for (see ``kontent-ssg build --help``)."""

    output: Path | None = None
    preview: bool = False
    offline: bool = False
    strict: bool = False
    report: Path | None = None
    full: bool = False
    workers: int | None = None
    progress: Progress = field(default_factory=Progress)


class Builder:
    """One site's builds, incremental whenever that is safe; thread-safe (one lock).

    Long-lived in ``serve`` and the webhook receiver (the content stays in memory between
    rebuilds); one build for ``kontent-ssg build``. ``transport`` lets tests swap the network.
    """

    def __init__(
        self,
        config: Config,
        options: BuildOptions | None = None,
        *,
        transport: Any = None,
        log: Log = _quiet,
        state: BuildState | None = None,
    ) -> None:
        self.config = config
        self.options = options or BuildOptions()
        self.preview = self.options.preview
        self.slot = "preview" if self.preview else "published"
        # Preview builds (drafts) default to a folder of their own, never the published one.
        self.output_dir = (self.options.output or config.output_for(self.preview)).resolve()
        self.log = log
        self.lock = threading.RLock()
        # ``state``: a build state opened by the caller, who closes it (``serve`` keeps one
        # across the builders a kontent.toml edit replaces).
        self._owns_state = state is None
        self.state = state or BuildState(state_path(config.state_dir, preview=self.preview))
        self.content = ContentTracker(
            config,
            self.state,
            preview=self.preview,
            offline=self.options.offline,
            lock=self.lock,
            transport=transport,
            log=log,
            progress=self.options.progress,
            readers=self.options.workers or machine.usable_cpus(),
        )
        self.journal = Journal.for_site(config.state_dir, preview=self.preview)
        self.rebuilds = 0
        self._manifest: JSON | None = None  # the record of the output (cached between builds)
        self._plan: SitePlan | None = None  # the last build's plan, for plan-neutral changes
        # (manifest, routes) of the last publish: while a patched plan keeps those routes and
        # the manifest is that one, no page appeared or went (_choose need not compare them).
        self._published: tuple[JSON, Any] | None = None
        self._tagged_index: TaggedIndex | None = None
        # What the site's templates use (names, item.<element>), re-parsed only when a
        # template's bytes change; and the warnings checking them against the model gave.
        self._template_uses: dict[str, TemplateUses] | None = None
        self._name_warnings: list[str] = []
        # (build id, intact): the output checked between rebuilds (check_output_now), for
        # the next rebuild to use instead of checking every file itself; used once.
        self._output_checked: tuple[str, bool] | None = None
        self._output_checked_at = float("-inf")
        self._output_check_took = 0.0  # seconds the last check took
        self._output_check: OutputCheck | None = None  # stopped part way (check_output_now)
        # The Jinja environment of the last build, with the templates it compiled: the next
        # incremental build renders with it unless a template changed (_template_env).
        self._env: Any = None
        self._env_templates: dict[str, str] | None = None  # the template hashes it was made for

    def close(self) -> None:
        self.content.close()
        if self._owns_state:
            self.state.close()

    def __enter__(self) -> Builder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- entry points ------------------------------------------------------------------------

    def build(self, *, changes: list[Change] | None = None) -> BuildReport:
        """``kontent-ssg build``: incremental when build state allows, else full.

        ``changes`` (webhook notifications, ``--changes FILE``) names what changed; without
        them the build finds out itself (Sync API, or a crawl or the saved snapshot diffed).
        """
        return self.run(changes, poll=True)

    def apply(self, changes: list[Change]) -> BuildReport:
        """Apply webhook notifications (the receiver's worker calls this)."""
        return self.run(changes, poll=False)

    def warm(self) -> None:
        """Read now what every rebuild needs: the content, the site plan, the reverse
        dependency index; then keep them out of the collector's sight for good.

        For the webhook receiver after its catch-up build, so that its first webhook does
        not pay for loading them (seconds at 10k real-shaped items) and no full collection
        walks them later. The plan is the one the catch-up build's content gives (what the
        first rebuild would plan, before its change); a site that cannot be planned is left
        to the first rebuild, which reports why.
        """
        from ..errors import KontentSSGError

        with self.lock:
            if self._manifest_now() is None:
                return
            snapshot = self.content.warm()
            if snapshot is None:
                return
            self.state.keep_index()
            if self._plan is None:
                try:
                    self._plan, _ = self._plan_site(Delta(snapshot))
                except KontentSSGError:
                    self._plan = None
            keep_for_good()

    def check_output_now(self, every: float = 5.0, stop: Callable[[], bool] | None = None) -> None:
        """Check the output folder against its record now, between rebuilds, so that the
        next rebuild need not (the receiver calls this when idle: once after each rebuild,
        then at most every ``every`` seconds).

        Checking means a ``stat`` of every file we wrote: ~60 ms of CPU at 10k real-shaped
        pages, which every webhook rebuild would otherwise spend before rendering anything.
        A file changed or deleted after this check and before the next rebuild is found by
        the check after that rebuild, and the rebuild after it is then a full one.

        While nothing is rebuilt, checks are at least ``every`` seconds and at least
        :data:`IDLE_CHECK_SHARE` times their own duration apart: at 100k items a check
        takes ~1 s, which every 5 s kept an idle receiver ~30 % busy.

        ``stop()`` true (a notification arrived) stops the check part way: the rebuild then
        looks only at the files this check did not reach, instead of waiting for it.
        """
        if not self.lock.acquire(blocking=False):
            return  # a rebuild is running: it checks for itself
        try:
            manifest = self._manifest_now()
            if manifest is None or not manifest.get("build"):
                return
            build = str(manifest["build"])
            check = self._output_check
            if check is None or check.manifest is not manifest:
                checked = self._output_checked
                if (
                    checked is not None
                    and checked[0] == build
                    and time.monotonic() - self._output_checked_at
                    < max(every, self._output_check_took * IDLE_CHECK_SHARE)
                ):
                    return  # checked lately, and no rebuild used it or published since
                check = self._output_check = OutputCheck(self.output_dir, manifest)
            intact = check.run(stop)
            if intact is None:
                return  # stopped: the rest later, or by the rebuild
            self._output_check = None
            self._output_checked = (build, intact)
            self._output_checked_at = time.monotonic()
            self._output_check_took = check.seconds
        except OSError:
            self._output_checked = self._output_check = None  # the rebuild checks for itself
        finally:
            self.lock.release()

    # -- the pipeline ------------------------------------------------------------------------

    def run(self, changes: list[Change] | None, *, poll: bool) -> BuildReport:
        """One build (see the module docstring), after finishing or undoing one that was
        killed. A corrupt build state is moved aside and the build done afresh (full)."""
        waiting = self.options.progress.waiting
        with self.lock, build_lock(lock_path(self.config.state_dir), log=waiting):
            try:
                self._recover()
                try:
                    return self._run(changes, poll)
                except sqlite3.DatabaseError as exc:
                    if not is_corrupt(exc):
                        raise
                    self._state_moved_aside(self.state.move_aside(), exc)
                    return self._run(changes, poll)
            except OSError as exc:
                raise os_error(exc, "access") from None
            except sqlite3.Error as exc:
                raise BuildError(
                    f"the build state {self.state.path} cannot be used: {exc}",
                    hint="check the disk and the folder's permissions; deleting the file "
                    "makes the next build a full one",
                ) from None

    def _notice(self, message: str) -> None:
        """Tell the user, on whichever channel the command listens to."""
        self.options.progress.warning(message)
        self.log(message)

    def _recover(self) -> None:
        """Complete (or undo) a publish an earlier process was killed in, for either slot."""
        if self.state.moved_aside is not None:  # found corrupt when it was opened
            self._state_moved_aside(self.state.moved_aside, None)
        for preview in (self.preview, not self.preview):
            journal = Journal.for_site(self.config.state_dir, preview=preview)
            own = self.output_dir if preview == self.preview else None
            if recover(journal, self._notice, own):
                self._manifest = None
                self._plan = None

    def _state_moved_aside(self, where: Path, exc: Exception | None) -> None:
        self.state.moved_aside = None  # said once, whichever builder shares the state
        self._manifest = None
        self._plan = None
        self._notice(
            f"the build state was corrupt{f' ({exc})' if exc else ''}: moved it to {where} "
            "and building everything afresh; webhook notifications still queued in it are "
            "lost (this full build reads all content again, so none of their changes is "
            "missed), and so is the list of dead letters"
        )

    def _run(self, changes: list[Change] | None, poll: bool) -> BuildReport:
        options = self.options
        progress = options.progress
        started = time.perf_counter()
        with FrozenHeap() as heap, _StageClock(started) as clock:
            # 1. Content: what it is now, and what changed since the last build.
            progress.stage("content")
            manifest = self._manifest_now()
            full = self._full_reason(manifest)
            clock.mark("check")
            with gc_paused():
                delta = self.content.delta(changes, full=full, poll=poll)
                # Frozen before the collector runs again: its first collection would walk
                # every object of the content just read (60-80 ms at 10k real-shaped items).
                heap.again()
            clock.mark("content")
            if delta.nothing and self._assets_to_retry():
                delta = self.content.current(delta.requests)
            if delta.nothing:
                return self._unchanged(delta, manifest or {}, started)
            if delta.full is not None:
                # A full build replaces the state: make sure no damaged page of it hides
                # where no query of an incremental build looked.
                self.state.check()
            assert delta.snapshot is not None
            heap.again()  # the snapshot, once read, is never garbage during the build
            try:
                # 2. Plan every page.
                progress.stage("routes")
                site, static_files = self._plan_site(delta)
                heap.again()
                clock.mark("plan")
                # Assets the content references, downloaded (pages state their real sizes).
                assets = self._prepare_assets(delta, site)
                # 3. Choose the pages to render.
                # A patched plan of the last publish's routes: nothing came or went.
                as_published = delta.full is None and self._as_published(site, manifest)
                pages, deleted = self._choose(site, delta, manifest, static_files, as_published)
                clock.mark("choose")
                # 4. Render them, each staged beside the output.
                # The last publish's entries: read while staging, made the new ones in place
                # by _publication (a build failing after that reads the published ones again).
                old_files: dict[str, Any] = (manifest or {}).get("files") or {}
                staging = StagedWriter(self.output_dir, old_files)
                progress.stage("render", len(pages))
                self.journal.staging(self.output_dir, self._manifest_path)
                try:
                    fingerprints: dict[ContentKey, str | None] = {}
                    rendered = self._render(site, pages, staging, delta, fingerprints, heap)
                    clock.mark("render")
                    for rel in static_files:
                        staging.add(
                            staging.stage_file(rel, self.config.static_dir / rel), static=True
                        )
                    if assets is not None:
                        self._stage_assets(assets, staging, site, rendered, deleted, static_files)
                    # 5. Judge the whole site.
                    where: dict[str, str] = {}
                    problems = self._judge(site, rendered, deleted, delta.full is not None, where)
                    for warning in problems.warnings:
                        progress.warning(warning)
                    if options.strict:
                        fail_if_strict(list(problems.warnings), list(problems.broken_links))
                    clock.mark("judge")
                    # 6. Publish: what is about to change, durably, before anything does.
                    progress.stage("write", len(rendered))
                    report = BuildReport(
                        output=self.output_dir,
                        warnings=list(problems.warnings),
                        broken_links=list(problems.broken_links),
                        requests=delta.requests,
                        incremental=delta.full is None,
                        warning_pages=where,
                        page_templates=self._page_templates(
                            site,
                            [*where.values(), *(str(b.get("page")) for b in problems.broken_links)],
                        ),
                    )
                    if assets is not None:
                        report.assets_downloaded = assets.downloaded
                        report.assets_encoded = assets.encoded
                    manifest, publication = self._publication(
                        staging,
                        site,
                        manifest,
                        deleted,
                        static_files,
                        report,
                        as_published,
                    )
                    self.journal.publishing(publication)
                    clock.mark("stage")
                    # 7. Record, then make it visible. The state is recorded first: once the
                    # journal is written the build is completed even if killed, so the state
                    # then describes the output (the manifest carries the same build id).
                    try:
                        self._record(
                            delta, site, rendered, deleted, manifest, report, fingerprints, assets
                        )
                        clock.mark("record")
                    except BaseException:
                        # Nothing was moved yet: undo, as if killed before the journal.
                        self.journal.staging(self.output_dir, self._manifest_path)
                        raise
                except BaseException:
                    staging.abort()
                    for staged_manifest in (self._manifest_path, delta_path(self._manifest_path)):
                        with contextlib.suppress(OSError):
                            os.unlink(f"{staged_manifest}.next")
                    self.journal.done()
                    raise
                self._manifest = None
                publish(publication)
                self.journal.done()
                self._manifest = manifest
                self._published = (manifest, site.routes)
                clock.mark("publish")
                if assets is not None:
                    assets.finish()  # the cache's index saved, what no build used pruned
            except BaseException:
                # The content in memory moved on without a published build: plan afresh. The
                # manifest in memory may hold this build's entries (``_publication``): read
                # the published one again.
                self._plan = None
                self._manifest = None
                raise
            self._plan = site
            self.content.built(delta)
            self.rebuilds += 1
            progress.done()
            self.log(
                f"{'incremental' if delta.full is None else 'full'} build: "
                f"{len(rendered)} pages rendered, {len(report.pages_written)} written, "
                f"{len(report.pages_deleted)} deleted in {time.perf_counter() - started:.3f} s"
            )
            if progress.verbose:
                self.log(f"  rebuild stages: {clock}")
            return finish_report(report, started, options.report, progress)

    # -- 1. content --------------------------------------------------------------------------

    def _manifest_now(self) -> JSON | None:
        """The record of the output (re-read only after a build that failed to write it)."""
        if self._manifest is None:
            self._manifest = load_manifest(self.config, self.output_dir, preview=self.preview)
        return self._manifest

    def _full_reason(self, manifest: JSON | None) -> str | None:
        """Why this build must render every page (None: it may be incremental)."""
        if self.options.full:
            return "--full"
        if self.state.is_empty:
            return "no build state yet"
        if manifest is None:
            return "no record of the previous output"
        if manifest.get("build") != self.state.get_meta("build"):
            return "the build state is not the one the output was recorded with"
        checked, self._output_checked = self._output_checked, None
        check, self._output_check = self._output_check, None
        if checked is not None and checked[0] == manifest.get("build"):
            intact = checked[1]  # checked between rebuilds, and nothing published since
        elif check is not None and check.manifest is manifest:
            intact = bool(check.run())  # a check between rebuilds stopped part way: the rest
        else:
            intact = outputs_intact(self.output_dir, manifest)
        if not intact:
            # Someone deleted or edited generated files (say `rm -rf public`): only a full
            # build puts them back (it still writes only files whose bytes differ).
            return "the output folder changed since the last build"
        if self.content.global_changed(self.output_dir):
            return "kontent.toml, kontent-ssg or the set of templates changed"
        return None

    def _unchanged(self, delta: Delta, manifest: JSON, started: float) -> BuildReport:
        """Nothing changed: the report describes the site as recorded."""
        where: dict[str, str] = {}
        problems = self._judge(None, [], [], False, where)
        progress = self.options.progress
        for warning in problems.warnings:
            progress.warning(warning)
        if self.options.strict:
            fail_if_strict(list(problems.warnings), list(problems.broken_links))
        progress.done()
        report = BuildReport(
            output=self.output_dir,
            pages_unchanged=sorted(manifest.get("pages") or []),
            warnings=list(problems.warnings),
            broken_links=list(problems.broken_links),
            requests=delta.requests,
            skipped=True,
            incremental=True,
            warning_pages=where,
        )
        return finish_report(report, started, self.options.report, progress)

    # -- 2. plan, 3. choose ------------------------------------------------------------------

    def _plan_site(self, delta: Delta) -> tuple[SitePlan, list[str]]:
        """The site plan (patched from the last one when the change cannot alter it) and the
        static files; a static file where a page goes is an error."""
        from ..plugins import load_plugins
        from ..site.plan import patch_plan, plan_site

        assert delta.snapshot is not None
        # Microseconds whatever the size of the site: the lookups are the item lists' own
        # indexes (docs/SNAPSHOT.md), so a receiver's rebuild makes a store afresh.
        store = ContentStore(delta.snapshot)
        previous = self._plan
        # Imported here, before rendering forks: render processes inherit them.
        plugins = load_plugins(self.config)
        self._check_names(store, plugins.pages)
        static_files = list_static_files(self.config.static_dir)
        if (
            delta.patch is not None
            and previous is not None
            and previous.static == set(static_files)
        ):
            site, self._tagged_index = patch_plan(previous, store, delta.patch, self._tagged_index)
        else:
            site = plan_site(self.config, store, static_files, plugins)
            self._tagged_index = None
        self._plan = None
        for rel in static_files:
            if rel in site.routes.by_path:
                raise RouteError(
                    f"static/{rel} and {site.routes.by_path[rel].label} both write {rel}",
                    hint="rename the static file or change the route",
                )
        return site, static_files

    def _check_names(self, store: ContentStore, page_names: Iterable[str] = ()) -> None:
        """Names in kontent.toml and the templates against the content model: an unknown
        one stops the build (exit status 2, with the closest valid name); an element a
        template reads that its type lacks is a warning of the site. Every build runs this
        (the model is the snapshot's); templates are re-parsed only when they changed."""
        from ..content.model import ContentModel
        from ..render.templates import TEMPLATE_SUFFIXES, template_files
        from ..render.templating import make_environment
        from ..site.validate import scan_templates, validate_site

        config = self.config
        names = [
            name
            for name in template_files(config.templates_dir, defaults=False)
            if name.endswith(TEMPLATE_SUFFIXES)
        ]
        previous = self._template_uses
        if previous is None:
            previous = _stored_uses(self.state.get_meta("template_uses"))
        env = make_environment(config.templates_dir)
        self._template_uses = scan_templates(env, names, previous)
        found = validate_site(
            config, ContentModel(store), self._template_uses, page_names=page_names
        )
        if found.errors:
            head = (
                found.errors[0]
                if len(found.errors) == 1
                else f"{len(found.errors)} unknown names:\n  " + "\n  ".join(found.errors)
            )
            raise UnknownNameError(
                head,
                hint="fix the name in kontent.toml or the template (`kontent-ssg check` lists "
                "every problem); nothing was written",
            )
        self._name_warnings = found.warnings

    def _site_warnings(self, site: SitePlan) -> list[str]:
        """The site's own warnings: the plan's (items without a page, no base_url), and
        element names templates read that their types lack."""
        return [*site.warnings, *self._name_warnings]

    def _as_published(self, site: SitePlan, manifest: JSON | None) -> bool:
        """Whether ``site`` has the routes of the last publish and ``manifest`` is that
        publish's: a patched plan (a webhook rebuild), where no page or static file
        appeared or went since."""
        published = self._published
        return published is not None and published[0] is manifest and published[1] is site.routes

    def _choose(
        self,
        site: SitePlan,
        delta: Delta,
        manifest: JSON | None,
        static_files: list[str],
        as_published: bool = False,
    ) -> tuple[list[Page], list[str]]:
        """The pages to render, and the pages that went (to delete). ``as_published``: an
        incremental build of the last publish's routes (:meth:`_as_published`)."""
        from ..incremental import keys

        planned = site.routes.by_path  # path -> page, every page
        if as_published:
            # A patched plan of the routes this manifest was written for (the static files
            # unchanged too, or the plan would have been made afresh): no page or static
            # file appeared or went, so only the stale keys' dependants render.
            stale = set(delta.keys)
            dirty = self.state.dependants(stale) if stale else set()
            return [planned[path] for path in sorted(dirty) if path in planned], []
        old_pages = set((manifest or {}).get("pages") or ())
        deleted = sorted(old_pages - planned.keys())
        if delta.full is not None:
            return list(site.routes.pages), deleted
        files = (manifest or {}).get("files") or {}
        if self.config.site.download_assets:
            # Downloaded assets come and go with the pages using them (asset: keys).
            prefix = self.config.assets.path.lstrip("/") + "/"
            files = {path: e for path, e in files.items() if not path.startswith(prefix)}
        # Pages and static files that appeared or went: pages pointing at their paths. (Set
        # operations, not loops: a webhook rebuild does this over every page.)
        moved = (planned.keys() | set(static_files)) ^ (old_pages | files.keys())
        stale = set(delta.keys) | keys.urls_changed(moved)
        dirty = self.state.dependants(stale) if stale else set()
        fresh = planned.keys() - (old_pages & files.keys())
        if fresh or deleted:
            # The sitemap lists every page: a page appearing or going changes it.
            dirty |= {page.path for page in site.routes.of_kind("sitemap")}
        return [planned[path] for path in sorted(dirty | fresh) if path in planned], deleted

    # -- assets (``[site] download_assets``) -------------------------------------------------

    def _assets_to_retry(self) -> bool:
        """The last build linked assets it could not download to the CDN: this one retries."""
        return (
            self.config.site.download_assets
            and not self.options.offline
            and bool(self.state.get_meta("assets_missing"))
        )

    def _prepare_assets(self, delta: Delta, site: SitePlan) -> AssetStage | None:
        """Download what the content references and the cache lacks; the pages that linked
        an asset on the CDN because it could not be downloaded become stale once it is."""
        if not self.config.site.download_assets:
            site.assets = None
            return None
        from ..assets.stage import AssetStage, stale_keys

        assert delta.snapshot is not None
        network = self.content.network()
        stage = AssetStage(
            self.config,
            offline=self.options.offline,
            transport=network["transport"],
            on_retry=network["on_retry"],
            dead_hosts=network["dead_hosts"],
            progress=self.options.progress,
        )
        contents = (
            (language, raw)
            for language, lang_items in delta.snapshot.items.items()
            for raws in (lang_items.items, lang_items.modular_content.values())
            for raw in raws
        )
        site.assets = stage.prepare(contents)
        if delta.full is None:
            delta.keys |= stale_keys(self.state.get_meta("assets_missing"), site.assets)
        return stage

    def _stage_assets(
        self,
        stage: AssetStage,
        staging: StagedWriter,
        site: SitePlan,
        rendered: list[RenderedPage],
        deleted: list[str],
        static_files: list[str],
    ) -> None:
        """Stage every asset file a page of the site uses: what the rendered pages recorded,
        and what the others recorded when they were rendered (from the build state)."""
        keys: set[str] = set()
        fresh = set()
        for page in rendered:
            fresh.add(page.page.path)
            keys.update(k for k in page.deps if k[:6] == "asset:")
        gone = set(deleted)
        if len(fresh) < len(site.routes.pages):
            for path, recorded in self.state.keys_of_kind("asset").items():
                if path not in fresh and path not in gone:
                    keys |= recorded
        files = stage.files(keys)
        static = set(static_files)
        for rel in sorted(files):
            if rel in site.routes.by_path or rel in static:
                other = site.routes.by_path[rel].label if rel in site.routes.by_path else ""
                raise RouteError(
                    f"the downloaded asset {rel} and {other or 'static/' + rel} both write {rel}",
                    hint="change [assets] path in kontent.toml",
                )
            staging.add(staging.stage_file(rel, files[rel]), asset=True)

    # -- 4. render, 5. judge -----------------------------------------------------------------

    def _render(
        self,
        site: SitePlan,
        pages: list[Page],
        staging: StagedWriter,
        delta: Delta,
        fingerprints: dict[ContentKey, str | None],
        heap: FrozenHeap,
    ) -> list[RenderedPage]:
        """Render ``pages``; a full build also puts the fingerprints of all content into
        ``fingerprints``: an item page's item in the process that rendered the page, right
        after it (that process has just read the item), everything else in this process
        while the render processes render (``side_work``)."""
        from ..incremental.fingerprints import page_item_row, snapshot_rows
        from .parallel import render_pages

        staging.prepare(page.path for page in pages)
        env = self._template_env(delta)
        snapshot = delta.snapshot
        side_work = None
        if delta.full is not None and snapshot is not None:
            paged = {("item", p.language, p.key) for p in pages if p.kind == "item"}

            def side_work() -> None:
                with gc_paused():  # only new, acyclic rows
                    rows = snapshot_rows(snapshot, paged)
                    fingerprints.update((key, row.to_json()) for key, row in rows.items())

        with young_gc_threshold():
            rendered = render_pages(
                self.config,
                site,
                pages,
                workers=self.options.workers,
                advance=self.options.progress.advance,
                writer=staging,
                page_hook=page_item_row if delta.full is not None else None,
                env=env,
                side_work=side_work,
            )
            if delta.full is not None:
                for page in rendered:
                    if page.extra is not None:
                        fingerprints.update(page.extra)
            # What the render leaves lives until the build is recorded (the pages' results,
            # the fingerprints): frozen, the collections after the render do not walk it
            # again (~0.4 s of this process at 10k real-shaped pages, most of its collector's
            # time in a cold build).
            heap.again()
        return rendered

    def _template_env(self, delta: Delta) -> Any:
        """The Jinja environment to render with: the last build's, so that a long-running
        builder compiles each template once rather than once per rebuild (~11 templates,
        ~25 ms per webhook rebuild at 10k real-shaped items); made afresh for a full build
        and whenever the site's templates differ from the bytes it was made for (hashed
        before any was compiled: an edit racing the build makes the next one start afresh).
        """
        from ..incremental.fingerprints import template_hashes
        from ..render.templating import make_environment

        hashes = template_hashes(self.config)
        if self._env is None or delta.full is not None or hashes != self._env_templates:
            self._env = make_environment(self.config.templates_dir)
            self._env_templates = hashes
        return self._env

    def _judge(
        self,
        site: SitePlan | None,
        rendered: list[RenderedPage],
        deleted: Iterable[str],
        full: bool,
        where: dict[str, str] | None = None,
    ) -> Problems:
        """The problems of the whole site: the plan's (items without a page, no base_url),
        then every page's in path order, re-rendered pages with what they met now. ``where``
        gets the page (its URL, else its path) each warning was first met on."""
        if site is not None:
            site_warnings = self._site_warnings(site)
        else:
            site_warnings = _json_list(self.state.get_meta("site_warnings"))
        recorded = {} if full else self.state.problems()
        for page in rendered:
            recorded[page.page.path] = Problems(tuple(page.warnings), tuple(page.broken_links))
        for path in deleted:
            recorded.pop(path, None)
        warnings = list(site_warnings)
        links: list[JSON] = []
        for path in sorted(recorded):
            warnings.extend(recorded[path].warnings)
            links.extend(recorded[path].broken_links)
            if where is not None:
                planned = site.routes.by_path.get(path) if site is not None else None
                for warning in recorded[path].warnings:
                    where.setdefault(warning, planned.url if planned is not None else path)
        return Problems(tuple(dict.fromkeys(warnings)), tuple(unique_links(links)))

    def _page_templates(self, site: SitePlan, urls: Iterable[str]) -> dict[str, str]:
        """Page URL -> the site's template file that renders it (package defaults left out),
        for the pages of ``urls`` (those with warnings or broken links): where CI annotations
        point (``progress.GitHubProgress``). Looked up by path, not by a walk over every page
        (~30 ms of each webhook rebuild at 100k items)."""
        from ..site.routing import output_path_for

        files: dict[str, str] = {}
        out: dict[str, str] = {}
        folder = self.config.templates_dir
        by_path = site.routes.by_path
        for url in set(urls):
            try:
                page = by_path.get(output_path_for(url))
            except ValueError:  # a path, not a URL (a page the plan no longer has)
                continue
            if page is None or page.url != url or page.template is None:
                continue
            found = files.get(page.template)
            if found is None:
                path = folder / page.template
                found = files[page.template] = str(path) if path.is_file() else ""
            if found:
                out[page.url] = found
        return out

    # -- 6. publish, 7. record ---------------------------------------------------------------

    @property
    def _manifest_path(self) -> Path:
        return manifest_path(self.config, self.preview)

    def _publication(
        self,
        staging: StagedWriter,
        site: SitePlan,
        last: JSON | None,
        deleted: list[str],
        static_files: list[str],
        report: BuildReport,
        as_published: bool = False,
    ) -> tuple[JSON, Publication]:
        """The new output's manifest (staged beside the current one, as ``.next``) and what
        publishing it does; fails, before anything is visible, when a file that went cannot
        be deleted. ``last``: the manifest of the output now; ``as_published``: it is the
        last publish's, made for these very routes (:meth:`_as_published`)."""
        planned = site.routes.by_path
        static = set(static_files)
        # The last publish's entries become the new ones in place (a copy of 142k entries
        # cost 3.5 ms a rebuild at 100k items): a build that fails from here on drops the
        # manifest in memory (``_run``), and the next one reads the published one again.
        old_files: dict[str, Any] = (last or {}).get("files") or {}
        files = old_files
        if as_published and len(old_files) == len(planned) + len(static):
            # The last publish recorded every page of these routes and every static file
            # (the same ones: a patched plan): nothing else is there, so nothing went.
            # Saves a walk over every file on a webhook rebuild (~15-25 ms at 100k items).
            gone: list[str] = []
        else:
            gone = [path for path in old_files if path not in planned and path not in static]
        staged = staging.entries(report, self.options.progress)
        paths = site.routes.sorted_paths()
        changed = _changes_since_base(last, old_files, staged, gone, paths)  # before the update
        for path in gone:
            del files[path]
        files.update(staged)
        # Every page not written is unchanged (staged the same, or not rendered at all): in
        # page order, so that the report's sort finds one run (142k paths at 100k items).
        report.pages_unchanged[:] = _without(paths, report.pages_written)
        stale = sorted(path for path in gone if path not in files)  # not staged again
        staging.check_deletable(stale)
        went = set(deleted)
        report.pages_deleted.extend(rel for rel in stale if rel in went)
        build_id = uuid.uuid4().hex
        record = {
            "format": MANIFEST_FORMAT,
            "output": str(self.output_dir),
            "build": build_id,
        }
        if last is not None and changed is not None and len(changed) * DELTA_SHARE <= len(files):
            # Only the changes since the manifest on disk: see builder/output.py.
            base = str(last["base"])
            target = delta_path(self._manifest_path)
            stage_manifest(Path(target), {**record, "base": base, "files": changed})
        else:
            base, changed, target = build_id, {}, str(self._manifest_path)
            stage_manifest(self._manifest_path, {**record, "pages": paths, "files": files})
        manifest = {**record, "pages": paths, "files": files, "base": base, "changed": changed}
        shadows, replaced = staging.moves()
        publication = Publication(
            output=str(self.output_dir),
            build=build_id,
            manifest=target,
            shadows=shadows,
            replaced=replaced,
            deleted=stale,
        )
        return manifest, publication

    def _record(
        self,
        delta: Delta,
        site: SitePlan,
        rendered: list[RenderedPage],
        deleted: list[str],
        manifest: JSON,
        report: BuildReport,
        fingerprints: dict[ContentKey, str | None],
        assets: AssetStage | None = None,
    ) -> None:
        """The build state (dependencies, problems, fingerprints), with the manifest's build
        id: a build interrupted before the manifest is in place is a full one next time.
        ``fingerprints``: a full build's, of all content (see :meth:`_render`)."""
        assert delta.snapshot is not None
        files = manifest["files"]
        meta = self.content.meta(delta, self.output_dir)
        meta["build"] = manifest["build"]
        # Assets linked on the CDN because they could not be downloaded: retried next build.
        meta["assets_missing"] = assets.missing_json() if assets is not None else None
        meta["site_warnings"] = _json_dumps(self._site_warnings(site))
        meta["template_uses"] = _json_dumps(
            {name: uses.to_json() for name, uses in (self._template_uses or {}).items()}
        )
        report.page_deps = {r.page.path: r.deps for r in rendered}
        with gc_paused():  # only new, acyclic rows from here on
            content = fingerprints if delta.full is not None else delta.content
            self.state.record(
                (
                    (PageRecord(r.page.path, r.page.url, _hash(files.get(r.page.path))), r.deps)
                    for r in rendered
                ),
                deleted=deleted,
                meta=meta,
                content=content,
                problems={
                    r.page.path: Problems(tuple(r.warnings), tuple(r.broken_links))
                    for r in rendered
                },
                replace=delta.full is not None,
            )


class _StageClock:
    """Where a build's time went, stage by stage (logged with ``--verbose``): the figures
    that say which stage a slow webhook rebuild spent its time in."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.cpu = time.thread_time()  # this thread's CPU time: robust to other load
        self.stages: list[tuple[str, float]] = []
        self.collections = [0, 0, 0]  # by generation, any thread of the process
        self._gc_started = 0.0
        self.gc_seconds = 0.0

    def __enter__(self) -> _StageClock:
        gc.callbacks.append(self._gc)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.collections[info["generation"]] += 1
            self.gc_seconds += time.perf_counter() - self._gc_started

    def mark(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages.append((stage, now - self.last))
        self.last = now

    def __str__(self) -> str:
        stages = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in self.stages)
        young, middle, full = self.collections
        cpu = time.thread_time() - self.cpu
        return (
            f"{stages}; cpu {cpu * 1000:.0f} ms; collections {young}/{middle}/{full} "
            f"(by generation) {self.gc_seconds * 1000:.0f} ms"
        )


def options_progress(options: BuildOptions | None) -> Progress:
    return options.progress if options is not None else Progress()


def _without(ordered: list[str], some: list[str]) -> list[str]:
    """``ordered`` (sorted) but ``some`` of its items: a copy with a few deleted where a
    binary search finds them (a webhook rebuild writes a few of 142k pages at 100k items),
    else filtered."""
    if len(some) > 64:
        drop = set(some)
        return [path for path in ordered if path not in drop]
    out = list(ordered)
    for path in some:
        at = bisect.bisect_left(out, path)
        if at < len(out) and out[at] == path:
            del out[at]
    return out


def _changes_since_base(
    last: JSON | None,
    old_files: dict[str, Any],
    staged: dict[str, Any],
    gone: list[str],
    paths: list[str],
) -> dict[str, Any] | None:
    """The entries that differ from the manifest on disk once ``staged`` is published (its
    delta's and the new ones), or None when a delta cannot say it: no file may go and the
    pages must be the manifest's."""
    if last is None or gone:
        return None
    if last["pages"] is not paths and last["pages"] != paths:
        return None
    changed = dict(last["changed"])
    for path, entry in staged.items():
        if old_files.get(path) != entry:
            changed[path] = entry
    return changed


def _hash(entry: Any) -> str:
    return str(entry[2]) if entry and len(entry) > 2 else ""


def _json_dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stored_uses(text: str | None) -> dict[str, TemplateUses]:
    """The template scan the last build recorded (an unreadable one is scanned afresh)."""
    import json

    from ..site.validate import TemplateUses

    try:
        stored = json.loads(text or "{}")
        return {name: TemplateUses.from_json(data) for name, data in stored.items()}
    except (ValueError, TypeError, KeyError, IndexError):
        return {}


def _json_list(text: str | None) -> list[Any]:
    import json

    return list(json.loads(text)) if text else []


def build(
    config: Config,
    options: BuildOptions | None = None,
    *,
    changes: list[Change] | None = None,
    changes_file: Path | None = None,
    transport: Any = None,
    log: Log = _quiet,
) -> BuildReport:
    """One build of the site: incremental when possible, full otherwise (``kontent-ssg build``).

    ``changes`` (or ``changes_file``, a saved webhook body in either format) names what
    changed: only that is refetched and re-rendered — for CI jobs triggered by a webhook.
    """
    if changes_file is not None:
        try:
            body = Path(changes_file).read_bytes()
        except OSError as exc:
            raise UsageError(f"--changes {changes_file}: cannot read: {exc}") from None
        try:
            changes = parse_webhook(
                body, on_invalid=lambda why: options_progress(options).warning(why)
            )
        except WebhookError as exc:
            raise UsageError(f"--changes {changes_file}: {exc.message}") from None
    with Builder(config, options, transport=transport, log=log) as builder:
        return builder.build(changes=changes)
