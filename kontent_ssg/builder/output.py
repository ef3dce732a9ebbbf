"""Writing the output: staged beside the live site, published all at once, recorded.

Nothing visible changes until every page of a build rendered: as each page renders, the
process that rendered it compares it with the file on disk and, when it differs, stages it
in a hidden temporary file beside its destination, or inside a hidden stand-in for a folder
that does not exist yet (:class:`StagedWriter`) — creating files is the slow part of a build,
and this spreads it over the render processes. Static files are staged the same way. Only
then are the staged files and folders moved into place (``os.replace``, through the publish
journal of :mod:`.journal`, so that even a kill halfway is completed by the next build); a
failure before that removes them instead, so a failed build leaves the previous output as it
was. Unchanged files are never rewritten.

The manifest (``.kontent-ssg/build/manifest.json``) records every file we wrote, with its
size, mtime and hash: it says which files are ours to delete when their page disappears
(anything else in the output folder is the user's and is never touched), lets the next build
tell an unchanged file without reading it, and tells whether someone changed the output
since (:func:`outputs_intact`).

A rebuild that changes a few files records them in a *delta* beside the manifest
(``manifest.delta.json``: the entries changed since the manifest's build, and the id of that
build) instead of writing the manifest again: at 100k items the manifest lists 142k files
(19 MB), which a webhook rebuild used to encode, write and rename into place every time. The
delta holds every change since the manifest was written, so the two files are always the
whole record; once it would be more than :data:`DELTA_SHARE` of the files, the manifest is
written whole again. A delta naming another build than the manifest's is left over from
before that rewrite and is ignored (:func:`read_manifest`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from ..config import Config
from ..content.snapshot import loads_json
from ..errors import BuildError
from ..progress import Progress
from .report import BuildReport

__all__ = [
    "DELTA_SHARE",
    "MANIFEST_FORMAT",
    "TMP_SUFFIX",
    "OutputCheck",
    "Staged",
    "StagedWriter",
    "delta_path",
    "list_static_files",
    "load_manifest",
    "manifest_path",
    "os_error",
    "outputs_intact",
    "read_manifest",
    "remove_tree",
    "stage_manifest",
    "staged_name",
]

JSON = dict[str, Any]

MANIFEST_FORMAT = 1
#: A rebuild records its changes in the manifest's delta while the delta holds at most one
#: entry in this many of the site's files; then the manifest is written whole again.
DELTA_SHARE = 32
#: The end of every hidden name the writer stages under (site/routing.py leaves room for it).
TMP_SUFFIX = ".kontent-ssg-tmp"


def staged_name(path: str) -> str:
    """The hidden name ``path`` (a file, or a folder that does not exist yet) is staged as."""
    head, name = os.path.split(path)
    return os.path.join(head, f".{name}{TMP_SUFFIX}")


def os_error(exc: OSError, doing: str, path: str | None = None) -> BuildError:
    """A :class:`BuildError` for a failed file operation: what failed, where (``path``, else
    the file the error names), what to do."""
    where = f" {path or exc.filename}" if path or exc.filename else ""
    hint = "the previous output is unchanged"
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        hint = "free some disk space and build again; " + hint
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "make the output folder writable for this user and build again; " + hint
    return BuildError(f"cannot {doing}{where}: {exc.strerror or exc}", hint=hint)


def _digest(data: bytes) -> str:
    """A file's hash in the manifest: 16 bytes of SHA-256, which CPUs with SHA instructions
    (x86 since Zen and Ice Lake, ARMv8) compute ~2.7x faster than BLAKE2b (1.7 GB/s against
    0.65 GB/s measured here): every page of a full build is hashed, and every sitemap part
    (10 MB each at 100k items) of a webhook rebuild."""
    return hashlib.sha256(data).hexdigest()[:32]


#: Pages this large keep their hash for this process's next build (see :func:`page_digest`).
REMEMBERED_SIZE = 1 << 20
_remembered: dict[str, tuple[bytes, str]] = {}


def page_digest(path: str, data: bytes) -> str:
    """:func:`_digest` of the page at ``path``, not computed again when ``data`` is the very
    bytes object this process staged there last time (bytes never change, and the object
    is kept alive here, so the same object means the same bytes). Only pages of at least
    :data:`REMEMBERED_SIZE` are kept: the sitemap parts of a large site, which a long-running
    builder re-renders after most changes from its memo (``site.pages._SitemapMemo``),
    ~10 MB a part at 100k items."""
    if len(data) < REMEMBERED_SIZE:
        return _digest(data)
    known = _remembered.get(path)
    if known is not None and known[0] is data:
        return known[1]
    digest = _digest(data)
    _remembered[path] = (data, digest)
    return digest


def _unchanged_entry(full: str, data: bytes, digest: str, old: Any) -> list[Any] | None:
    """The manifest entry of ``full`` when it already holds ``data``, else None.

    Decided cheaply when possible: the manifest's hash matches and the file's size and mtime
    are what we wrote last time (so nothing touched it since); otherwise an equal-sized file
    is compared byte for byte."""
    try:
        st = os.stat(full)
    except FileNotFoundError:
        return None
    if st.st_size != len(data):
        return None
    entry = [st.st_size, st.st_mtime_ns, digest]
    if old is not None and old[2] == digest and old[:2] == entry[:2]:
        return entry
    with open(full, "rb") as fh:
        return entry if fh.read() == data else None


def _write_new(path: str, data: bytes, digest: str) -> list[Any]:
    """Create (or truncate) ``path`` holding ``data``; return its manifest entry.

    ``os`` calls rather than ``open()``: a buffered file object costs three more system calls
    (fstat, ioctl, lseek), which count at ten thousand files."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        st = os.fstat(fd)
        if len(data) >= REMEMBERED_SIZE and _START_WRITEBACK is not None:
            # Start writing a large file to disk now (Linux: the advice starts writeback of
            # dirty pages and returns): renaming it over the old file later makes ext4 do
            # that first (auto_da_alloc), 12 ms for a 12 MB sitemap part against 4 ms once
            # it has begun, in the publish step every webhook rebuild waits for.
            with contextlib.suppress(OSError):
                os.posix_fadvise(fd, 0, 0, _START_WRITEBACK)
    finally:
        os.close(fd)
    return [st.st_size, st.st_mtime_ns, digest]


