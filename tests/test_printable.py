"""Terminal injection: text from the CMS or a webhook sender is escaped in every log line."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from kontent_ssg.cli import main
from kontent_ssg.content.webhooks import Change
from kontent_ssg.errors import KontentSSGError
from kontent_ssg.incremental.state import BuildState, state_path
from kontent_ssg.progress import PlainProgress, RichProgress, printable
from kontent_ssg.server import NotificationWorker
from tests.support.receiver import wait_for

HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\rok\u202egnp.exe"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, caf\u00e9 \u2713", "plain text, caf\u00e9 \u2713"),
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("bell\x07 nul\x00 del\x7f", "bell\\x07 nul\\x00 del\\x7f"),
        ("cr\rline", "cr\\rline"),
        ("tab\tx", "tab\\tx"),
        ("rtl\u202eoverride", "rtl\\u202eoverride"),
        ("two\nlines", "two\\nlines"),
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(text, shown):
    assert printable(text) == shown
    assert printable(printable(text)) == shown  # escaping twice changes nothing


def test_printable_keeps_newlines_only_when_asked():
    assert printable("what\n  hint: how\x1b", newlines=True) == "what\n  hint: how\\x1b"
    assert printable("a\r\nb", newlines=True) == "a\\r\nb"


def test_plain_progress_escapes_warnings_pages_and_summary():
    stream = io.StringIO()
    progress = PlainProgress(stream, verbose=True)
    progress.warning(f"item {HOSTILE!s} has an unsafe slug")
    progress.page(f"articles/{HOSTILE}/index.html", "written")
    report = SimpleNamespace(
        pages_written=[1],
        pages_unchanged=[],
        pages_deleted=[],
        warnings=[],
        broken_links=[],
        seconds=0.1,
        requests=0,
        output=f"/tmp/{HOSTILE}",
    )
    progress.summary(report)
    out = stream.getvalue()
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out and "\x07" not in out
    assert out.count("evil\\x1b[2J") == 3


def test_rich_progress_prints_warnings_as_text_not_markup(capsys):
    progress = RichProgress()
    progress.warning(f"[bold red]{HOSTILE}[/]")
    err = capsys.readouterr().err
    assert "\x1b[2J" not in err and "\r" not in err
    assert "[bold red]evil\\x1b[2J" in err  # the brackets are shown, not interpreted


def test_cli_error_line_is_escaped_and_keeps_its_hint_line(capsys, monkeypatch):
    from kontent_ssg import cli

    def fail(args):
        raise KontentSSGError(f"content item {HOSTILE!s} broke", hint="fix the \x1b[8mitem")

    monkeypatch.setattr(cli, "_run", fail)
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: content item evil\\x1b[2J")
    assert "\n  hint: fix the \\x1b[8mitem" in err
    assert "\x1b" not in err and "\r" not in err


def test_cli_error_for_a_hostile_path_is_escaped(capsys, tmp_path):
    assert main(["build", str(tmp_path / "site\x1b[2J")]) == 2
    err = capsys.readouterr().err
    assert "site\\x1b[2J" in err and "\x1b" not in err


def test_receiver_log_lines_are_escaped(capsys, tmp_path):
    """The worker's default log (stderr), with a codename queued by an older version."""
    state = BuildState(state_path(tmp_path))
    state.enqueue([Change("item", "published", codename=HOSTILE, language="en-US")])

    def fail(changes):
        raise RuntimeError(f"cannot render {changes[0].codename}")

    worker = NotificationWorker(state, fail, debounce=0.01, max_attempts=1)
    worker.start()
    try:
        wait_for(lambda: state.dead_letter_count() == 1, what="dead-lettered")
    finally:
        worker.stop()
        state.close()
    err = capsys.readouterr().err
    assert "moved to the dead letters" in err
    assert "evil\\x1b[2J" in err and "\x1b" not in err and "\r" not in err
