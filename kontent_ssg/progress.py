"""Progress: bars on a terminal, plain lines in CI logs, a summary at the end.

The builder only calls :class:`Progress` methods; which kind it gets is decided here, from
``--quiet``/``--verbose`` and whether stderr is a terminal. Progress goes to stderr so that
stdout stays clean for scripts.

What each kind shows: the crawl's items per language as they arrive, the pages rendered out
of the total with the rate, and every wait (a retry, a ``Retry-After``) while it happens: a
build never sits silent while the API is slow or down. On a terminal that is the bar's line;
in a CI log (no terminal) it is one line per stage, when the stage ends, plus a line per
wait and the final summary.

In GitHub Actions (``GITHUB_ACTIONS=true``) the plain lines are followed by workflow
commands: a ``::warning`` annotation per warning and broken link (shown on the run and the
pull request, pointing at the site's template when known) and a job summary in
``$GITHUB_STEP_SUMMARY``. On Netlify (``NETLIFY=true``) the lines stay plain, without
colour, even where the log looks like a terminal.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "GitHubProgress",
    "LogProgress",
    "PlainProgress",
    "Progress",
    "RichProgress",
    "make_progress",
    "printable",
]


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` safe to print on a terminal: every non-printable character escaped.

    Codenames, titles and slugs come from the CMS and webhook senders; printed raw, an ANSI
    escape sequence in one of them can recolour, hide or rewrite what the terminal shows
    (``\\x1b`` comes out as the four characters ``\\x1b``). ``newlines`` keeps line feeds
    for messages whose structure uses them (an error with its hint); a carriage return,
    which can overwrite a line, is always escaped.
    """
    value = str(text)
    if value.isprintable():
        return value
    out: list[str] = []
    for char in value:
        if char.isprintable() or (newlines and char == "\n"):
            out.append(char)
        else:
            out.append(repr(char)[1:-1])  # "\\x1b", "\\u202e": the escape Python would write
    return "".join(out)


#: What a stage counts, for the "12/40 pages" of its line.
_UNITS = {"render": "pages", "write": "pages"}


class Progress:
    """The silent base: ``--quiet``, tests and library use."""

    verbose = False

    def stage(self, name: str, total: int | None = None) -> None:
        """A pipeline stage begins (``total`` steps when known)."""

    def advance(self, n: int = 1) -> None:
        """``n`` steps of the current stage are done."""

    def items(self, language: str, count: int, done: bool) -> None:
        """The crawl has ``count`` items of ``language`` so far (``done``: all of them).

        Called from the crawl's threads."""

    def waiting(self, message: str) -> None:
        """Something is being waited for (a retry after a failure, a ``Retry-After``):
        ``message`` says what, which attempt, and for how long. Called from any thread."""

    def page(self, path: str, status: str) -> None:
        """One output file was written/unchanged/deleted (printed with ``--verbose``)."""

    def warning(self, message: str) -> None:
        """A warning the user should see even without ``--verbose``."""

    def done(self) -> None:
        """The last stage ended."""

    def summary(self, report: Any) -> None:
        """The one-line (or few-line) result at the end of a build."""

    def failed(self, error: BaseException) -> None:
        """The build failed with ``error`` (already on its way to the user)."""


class LogProgress(Progress):
    """Only the waits, as log lines: the long-running commands (``serve``, ``webhook``) log
    each rebuild themselves, but a rebuild stuck retrying must say so."""

    def __init__(self, log: Callable[[str], None], *, verbose: bool = False) -> None:
        self.log = log
        self.verbose = verbose

    def waiting(self, message: str) -> None:
        self.log(f"waiting: {printable(message)}")


def _summary_lines(report: Any) -> list[str]:
    lines = [
        f"{len(report.pages_written)} written, {len(report.pages_unchanged)} unchanged, "
        f"{len(report.pages_deleted)} deleted; {len(report.warnings)} warnings, "
        f"{len(report.broken_links)} broken links; {report.seconds:.2f}s"
        + (f"; {report.requests} API requests" if report.requests else "")
    ]
    lines.append(f"output: {printable(report.output)}")
    return lines