_START_WRITEBACK: int | None = (
    os.POSIX_FADV_DONTNEED
    if sys.platform.startswith("linux") and hasattr(os, "posix_fadvise")
    else None
)


# ``(path, tmp, entry)``: ``tmp`` None when the file was unchanged, "" when it was written
# inside a stand-in folder, else the hidden file to rename into place.
Staged = tuple[str, str | None, list[Any]]


class StagedWriter:
    """Writes a build's files beside their final places, and says what publishing moves.

    ``stage`` (called in whichever process rendered the page, right after rendering it)
    compares the page with what is on disk and, when it differs, writes it to a hidden
    temporary file next to its destination. A page whose folder does not exist yet is written
    under its own name into a hidden stand-in for the top-most missing folder
    (``articles/.post-1.kontent-ssg-tmp/``, or ``.public.kontent-ssg-tmp/`` for a first
    build). Publishing (:func:`~kontent_ssg.builder.journal.publish`, given :meth:`moves`)
    renames every stand-in folder and every staged file into place (``os.replace``: readers
    see the old file or the new one; a new folder appears with all its files, in one rename
    instead of one per file); ``abort`` removes staged files and stand-in folders, so a
    failed build leaves the output as it was.

    ``prepare`` decides, before rendering starts and before render workers fork, where every
    page goes, so all processes write by one plan: stand-in names and temporary names are
    fixed by the destination alone, and ``abort`` can find a temporary file even when the
    worker that wrote it died before saying so. Writing happens on the rendering thread, not
    on writer threads: threads would hand the interpreter lock back and forth for every
    system call (a million futex calls at 10k pages) while the render is CPU-bound.
    """

    TMP_SUFFIX = TMP_SUFFIX

    def __init__(self, output_dir: Path, old_files: Mapping[str, Any]) -> None:
        self.output_dir = str(output_dir)
        self.old_files = old_files
        self._staged: list[Staged] = []
        self._static: set[str] = set()
        self._assets: set[str] = set()
        self._planned: list[str] = []
        self._shadows: dict[str, str] = {}  # top-most missing folder -> its hidden stand-in
        self._write_dirs: dict[str, str] = {}  # destination folder -> folder written into
        self._made: set[str] = set()  # stand-in folders known to exist

    def prepare(self, paths: Iterable[str]) -> None:
        """Plan where each of ``paths`` is written; clear stand-ins a killed build left."""
        shadows = len(self._shadows)
        for path in paths:
            self._planned.append(path)
            self._plan(os.path.dirname(os.path.join(self.output_dir, path)))
        for shadow in list(self._shadows.values())[shadows:]:
            remove_tree(shadow)

    def _plan(self, folder: str) -> str:
        """The folder to write a file destined for ``folder`` into: ``folder`` when it
        exists, else its place inside the stand-in of its top-most missing ancestor."""
        known = self._write_dirs.get(folder)
        if known is not None:
            return known
        parent = os.path.dirname(folder)
        if parent == folder:  # the file system's root
            target = folder
        else:
            parent_target = self._plan(parent)
            if parent_target != parent:  # inside a missing folder
                target = os.path.join(parent_target, os.path.basename(folder))
            elif os.path.isdir(folder):
                target = folder
            elif os.path.lexists(folder):
                raise BuildError(
                    f"{folder} is a file, but a page must be written inside it",
                    hint="remove or rename that file, or change the route",
                )
            else:
                head, name = os.path.split(folder)
                target = os.path.join(head, f".{name}{TMP_SUFFIX}")
                self._shadows[folder] = target
        self._write_dirs[folder] = target
        return target

    def stage(self, path: str, data: bytes) -> Staged:
        """Compare ``data`` with the page's file and write it where it is staged if it differs.

        A file system error (a full disk, a read-only folder) is a :class:`BuildError` naming
        the file, so that a render worker reports it like any build error."""
        try:
            return self._stage(path, data)
        except OSError as exc:
            raise os_error(exc, "write", os.path.join(self.output_dir, path)) from None

    def _stage(self, path: str, data: bytes) -> Staged:
        full = os.path.join(self.output_dir, path)
        directory, name = os.path.split(full)
        target = self._write_dirs.get(directory)
        if target is None:
            self.prepare([path])
            target = self._write_dirs[directory]
        digest = page_digest(path, data)
        if target == directory:
            entry = _unchanged_entry(full, data, digest, self.old_files.get(path))
            if entry is not None:
                return path, None, entry
            tmp = os.path.join(directory, f".{name}{TMP_SUFFIX}")
            return path, tmp, _write_new(tmp, data, digest)
        if target not in self._made:
            try:
                os.mkdir(target)
            except FileExistsError:  # another render worker made it
                pass
            except FileNotFoundError:
                os.makedirs(target, exist_ok=True)
            self._made.add(target)
        return path, "", _write_new(os.path.join(target, name), data, digest)

    def stage_file(self, path: str, source: Path) -> Staged:
        """Stage a copy of ``source`` (a static file) at ``path``.

        When the source and the published copy are as the manifest last recorded them, the
        file is not even read. The entry keeps the source's mtime for that check."""
        self.prepare([path])
        try:
            src_st = os.stat(source)
        except OSError as exc:
            raise os_error(exc, "read") from None
        old = self.old_files.get(path)
        if old is not None and len(old) > 3 and old[3] == src_st.st_mtime_ns:
            try:
                dst_st = os.stat(os.path.join(self.output_dir, path))
            except FileNotFoundError:
                pass
            else:
                if old[0] == dst_st.st_size == src_st.st_size and old[1] == dst_st.st_mtime_ns:
                    return path, None, list(old)
        try:
            with open(source, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise os_error(exc, "read") from None
        path, tmp, entry = self.stage(path, data)
        return path, tmp, [*entry[:3], src_st.st_mtime_ns]

    def add(self, staged: Staged, *, static: bool = False, asset: bool = False) -> None:
        """Note a file staged (possibly by a render worker) for publishing; ``static`` and
        ``asset`` files are reported apart from pages."""
        self._staged.append(staged)
        if static:
            self._static.add(staged[0])
        if asset:
            self._assets.add(staged[0])

    def abort(self) -> None:
        """Remove staged files and stand-in folders: the output is as it was."""
        for path in self._planned:
            directory, name = os.path.split(os.path.join(self.output_dir, path))
            if self._write_dirs.get(directory) == directory:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, f".{name}{TMP_SUFFIX}"))
        for shadow in self._shadows.values():
            remove_tree(shadow)

    def entries(self, report: BuildReport, progress: Progress | None = None) -> dict[str, Any]:
        """The manifest entries of every staged file (written or unchanged).

        ``report`` (a :class:`~kontent_ssg.builder.report.BuildReport`) learns which pages
        are written or unchanged, and which static files are written."""
        entries: dict[str, list[Any]] = {}
        for path, tmp, entry in self._staged:
            entries[path] = entry
            if path in self._static:
                if tmp is not None:
                    report.static_written.append(path)
                continue
            if path in self._assets:
                if tmp is not None:
                    report.assets_written.append(path)
                continue
            (report.pages_written if tmp is not None else report.pages_unchanged).append(path)
            if progress is not None:
                progress.advance(1)
                progress.page(path, "written" if tmp is not None else "unchanged")
        return entries

    def moves(self) -> tuple[list[str], list[str]]:
        """What publishing moves into place: the folders that appear (absolute paths, each
        from its stand-in) and the files staged beside their destination (relative)."""
        return sorted(self._shadows), [path for path, tmp, _ in self._staged if tmp]

    def check_deletable(self, paths: Iterable[str]) -> None:
        """Fail now, before anything is published, if a file to delete cannot be deleted
        (its folder is read-only: ``chmod``, ``chattr +i``, a read-only mount)."""
        folders = {os.path.dirname(os.path.join(self.output_dir, path)) for path in paths}
        for folder in sorted(folders):
            if os.path.isdir(folder) and not os.access(folder, os.W_OK | os.X_OK):
                raise BuildError(
                    f"cannot delete the pages that went from {folder}: the folder is not writable",
                    hint="make the output folder writable for this user and build again; "
                    "the previous output is unchanged",
                )


