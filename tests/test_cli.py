"""The command line itself: where flags go, whose usage an error shows, help on every flag,
and a busy port reported before anything else is said."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kontent_ssg.cli import _parser, main
from tests.support.fixtures import REPO
from tests.support.sites import item, make_site, snapshot, text

TEMPLATES = {"post.html": "<h1>{{ item.title }}</h1>", "404.html": "<h1>Not found</h1>"}
TOML = """
[routes.post]
path = "/posts/{system.codename}/"
"""


def offline_site(root: Path) -> Path:
    snap = snapshot(
        {"en-US": [item("one", "post", elements={"title": text("One")})]},
    )
    make_site(root, TOML, TEMPLATES, snap)
    return root


@pytest.mark.parametrize(
    "argv",
    [
        ["-q", "build", "{site}", "--offline"],
        ["build", "-q", "{site}", "--offline"],
        ["build", "{site}", "--offline", "--quiet"],
        ["--quiet", "build", "{site}", "--offline"],
    ],
)
def test_quiet_works_before_and_after_the_command(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = offline_site(tmp_path / "site")
    status = main([a.format(site=site) for a in argv])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert (out, err) == ("", "")
    assert (site / "public" / "posts" / "one" / "index.html").is_file()


@pytest.mark.parametrize("argv", [["-v", "build"], ["build", "-v"], ["--verbose", "build"]])
def test_verbose_works_before_and_after_the_command(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = offline_site(tmp_path / "site")
    status = main([*argv, str(site), "--offline"])
    _, err = capsys.readouterr()
    assert status == 0, err
    assert "written: posts/one/index.html" in err  # --verbose lists every page


def test_quiet_and_verbose_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = offline_site(tmp_path / "site")
    assert main(["-q", "build", str(site), "--offline", "-v"]) == 2
    err = capsys.readouterr().err
    assert "usage: kontent-ssg build" in err and "not allowed with argument -q/--quiet" in err
    assert not (site / "public").exists()


def test_unknown_flag_shows_the_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: kontent-ssg build ")
    assert "--changes FILE" in err  # the command's own flags are listed
    assert "kontent-ssg build: error: unrecognized arguments: --bogus" in err


def test_unknown_flag_of_serve_shows_serves_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", ".", "--prot", "8001"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: kontent-ssg serve ") and "--port PORT" in err
    assert "unrecognized arguments: --prot 8001" in err


def _actions(parser: argparse.ArgumentParser, name: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                yield from _actions(sub, f"{name} {command}")
        else:
            yield name, action


def test_every_flag_and_argument_has_help() -> None:
    parser, commands = _parser()
    seen = list(_actions(parser, "kontent-ssg"))
    assert {name for name, _ in seen} >= {f"kontent-ssg {c}" for c in commands}
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, action in seen
        if not (action.help and action.help.strip()) or action.help == argparse.SUPPRESS
    ]
    assert missing == []
    flags = {(n, o) for n, a in seen for o in a.option_strings}
    for command in ("serve", "webhook"):
        assert (f"kontent-ssg {command}", "--port") in flags
        assert (f"kontent-ssg {command}", "--host") in flags


def test_emulator_flags_have_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.emulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    usage = " ".join(result.stdout.split())
    assert "--environment-id ENVIRONMENT_ID the environment ID requests must name" in usage
    assert "--port PORT port" in usage


@pytest.mark.parametrize("command", ["serve", "webhook"])
def test_busy_port_is_reported_before_anything_else(command: str, tmp_path: Path) -> None:
    site = offline_site(tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env["PYTHONPATH"] = str(REPO)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        extra = ["--offline"] if command == "serve" else ["--insecure"]
        result = subprocess.run(
            [sys.executable, "-m", "kontent_ssg", command, str(site), "--port", str(port), *extra],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert lines[0].startswith(f"error: cannot listen on 127.0.0.1:{port}: "), result.stderr
    assert "serving" not in result.stderr and "listening on" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (site / "public").exists()  # it failed before building
