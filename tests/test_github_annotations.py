"""In GitHub Actions a build also speaks GitHub's workflow commands: a ``::warning`` per
warning and broken link (file= the site's template, the title naming page and item) and a
job summary; on Netlify the lines stay plain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kontent_ssg import progress
from kontent_ssg.progress import GitHubProgress, PlainProgress, annotation, make_progress
from tests.support.fixtures import REPO
from tests.support.sites import make_site, snapshot
from tests.test_build import TEMPLATES, TOML, TYPES, article


def broken_link_site(root: Path) -> Path:
    body = '<p>See <a data-item-id="no-such-item" href="">the old post</a>.</p>'
    en = [article("one", body=body), article("two")]
    snap = snapshot({"en-US": en}, types=TYPES)
    make_site(root / "site", TOML, TEMPLATES, snap)
    return root / "site"


def run_build(
    root: Path, *extra: str, **env_extra: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    summary = root / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KONTENT_"))}
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_WORKSPACE=str(root),
        GITHUB_STEP_SUMMARY=str(summary),
        PYTHONPATH=str(REPO),
        **env_extra,
    )
    done = subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "build", str(root / "site"), "--offline", *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
    )
    return done, summary.read_text() if summary.exists() else ""


def test_a_broken_link_is_a_warning_annotation_naming_page_and_item(tmp_path: Path) -> None:
    broken_link_site(tmp_path)
    done, summary = run_build(tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("::warning")]
    expected = (
        "::warning file=site/templates/article.html,"
        "title=kontent-ssg%3A broken link on page /articles/one/ · item one::"
        "one (en-US) element body: link to no-such-item, which has no page"
    )
    assert expected in lines, done.stderr
    # The warning the resolver gave for the same link: its page and item too.
    assert any(
        "title=kontent-ssg%3A page /articles/one/ · item one::rich text one.body" in line
        for line in lines
    ), lines
    # Plain progress lines, no colour codes.
    assert "\x1b[" not in done.stderr and "written" in done.stderr
    assert "### kontent-ssg: full build" in summary
    assert "| broken link on page | item |" in summary
    assert "| /articles/one/ | one | body | en-US | no-such-item |" in summary
    assert "<summary>Pages written (" in summary

    # The next build (nothing changed) still reports the site's problems.
    # (without a plan the template is not known: no file=).
    again, summary = run_build(tmp_path)
    assert expected.replace("file=site/templates/article.html,", "") in again.stderr.splitlines()
    assert "### kontent-ssg: nothing changed" in summary


def test_strict_failure_is_an_error_annotation_and_a_failed_summary(tmp_path: Path) -> None:
    broken_link_site(tmp_path)
    done, summary = run_build(tmp_path, "--strict")
    assert done.returncode == 1
    assert any(
        line.startswith("::error title=kontent-ssg%3A broken link on page /articles/one/")
        for line in done.stderr.splitlines()
    ), done.stderr
    assert "### kontent-ssg: build failed" in summary
    assert "previous output was left as it was" in summary


def test_workflow_command_escaping() -> None:
    line = annotation("warning", "100% done\nnext", title="a: b, c", file="t/x,y.html")
    assert line == "::warning file=t/x%2Cy.html,title=a%3A b%2C c::100%25 done%0Anext"
    assert annotation("notice", "plain") == "::notice::plain"


def test_progress_kind_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True)
    assert type(make_progress(env={})).__name__ == "RichProgress"
    assert type(make_progress(env={"NETLIFY": "true"})) is PlainProgress  # no colour codes
    github = make_progress(env={"GITHUB_ACTIONS": "true"})
    assert isinstance(github, GitHubProgress) and type(github.inner) is PlainProgress
    quiet = make_progress(quiet=True, env={"GITHUB_ACTIONS": "true"})
    assert isinstance(quiet, GitHubProgress) and quiet.quiet
