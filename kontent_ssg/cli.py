"""Command line: parse arguments, run one command, turn errors into exit statuses.

0 success, 1 build/content/network error, 2 bad usage or configuration. A
:class:`KontentSSGError` becomes its message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import KontentSSGError, UsageError
from .progress import printable

__all__ = ["main"]


def _verbosity(parser: argparse.ArgumentParser, default: Any) -> None:
    """``-q``/``-v`` on ``parser``. The top-level parser and every command take them, so they
    work before or after the command; a command's copies default to ``SUPPRESS`` so that they
    do not overwrite what the top level parsed."""
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="print only errors"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="print more: every page written, each stage's time",
    )


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each command's own (for usage errors in the command's words)."""
    parser = argparse.ArgumentParser(
        prog="kontent-ssg",
        description="Build a static site from Kontent.ai content.",
    )
    parser.add_argument("--version", action="version", version=f"kontent-ssg {__version__}")
    _verbosity(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, argparse.ArgumentParser] = {}

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = _site_command(sub.add_parser(name, help=help_text, description=help_text))
        commands[name] = p
        return p

    b = add("build", "Build the site (incremental when build state exists).")
    b.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="output folder (default: [site] output; with --preview, [site] preview_output)",
    )
    b.add_argument(
        "--preview",
        action="store_true",
        help="use the Preview API (drafts); writes to its own folder, never [site] output",
    )
    b.add_argument("--offline", action="store_true", help="build from the saved snapshot")
    b.add_argument("--strict", action="store_true", help="treat warnings as errors")
    b.add_argument("--report", type=Path, metavar="FILE", help="write a JSON build report")
    b.add_argument("--full", action="store_true", help="ignore build state; rebuild everything")
    b.add_argument(
        "--changes",
        type=Path,
        metavar="FILE",
        help="apply a webhook payload from FILE (incremental)",
    )

    s = add("serve", "Build, serve with live reload, rebuild on changes.")
    s.add_argument(
        "--port", type=int, default=8000, help="port to serve on (default: 8000; 0: any free one)"
    )
    s.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    s.add_argument(
        "--preview",
        action="store_true",
        help="use the Preview API (drafts); serves [site] preview_output",
    )
    s.add_argument("--offline", action="store_true", help="build from the saved snapshot")

    w = add("webhook", "Receive Kontent.ai webhooks; rebuild and deploy.")
    w.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)",
    )
    w.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    w.add_argument("--preview", action="store_true", help="keep a preview build (Preview API)")
    w.add_argument(
        "--max-body",
        type=_byte_count,
        metavar="BYTES",
        help="refuse webhook bodies larger than this (default: 1048576, 1 MiB)",
    )
    w.add_argument(
        "--relay",
        choices=("github",),
        help="forward webhooks to GitHub's repository_dispatch instead of rebuilding here "
        "(or [webhook] relay; token from GITHUB_DISPATCH_TOKEN)",
    )
    w.add_argument(
        "--insecure",
        action="store_true",
        help="accept unsigned webhooks (no KONTENT_WEBHOOK_SECRET); never in production",
    )

    p = add("pull", "Save a snapshot of the content for offline builds.")
    p.add_argument("--preview", action="store_true", help="use the Preview API")

    c = add("check", "Validate config and templates against the content model; write nothing.")
    c.add_argument("--offline", action="store_true", help="check against the saved snapshot")
    c.add_argument("--preview", action="store_true", help="use the Preview API")
    c.add_argument("--strict", action="store_true", help="treat warnings as errors")

    n = add(
        "init",
        "Scaffold a site (kontent.toml and templates) from its content model; with --ci, its "
        "CI and deploy files.",
    )
    n.add_argument(
        "--ci",
        choices=("github", "netlify"),
        help="write GitHub Actions (Pages) or Netlify build files into a site that has its "
        "kontent.toml",
    )
    n.add_argument(
        "--environment-id",
        metavar="ID",
        help="the environment to read (or KONTENT_ENVIRONMENT_ID); for a folder without "
        "kontent.toml",
    )
    n.add_argument(
        "--delivery-url",
        metavar="URL",
        help="Delivery API base (default: https://deliver.kontent.ai); for a folder without "
        "kontent.toml",
    )
    n.add_argument(
        "--offline",
        action="store_true",
        help="read the model from a saved snapshot (the site's, or --snapshot DIR)",
    )
    n.add_argument(
        "--snapshot",
        type=Path,
        metavar="DIR",
        help="a snapshot folder to read the model from (implies --offline); it becomes the "
        "site's saved content",
    )
    n.add_argument("--force", action="store_true", help="replace files that already exist")
    _management_parsers(sub, commands)
    return parser, commands


