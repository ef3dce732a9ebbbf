"""Publishing a build so that a kill at any moment leaves the old site or the new one.

A build stages every file before anything is visible (:class:`~.output.StagedWriter`); what is
left to do is a *publication*: rename the hidden stand-ins of new folders and the staged files
into place, delete the files of pages that went, install the new manifest. Before the first of
those steps the publication is written to a journal (``.kontent-ssg/build/publish.json``,
``publish-preview.json`` for preview builds) and flushed to disk with one ``fsync``; the
journal is removed once the publication is complete. Every step can be repeated (a staged
file no longer there was moved already, a file to delete that is gone was deleted), so the
code that publishes is also the code that finishes an interrupted publication: it is **rolled
forward**. Every staged file was completely written before the journal was, so there is
always something to roll forward to.

A build killed earlier, while rendering, leaves the same file holding only
``{"phase": "staging"}`` (written, without ``fsync``, before the first file is staged), or a
journal cut off while it was being written: no rename had happened yet, so it is **rolled
back** — the temporary files and folders are removed (:func:`sweep`). Either way the next
command that writes output (``build``, ``serve``, ``webhook``: :meth:`Builder.run` calls
:func:`recover` first) starts from an output that is wholly the old site or wholly the new
one, with no temporary files; ``check`` only reports a pending journal (:func:`pending`).

Builds of one site hold a lock (``.kontent-ssg/build/lock``, :func:`build_lock`, ``flock``),
so two processes never publish into one output at once and recovery never runs beside a live
build. The kernel releases it when its holder dies: a journal nobody holds the lock for was
interrupted.

Power cuts: the journal is on disk before the first rename, but staged pages are not flushed
one by one (that would cost an ``fsync`` per page). After a power cut the roll-forward may
publish a page the file system lost the contents of; the build state cannot vouch for such
files, so run ``kontent-ssg build --full`` after a crash of the machine (it rewrites every
file whose bytes differ).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BuildError
from .output import TMP_SUFFIX, delta_path, read_manifest, remove_tree, staged_name

__all__ = [
    "JOURNAL_FORMAT",
    "Journal",
    "Publication",
    "build_lock",
    "lock_path",
    "pending",
    "publish",
    "recover",
    "sweep",
]

JSON = dict[str, Any]
Log = Callable[[str], None]

JOURNAL_FORMAT = 1
# Threads that rename staged files into place (renames release the interpreter lock).
PUBLISH_THREADS = 4


@dataclass
class Publication:
    """What one build makes visible, in the order it is done.

    ``shadows``: folders that appear (absolute paths), each renamed from its hidden stand-in;
    ``replaced``: files staged beside their destination (relative to ``output``); ``deleted``:
    files we wrote last time and not this time (relative); ``manifest``: where the new
    manifest goes, staged beside it as ``<name>.next`` and carrying ``build`` (the
    manifest's delta, for a build that records only its changes: see :mod:`.output`).
    """

    output: str
    build: str
    manifest: str
    shadows: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def manifest_next(self) -> str:
        return self.manifest + ".next"

    @property
    def base_manifest(self) -> str:
        """The manifest itself, whether this build writes it or its delta."""
        if os.path.basename(self.manifest) in _DELTAS:
            return self.manifest.removesuffix(".delta.json") + ".json"
        return self.manifest

    def to_json(self) -> JSON:
        return {
            "format": JOURNAL_FORMAT,
            "phase": "publishing",
            "output": self.output,
            "build": self.build,
            "manifest": self.manifest,
            "shadows": self.shadows,
            "replaced": self.replaced,
            "deleted": self.deleted,
        }

    @classmethod
    def from_json(cls, data: JSON) -> Publication:
        def strings(key: str) -> list[str]:
            value = data.get(key)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"'{key}' is not a list of strings")
            return value

        fields = {key: data.get(key) for key in ("output", "build", "manifest")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            raise ValueError("'output', 'build' or 'manifest' is missing")
        publication = cls(
            str(fields["output"]),
            str(fields["build"]),
            str(fields["manifest"]),
            strings("shadows"),
            strings("replaced"),
            strings("deleted"),
        )
        publication._check_paths()
        return publication

    def _check_paths(self) -> None:
        """Refuse a journal that would touch anything outside the output folder (a damaged
        or hand-made file must not delete ``../kontent.toml``)."""
        output = self.output
        if not os.path.isabs(output) or os.path.normpath(output) != output:
            raise ValueError(f"the output folder {output!r} is not an absolute path")
        for rel in (*self.replaced, *self.deleted):
            if (
                not rel
                or os.path.isabs(rel)
                or "\0" in rel
                or os.path.normpath(rel) != rel
                or rel.split("/")[0] == ".."
            ):
                raise ValueError(f"{rel!r} is not a path inside the output folder")
        for top in self.shadows:
            inside = os.path.normpath(top) == top and (
                top == output
                or top.startswith(output + os.sep)
                or output.startswith(top.rstrip(os.sep) + os.sep)
            )
            if not inside:
                raise ValueError(f"{top!r} is neither in nor above the output folder")
        if os.path.basename(self.manifest) not in (*_MANIFESTS, *_DELTAS):
            raise ValueError(f"{self.manifest!r} is not a manifest")


_MANIFESTS = ("manifest.json", "manifest-preview.json")
_DELTAS = tuple(delta_path(name) for name in _MANIFESTS)


@dataclass(frozen=True)
class Pending:
    """A journal found on disk: an interrupted render (``publication`` None) or publish."""

    path: Path
    output: str | None
    manifest: str | None
    publication: Publication | None


class Journal:
    """The journal file of one build slot (published or preview)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_site(cls, state_dir: Path, *, preview: bool) -> Journal:
        name = "publish-preview.json" if preview else "publish.json"
        return cls(Path(state_dir) / "build" / name)

    def staging(self, output: Path, manifest: Path) -> None:
        """Note, before the first file is staged, that a build is writing into ``output``
        (and may stage its next manifest beside ``manifest``)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": JOURNAL_FORMAT,
            "phase": "staging",
            "output": str(output),
            "manifest": str(manifest),
        }
        self._write(json.dumps(data, ensure_ascii=False).encode("utf-8"), durable=False)

    def publishing(self, publication: Publication) -> None:
        """Record ``publication`` durably: from here on it is completed, never undone.

        Written over the staging note in place: a journal cut off halfway does not parse, and
        is then rolled back like a staging note (nothing had been renamed yet)."""
        data = json.dumps(publication.to_json(), ensure_ascii=False, separators=(",", ":"))
        self._write(data.encode("utf-8"), durable=True)

    def _write(self, data: bytes, *, durable: bool) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)

    def done(self) -> None:
        """The build was published, or failed before publishing and cleaned up after itself."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def read(self) -> Pending | None:
        """The journal left by a build that did not finish, if any."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
        except ValueError:  # cut off while being written: nothing was renamed yet
            data = None
        if not isinstance(data, dict):
            return Pending(self.path, None, None, None)
        output, manifest = (
            value if isinstance(value, str) and value else None
            for value in (data.get("output"), data.get("manifest"))
        )
        if data.get("phase") != "publishing":
            return Pending(self.path, output, manifest, None)
        try:
            publication = Publication.from_json(data)
            if os.path.dirname(publication.manifest) != str(self.path.parent):
                raise ValueError(f"{publication.manifest!r} is not this site's manifest")
            return Pending(self.path, output, manifest, publication)
        except ValueError as exc:
            raise BuildError(
                f"{self.path}: the journal of an interrupted publish is unreadable ({exc})",
                hint="rebuild with `kontent-ssg build --full` after deleting that file",
            ) from None


# -- doing it ---------------------------------------------------------------------------------


def publish(publication: Publication, *, manifest_ok: bool = True) -> None:
    """Carry out ``publication``; safe to repeat after an interruption at any point.

    Stand-ins first (disjoint folders: each replaces a top-most missing folder), then the
    staged files (renamed on a few threads), then the deletions (pruning folders they leave
    empty), then the manifest. ``manifest_ok`` False (recovery found the staged manifest
    missing or another build's) writes a manifest that forces the next build to be full.
    """
    output = publication.output
    for top in publication.shadows:
        shadow = staged_name(top)
        try:
            os.rename(shadow, top)
        except FileNotFoundError:
            if not os.path.isdir(top):
                raise _stopped(top, "its staged folder is gone") from None
        except OSError as exc:
            raise _stopped(top, exc.strerror or str(exc)) from None

    def replace(rel: str) -> None:
        dest = os.path.join(output, rel)
        try:
            os.replace(staged_name(dest), dest)
        except FileNotFoundError:
            if not os.path.lexists(dest):
                raise _stopped(dest, "its staged file is gone") from None
        except OSError as exc:
            raise _stopped(dest, exc.strerror or str(exc)) from None

    if len(publication.replaced) > 64:
        with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
            for _ in pool.map(replace, publication.replaced, chunksize=64):
                pass
    else:
        for rel in publication.replaced:
            replace(rel)
    root = Path(output)
    for rel in publication.deleted:
        full = root / rel
        try:
            full.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _stopped(str(full), exc.strerror or str(exc), deleting=True) from None
        parent = full.parent
        while parent != root and root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
    try:
        if manifest_ok:
            os.replace(publication.manifest_next, publication.manifest)
        else:
            _write_recovered_manifest(publication)
        if not manifest_ok or publication.manifest == publication.base_manifest:
            # A delta left from before names the replaced manifest's build: never read.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(delta_path(publication.base_manifest))
    except OSError as exc:
        raise _stopped(publication.manifest, exc.strerror or str(exc)) from None


def _stopped(path: str, why: str, *, deleting: bool = False) -> BuildError:
    verb = "delete" if deleting else "move into place"
    return BuildError(
        f"publishing stopped: cannot {verb} {path}: {why}; the output is partly updated",
        hint="fix the cause (permissions, a read-only or full disk); the next `kontent-ssg "
        "build`, `serve` or `webhook` completes the publish before anything else",
    )


def _write_recovered_manifest(publication: Publication) -> None:
    """A manifest naming every file that may be ours, under a build id no state has.

    Used when the staged manifest (or delta) is missing (a power cut, someone's cleanup): the
    next build is then a full one, and it still knows which files it may delete. Written as
    the manifest itself, whichever of the two was lost.
    """
    from ..content.snapshot import atomic_write_bytes

    files: dict[str, Any] = {}
    pages: list[str] = []
    old = read_manifest(publication.base_manifest, publication.output)
    if old is not None:
        files.update(old["files"])
        pages = list(old["pages"])
    unknown = [-1, -1, ""]  # never matches a file: its bytes are compared
    for rel in publication.replaced:
        files[rel] = unknown
    for top in publication.shadows:
        for root, _, names in os.walk(top):
            for name in names:
                rel = os.path.relpath(os.path.join(root, name), publication.output)
                if not rel.startswith(".."):
                    files[rel.replace(os.sep, "/")] = unknown
    for rel in publication.deleted:
        files.pop(rel, None)
    manifest = {
        "format": 1,
        "output": publication.output,
        "build": f"recovered-{uuid.uuid4().hex}",
        "pages": pages,
        "files": files,
    }
    atomic_write_bytes(Path(publication.base_manifest), json.dumps(manifest).encode("utf-8"))


def sweep(output: Path | str) -> int:
    """Remove staged files and stand-in folders a killed build left; return how many.

    Looks through the output folder, and beside it and its ancestors for the stand-in of a
    folder that did not exist yet (``.public.kontent-ssg-tmp`` on a first build)."""
    removed = 0
    output = os.path.abspath(output)
    folder = output
    while True:
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        if os.path.lexists(staged_name(folder)):
            remove_tree(staged_name(folder))
            removed += 1
        if os.path.isdir(folder):
            break
        folder = parent
    if not os.path.isdir(output):
        return removed
    for root, dirnames, filenames in os.walk(output):
        for name in [d for d in dirnames if d.startswith(".") and d.endswith(TMP_SUFFIX)]:
            dirnames.remove(name)
            remove_tree(os.path.join(root, name))
            removed += 1
        for name in filenames:
            if name.startswith(".") and name.endswith(TMP_SUFFIX):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(root, name))
                removed += 1
    return removed


def recover(journal: Journal, log: Log, output: Path | str | None = None) -> bool:
    """Finish or undo the build ``journal`` says was interrupted; True if there was one.

    ``output`` is the folder to clean when the journal was cut off before it named one (the
    slot's own output folder; None leaves such a journal to its own slot's next build).
    Call with the build lock held (:func:`build_lock`)."""
    found = journal.read()
    if found is None:
        return False
    if found.output is None:
        if output is None:
            return False
        found = Pending(found.path, str(output), found.manifest, None)
    try:
        _finish(found, log)
    except OSError as exc:
        raise BuildError(
            f"cannot finish what an interrupted build left in {found.output or 'the output'}: "
            f"{exc.strerror or exc}: {exc.filename}",
            hint="fix the cause (permissions, a full disk) and run the command again",
        ) from None
    journal.done()
    return True


def _finish(found: Pending, log: Log) -> None:
    """Undo what a staging note describes, or complete a publish journal."""
    if found.publication is None:
        removed = sweep(found.output) if found.output else 0
        if found.manifest:
            for staged in (found.manifest, delta_path(found.manifest)):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(staged + ".next")
        log(
            "an earlier build was interrupted before publishing: the output is as it was"
            + (f" (removed {removed} temporary files and folders)" if removed else "")
        )
    else:
        publication = found.publication
        manifest_ok = _staged_manifest_is(publication)
        publish(publication, manifest_ok=manifest_ok)
        sweep(publication.output)
        count = len(publication.replaced) + len(publication.shadows) + len(publication.deleted)
        log(
            f"completed the publish an earlier build was interrupted in ({count} files and "
            f"folders) in {publication.output}"
            + ("" if manifest_ok else "; its record was lost, so this build is a full one")
        )


def _staged_manifest_is(publication: Publication) -> bool:
    """The staged manifest is there and belongs to ``publication``'s build."""
    from ..content.snapshot import loads_json

    try:
        data = loads_json(Path(publication.manifest_next).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("build") == publication.build


def pending(journal: Journal, lock: Path) -> str | None:
    """What ``check`` says about an unfinished build (None: nothing pending). Writes nothing."""
    try:
        found = journal.read()
    except BuildError as exc:
        return exc.message
    if found is None:
        return None
    if _held(lock):
        return "a build of this site is running right now"
    where = found.output or "the output folder"
    if found.publication is None:
        return (
            f"a build was interrupted before publishing into {where} (the output is as it "
            "was); the next build, serve or webhook removes its temporary files"
        )
    return (
        f"a build was interrupted while publishing into {where}: the output is partly "
        "updated; the next build, serve or webhook completes the publish first"
    )


def lock_path(state_dir: Path) -> Path:
    """The build lock of a site (one for both slots: they may share an output folder)."""
    return Path(state_dir) / "build" / "lock"


@contextlib.contextmanager
def build_lock(path: Path, *, wait: bool = True, log: Log | None = None) -> Iterator[None]:
    """Hold the site's build lock (``flock``: released by the kernel if the holder dies).

    ``wait`` False raises :class:`BlockingIOError` when another process holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise
            if log is not None:
                log(f"another kontent-ssg process is building this site (lock {path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _held(path: Path) -> bool:
    """Another process holds the build lock at ``path`` (checked without creating it)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
