"""One function per CLI command: glue between parsed arguments and the pipeline modules."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from .config import Config
from .progress import printable

__all__ = [
    "build",
    "check",
    "import_snapshot",
    "init",
    "pull",
    "serve",
    "webhook",
    "webhooks",
]


def pull(config: Config, args: argparse.Namespace) -> int:
    """Crawl the environment and save the snapshot that ``build --offline`` reads.

    Progress goes to stderr (a line per language), the one-line summary to stdout; ``--quiet``
    silences both. Errors propagate as :class:`KontentSSGError` for the CLI to report.
    """
    from .content.delivery import FeedProgress, obtain_snapshot, snapshot_dir_for

    quiet = bool(getattr(args, "quiet", False))
    preview = bool(getattr(args, "preview", False))

    def report(event: FeedProgress) -> None:
        if event.done:
            print(
                f"  {printable(event.language)}: {event.items} items ({event.pages} "
                f"{'page' if event.pages == 1 else 'pages'})",
                file=sys.stderr,
                flush=True,
            )

    def waiting(notice: object) -> None:
        print(f"  waiting: {notice}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    snapshot, requests = obtain_snapshot(
        config,
        preview=preview,
        offline=False,
        progress=None if quiet else report,
        on_retry=None if quiet else waiting,
    )
    elapsed = time.perf_counter() - started
    if not quiet:
        per_language = ", ".join(
            f"{printable(language)} {len(snapshot.items[language].items)}"
            for language in snapshot.language_codenames
        )
        folder = _relative(snapshot_dir_for(config, preview=preview))
        print(
            f"pulled {'preview' if preview else 'published'} content: items {per_language}; "
            f"{len(snapshot.types)} types, {len(snapshot.taxonomies)} taxonomies; "
            f"{requests} requests in {elapsed:.2f} s -> {folder}"
        )
    return 0


def _relative(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (shorter, stable logs)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def build(config: Config, args: argparse.Namespace) -> int:
    """Build the site; with ``--report`` the JSON report is written even when it fails."""
    from .builder.pipeline import BuildOptions
    from .builder.pipeline import build as build_site
    from .builder.report import write_failure_report
    from .errors import KontentSSGError
    from .progress import make_progress

    progress = make_progress(
        quiet=bool(getattr(args, "quiet", False)), verbose=bool(getattr(args, "verbose", False))
    )
    options = BuildOptions(
        output=getattr(args, "output", None),
        preview=bool(getattr(args, "preview", False)),
        offline=bool(getattr(args, "offline", False)),
        strict=bool(getattr(args, "strict", False)),
        report=getattr(args, "report", None),
        full=bool(getattr(args, "full", False)),
        progress=progress,
    )
    try:
        build_site(config, options, changes_file=getattr(args, "changes", None))
    except KontentSSGError as exc:
        progress.done()
        progress.failed(exc)
        if options.report is not None:
            try:
                write_failure_report(options.report, exc)
            except KontentSSGError as unwritable:  # the build's own error matters more
                print(f"warning: {unwritable.message}", file=sys.stderr)
        raise
    return 0


def check(config: Config, args: argparse.Namespace) -> int:
    """Validate config and templates against the content model; write nothing.

    Exit 1 when there are errors (or warnings with ``--strict``), else 0.
    """
    from .builder.check import CheckOptions, check_site
    from .builder.journal import Journal, lock_path, pending
    from .builder.report import describe_link

    result = check_site(
        config,
        CheckOptions(
            offline=bool(getattr(args, "offline", False)),
            preview=bool(getattr(args, "preview", False)),
        ),
    )
    # A build killed while publishing left the output partly updated: say so (the next
    # build, serve or webhook completes it; check itself writes nothing).
    for preview in (False, True):
        interrupted = pending(
            Journal.for_site(config.state_dir, preview=preview), lock_path(config.state_dir)
        )
        if interrupted:
            result.warnings.append(interrupted)
    quiet = bool(getattr(args, "quiet", False))
    for error in result.errors:
        print(f"error: {printable(error, newlines=True)}", file=sys.stderr)
    if not quiet:
        for warning in result.warnings:
            print(f"warning: {printable(warning)}", file=sys.stderr)
        for link in result.broken_links:
            print(f"broken link: {printable(describe_link(link))}", file=sys.stderr)
        print(
            f"checked {result.pages} pages, {result.templates} templates: "
            f"{len(result.errors)} errors, {len(result.warnings)} warnings, "
            f"{len(result.broken_links)} broken links"
        )
    strict = bool(getattr(args, "strict", False))
    if result.errors or (strict and (result.warnings or result.broken_links)):
        return 1
    return 0


def serve(config: Config, args: argparse.Namespace) -> int:
    """Build, serve the output with live reload, rebuild on file changes and content webhooks.

    A failed rebuild is shown (terminal and browser overlay) and the server keeps running:
    fixing the template is the next save away.
    """
    import threading

    from .builder.pipeline import Builder, BuildOptions
    from .config import CONFIG_FILE, load_config
    from .errors import KontentSSGError
    from .incremental.state import BuildState, state_path
    from .progress import LogProgress
    from .server import (
        LiveReload,
        NotificationWorker,
        allowed_hosts_for,
        listening_socket,
        preview_app,
        serve_forever,
        watch_site,
    )

    quiet = bool(getattr(args, "quiet", False))

    def say(message: str) -> None:
        if not quiet:
            print(printable(message, newlines=True), file=sys.stderr, flush=True)

    port = int(getattr(args, "port", 8000))
    host = str(getattr(args, "host", "127.0.0.1"))
    sock = listening_socket(host, port)  # a busy port fails here, before any build
    port = sock.getsockname()[1]
    options = BuildOptions(
        preview=bool(getattr(args, "preview", False)),
        offline=bool(getattr(args, "offline", False)),
        progress=LogProgress(say),  # each rebuild is one line (below), waits one line each
    )
    # One build state for the whole session: a kontent.toml edit replaces the builder (new
    # config), and the webhook route and the worker keep using this state, which the
    # replaced builder does not close. Everything else about the builder (its output folder,
    # the webhook path) is asked of ``current`` each time.
    state = BuildState(state_path(config.state_dir, preview=options.preview))
    current = {"builder": Builder(config, options, log=say, state=state)}
    reload = LiveReload()
    lock = threading.Lock()

    def rebuild(reason: str) -> None:
        with lock:
            started = time.perf_counter()
            try:
                report = current["builder"].build()
            except KontentSSGError as exc:
                reload.failed(str(exc))
                say(f"build failed ({reason}): {exc}")
                return
            reload.rebuilt()
            say(
                f"rebuilt ({reason}): {len(report.pages_written)} written, "
                f"{len(report.pages_deleted)} deleted in {time.perf_counter() - started:.2f} s"
            )

    # The site's own plugin modules: an edit reloads them (a new builder, a full build).
    plugin_files = tuple(f"{name}.py" for name in config.plugins.modules if "." not in name)

    def on_files(changed: set[Path]) -> None:
        reload_names = (CONFIG_FILE, *plugin_files)
        if any(p.name in reload_names and p.parent == config.site_dir for p in changed):
            try:
                new_config = load_config(config.site_dir)
            except KontentSSGError as exc:
                reload.failed(str(exc))
                say(f"config error (still serving the last good build): {exc}")
                return
            for warning in new_config.warnings:
                say(f"warning: {warning}")
            with lock:
                old, current["builder"] = (
                    current["builder"],
                    Builder(new_config, options, log=say, state=state),
                )
                old.close()
        rebuild(", ".join(sorted(p.name for p in changed)[:3]))

    def apply(changes: list[Any]) -> None:
        with lock:
            started = time.perf_counter()
            try:
                report = current["builder"].apply(changes)
            except KontentSSGError as exc:
                reload.failed(str(exc))
                raise
            reload.rebuilt()
            say(
                f"rebuilt (webhook): {len(report.pages_written)} written, "
                f"{len(report.pages_deleted)} deleted in {time.perf_counter() - started:.2f} s"
            )

    stop = threading.Event()
    # First: an edit during the first build counts.
    watch_site(config.site_dir, on_files, stop, files=plugin_files)
    rebuild("start")
    worker = NotificationWorker(state, apply, slot=current["builder"].slot, debounce=0.3, log=say)

    def shutdown() -> None:
        stop.set()
        worker.stop()

    app = preview_app(
        lambda: current["builder"].output_dir,
        reload,
        webhook=(
            lambda: current["builder"].config.webhook.path,
            state,
            worker,
            config.webhook.secret,
        ),
        preview=options.preview,
        on_startup=worker.start,
        on_shutdown=shutdown,
        allowed_hosts=allowed_hosts_for(host),
        base_path=lambda: _base_path(current["builder"].config),
    )
    say(
        f"serving {current['builder'].output_dir} at "
        f"http://{host}:{port}{_base_path(current['builder'].config)}/ (Ctrl+C to stop)"
    )
    try:
        serve_forever(app, host, port, graceful=2.0, sock=sock)
    finally:
        stop.set()
        with lock:
            current["builder"].close()
            state.close()
    return 0


def _base_path(config: Config) -> str:
    """The path of ``[site] base_url`` (``/repo``), where ``serve`` mounts the site."""
    from urllib.parse import urlsplit

    return urlsplit(config.site.base_url).path.rstrip("/")


def webhook(config: Config, args: argparse.Namespace) -> int:
    """The always-on receiver: verify, queue durably, rebuild incrementally, deploy.

    Refuses to start without ``KONTENT_WEBHOOK_SECRET`` (anyone could trigger rebuilds)
    unless ``--insecure``. Before serving it catches up: a build (incremental when state
    exists) applies whatever changed while it was down, then the queue left by a previous
    process is drained.
    """
    from .builder.pipeline import Builder, BuildOptions
    from .errors import ConfigError, KontentSSGError
    from .progress import LogProgress
    from .server import (
        DEFAULT_MAX_BODY,
        NotificationWorker,
        listening_socket,
        run_deploy,
        serve_forever,
        webhook_app,
    )

    quiet = bool(getattr(args, "quiet", False))

    def say(message: str) -> None:
        if not quiet:
            print(printable(message, newlines=True), file=sys.stderr, flush=True)

    insecure = bool(getattr(args, "insecure", False))
    secret = config.webhook.secret
    if not secret and not insecure:
        raise ConfigError(
            "KONTENT_WEBHOOK_SECRET is not set: the receiver would accept anyone's webhooks",
            hint="export KONTENT_WEBHOOK_SECRET=<the secret Kontent.ai shows for the webhook>, "
            "or pass --insecure for local testing only",
        )
    if insecure and not secret:
        say("warning: --insecure: accepting unsigned webhooks")
    relay = getattr(args, "relay", None) or config.webhook.relay
    dispatcher = _github_dispatcher(config, say) if relay else None
    host = str(getattr(args, "host", "127.0.0.1"))
    port = int(getattr(args, "port", 8080))
    sock = listening_socket(host, port)  # a busy port fails here, before the catch-up build
    port = sock.getsockname()[1]
    max_body = int(getattr(args, "max_body", None) or DEFAULT_MAX_BODY)
    if dispatcher is not None:
        return _relay(config, args, dispatcher, secret, sock, max_body, say)
    verbose = bool(getattr(args, "verbose", False))
    options = BuildOptions(
        preview=bool(getattr(args, "preview", False)), progress=LogProgress(say, verbose=verbose)
    )
    builder = Builder(config, options, log=say)
    try:
        report = builder.build()
        say(f"caught up: {len(report.pages_written)} pages written")
        builder.warm()  # the content, the plan and the dependency index, before any webhook
    except KontentSSGError as exc:
        say(f"initial build failed (will retry on the next webhook): {exc}")

    def deploy() -> None:
        if config.deploy.command or config.deploy.netlify_build_hook:
            run_deploy(config, log=say)

    worker = NotificationWorker(
        builder.state,
        builder.apply,
        slot=builder.slot,
        after=deploy,
        # so that a webhook's rebuild need not; stopped by a notification arriving
        idle=lambda: builder.check_output_now(stop=worker.interrupted),
        log=say,
    )
    app = webhook_app(
        builder.state,
        worker,
        path=config.webhook.path,
        secret=secret or None,
        preview=builder.preview,
        max_body=max_body,
    )
    say(f"listening on http://{host}:{port}{config.webhook.path} (health: /health)")
    try:
        serve_forever(app, host, port, sock=sock)
    finally:
        builder.close()
    return 0


def _github_dispatcher(config: Config, say: Any) -> Any:
    """The relay's GitHub client, or a :class:`ConfigError` naming what is missing."""
    from .errors import ConfigError
    from .relay import GitHubDispatcher

    hook = config.webhook
    if not hook.github_repository:
        raise ConfigError(
            "the GitHub relay needs the repository to dispatch to",
            hint='set [webhook] github_repository = "owner/name" in kontent.toml (or the '
            "environment variable GITHUB_REPOSITORY)",
        )
    if not hook.github_token:
        raise ConfigError(
            "GITHUB_DISPATCH_TOKEN is not set: the relay cannot call GitHub's dispatch API",
            hint="export GITHUB_DISPATCH_TOKEN=<a fine-grained token with Contents: read and "
            f"write on {hook.github_repository}>",
        )
    return GitHubDispatcher(
        hook.github_repository, hook.github_token, api_url=hook.github_api_url, log=say
    )