def _site_command(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A command that works on a site: the optional SITE folder, and ``-q``/``-v``."""
    parser.add_argument(
        "site",
        nargs="?",
        default=".",
        type=Path,
        help="folder holding kontent.toml (default: the current folder)",
    )
    _verbosity(parser, argparse.SUPPRESS)
    return parser


def _management_parsers(sub: Any, commands: dict[str, argparse.ArgumentParser]) -> None:
    """``webhooks register|list|remove`` and ``import``: the Management API commands."""

    text = "Manage the environment's webhook for this site (Management API)."
    hooks = sub.add_parser("webhooks", help=text, description=text)
    _verbosity(hooks, argparse.SUPPRESS)
    commands["webhooks"] = hooks
    actions = hooks.add_subparsers(dest="webhooks_action", metavar="ACTION", required=True)
    text = "Create or update the site's webhook (idempotent)."
    r = _site_command(actions.add_parser("register", help=text, description=text))
    r.add_argument("--url", required=True, help="where Kontent.ai posts notifications")
    r.add_argument(
        "--secret-file",
        type=Path,
        metavar="PATH",
        help="without KONTENT_WEBHOOK_SECRET: read the secret from PATH, or generate one and "
        "write it there (mode 0600)",
    )
    text = "List the environment's webhooks (never their secrets)."
    _site_command(actions.add_parser("list", help=text, description=text))
    text = "Delete the site's webhook."
    _site_command(actions.add_parser("remove", help=text, description=text))

    text = "Import a snapshot into an empty environment (Management API; resumable)."
    i = sub.add_parser("import", help=text, description=text)
    commands["import"] = i
    i.add_argument("snapshot", type=Path, metavar="SNAPSHOT_DIR", help="a saved snapshot folder")
    target = i.add_mutually_exclusive_group()
    target.add_argument(
        "--site",
        type=Path,
        help="site whose kontent.toml names the environment; relative asset URLs are read "
        "from its static/ folder (default: the site holding SNAPSHOT_DIR, if any)",
    )
    target.add_argument(
        "--environment-id", help="the environment to import into (or KONTENT_ENVIRONMENT_ID)"
    )
    _verbosity(i, argparse.SUPPRESS)


def _byte_count(text: str) -> int:
    """A positive number of bytes, for argparse (its error names the option)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number of bytes")
    return value


def run() -> None:
    """The ``kontent-ssg`` command: :func:`main`, then a quick exit (:func:`speed.quick_exit`:
    no interpreter teardown of the content store). Tests call :func:`main`."""
    from .speed import quick_exit

    quick_exit(main())


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
        # Unknown arguments are reported by the command's own parser, with its usage line
        # (argparse would show the top-level usage, which does not list the command's flags).
        if extra:
            command = commands.get(args.command) if args.command else None
            (command or parser).error(f"unrecognized arguments: {' '.join(extra)}")
        if args.quiet and args.verbose:
            (commands.get(args.command) or parser).error(
                "argument -v/--verbose: not allowed with argument -q/--quiet"
            )
    except SystemExit as exc:  # argparse already printed the usage error
        return 2 if exc.code else 0
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    try:
        return _run(args)
    except KontentSSGError as exc:
        # The message may quote a codename or a title: escaped, but its hint stays a line.
        print(f"error: {printable(exc, newlines=True)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# Commands that run on a loaded kontent.toml: the name on the command line -> the function in
# ``commands`` (imported on first use: `kontent-ssg build` need not import the servers).
_COMMANDS = {
    "pull": "pull",
    "build": "build",
    "check": "check",
    "serve": "serve",
    "webhook": "webhook",
    "webhooks": "webhooks",
}


def _run(args: argparse.Namespace) -> int:
    from .config import load_config

    if args.command == "import":  # SITE is optional there: it loads what it needs itself
        from .commands import import_snapshot

        return import_snapshot(args)
    if args.command == "init":  # SITE may have no kontent.toml yet
        from .commands import init

        return init(args)
    config = load_config(args.site)
    for warning in config.warnings:
        if not args.quiet:
            print(f"warning: {printable(warning)}", file=sys.stderr)
    from . import commands

    command = _COMMANDS.get(args.command)
    if command is not None:
        return int(getattr(commands, command)(config, args))
    raise UsageError(f"unknown command {args.command!r}")
