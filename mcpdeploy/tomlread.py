"""Read TOML for its data (tomllib), reporting the file and line of a syntax error."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from mcpdeploy.errors import InputFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["line_of_key", "read_toml", "tomllib"]

_LINE = re.compile(r"line (\d+)")


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Return (data, text). Raises InputFileError naming the line for invalid TOML or undecodable bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(path, "is not valid UTF-8", line=line) from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = _LINE.search(str(exc))
        error_line = int(match.group(1)) if match else None
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputFileError(
            path, f"invalid TOML: {problem}", line=error_line, hint="Fix the syntax and run again."
        ) from exc


def line_of_key(text: str, *keys: str) -> int | None:
    """Best-effort line of a key (or table header) path in TOML text, for pointing errors at the right line.

    Walks the keys in order, each searched after the line of the previous one, so `["fields", "name"]`
    finds the `name` under the right table.
    """
    lines = text.splitlines()
    start = 0
    found: int | None = None
    for key in keys:
        pattern = re.compile(rf'^\s*(\[+\s*)?("?{re.escape(key)}"?)(\s*[=\].])')
        for i in range(start, len(lines)):
            if pattern.search(lines[i]):
                found = i + 1
                start = i + 1
                break
        else:
            return found
    return found
