"""Applying a planned file edit: refuse a stale plan, keep a private backup, write atomically."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mcpdeploy.errors import InputFileError
from mcpdeploy.files.edits import FileEdit, apply_edit


def test_new_file_is_written_without_backup(project: Path) -> None:
    edit = FileEdit(path=project / "new.txt", before=None, after=b"hello\n", mode=0o600)

    assert apply_edit(edit, project / "backups") is None
    assert (project / "new.txt").read_bytes() == b"hello\n"
    assert stat.S_IMODE((project / "new.txt").stat().st_mode) == 0o600


def test_existing_file_is_backed_up_privately_before_it_is_replaced(project: Path) -> None:
    path = project / "config.txt"
    path.write_bytes(b"old\n")
    path.chmod(0o644)

    backup = apply_edit(FileEdit(path=path, before=b"old\n", after=b"new\n", before_mode=0o644), project / "bk")

    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # mode None keeps the file's own
    assert backup is not None and backup.parent == project / "bk"
    assert backup.name.startswith("config.txt.") and backup.name.endswith(".bak")
    assert backup.read_bytes() == b"old\n"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_unchanged_edit_does_nothing(project: Path) -> None:
    path = project / "same.txt"
    path.write_bytes(b"x")
    edit = FileEdit(path=path, before=b"x", after=b"x")

    assert not edit.changed
    assert apply_edit(edit, project / "bk") is None
    assert not (project / "bk").exists()


@pytest.mark.parametrize("now", [b"someone else's bytes", None])
def test_a_stale_plan_is_refused(project: Path, now: bytes | None) -> None:
    path = project / "f.txt"
    if now is not None:
        path.write_bytes(now)

    with pytest.raises(InputFileError, match="changed since the plan read it"):
        apply_edit(FileEdit(path=path, before=b"what the plan saw", after=b"new"), project / "bk")

    assert (path.read_bytes() if path.exists() else None) == now


def test_file_that_appeared_after_planning_is_not_overwritten(project: Path) -> None:
    path = project / "f.txt"
    edit = FileEdit(path=path, before=None, after=b"new")
    path.write_bytes(b"created meanwhile")

    with pytest.raises(InputFileError):
        apply_edit(edit, project / "bk")
    assert path.read_bytes() == b"created meanwhile"
