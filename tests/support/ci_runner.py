"""A GitHub-hosted runner, as far as the workflow ``kontent-ssg init --ci github`` writes
needs one: its build job's ``run:`` steps, taken from the YAML, run here.

Each :meth:`Runner.run` is what a runner does: a fresh checkout of the site's repository
(new mtimes), a Python without kontent-ssg (the workflow's install step installs what the
site's requirements.txt names), the cache restored as ``actions/cache`` restores it (a
``tar --posix`` of the step's paths, saved after the previous successful run), then the
steps in order, ``if:`` and ``env:`` expressions evaluated. Used by
tests/test_ci_workflow_run.py and bench/ci.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from tests.support.packaging import ci_python

__all__ = ["WORKFLOW", "Runner", "rendered"]

WORKFLOW = ".github/workflows/kontent-ssg.yml"


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

    def __init__(self, root: Path, repository: Path) -> None:
        self.root = root
        self.repository = repository
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
        seconds: dict[str, float] = {}
        cache_paths: list[str] = []
        for step in self.job["steps"]:
            if "if" in step and not evaluate(step["if"], context):
                continue
            uses = step.get("uses", "").split("@")[0]
            started = time.perf_counter()
            if uses == "actions/checkout":
                checkout_copy(self.repository, workspace)
            elif uses == "actions/setup-python":
                pass  # self.bin is first on PATH
            elif uses == "actions/cache":
                cache_paths = step["with"]["path"].split()
                if self.cache.exists():
                    subprocess.run(["tar", "-xf", str(self.cache)], cwd=workspace, check=True)
                seconds[step.get("name") or uses] = time.perf_counter() - started
                output = workspace / cache_paths[-1]
                if output.is_dir():  # what the cache brought, to tell what the build writes
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
            seconds.setdefault(step.get("name") or uses, time.perf_counter() - started)
        # actions/cache's post step: the job succeeded, so the paths are saved.
        started = time.perf_counter()
        subprocess.run(
            ["tar", "--posix", "-cf", str(self.cache), *cache_paths], cwd=workspace, check=True
        )
        seconds["save the cache"] = time.perf_counter() - started
        output = workspace / cache_paths[-1]
        files = {p.relative_to(output).as_posix(): p for p in output.rglob("*") if p.is_file()}
        written = {rel for rel, p in files.items() if restored.get(rel) != p.stat().st_mtime_ns}
        return {
            "output": output,
            "written": written,
            "files": files,
            "log": "\n".join(logs),
            "summary": summary.read_text() if summary.exists() else "",
            "seconds": seconds,
            "cache_bytes": self.cache.stat().st_size,
        }


def rendered(log: str) -> list[int]:
    """Pages rendered by each build in a step's log (the CI progress line of the stage)."""
    found = re.findall(r"^render: ([\d,]+)/[\d,]+ pages", log, re.MULTILINE)
    return [int(n.replace(",", "")) for n in found]


def checkout_copy(repository: Path, workspace: Path) -> None:
    """What actions/checkout leaves: the committed files, fresh (new mtimes)."""
    shutil.copytree(repository, workspace, ignore=shutil.ignore_patterns(".git"))
