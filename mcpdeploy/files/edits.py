"""A planned change to one local file, and applying it safely.

Planning reads the file and computes the new bytes without writing anything, so the plan can show the change
(by summary line, never by content: some of these files hold secrets). Applying re-reads the file and refuses
if someone changed it in between, keeps a backup of the previous bytes, then writes atomically.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from mcpdeploy.errors import InputFileError
from mcpdeploy.files.atomic import write_atomic

BACKUP_MODE = 0o600  # backups of .dev.vars hold secrets, so every backup is private
BACKUP_DIR_MODE = 0o700


@dataclass(frozen=True)
class FileEdit:
    """The planned new content of `path`.

    `before` is the content the plan was computed from (None: the file did not exist). `after` is the content
    to write. `summary` has one line per change for people to read; it never holds a value. `mode` is the
    permission the file must end with (None: keep what it has, 0644 for a new file); `before_mode` is what it
    had when planned, so a file with the right bytes but too-open permissions still counts as a change.
    """

    path: Path
    before: bytes | None
    after: bytes
    summary: list[str] = field(default_factory=list)
    mode: int | None = None
    before_mode: int | None = None

    @property
    def content_changed(self) -> bool:
        return self.before != self.after

    @property
    def mode_changed(self) -> bool:
        return self.mode is not None and self.before is not None and self.before_mode != self.mode

    @property
    def changed(self) -> bool:
        return self.content_changed or self.mode_changed


def read_current(path: Path) -> tuple[bytes | None, int | None]:
    """The bytes and permission bits of `path`, or (None, None) when it does not exist.

    A symbolic link is read through (and written through, see `write_atomic`). Anything that is not, in the end,
    a regular file is an InputFileError: a folder, a device such as /dev/null (reading it gives b"", which would
    plan a fresh file), a link loop, or a link to nothing (writing would create its target, wherever it points).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise InputFileError(path, f"is a link to {os.readlink(path)}, which does not exist",
                                 hint="Point the link at an existing file, or remove it.") from None
        return None, None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror}",
                             hint="A link that leads back to itself? Replace it with the file.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(path, "is a folder, expected a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(path, "is not a regular file (a device, pipe or socket)",
                             hint="Replace it with a plain file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror}") from exc
    return data, stat.S_IMODE(info.st_mode)


def apply_edit(edit: FileEdit, backup_dir: Path) -> Path | None:
    """Write `edit.after` to `edit.path`; return the backup of the previous file (None if there was none).

    Refuses with InputFileError when the file no longer holds `edit.before` (edited since the plan read it),
    so a stale plan never overwrites someone's work. The previous bytes are copied first to
    `backup_dir/<name>.<UTC timestamp>.bak` with mode 0600. Does nothing when the edit changes nothing.
    """
    if not edit.changed:
        return None
    current, current_mode = read_current(edit.path)
    if current != edit.before:
        raise InputFileError(
            edit.path,
            "changed since the plan read it; nothing was written",
            hint="Run the command again so the plan starts from the current file.",
        )
    if not edit.content_changed:
        # Same bytes, wrong permissions: tighten them in place, there is nothing to back up.
        assert edit.mode is not None
        os.chmod(edit.path, edit.mode)
        return None
    backup = _backup(edit.path, current, backup_dir) if current is not None else None
    mode = edit.mode if edit.mode is not None else current_mode
    write_atomic(edit.path, edit.after, mode=mode)
    return backup


def _backup(path: Path, data: bytes, backup_dir: Path) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True, mode=BACKUP_DIR_MODE)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = backup_dir / f"{path.name}.{stamp}.bak"
    write_atomic(target, data, mode=BACKUP_MODE)
    return target
