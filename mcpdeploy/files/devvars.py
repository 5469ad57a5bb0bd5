"""`.dev.vars`: the values `wrangler dev` gives the Worker locally, read the way wrangler reads them.

wrangler parses the file with dotenv 16, whose rules we follow when reading:
- `KEY=value`, `export KEY=value` and `KEY: value`; a line starting with `#` is a comment;
- unquoted values end at `#` and are trimmed;
- `'single'` and `` `backtick` `` quoted values are literal; `"double"` ones turn `\\n` and `\\r` into line breaks
  and nothing else (`\\"` stays as typed); quoted values may span lines; text after the closing quote may only be
  blanks or a `#` comment (otherwise the line is read as an unquoted value);
- CRLF and CR count as LF; when a key repeats, the last one wins.

When writing we pick a quoting that dotenv reads back as exactly the string given, and refuse a value that no
quoting can carry. JSON values are compacted by the caller; a `'` inside JSON is written as the JSON escape
`\\u0027` (the same JSON, as JSON.parse sees it), which is what makes the single-quoted form safe for any JSON.

With an environment, wrangler reads `.dev.vars.<env>` *instead of* `.dev.vars` (no merging).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from mcpdeploy.errors import InputFileError, UsageError
from mcpdeploy.files.edits import FileEdit, read_current

DEV_VARS = ".dev.vars"
DEV_VARS_MODE = 0o600
_QUOTES = "'\"`"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ASSIGNMENT = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z0-9_.-]+)(?:[ \t]*=|:[ \t])")
_TRAILER = re.compile(r"[ \t]*(#.*)?$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NEW_FILE_HEADER = (
    "# Values for `wrangler dev` (local development only). Holds secrets: keep it out of git.\n"
)


@dataclass(frozen=True)
class DevVar:
    """One assignment: its key, the value dotenv reads, its lines [first, end) and what follows the value."""

    key: str
    value: str
    first_line: int
    end_line: int
    prefix: str  # "export " when written so
    suffix: str  # blanks and a `# comment` after the value, kept when the value is rewritten


def dev_vars_path(project_dir: Path, env: str | None) -> Path:
    """`.dev.vars`, or `.dev.vars.<env>` for an environment."""
    if env is None:
        return project_dir / DEV_VARS
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", env) or env in {".", ".."}:
        raise UsageError(f"environment name {env!r} cannot be part of a file name")
    return project_dir / f"{DEV_VARS}.{env}"


def parse_dev_vars(text: str, path: Path) -> list[DevVar]:
    """Every assignment in `text`, in order. A line that is not blank, a comment or an assignment is an
    InputFileError naming its line (dotenv would skip it silently, hiding a typo)."""
    lines = _LINE_BREAK.sub("\n", text).split("\n")
    found: list[DevVar] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            raise InputFileError(path, "expected KEY=value, a # comment or a blank line", line=index + 1,
                                 hint="dotenv (what wrangler uses) would silently ignore this line.")
        prefix = "export " if re.match(r"[ \t]*export[ \t]", line) and match.group(1) != "export" else ""
        rest = line[match.end():].lstrip(" \t")
        quoted = _read_quoted(lines, index, rest) if rest[:1] in _QUOTES and rest else None
        if quoted is not None:
            value, end_line, suffix = quoted
        else:
            value, suffix = _read_unquoted(rest)
            end_line = index + 1
        found.append(DevVar(match.group(1), value, index, end_line, prefix, suffix))
        index = end_line
    return found


def _read_quoted(lines: list[str], index: int, rest: str) -> tuple[str, int, str] | None:
    """A quoted value that may span lines: (value, end line, suffix), or None when no closing quote fits."""
    quote = rest[0]
    body = "\n".join([rest[1:], *lines[index + 1:]])
    escaped: list[int] = []  # quotes written \' before the first plain one; dotenv may close on them too
    plain: int | None = None
    position = 0
    while position < len(body):
        if body.startswith("\\" + quote, position):
            escaped.append(position + 1)
            position += 2
        elif body[position] == quote:
            plain = position
            break
        else:
            position += 1
    # The longest match wins: the first plain quote, then the escaped ones from the last back.
    for close in ([] if plain is None else [plain]) + escaped[::-1]:
        line_end = body.find("\n", close)
        after = body[close + 1: len(body) if line_end < 0 else line_end]
        if _TRAILER.fullmatch(after):
            inner = body[:close]
            if quote == '"':
                inner = inner.replace("\\n", "\n").replace("\\r", "\r")
            return inner, index + 1 + body.count("\n", 0, close), after
    return None


def _read_unquoted(rest: str) -> tuple[str, str]:
    hash_at = rest.find("#")
    raw = rest if hash_at < 0 else rest[:hash_at]
    value = raw.strip()
    suffix = "" if hash_at < 0 else " " + rest[hash_at:]
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] == value[0]:
        value = value[1:-1]
    if rest[:1] == '"':
        value = value.replace("\\n", "\n").replace("\\r", "\r")
    return value, suffix


def read_dev_vars(path: Path) -> dict[str, str]:
    """The values wrangler would read from `path` ({} when the file does not exist)."""
    raw, _ = read_current(path)
    if raw is None:
        return {}
    return {var.key: var.value for var in parse_dev_vars(decode_dev_vars(path, raw), path)}


def json_safe(value: str) -> str:
    """For a JSON document holding `'`, the same JSON with each `'` written `\\u0027`; other values unchanged.

    `'` can only occur inside JSON strings, where `\\u0027` means the same character.
    """
    if "'" not in value:
        return value
    try:
        json.loads(value)
    except ValueError:
        return value
    return value.replace("'", "\\u0027")


def render_value(key: str, value: str) -> str:
    """`value` quoted so that dotenv 16 reads back exactly `value`; UsageError when no quoting can."""
    ends_clean = not value.endswith("\\") and "\r" not in value
    if "'" not in value and ends_clean:
        return f"'{value}'"
    if "`" not in value and ends_clean:
        return f"`{value}`"
    if '"' not in value and "\\n" not in value and "\\r" not in value and not value.endswith("\\"):
        return '"' + value.replace("\n", "\\n").replace("\r", "\\r") + '"'
    if value and value == value.strip() and value[0] not in _QUOTES and not any(c in value for c in "#\n\r"):
        return value  # e.g. a trailing backslash, which would escape any closing quote
    raise UsageError(
        f"the value for {key} cannot be written to .dev.vars so that wrangler reads it back unchanged "
        "(it holds all three quote characters, or one of them with a line break or a trailing backslash)",
        hint="If it is JSON, write its quotes as \\u0027 / \\u0060 escapes.",
    )


def plan_dev_vars(project_dir: Path, *, env: str | None, values: dict[str, str]) -> FileEdit:
    """Plan setting `values` in `.dev.vars` (or `.dev.vars.<env>`), keeping every other line byte for byte.

    A key already holding the same value (as dotenv reads it) is left untouched, so planning twice with the
    same values gives identical bytes. A changed key is rewritten in place (its `export` and trailing comment
    kept); a new key is appended. JSON values holding `'` are stored with `\\u0027` (see `json_safe`).
    The file ends with mode 0600. Summary lines name keys, never values.
    """
    path = dev_vars_path(project_dir, env)
    for key in values:
        if not _KEY.match(key):
            raise UsageError(f"{key!r} is not a valid variable name for .dev.vars")
    raw, mode = read_current(path)
    text = decode_dev_vars(path, raw) if raw is not None else _NEW_FILE_HEADER
    existing = parse_dev_vars(text, path)
    newline = "\r\n" if "\r\n" in text else "\n"
    # Lines and the exact break after each, so untouched lines keep their bytes, whatever breaks they use.
    parts = re.split(r"(\r\n|\r|\n)", text)
    lines: list[str | None] = list(parts[0::2])
    breaks = parts[1::2]
    summary: list[str] = []
    if raw is None:
        summary.append(f"create {path.name} (mode 0600)")
        if env is not None and (project_dir / DEV_VARS).exists():
            summary.append(f"note: `wrangler dev --env {env}` reads only {path.name}, not {DEV_VARS}")
    appended: list[str] = []
    for key, wanted in values.items():
        value = json_safe(wanted)
        current = [var for var in existing if var.key == key]
        if current and current[-1].value == value:
            continue
        rendered = render_value(key, value)
        if current:
            last = current[-1]
            lines[last.first_line] = f"{last.prefix}{key}={rendered}{last.suffix}"
            for dropped in range(last.first_line + 1, last.end_line):
                lines[dropped] = None
            summary.append(f"update {key} in {path.name}")
        else:
            appended.append(f"{key}={rendered}")
            summary.append(f"add {key} to {path.name}")
    body = _join(lines, breaks)
    if appended:
        if body and not body.endswith(("\n", "\r")):
            body += newline
        body += newline.join(appended) + newline
    if mode is not None and mode != DEV_VARS_MODE:
        summary.append(f"restrict {path.name} to mode 0600 (was {mode:04o})")
    return FileEdit(path=path, before=raw, after=body.encode("utf-8"), summary=summary, mode=DEV_VARS_MODE,
                    before_mode=mode)


def _join(lines: list[str | None], breaks: list[str]) -> str:
    """Lines back into text; a dropped line (None) takes the break before it along, the span keeps its last."""
    out: list[str] = []
    for index, line in enumerate(lines):
        if line is None:
            continue
        out.append(line)
        last = index
        while last + 1 < len(lines) and lines[last + 1] is None:
            last += 1
        if last < len(breaks):
            out.append(breaks[last])
    return "".join(out)


def decode_dev_vars(path: Path, raw: bytes) -> str:
    """The text of `.dev.vars`; InputFileError naming the line of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "is not valid UTF-8", line=raw[: exc.start].count(b"\n") + 1) from exc