def remove_tree(folder: str) -> None:
    """Remove a stand-in folder (or a stray staged file) and everything in it."""
    import shutil

    if os.path.isdir(folder) and not os.path.islink(folder):
        shutil.rmtree(folder, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder)


def list_static_files(static_dir: Path) -> list[str]:
    if not static_dir.is_dir():
        return []
    found = []
    for root, dirnames, filenames in os.walk(static_dir):
        dirnames.sort()
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(root, name), static_dir)
            found.append(rel.replace(os.sep, "/"))
    return found


def manifest_path(config: Config, preview: bool) -> Path:
    name = "manifest-preview.json" if preview else "manifest.json"
    return config.state_dir / "build" / name


def delta_path(manifest: Path | str) -> str:
    """Where the changes since ``manifest`` are recorded: ``manifest.delta.json`` beside
    ``manifest.json`` (``manifest-preview.delta.json`` for the preview's)."""
    root, ext = os.path.splitext(str(manifest))
    return f"{root}.delta{ext}"


def load_manifest(config: Config, output_dir: Path, *, preview: bool) -> JSON | None:
    """The record of ``output_dir`` (None: there is none, or it is damaged or another
    folder's: the next build is a full one)."""
    return read_manifest(manifest_path(config, preview), str(output_dir))


def read_manifest(path: Path | str, output: str) -> JSON | None:
    """The manifest at ``path`` with its delta applied, when the delta is there and was made
    on top of this very manifest. In memory, ``base`` is the build id of the manifest on
    disk and ``changed`` the entries its delta holds (what the next delta starts from)."""
    data = _read_record(path, output)
    if data is None or not _manifest_shape(data):
        return None
    data["base"] = data["build"]
    data["changed"] = {}
    delta = _read_record(delta_path(path), output)
    if (
        delta is not None
        and delta.get("base") == data["build"]
        and type(delta.get("build")) is str
        and _entries_shape(delta.get("files"))
    ):
        data["files"].update(delta["files"])
        data["changed"] = delta["files"]
        data["build"] = delta["build"]
    return data


