"""The generated GitHub workflow, run: its own ``run:`` steps, taken from the YAML, twice.

Each run is what a runner does: a fresh checkout of the site's repository, a Python without
kontent-ssg (the workflow's install step installs the wheel its requirements.txt names),
the cache restored as ``actions/cache`` restores it (a ``tar --posix`` of the step's paths,
saved after the previous successful run), then the build steps against the Delivery API
emulator. The first run (a push) renders every page; the second (a ``repository_dispatch``
from the relay, after one article changed) writes exactly the pages whose bytes changed,
and its output equals a clean full build of the same content.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kontent_ssg.cli import main
from kontent_ssg.content.webhooks import Change
from kontent_ssg.relay import client_payload
from tests.support.emulator import Emulator
from tests.support.fixtures import EXAMPLE_SITE
from tests.support.packaging import build_dist, checkout, ci_python
from tests.support.sites import tree

WORKFLOW = ".github/workflows/kontent-ssg.yml"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dist")
    done = build_dist(checkout(root / "src"), root / "out", "wheel")
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = (root / "out").glob("kontent_ssg-*.whl")
    return built


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator.from_folder(EXAMPLE_SITE / ".kontent-ssg" / "snapshot") as emu:
        yield emu


def make_repository(repo: Path, emu: Emulator, wheel: Path) -> None:
    """The site's repository: the example site against the emulator, `init --ci github`,
    and a requirements.txt naming the wheel (as a site pins kontent-ssg)."""
    shutil.copytree(
        EXAMPLE_SITE,
        repo,
        ignore=shutil.ignore_patterns("public", "public-preview", "build", "snapshot"),
    )
    (repo / ".git").mkdir()
    toml = (repo / "kontent.toml").read_text()
    toml = re.sub(
        r'environment_id = ".*"',
        f'environment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"',
        toml,
    )
    (repo / "kontent.toml").write_text(toml)
    (repo / "requirements.txt").write_text(f"{wheel}\n")
    assert main(["-q", "init", str(repo), "--ci", "github"]) == 0


# -- a runner, as far as these steps need one -------------------------------------------------


def evaluate(condition: str, context: dict[str, Any]) -> bool:
    """The ``if:`` expressions the workflow uses: ``a.b == 'x'`` and truthy context paths,
    joined by ``&&``. Anything else fails the test (extend this when the workflow grows)."""
    result = True
    for term in condition.split("&&"):
        term = term.strip()
        compared = re.fullmatch(r"([\w.]+) == '([^']*)'", term)
        if compared:
            result = result and lookup(context, compared.group(1)) == compared.group(2)
        elif re.fullmatch(r"[\w.]+", term):
            result = result and bool(lookup(context, term))
        else:
            raise AssertionError(f"the test runner cannot evaluate `if: {condition}`")
    return result


def lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def expand(value: str, context: dict[str, Any]) -> str:
    """``${{ … }}`` in an ``env:`` value: secrets (none here) and ``toJSON(…)``."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression.startswith("secrets."):
            return ""
        wrapped = re.fullmatch(r"toJSON\(([\w.]+)\)", expression)
        if wrapped:
            return json.dumps(lookup(context, wrapped.group(1)), indent=2)
        return str(lookup(context, expression) or "")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