def _relay(
    config: Config,
    args: argparse.Namespace,
    dispatcher: Any,
    secret: str | None,
    sock: Any,
    max_body: int,
    say: Any,
) -> int:
    """``webhook --relay github``: the receiver, with a dispatch to GitHub where it would
    rebuild. Nothing is built here; the queue (``.kontent-ssg/relay/queue.sqlite``) keeps
    what GitHub has not accepted yet across restarts."""
    from .incremental.state import BuildState
    from .server import NotificationWorker, serve_forever, webhook_app

    preview = bool(getattr(args, "preview", False))
    if preview:
        dispatcher.event_type = f"{dispatcher.event_type}-preview"
    state = BuildState(config.state_dir / "relay" / "queue.sqlite")
    # A CI run takes a minute or more: waiting up to 15 s to fold a burst of publishes into
    # one dispatch costs little, and every dispatch is a workflow run.
    worker = NotificationWorker(
        state,
        dispatcher.dispatch,
        slot="preview" if preview else "published",
        debounce=2.0,
        max_wait=15.0,
        log=say,
    )
    app = webhook_app(
        state,
        worker,
        path=config.webhook.path,
        secret=secret or None,
        preview=preview,
        max_body=max_body,
    )
    host, port = str(getattr(args, "host", "127.0.0.1")), sock.getsockname()[1]
    say(
        f"relaying http://{host}:{port}{config.webhook.path} to "
        f"{dispatcher.url} as '{dispatcher.event_type}' (health: /health)"
    )
    try:
        serve_forever(app, host, port, sock=sock)
    finally:
        state.close()
    return 0


