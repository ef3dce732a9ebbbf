"""Making the file system fail on purpose: read-only folders (root included), full disks.

Root ignores file permissions, so ``chmod`` alone cannot make a folder read-only for a test
run as root (containers, CI). :func:`read_only` uses ``chmod`` for other users and the
immutable attribute (``chattr +i``: nothing can be created, renamed or deleted inside, by
root either) for root. Where neither works the test fails saying so: it never passes
without having tested anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["read_only"]


@contextmanager
def read_only(folder: Path, *, tree: bool = False) -> Iterator[None]:
    """``folder`` is read-only (no file created, renamed or deleted in it) inside the block;
    with ``tree`` every folder below it too."""
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())] if tree else [folder]
    if os.geteuid() != 0:
        modes = {f: f.stat().st_mode for f in folders}
        for f in folders:
            f.chmod(0o555)
        try:
            yield
        finally:
            for f, mode in modes.items():
                f.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        raise AssertionError(
            "running as root, and chattr is missing: cannot make a folder read-only"
        )
    done = subprocess.run(
        [chattr, "+i", *map(str, folders)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        subprocess.run([chattr, "-i", *map(str, folders)], capture_output=True, check=False)
        raise AssertionError(f"chattr +i {folder} failed: {done.stderr.strip()}")
    try:
        probe = folder / ".probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:
            probe.unlink()
            raise AssertionError(f"{folder} is still writable after chattr +i")
        yield
    finally:
        subprocess.run([chattr, "-i", *map(str, folders)], check=True)
