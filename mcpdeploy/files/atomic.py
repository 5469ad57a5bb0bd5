"""Atomic file writes: a temp file in the same folder, fsync, then rename, so a failed run leaves the old bytes."""

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


def _write(path: Path, data: str | bytes, mode: int | None) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
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