def webhooks(config: Config, args: argparse.Namespace) -> int:
    """``webhooks register|list|remove``: the site's webhook, found by its name.

    Prints what it did, never a secret; with a generated secret, where it was written.
    """
    from .management.webhooks import (
        SECRET_ENV,
        default_name,
        list_webhooks,
        register,
        remove,
        resolve_secret,
        summary,
    )

    quiet = bool(getattr(args, "quiet", False))
    name = config.webhook.name or default_name(config.site.base_url, config.site_dir)
    action = args.webhooks_action
    source = None
    if action == "register":
        # Read (or generated and written) before anything is sent: a secret is never lost.
        source = resolve_secret(
            {SECRET_ENV: config.webhook.secret or ""}, getattr(args, "secret_file", None)
        )
    with _management_client(config) as client:
        if action == "list":
            found = list_webhooks(client)
            for webhook in found:
                mark = "*" if webhook.get("name") == name else " "
                print(f"{mark} {printable(summary(webhook))}")
            if not quiet:
                print(
                    f"{len(found)} webhooks in environment {config.kontent.environment_id}; "
                    f"* = this site's ({printable(name)})",
                    file=sys.stderr,
                )
            return 0
        if action == "remove":
            removed = remove(client, name)
            if not quiet:
                print(
                    f"removed {removed} webhook{'s' if removed != 1 else ''} named "
                    f"{printable(repr(name))}"
                    if removed
                    else f"no webhook named {printable(repr(name))}: nothing to remove"
                )
            return 0
        assert source is not None
        result = register(client, name, args.url, source.secret)
    if not quiet:
        extra = f"; {result.removed} old or duplicate removed" if result.removed else ""
        print(f"webhook {printable(repr(name))} {result.action} -> {printable(args.url)}{extra}")
        if source.warning:
            print(f"warning: {printable(source.warning)}", file=sys.stderr)
        if source.origin == "generated":
            print(
                f"secret generated and written to {_relative(source.path or Path())} (mode "
                f"0600); the receiver reads it from {SECRET_ENV}: "
                f'export {SECRET_ENV}="$(cat {_relative(source.path or Path())})"'
            )
        elif source.origin == "file":
            print(f"secret read from {_relative(source.path or Path())}")
        else:
            print(f"secret taken from {SECRET_ENV}")
    return 0