def _per_language(counts: dict[str, int]) -> str:
    return ", ".join(f"{language} {count:,}" for language, count in sorted(counts.items()))


def _rate(done: int, seconds: float, unit: str = "pages") -> str:
    return f"{done / seconds:,.0f} {unit}/s" if seconds > 0 and done else ""


class PlainProgress(Progress):
    """Plain lines for CI logs, which do not understand bars: one line per stage when it
    ends (what it did, how long it took), a line per wait as it happens, the summary."""

    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self._stage: str | None = None
        self._total: int | None = None
        self._done = 0
        self._started = 0.0
        self._languages: dict[str, int] = {}

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def stage(self, name: str, total: int | None = None) -> None:
        self._end_stage()
        self._stage, self._total, self._done = name, total, 0
        self._started = time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self._done += n

    def items(self, language: str, count: int, done: bool) -> None:
        self._languages[language] = count
        if done and self.verbose:
            self._print(f"  crawled {language}: {count:,} items")

    def waiting(self, message: str) -> None:
        self._print(f"  waiting: {printable(message)}")

    def _end_stage(self) -> None:
        if self._stage is None:
            return
        seconds = time.perf_counter() - self._started
        parts = []
        if self._stage == "content" and self._languages:
            parts.append(f"crawled {_per_language(self._languages)} items")
        if self._total is not None:
            unit = _UNITS.get(self._stage, "steps")
            rate = _rate(self._done, seconds, unit) if self._stage == "render" else ""
            parts.append(f"{self._done:,}/{self._total:,} {unit}" + (f", {rate}" if rate else ""))
        parts.append(f"{seconds:.2f} s")
        self._print(f"{self._stage}: {'; '.join(parts)}")
        self._stage = None
        self._languages = {}

    def page(self, path: str, status: str) -> None:
        if self.verbose:
            self._print(f"  {status}: {printable(path)}")

    def warning(self, message: str) -> None:
        self._print(f"warning: {printable(message)}")

    def done(self) -> None:
        self._end_stage()

    def summary(self, report: Any) -> None:
        for line in _summary_lines(report):
            self._print(line)