def _read_record(path: Path | str, output: str) -> JSON | None:
    try:
        with open(path, "rb") as fh:
            data = loads_json(fh.read())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != MANIFEST_FORMAT
        or data.get("output") != output
    ):
        return None
    return data


def _manifest_shape(data: JSON) -> bool:
    """The manifest holds what the builder reads (a damaged one is no record: full build)."""
    pages = data.get("pages")
    if type(pages) is not list or type(data.get("build")) is not str:
        return False
    return _entries_shape(data.get("files")) and all(type(page) is str for page in pages)


def _entries_shape(files: Any) -> bool:
    if type(files) is not dict:
        return False
    for entry in files.values():
        if type(entry) is not list or len(entry) < 3 or type(entry[2]) is not str:
            return False
        if type(entry[0]) is not int or type(entry[1]) is not int:
            return False
    return True


def stage_manifest(path: Path, manifest: JSON) -> None:
    """Write the manifest of the output being published beside its place (``<name>.next``);
    publishing renames it into place (:func:`~kontent_ssg.builder.journal.publish`).

    Encoded by msgspec (the manifest lists every file: 1.9 MB at 10k real-shaped pages,
    1 ms instead of json.dumps' 13 ms on every rebuild; the same compact JSON), into a
    buffer this process keeps: at 100k items (19 MB) a fresh one cost 23-60 ms an encoding
    against 11 ms, most of it growing and faulting in new memory."""
    buffer = _MANIFEST_BUFFER
    with _MANIFEST_LOCK:
        _ENCODER.encode_into(manifest, buffer)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{path}.next", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            done = 0
            while done < len(buffer):  # each view freed at once: the buffer may grow next time
                done += os.write(fd, memoryview(buffer)[done:])
        finally:
            os.close(fd)


