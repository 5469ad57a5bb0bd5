"""Keep local secrets out of git: `.dev.vars*` (every environment's file) and `.mcpdeploy/` (keys, backups)."""

from __future__ import annotations

from pathlib import Path

from mcpdeploy.errors import InputFileError
from mcpdeploy.files.edits import FileEdit, read_current

# pattern -> the spellings that already cover the same files
REQUIRED_PATTERNS: dict[str, frozenset[str]] = {
    ".dev.vars*": frozenset({".dev.vars*", "/.dev.vars*", "**/.dev.vars*"}),
    ".mcpdeploy/": frozenset({".mcpdeploy", ".mcpdeploy/", "/.mcpdeploy", "/.mcpdeploy/", ".mcpdeploy/*",
                              "/.mcpdeploy/*", "**/.mcpdeploy/"}),
}
_HEADER = "# Local secrets and mcpdeploy state (keys, backups): never commit them"


def plan_gitignore(project_dir: Path) -> FileEdit:
    """Plan adding `.dev.vars*` and `.mcpdeploy/` to the project's .gitignore when no line covers them yet.

    Existing lines are kept as they are; the missing patterns are appended under one comment line. A plain
    `.dev.vars` line is not enough (it misses `.dev.vars.staging`), so `.dev.vars*` is added next to it.
    """
    path = project_dir / ".gitignore"
    raw, mode = read_current(path)
    try:
        text = (raw or b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "is not valid UTF-8", line=(raw or b"")[: exc.start].count(b"\n") + 1) from exc
    present = {line.strip() for line in text.splitlines()}
    missing = [pattern for pattern, spellings in REQUIRED_PATTERNS.items() if not present & spellings]
    if not missing:
        return FileEdit(path=path, before=raw, after=raw or b"", before_mode=mode)
    newline = "\r\n" if "\r\n" in text else "\n"
    addition = newline.join([_HEADER, *missing]) + newline
    if text and not text.endswith("\n"):
        text += newline
    if text.strip():
        text += newline
    summary = [f"add {pattern} to .gitignore" for pattern in missing]
    return FileEdit(path=path, before=raw, after=(text + addition).encode("utf-8"), summary=summary,
                    before_mode=mode)