class RichProgress(Progress):
    """Progress bars (rich) for interactive terminals: one line per stage, its count, rate
    and elapsed time; the crawl's items per language and any wait on the stage's line."""

    def __init__(self, *, verbose: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bars
        from rich.table import Column
        from rich.text import Text

        class RateColumn(ProgressColumn):
            """Steps per second of a stage with a count (pages/s while rendering)."""

            def render(self, task: Any) -> Text:
                if task.total is None or not task.fields.get("rate"):
                    return Text("")
                return Text(_rate(int(task.completed), task.elapsed or 0.0), style="cyan")

        self.verbose = verbose
        self.console = Console(stderr=True)
        # A long wait message is cut at the end of the line; the stage's name never is.
        note_width = max(20, self.console.width - 75)
        self._bars = Bars(
            TextColumn("{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn(
                "{task.fields[note]}",
                style="yellow",
                markup=False,
                table_column=Column(no_wrap=True, overflow="ellipsis", max_width=note_width),
            ),
            console=self.console,
            transient=False,
        )
        self._task: Any = None
        self._name = ""
        self._started = False
        self._languages: dict[str, int] = {}

    def stage(self, name: str, total: int | None = None) -> None:
        if not self._started:
            self._bars.start()
            self._started = True
        self._complete()
        self._name = name
        self._languages = {}
        self._task = self._bars.add_task(name, total=total, note="", rate=name == "render")

    def _complete(self) -> None:
        """Show the current stage as finished (stages without a count become 1/1)."""
        if self._task is None:
            return
        task = self._bars.tasks[-1]
        total = task.total if task.total is not None else 1
        self._bars.update(self._task, total=total, completed=total, note="")

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bars.update(self._task, advance=n, note="")

    def items(self, language: str, count: int, done: bool) -> None:
        if self._task is None:
            return
        self._languages[language] = count
        description = f"{self._name}: {_per_language(self._languages)} items"
        self._bars.update(self._task, description=description, note="")

    def waiting(self, message: str) -> None:
        if self._task is None:
            self.console.print(f"waiting: {printable(message)}", markup=False, highlight=False)
        else:
            self._bars.update(self._task, note=f"waiting: {printable(message)}")

    def page(self, path: str, status: str) -> None:
        if self.verbose:
            self._bars.console.print(
                f"  {status}: {printable(path)}", markup=False, highlight=False
            )

    def warning(self, message: str) -> None:
        from rich.markup import escape

        # escape(): a "[bold]" in a codename is text, not rich markup.
        self._bars.console.print(
            f"[yellow]warning:[/] {escape(printable(message))}", highlight=False
        )

    def done(self) -> None:
        if self._started:
            self._complete()
            self._bars.stop()
            self._started = False

    def summary(self, report: Any) -> None:
        for line in _summary_lines(report):
            self.console.print(line, markup=False, highlight=False)


# -- GitHub Actions ----------------------------------------------------------------------------

#: Annotations printed per build; GitHub shows only the first few of a step anyway.
MAX_ANNOTATIONS = 50
#: Pages listed by name in the job summary.
MAX_LISTED = 200

_ITEM_IN_WARNING = re.compile(r"^(?:rich text )?([A-Za-z0-9_]+)[. ]")


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``, ``title=``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(kind: str, message: str, *, title: str = "", file: str = "") -> str:
    """``::warning file=…,title=…::message`` (``kind``: warning, error or notice)."""
    props = [f"file={escape_property(file)}" if file else ""]
    props.append(f"title={escape_property(title)}" if title else "")
    joined = ",".join(p for p in props if p)
    text = escape_data(printable(message, newlines=True))
    return f"::{kind}{' ' + joined if joined else ''}::{text}"


def _md(text: object) -> str:
    """Text for a Markdown table cell or list item."""
    return printable(text).replace("|", "\\|").replace("`", "'")


class GitHubProgress(Progress):
    """GitHub Actions: ``inner``'s plain lines, then annotations and the job summary.

    ``file=`` is the site's template that renders the page, relative to the repository root
    (``GITHUB_WORKSPACE``); the title names the page and the item. ``--quiet`` keeps the
    annotations out of the log but still writes the summary (it is the job's record).
    """

    def __init__(self, inner: Progress, env: Mapping[str, str] | None = None) -> None:
        self.inner = inner
        self.verbose = inner.verbose
        env = os.environ if env is None else env
        self.workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
        summary = env.get("GITHUB_STEP_SUMMARY")
        self.summary_file = Path(summary) if summary else None
        self.quiet = type(inner) is Progress
        self.stream = getattr(inner, "stream", None) or sys.stderr

    def stage(self, name: str, total: int | None = None) -> None:
        self.inner.stage(name, total)

    def advance(self, n: int = 1) -> None:
        self.inner.advance(n)

    def items(self, language: str, count: int, done: bool) -> None:
        self.inner.items(language, count, done)

    def waiting(self, message: str) -> None:
        self.inner.waiting(message)

    def page(self, path: str, status: str) -> None:
        self.inner.page(path, status)

    def warning(self, message: str) -> None:
        self.inner.warning(message)

    def done(self) -> None:
        self.inner.done()

    def _repo_path(self, file: str | None) -> str:
        if not file:
            return ""
        try:
            return Path(file).resolve().relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return ""

    def _annotate(self, kind: str, report: Any, warnings: list[str], links: list[Any]) -> None:
        if self.quiet:
            return
        pages = getattr(report, "warning_pages", {}) if report is not None else {}
        templates = getattr(report, "page_templates", {}) if report is not None else {}
        lines = []
        for warning in warnings:
            page = pages.get(warning, "")
            found = _ITEM_IN_WARNING.match(warning)
            item = found.group(1) if found else ""
            title = " · ".join(x for x in (page and f"page {page}", item and f"item {item}") if x)
            lines.append(
                annotation(
                    kind,
                    warning,
                    title=f"kontent-ssg: {title}" if title else "kontent-ssg",
                    file=self._repo_path(templates.get(page)),
                )
            )
        for link in links:
            from .builder.report import describe_link

            page = str(link.get("page") or "")
            title = f"kontent-ssg: broken link on page {page or '?'} · item {link.get('item')}"
            lines.append(
                annotation(
                    kind,
                    describe_link(link),
                    title=title,
                    file=self._repo_path(templates.get(page)),
                )
            )
        for line in lines[:MAX_ANNOTATIONS]:
            print(line, file=self.stream, flush=True)
        if len(lines) > MAX_ANNOTATIONS:
            more = len(lines) - MAX_ANNOTATIONS
            print(
                annotation("notice", f"{more} more problems: see the job summary or --report"),
                file=self.stream,
                flush=True,
            )

    def _write_summary(self, lines: list[str]) -> None:
        if self.summary_file is None:
            return
        with self.summary_file.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n\n")

    def summary(self, report: Any) -> None:
        self.inner.summary(report)
        self._annotate("warning", report, list(report.warnings), list(report.broken_links))
        kind = (
            "nothing changed"
            if report.skipped
            else ("incremental" if report.incremental else "full build")
        )
        lines = [
            f"### kontent-ssg: {kind}",
            "",
            "| pages written | unchanged | deleted | rendered | warnings | broken links | "
            "API requests | seconds |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {len(report.pages_written)} | {len(report.pages_unchanged)} | "
            f"{len(report.pages_deleted)} | {len(report.pages_rendered)} | "
            f"{len(report.warnings)} | {len(report.broken_links)} | {report.requests} | "
            f"{report.seconds:.2f} |",
        ]
        for name, paths in (("written", report.pages_written), ("deleted", report.pages_deleted)):
            if paths:
                lines += ["", f"<details><summary>Pages {name} ({len(paths)})</summary>", ""]
                lines += [f"- `{_md(path)}`" for path in paths[:MAX_LISTED]]
                if len(paths) > MAX_LISTED:
                    lines.append(f"- … and {len(paths) - MAX_LISTED} more")
                lines += ["", "</details>"]
        lines += _problem_tables(list(report.warnings), list(report.broken_links))
        self._write_summary(lines)

    def failed(self, error: BaseException) -> None:
        self.inner.failed(error)
        warnings = list(getattr(error, "warnings", []) or [])
        links = list(getattr(error, "broken_links", []) or [])
        self._annotate("error", None, warnings, links)
        message = getattr(error, "message", None) or str(error)
        lines = ["### kontent-ssg: build failed", "", f"{_md(message.splitlines()[0])}"]
        lines.append("")
        lines.append("The previous output was left as it was.")
        lines += _problem_tables(warnings, links)
        self._write_summary(lines)


def _problem_tables(warnings: list[str], links: list[Any]) -> list[str]:
    lines: list[str] = []
    if links:
        lines += ["", "| broken link on page | item | element | language | links to |"]
        lines.append("|---|---|---|---|---|")
        for link in links[:MAX_LISTED]:
            target = link.get("target_codename") or link.get("target_id") or "?"
            lines.append(
                f"| {_md(link.get('page', ''))} | {_md(link.get('item'))} | "
                f"{_md(link.get('element'))} | {_md(link.get('language'))} | {_md(target)} |"
            )
    if warnings:
        lines += ["", "| warning |", "|---|"]
        lines += [f"| {_md(warning)} |" for warning in warnings[:MAX_LISTED]]
    return lines


def make_progress(
    *, quiet: bool = False, verbose: bool = False, env: Mapping[str, str] | None = None
) -> Progress:
    """Bars on a terminal, plain lines otherwise (CI, and always on Netlify), nothing with
    ``--quiet``; in GitHub Actions plain lines plus annotations and a job summary."""
    env = os.environ if env is None else env
    inner: Progress
    if quiet:
        inner = Progress()
    elif (
        sys.stderr.isatty() and env.get("NETLIFY") != "true" and env.get("GITHUB_ACTIONS") != "true"
    ):
        inner = RichProgress(verbose=verbose)
    else:
        inner = PlainProgress(verbose=verbose)
    if env.get("GITHUB_ACTIONS") == "true":
        return GitHubProgress(inner, env)
    return inner