class Runner:
    """Runs the workflow's build job the way a GitHub-hosted runner would, here."""

    def __init__(self, root: Path, repository: Path, emu: Emulator) -> None:
        self.root = root
        self.repository = repository
        self.emu = emu
        self.bin = ci_python(root / "python")
        self.cache = root / "cache" / "cache.tar"
        self.cache.parent.mkdir()
        self.job = yaml.safe_load((repository / WORKFLOW).read_text())["jobs"]["build"]

    def run(self, number: int, event: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        workspace = self.root / "work" / "repo"  # the same path every run, as on GitHub
        shutil.rmtree(workspace.parent, ignore_errors=True)
        temp = self.root / f"runner-temp-{number}"
        temp.mkdir()
        subprocess.run(  # a fresh Python for every run: no kontent-ssg left from the last
            [str(self.bin / "python"), "-m", "pip", "uninstall", "-q", "-y", "kontent-ssg"],
            capture_output=True,
            check=False,
        )
        context = {
            "github": {
                "event_name": event,
                "event": {"client_payload": payload or {}},
                "ref_name": "main",
            },
        }
        summary = temp / "step-summary.md"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KONTENT_"))}
        env.update(
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_EVENT_NAME=event,
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_STEP_SUMMARY=str(summary),
            RUNNER_TEMP=str(temp),
            PIP_NO_INDEX="1",  # offline: the wheel is local, its dependencies are here
        )
        env.update({k: expand(str(v), context) for k, v in (self.job.get("env") or {}).items()})
        directory = workspace / self.job["defaults"]["run"]["working-directory"]
        restored: dict[str, int] = {}
        logs: list[str] = []
        cache_paths: list[str] = []
        for step in self.job["steps"]:
            if "if" in step and not evaluate(step["if"], context):
                continue
            uses = step.get("uses", "").split("@")[0]
            if uses == "actions/checkout":
                checkout_copy(self.repository, workspace)
            elif uses == "actions/setup-python":
                pass  # self.bin is first on PATH
            elif uses == "actions/cache":
                cache_paths = step["with"]["path"].split()
                if self.cache.exists():
                    subprocess.run(["tar", "-xf", str(self.cache)], cwd=workspace, check=True)
                output = workspace / cache_paths[-1]
                if output.is_dir():
                    restored = {
                        p.relative_to(output).as_posix(): p.stat().st_mtime_ns
                        for p in output.rglob("*")
                        if p.is_file()
                    }
            elif uses == "actions/upload-pages-artifact":
                assert (workspace / step["with"]["path"] / "index.html").is_file()
            elif uses:
                raise AssertionError(f"the test runner does not know the step {uses}")
            else:
                step_env = dict(env)
                step_env.update(
                    {k: expand(str(v), context) for k, v in step.get("env", {}).items()}
                )
                done = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                    cwd=directory,
                    env=step_env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                logs.append(done.stdout + done.stderr)
                assert done.returncode == 0, f"step {step.get('name')!r} failed:\n{logs[-1]}"
        # actions/cache's post step: the job succeeded, so the paths are saved.
        subprocess.run(
            ["tar", "--posix", "-cf", str(self.cache), *cache_paths], cwd=workspace, check=True
        )
        output = workspace / cache_paths[-1]
        files = {p.relative_to(output).as_posix(): p for p in output.rglob("*") if p.is_file()}
        written = {rel for rel, p in files.items() if restored.get(rel) != p.stat().st_mtime_ns}
        return {
            "output": output,
            "written": written,
            "files": files,
            "log": "\n".join(logs),
            "summary": summary.read_text() if summary.exists() else "",
        }


def rendered(log: str) -> list[int]:
    """Pages rendered by each build in a step's log (the CI progress line of the stage)."""
    return [int(n) for n in re.findall(r"^render: (\d+)/\d+ pages", log, re.MULTILINE)]


def checkout_copy(repository: Path, workspace: Path) -> None:
    """What actions/checkout leaves: the committed files, fresh (new mtimes)."""
    shutil.copytree(repository, workspace, ignore=shutil.ignore_patterns(".git"))


def test_second_ci_run_writes_only_the_changed_pages(
    tmp_path: Path, emulator: Emulator, wheel: Path
) -> None:
    repository = tmp_path / "repository"
    make_repository(repository, emulator, wheel)
    runner = Runner(tmp_path / "runner", repository, emulator)

    first = runner.run(1, "push")
    assert "kontent-ssg 0." in first["log"]  # the install step's version check
    pages = {rel for rel in first["files"] if rel.endswith((".html", ".xml", ".txt"))}
    assert len(pages) > 40 and pages <= first["written"]
    before = {rel: p.read_bytes() for rel, p in first["files"].items()}

    # An editor retitles one article; the relay turns the webhook into a dispatch.
    article = next(
        raw
        for raw in emulator.snapshot.items["en-US"].items
        if raw["system"]["type"] == "article" and raw["system"]["language"] == "en-US"
    )
    edited = json.loads(json.dumps(article))
    edited["elements"]["title"]["value"] += " (revised)"
    emulator.upsert_item(edited)
    system = edited["system"]
    payload = client_payload(
        [Change("item", "publish", system["codename"], system["id"], "en-US", system["type"])]
    )
    assert payload["notifications"]
    second = runner.run(2, "repository_dispatch", payload)

    after = {rel: p.read_bytes() for rel, p in second["files"].items()}
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert changed, "the retitled article changed no page"
    # Exactly the pages whose bytes changed were written, a small part of the site.
    assert second["written"] == changed
    assert len(changed) < len(pages) / 3
    assert f"articles/{edited['elements']['url']['value']}/index.html" in changed
    # ... and only the changed article's dependants were rendered (a full build would render
    # every page and still write only these): the builds' own count, "render: N/N pages".
    assert rendered(first["log"]) == [len(pages)]
    renders = rendered(second["log"])
    assert len(renders) == 2  # --changes, then the Sync API catch-up
    assert 0 < renders[0] < len(pages) / 2 and renders[1] == 0, second["log"]
    # The job summary says so too (GitHub annotations mode: GITHUB_ACTIONS=true).
    assert "### kontent-ssg: full build" in first["summary"]
    assert second["summary"].count("### kontent-ssg: incremental") == 2

    # The same content built from scratch gives the same site.
    clean = tmp_path / "clean"
    shutil.copytree(repository, clean, ignore=shutil.ignore_patterns(".git", ".github"))
    assert main(["-q", "build", str(clean)]) == 0
    assert tree(clean / "public") == tree(second["output"])
