"""The outcome of a build: what was written, kept and deleted, and the problems of the site.

:class:`BuildReport` is what :func:`kontent_ssg.build` returns and what ``--report FILE``
writes (``to_json``). Its ``warnings`` and ``broken_links`` describe the whole site after
every build, full or incremental: pages that were not re-rendered keep the problems recorded
when they last were (:class:`~kontent_ssg.incremental.state.BuildState`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..content.snapshot import atomic_write_json
from ..errors import StrictError, UsageError
from ..progress import Progress

__all__ = [
    "BuildReport",
    "describe_link",
    "fail_if_strict",
    "finish_report",
    "unique_links",
    "write_failure_report",
]

JSON = dict[str, Any]


@dataclass
class BuildReport:
    """The outcome; ``to_json`` is the ``--report`` file (paths relative to the output).

    ``pages_unchanged`` lists every page of the site that was not written, re-rendered or
    not; ``page_deps`` maps each page rendered by this build to its dependency keys (sorted).
    ``assets_downloaded`` and ``assets_encoded`` count the files this build downloaded and the
    image variants it made (``[site] download_assets``); ``assets_written`` lists the asset
    files it published anew.
    """

    output: Path
    pages_written: list[str] = field(default_factory=list)
    pages_unchanged: list[str] = field(default_factory=list)
    pages_deleted: list[str] = field(default_factory=list)
    static_written: list[str] = field(default_factory=list)
    assets_written: list[str] = field(default_factory=list)
    assets_downloaded: int = 0
    assets_encoded: int = 0
    warnings: list[str] = field(default_factory=list)
    broken_links: list[JSON] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    skipped: bool = False
    incremental: bool = False
    page_deps: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # For CI annotations (not in --report): warning -> the page it was first met on, and
    # page URL -> the site's template file rendering it.
    warning_pages: dict[str, str] = field(default_factory=dict, repr=False)
    page_templates: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def pages_rendered(self) -> list[str]:
        return sorted(self.page_deps)

    def to_json(self) -> JSON:
        return {
            "pages_written": self.pages_written,
            "pages_unchanged": self.pages_unchanged,
            "pages_deleted": self.pages_deleted,
            "pages_rendered": self.pages_rendered,
            "static_written": self.static_written,
            "assets_written": self.assets_written,
            "assets_downloaded": self.assets_downloaded,
            "assets_encoded": self.assets_encoded,
            "warnings": self.warnings,
            "broken_links": self.broken_links,
            "requests": self.requests,
            "incremental": self.incremental,
            "nothing_changed": self.skipped,
            "seconds": round(self.seconds, 3),
        }


def describe_link(link: JSON) -> str:
    """One line for a broken link: where it is and what it points at."""
    if "attribute" in link:  # a link of the written page (template or content)
        return (
            f'{link.get("page")}: {link["attribute"]}="{link.get("target")}" points at no page '
            "or static file of the site"
        )
    target = link.get("target_codename") or link.get("target_id") or "?"
    return (
        f"{link.get('item')} ({link.get('language')}) element {link.get('element')}: "
        f"link to {target}, which has no page"
    )


def unique_links(links: Iterable[JSON]) -> list[JSON]:
    """Broken links, each once: the same link met on several pages is reported on the first."""
    seen: dict[str, JSON] = {}
    for link in links:
        key = json.dumps({k: v for k, v in link.items() if k != "page"}, sort_keys=True)
        seen.setdefault(key, link)
    return list(seen.values())


def fail_if_strict(warnings: list[str], broken_links: list[JSON]) -> None:
    """``--strict``: any warning or broken link fails the build before anything is written."""
    if not (warnings or broken_links):
        return
    problems = warnings + [describe_link(b) for b in broken_links]
    raise StrictError(
        f"--strict: {len(warnings)} warning(s), {len(broken_links)} broken link(s); "
        "nothing written:\n  "
        + "\n  ".join(problems[:20])
        + ("\n  …" if len(problems) > 20 else ""),
        hint="fix them, or build without --strict",
        warnings=warnings,
        broken_links=broken_links,
    )


def finish_report(
    report: BuildReport, started: float, report_file: Path | None, progress: Progress
) -> BuildReport:
    """Sort the lists, take the time, write ``--report FILE`` and show the summary."""
    report.pages_written.sort()
    report.pages_unchanged.sort()
    report.pages_deleted.sort()
    report.static_written.sort()
    report.assets_written.sort()
    report.seconds = time.perf_counter() - started
    if report_file is not None:
        _write_report(Path(report_file), report.to_json())
    progress.summary(report)
    return report


def _write_report(path: Path, data: Any) -> None:
    try:
        atomic_write_json(path, data)
    except OSError as exc:
        raise UsageError(
            f"--report {path}: cannot write it: {exc.strerror or exc}",
            hint="give --report a file in a folder that exists and is writable",
        ) from None


def write_failure_report(path: Path, error: BaseException) -> None:
    """``--report`` after a failed build: the error says why."""
    _write_report(
        Path(path),
        {
            "pages_written": [],
            "pages_unchanged": [],
            "pages_deleted": [],
            "warnings": list(getattr(error, "warnings", [])),
            "broken_links": list(getattr(error, "broken_links", [])),
            "requests": 0,
            "error": str(error),
        },
    )
