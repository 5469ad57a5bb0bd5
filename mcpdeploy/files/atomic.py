"""Atomic file writes: a temp file in the same folder, fsync, then rename, so a failed run leaves the old bytes.
A symbolic link is written through: its target gets the new bytes, and the link stays a link."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

from mcpdeploy.errors import InputFileError


def write_atomic(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data` in one step. `mode` defaults to the existing file's mode (or 0644)."""
    try:
        _write(path, data, mode)
    except OSError as exc:
        raise InputFileError(path, f"cannot write it: {exc.strerror or exc}",
                             hint="Check its permissions and the folder's (and free disk space); it was left as "
                                  "it was.") from exc


def through_links(path: Path) -> Path:
    """The file a write to `path` must replace: `path` itself, or for a symbolic link the file it leads to.

    Replacing the link by a regular file would leave its target stale (a wrangler.toml kept in a shared folder
    and linked into each Worker, a .dev.vars linked from a secrets folder), so the target is written, with the
    temp file beside it for the rename to stay atomic. A link that leads nowhere (a loop, a missing file) or to
    something that is not a regular file is refused rather than followed into creating or replacing it."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():
        raise InputFileError(path, "is a link that leads back to itself; nothing was written",
                             hint="Replace it with the file, or with a link to one.")
    if not target.exists():
        raise InputFileError(path, f"is a link to {target}, which does not exist; nothing was written",
                             hint="Point the link at an existing file, or remove it.")
    if not target.is_file():
        raise InputFileError(path, f"is a link to {target}, which is not a regular file; nothing was written",
                             hint="Point the link at a plain file, or replace it with one.")
    return target


# The temp file is named after the file it replaces, so the ignore rule that keeps a file out of git
# (`.dev.vars*`) keeps its temp file out too, even one a killed run left behind.
TEMP_SUFFIX = ".mcpdeploy.tmp"
# A temp file left by a killed run is removed by the next write of the same file, once it is this old: a write
# in progress never takes that long, and under the environment's lock no other run writes that file.
STALE_AFTER_SECONDS = 60.0


def _write(path: Path, data: str | bytes, mode: int | None) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = through_links(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    remove_stale_temp_files(path)
    # mkstemp creates the file 0600: the content is written while only we can read it, and the final mode is set
    # just before the rename.
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Remove the temp files a killed write of `path` left behind (this version's names and the older
    `.NAME.XXXXXXXX.tmp` ones), returning what was removed."""
    ours = re.compile(re.escape(path.name) + r"\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
    older = re.compile(r"\." + re.escape(path.name) + r"\.[a-z0-9_]{8}\.tmp")
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            if not (ours.fullmatch(entry.name) or older.fullmatch(entry.name)):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and time.time() - entry.stat().st_mtime > STALE_AFTER_SECONDS:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed
