"""`mcpdeploy init`: a ready Worker project from the bundled reference Worker (templates/worker/).

What it writes: src/ (the Worker's modules), package.json and package-lock.json (pinned wrangler and SDK),
wrangler.toml, mcpdeploy.toml, schemas/ (the bundled schemas, usage_logs with the event_id the Worker's consumer
relies on) and .gitignore.

It never overwrites a file: when any file it would write already exists, it names them all and writes nothing.
Two files are merged instead, because mcpdeploy knows how to edit them without losing anything: `.gitignore`
(missing lines appended) and `wrangler.toml` (the keys the Worker needs are added when absent, comments and
everything else kept; a `main` that points elsewhere is a conflict, since the Worker would not be the one run).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import tomlkit

from mcpdeploy.errors import InputFileError, UsageError
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.files.edits import read_current
from mcpdeploy.files.wrangler import CONFIG_NAMES

MAIN = "src/index.js"
COMPATIBILITY_DATE = "2026-11-01"
# The Agents SDK imports node:async_hooks.
COMPATIBILITY_FLAG = "nodejs_compat"
DEFAULT_NAME = "mcp-server"
GITIGNORE_LINES = ("node_modules/", ".wrangler/", ".dev.vars*", ".mcpdeploy/")

WRANGLER_TOML = """\
# wrangler.toml for the MCP server, written by `mcpdeploy init`. Edit freely: `mcpdeploy provision` only adds or
# updates the queue blocks. Reference: https://developers.cloudflare.com/workers/wrangler/configuration/
name = "{name}"
main = "{main}"
# Pinned on purpose: a newer date can change runtime behaviour, so move it forward deliberately.
compatibility_date = "{date}"
# The Agents SDK (the MCP handler) uses node:async_hooks.
compatibility_flags = ["{flag}"]

[vars]
# The Xano API group whose auth/me checks callers' keys, e.g. "https://x8ki-letl-twmt.n7.xano.io/api:e6emygx3".
# Empty: xano.credentials.auth_url from SERVICE_CREDENTIALS, else its base_url. `mcpdeploy dev --sandbox` sets it.
XANO_AUTH_URL = ""
# Seconds a successful key check is remembered per isolate (a refused key is never remembered).
AUTH_CACHE_SECONDS = "30"
# A session's last_active is written at most this often (seconds) while it is in use.
SESSION_TOUCH_SECONDS = "60"

# SERVICE_CREDENTIALS and SERVICE_CREDENTIALS_KEY are secrets: `mcpdeploy provision` writes them to .dev.vars for
# `wrangler dev` and sets them on the deployed Worker. It adds the usage-queue blocks below.
"""

MCPDEPLOY_TOML = """\
# mcpdeploy settings for this Worker (the README of mcpdeploy lists them all). Tokens never go in this file.

# The tables and endpoints `mcpdeploy provision` creates: the bundled ones, with usage_logs.event_id.
schemas = "schemas"

[cloudflare]
queue = "usage-queue"
max_batch_size = 100
# Seconds the consumer waits to fill a batch. Each usage event is its own POST /usage_logs whatever the batch
# size, so a longer wait saves no Xano calls: it only makes usage rows appear later.
max_batch_timeout = 5

# Your Xano workspace (or use the XANO_* environment variables; the token never goes here):
# [xano]
# instance_url = "https://x8ki-letl-twmt.n7.xano.io"
# workspace_id = 1

