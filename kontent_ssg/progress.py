"""Progress: bars on a terminal, plain lines in CI logs, a summary at the end.

The builder only calls :class:`Progress` methods; which kind it gets is decided here, from
``--quiet``/``--verbose`` and whether stderr is a terminal. Progress goes to stderr so that
stdout stays clean for scripts.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["PlainProgress", "Progress", "RichProgress", "make_progress", "printable"]


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


class Progress:
    """The silent base: ``--quiet``, tests and library use."""

    verbose = False

    def stage(self, name: str, total: int | None = None) -> None:
        """A pipeline stage begins (``total`` steps when known)."""

    def advance(self, n: int = 1) -> None:
        """``n`` steps of the current stage are done."""

    def page(self, path: str, status: str) -> None:
        """One output file was written/unchanged/deleted (printed with ``--verbose``)."""

    def warning(self, message: str) -> None:
        """A warning the user should see even without ``--verbose``."""

    def done(self) -> None:
        """The last stage ended."""

    def summary(self, report: Any) -> None:
        """The one-line (or few-line) result at the end of a build."""


def _summary_lines(report: Any) -> list[str]:
    lines = [
        f"{len(report.pages_written)} written, {len(report.pages_unchanged)} unchanged, "
        f"{len(report.pages_deleted)} deleted; {len(report.warnings)} warnings, "
        f"{len(report.broken_links)} broken links; {report.seconds:.2f}s"
        + (f"; {report.requests} API requests" if report.requests else "")
    ]
    lines.append(f"output: {printable(report.output)}")
    return lines


class PlainProgress(Progress):
    """Plain lines, one per stage: readable in CI logs that do not understand bars."""

    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self._stage: str | None = None
        self._started = 0.0

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def stage(self, name: str, total: int | None = None) -> None:
        self._end_stage()
        self._stage = name
        self._started = time.perf_counter()
        self._print(f"{name}…" if total is None else f"{name} ({total})…")

    def _end_stage(self) -> None:
        if self._stage is not None and self.verbose:
            self._print(f"  {self._stage}: {time.perf_counter() - self._started:.2f}s")
        self._stage = None

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
    """Progress bars (rich) for interactive terminals."""

    def __init__(self, *, verbose: bool = False) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bars

        self.verbose = verbose
        self.console = Console(stderr=True)
        self._bars = Bars(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._task: Any = None
        self._started = False

    def stage(self, name: str, total: int | None = None) -> None:
        if not self._started:
            self._bars.start()
            self._started = True
        self._complete()
        self._task = self._bars.add_task(name, total=total)

    def _complete(self) -> None:
        """Show the current stage as finished (stages without a count become 1/1)."""
        if self._task is None:
            return
        task = self._bars.tasks[-1]
        total = task.total if task.total is not None else 1
        self._bars.update(self._task, total=total, completed=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bars.advance(self._task, n)

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


def make_progress(*, quiet: bool = False, verbose: bool = False) -> Progress:
    """Bars on a terminal, plain lines otherwise (CI), nothing with ``--quiet``."""
    if quiet:
        return Progress()
    if sys.stderr.isatty():
        return RichProgress(verbose=verbose)
    return PlainProgress(verbose=verbose)
