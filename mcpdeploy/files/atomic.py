"""Atomic file writes: a temp file in the same folder, fsync, then rename, so a failed run leaves the old bytes.
A symbolic link is written through: its target gets the new bytes, and the link stays a link."""

from __future__ import annotations

import contextlib
import os
import tempfile
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


def _write(path: Path, data: str | bytes, mode: int | None) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = through_links(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