_ENCODER = msgspec.json.Encoder()
_MANIFEST_BUFFER = bytearray()
_MANIFEST_LOCK = threading.Lock()  # serve's and the receiver's builders share the buffer


def outputs_intact(output_dir: Path, manifest: JSON) -> bool:
    """Every file we wrote is still there, as we wrote it.

    A file with the size and mtime we left it with is taken as unchanged without reading it.
    One whose mtime alone differs is read and compared with its hash: a CI cache (GitHub's
    ``actions/cache``, Netlify's build cache) brings the output back with new or rounded
    mtimes, and only the bytes say whether someone edited it. When they match, the manifest
    entry takes the new mtime (the next build, and this one's writer, trust it again).
    """
    result = OutputCheck(output_dir, manifest).run()
    assert result is not None
    return result


class OutputCheck:
    """:func:`outputs_intact` in steps: :meth:`run` may stop part way and go on later.

    The webhook receiver checks its output between rebuilds (a ``stat`` of every file: ~1 s
    at 100k items); a notification arriving meanwhile stops the check, and the rebuild it
    starts checks only the files not looked at yet."""

    #: Files looked at between two calls of ``stop``.
    STEP = 1024

    def __init__(self, output_dir: Path, manifest: JSON) -> None:
        self.output_dir = output_dir
        self.manifest = manifest
        self._files: dict[str, Any] = manifest.get("files") or {}
        self._paths = list(self._files)
        self._at = 0
        self.result: bool | None = None
        self.seconds = 0.0  # spent looking, over every run

    def run(self, stop: Callable[[], bool] | None = None) -> bool | None:
        """Go on looking: whether the output is intact once every file was looked at (or one
        was not), None when ``stop()`` returned true first (call again to go on)."""
        started = time.monotonic()
        try:
            paths, files, output_dir = self._paths, self._files, self.output_dir
            while self.result is None:
                if self._at >= len(paths):
                    self.result = True
                    break
                if stop is not None and stop():
                    return None
                end = min(self._at + self.STEP, len(paths))
                for rel in paths[self._at : end]:
                    if not _file_intact(os.path.join(output_dir, rel), files[rel]):
                        self.result = False
                        break
                self._at = end
            return self.result
        finally:
            self.seconds += time.monotonic() - started


def _file_intact(path: str, entry: list[Any]) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    if st.st_size != entry[0]:
        return False
    if st.st_mtime_ns != entry[1]:
        try:
            with open(path, "rb") as fh:
                same = len(entry) > 2 and _digest(fh.read()) == entry[2]
        except OSError:
            return False
        if not same:
            return False
        entry[1] = st.st_mtime_ns
    return True