# What `mcpdeploy smoke-test` checks once deployed:
# [smoke]
# mcp_url = "https://{name}.example.workers.dev/mcp"
# xano_auth_url = "https://x8ki-letl-twmt.n7.xano.io/api:e6emygx3"
"""


@dataclass
class InitResult:
    folder: Path
    name: str
    written: list[Path] = field(default_factory=list)
    merged: dict[Path, list[str]] = field(default_factory=dict)  # file -> what was added to it


def worker_name(folder: Path, given: str | None) -> str:
    """A Worker name wrangler accepts (lower-case letters, digits, dashes; 63 at most) from --name or the folder."""
    if given is not None:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", given):
            raise UsageError(f"--name {given!r}: a Worker name is 1 to 63 lower-case letters, digits and dashes, "
                             "not starting or ending with a dash")
        return given
    name = re.sub(r"[^a-z0-9]+", "-", folder.name.lower()).strip("-")[:63].strip("-")
    return name or DEFAULT_NAME


def _template(*parts: str) -> Path:
    return Path(str(files("mcpdeploy.bundled") / "templates")).joinpath(*parts)


def _bundled_schema(name: str) -> Path:
    return Path(str(files("mcpdeploy.bundled") / "schemas")) / name


def planned_files(name: str) -> dict[str, bytes]:
    """Every file init writes (relative path -> content), apart from the merged wrangler.toml and .gitignore."""
    worker = _template("worker")
    found: dict[str, bytes] = {}
    for module in sorted(worker.iterdir()):
        if module.suffix in (".js", ".mjs"):
            found[f"src/{module.name}"] = module.read_bytes()
    found["package.json"] = _renamed_package(worker / "package.json", name, lockfile=False)
    found["package-lock.json"] = _renamed_package(worker / "package-lock.json", name, lockfile=True)
    for schema in sorted((worker / "schemas").iterdir()):
        if schema.suffix == ".toml":
            found[f"schemas/{schema.name}"] = schema.read_bytes()
    found["schemas/schema-format.json"] = _bundled_schema("schema-format.json").read_bytes()
    found["mcpdeploy.toml"] = MCPDEPLOY_TOML.format(name=name).encode()
    return found


def _renamed_package(path: Path, name: str, *, lockfile: bool) -> bytes:
    """package.json (or its lockfile) named after the Worker; versions stay exactly as pinned."""
    data = json.loads(path.read_text("utf-8"))
    data["name"] = name
    if lockfile and "" in data.get("packages", {}):
        data["packages"][""]["name"] = name
    return (json.dumps(data, indent=2) + "\n").encode()


def init_project(folder: Path, name: str | None = None) -> InitResult:
    """Write the project into `folder` (created if missing); UsageError naming every file in the way."""
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    result = InitResult(folder, worker_name(folder, name))
    files_to_write = planned_files(result.name)
    in_the_way = sorted(rel for rel in files_to_write if (folder / rel).exists() or (folder / rel).is_symlink())
    other_config = [n for n in CONFIG_NAMES if n != "wrangler.toml" and (folder / n).exists()]
    if other_config:
        in_the_way.append(f"{other_config[0]} (init merges only wrangler.toml)")
    wrangler_text = _wrangler_toml(folder, result)
    if isinstance(wrangler_text, str) and wrangler_text.startswith("conflict:"):
        in_the_way.append(wrangler_text.removeprefix("conflict:"))
    if in_the_way:
        raise UsageError(f"{folder} already holds what init would write: {', '.join(in_the_way)}; nothing was "
                         "written", hint="Run init in a new folder (`mcpdeploy init DIR`), or move those files away.")
    for rel, content in files_to_write.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, content)
        result.written.append(target)
    if wrangler_text is not None:
        write_atomic(folder / "wrangler.toml", wrangler_text)
    _gitignore(folder, result)
    return result


def _wrangler_toml(folder: Path, result: InitResult) -> str | None:
    """The wrangler.toml to write: a new one, an existing one with what the Worker needs added ("conflict:..." when
    it cannot be), or None when it already has everything."""
    path = folder / "wrangler.toml"
    raw, _ = read_current(path)
    if raw is None:
        result.written.append(path)
        return WRANGLER_TOML.format(name=result.name, main=MAIN, date=COMPATIBILITY_DATE, flag=COMPATIBILITY_FLAG)
    try:
        document = tomlkit.parse(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise InputFileError(path, f"is not valid TOML: {exc}") from exc
    main = document.get("main")
    if main is not None and str(main).removeprefix("./") != MAIN:
        return f"conflict:wrangler.toml (its main is {main!r}, the Worker init writes is {MAIN!r})"
    added: list[str] = []
    if main is None:
        document["main"] = MAIN
        added.append(f"main = {MAIN!r}")
    if "name" not in document:
        document["name"] = result.name
        added.append(f"name = {result.name!r}")
    if "compatibility_date" not in document:
        document["compatibility_date"] = COMPATIBILITY_DATE
        added.append(f"compatibility_date = {COMPATIBILITY_DATE!r}")
    flags = document.get("compatibility_flags")
    if flags is None:
        document["compatibility_flags"] = [COMPATIBILITY_FLAG]
        added.append(f"compatibility_flags = [{COMPATIBILITY_FLAG!r}]")
    elif COMPATIBILITY_FLAG not in [str(flag) for flag in flags]:
        flags.append(COMPATIBILITY_FLAG)
        added.append(f"{COMPATIBILITY_FLAG!r} to compatibility_flags")
    if not added:
        return None
    result.merged[path] = added
    return tomlkit.dumps(document)


def _gitignore(folder: Path, result: InitResult) -> None:
    path = folder / ".gitignore"
    raw, _ = read_current(path)
    try:
        text = (raw or b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "is not valid UTF-8") from exc
    present = {line.strip().lstrip("/") for line in text.splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in present and line.rstrip("/") not in present]
    if not missing:
        return
    if text and not text.endswith("\n"):
        text += "\n"
    header = "# npm packages, wrangler's local state, local secrets and mcpdeploy's state\n"
    write_atomic(path, text + ("\n" if text.strip() else "") + header + "\n".join(missing) + "\n")
    if raw is None:
        result.written.append(path)
    else:
        result.merged[path] = missing