def _management_client(config: Config) -> Any:
    from .content.delivery import RetryPolicy
    from .management.client import ManagementClient

    k = config.kontent
    return ManagementClient(
        k.management_url,
        k.environment_id,
        k.management_api_key,
        timeout=max(k.timeout, 60.0),
        retry=RetryPolicy(max_attempts=k.max_retries + 1),
    )


def import_snapshot(args: argparse.Namespace) -> int:
    """``import SNAPSHOT_DIR``: the environment from ``--environment-id`` (or
    ``KONTENT_ENVIRONMENT_ID``), else from the site's ``kontent.toml`` (``--site``, or the site
    holding SNAPSHOT_DIR); progress on stderr, the summary on stdout."""
    from .config import CONFIG_FILE, load_config
    from .content.delivery import RetryPolicy
    from .content.snapshot import load_snapshot
    from .errors import ConfigError, UsageError
    from .management.client import DEFAULT_MANAGEMENT_URL, MANAGEMENT_KEY_ENV, ManagementClient
    from .management.importer import import_snapshot as run_import
    from .management.importer import manifest_fallbacks

    quiet = bool(getattr(args, "quiet", False))
    folder = Path(args.snapshot)
    if not (folder / "manifest.json").is_file():
        raise UsageError(
            f"{folder} is not a snapshot folder (no manifest.json)",
            hint="give the folder `kontent-ssg pull` writes, e.g. SITE/.kontent-ssg/snapshot",
        )
    site = getattr(args, "site", None)
    if site is None and getattr(args, "environment_id", None) is None:
        holder = folder.resolve().parent.parent
        if folder.resolve().parent.name == ".kontent-ssg" and (holder / CONFIG_FILE).is_file():
            site = holder
    static_dir = None
    if site is not None:
        config = load_config(site)
        k = config.kontent
        environment_id, base_url, key = k.environment_id, k.management_url, k.management_api_key
        retry = RetryPolicy(max_attempts=k.max_retries + 1)
        static_dir = config.static_dir
    else:
        environment_id = getattr(args, "environment_id", None) or os.environ.get(
            "KONTENT_ENVIRONMENT_ID", ""
        )
        if not environment_id:
            raise ConfigError(
                "no environment to import into",
                hint="pass --environment-id ID (or set KONTENT_ENVIRONMENT_ID), or --site SITE",
            )
        base_url = (os.environ.get("KONTENT_MANAGEMENT_URL") or DEFAULT_MANAGEMENT_URL).rstrip("/")
        key = os.environ.get(MANAGEMENT_KEY_ENV)
        retry = RetryPolicy()
    snapshot = load_snapshot(folder)

    def say(line: str) -> None:
        if not quiet:
            print(f"import: {printable(line)}", file=sys.stderr, flush=True)

    with ManagementClient(base_url, environment_id, key, retry=retry) as client:
        report = run_import(
            client,
            snapshot,
            static_dir=static_dir,
            fallbacks=manifest_fallbacks(folder),
            say=say,
        )
    for warning in report.warnings:
        if not quiet:
            print(f"warning: {printable(warning)}", file=sys.stderr)
    if not quiet:
        written = ", ".join(f"{n} {kind}" for kind, n in report.written.items() if n) or "nothing"
        skipped = sum(report.skipped.values())
        print(
            f"imported {_relative(folder)} into environment {environment_id}: {written}"
            + (f" ({skipped} already there)" if skipped else "")
            + f"; {report.requests} requests ({report.retries} retried) in {report.seconds:.1f} s"
        )
    return 0


def init(args: argparse.Namespace) -> int:
    """``init [SITE]``: the site from its content model, or with ``--ci`` its CI files; one
    line per file considered, then notes (what was read, what to do next) on stderr."""
    from .scaffold import init as scaffold

    result = scaffold(
        Path(args.site),
        ci=getattr(args, "ci", None),
        environment_id=getattr(args, "environment_id", None),
        delivery_url=getattr(args, "delivery_url", None),
        offline=bool(getattr(args, "offline", False)),
        snapshot=getattr(args, "snapshot", None),
        force=bool(getattr(args, "force", False)),
    )
    if not getattr(args, "quiet", False):
        for written in result.files:
            print(f"{written.action:>9}  {_relative(written.path)}")
        for note in result.notes:
            print(f"note: {printable(note)}", file=sys.stderr)
    return 0
