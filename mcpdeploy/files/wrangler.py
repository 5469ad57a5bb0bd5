"""The Worker's wrangler configuration: find the file wrangler really reads, and plan the queue bindings in it.

wrangler reads the first of wrangler.json, wrangler.jsonc, wrangler.toml in a folder and says nothing about the
others, so a wrangler.toml written next to a wrangler.jsonc would be silently ignored. We edit whichever file
wrangler picks, as an edit (tomlkit for TOML, text splices for JSON/JSONC): comments, key order and unrelated
tables survive, and planning the same settings twice gives byte-identical output.

Queues are not inherited by `[env.NAME]`, so with an environment the blocks go into that section.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from mcpdeploy.errors import InputFileError, UsageError
from mcpdeploy.files import jsonc
from mcpdeploy.files.edits import FileEdit, read_current
from mcpdeploy.files.tomlread import line_of_key

# wrangler's own lookup order (findWranglerConfig); the first that exists wins, silently.
CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
STARTER_NAME_PLACEHOLDER = "my-mcp-server"
# Queue API limits: wrangler itself accepts larger numbers and only the API refuses them, too late.
BATCH_SIZE_RANGE = (1, 100)
BATCH_TIMEOUT_RANGE = (0, 60)
_QUEUE_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_BINDING_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class QueueBindings:
    """What mcpdeploy wants in the config for one queue: a producer binding and a push consumer."""

    queue: str
    binding: str
    max_batch_size: int
    max_batch_timeout: int

    def producer(self) -> dict[str, Any]:
        return {"queue": self.queue, "binding": self.binding}

    def consumer(self) -> dict[str, Any]:
        return {"queue": self.queue, "max_batch_size": self.max_batch_size,
                "max_batch_timeout": self.max_batch_timeout}


def find_wrangler_config(project_dir: Path) -> Path | None:
    """The configuration file wrangler would use in `project_dir`, or None when there is none.

    Something by one of its names that is not a readable file (a folder, a link loop, a link to nothing or to
    /dev/null) is an InputFileError: skipping it would plan a fresh wrangler.toml that wrangler then ignores, or
    that cannot be written at all."""
    for name in CONFIG_NAMES:
        candidate = project_dir / name
        if os.path.lexists(candidate):
            read_current(candidate)
            return candidate
    return None


def check_queue_settings(queue: str, binding: str, max_batch_size: int, max_batch_timeout: int) -> None:
    """UsageError for a value the Queues API would refuse (wrangler does not check these ranges)."""
    if not _QUEUE_NAME.match(queue):
        raise UsageError(
            f"queue name {queue!r} is not valid: use 1-63 lowercase letters, digits and inner hyphens",
            hint="Cloudflare refuses other names (code 11003).",
        )
    if not _BINDING_NAME.match(binding):
        raise UsageError(f"queue binding {binding!r} must be a JavaScript identifier, e.g. USAGE_QUEUE")
    for label, value, (low, high), unit in (
        ("max_batch_size", max_batch_size, BATCH_SIZE_RANGE, " messages"),
        ("max_batch_timeout", max_batch_timeout, BATCH_TIMEOUT_RANGE, " seconds"),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise UsageError(
                f"{label} = {value!r} is out of range: Cloudflare Queues accept {low} to {high}{unit}",
                hint="wrangler would accept it, but deploying the consumer would then fail.",
            )


def plan_queue_bindings(
    project_dir: Path,
    *,
    env: str | None,
    queue: str,
    binding: str = "USAGE_QUEUE",
    max_batch_size: int = 100,
    max_batch_timeout: int = 30,
    name: str | None = None,
) -> FileEdit:
    """Plan the `[[queues.producers]]` and `[[queues.consumers]]` entries for `queue` in the Worker's config.

    Edits wrangler.json, wrangler.jsonc or wrangler.toml (whichever wrangler reads). The producer is matched by
    `binding` (binding names are unique in a Worker), the consumer by `queue` (a queue has one Worker consumer);
    matching entries are updated key by key, missing ones appended, everything else left byte for byte.
    With `env`, the entries go into `[env.<env>]` (created if missing), since queues are not inherited.
    Without any config file, wrangler.toml is created from the starter template, its `name` set to `name`
    (or a placeholder to edit). Raises UsageError for out-of-range settings and InputFileError (with the line)
    for an unreadable file, before anything is written. Nothing is written here: apply the FileEdit.
    """
    check_queue_settings(queue, binding, max_batch_size, max_batch_timeout)
    wanted = QueueBindings(queue, binding, max_batch_size, max_batch_timeout)
    path = find_wrangler_config(project_dir)
    summary: list[str] = []
    if path is None:
        path = project_dir / "wrangler.toml"
        before: bytes | None = None
        before_mode: int | None = None
        text = starter_wrangler_toml(name)
        summary.append(f"create {path.name} from the starter template"
                       + ("" if name else f" (set `name`, now {STARTER_NAME_PLACEHOLDER!r})"))
    else:
        before, before_mode = read_current(path)
        assert before is not None
        text = _decode(path, before)
    if path.suffix == ".toml":
        after = _edit_toml(path, text, env, wanted, summary)
    else:
        after = _edit_jsonc(path, text, env, wanted, summary)
    return FileEdit(path=path, before=before, after=after.encode("utf-8"), summary=summary,
                    before_mode=before_mode)


def read_queue_consumer_settings(project_dir: Path, env: str | None, queue: str) -> dict[str, Any] | None:
    """The `[[queues.consumers]]` entry for `queue` as plain data (None if absent), from the file wrangler reads.

    `max_batch_timeout` is in seconds, as in wrangler's config; the Queues API wants `max_wait_time_ms`
    (multiply by 1000). Keys the user did not write are absent.
    """
    data = _config_data(project_dir)
    if data is None:
        return None
    section = _section_data(data, env)
    consumers = (section.get("queues") or {}).get("consumers") if isinstance(section.get("queues"), dict) else None
    for entry in consumers or []:
        if isinstance(entry, dict) and entry.get("queue") == queue:
            return dict(entry)
    return None


def read_queue_producer(project_dir: Path, env: str | None, binding: str) -> dict[str, Any] | None:
    """The `[[queues.producers]]` entry whose `binding` is `binding` as plain data (None if absent), from the file
    wrangler reads; with `env`, from that environment's section (queues are not inherited)."""
    data = _config_data(project_dir)
    if data is None:
        return None
    section = _section_data(data, env)
    producers = (section.get("queues") or {}).get("producers") if isinstance(section.get("queues"), dict) else None
    for entry in producers or []:
        if isinstance(entry, dict) and entry.get("binding") == binding:
            return dict(entry)
    return None


def read_worker_name(project_dir: Path, env: str | None) -> str | None:
    """The Worker's script name as wrangler derives it: the environment's own `name`, else `<name>-<env>`."""
    data = _config_data(project_dir)
    if data is None:
        return None
    name = data.get("name") if isinstance(data.get("name"), str) else None
    if env is None:
        return name
    section = _section_data(data, env)
    if isinstance(section.get("name"), str) and section is not data:
        return str(section["name"])
    return f"{name}-{env}" if name else None


def defines_environment(project_dir: Path, env: str) -> bool:
    """Whether the Worker's wrangler config has an `[env.<env>]` section."""
    data = _config_data(project_dir)
    envs = data.get("env") if data else None
    return isinstance(envs, dict) and isinstance(envs.get(env), dict)


def _config_data(project_dir: Path) -> dict[str, Any] | None:
    """The plain data of the config file wrangler reads (None when there is none)."""
    path = find_wrangler_config(project_dir)
    if path is None:
        return None
    before, _ = read_current(path)
    assert before is not None
    text = _decode(path, before)
    data: Any = _parse_toml(path, text).unwrap() if path.suffix == ".toml" else jsonc.parse(text, path).value
    return data if isinstance(data, dict) else None


def starter_wrangler_toml(name: str | None) -> str:
    """The bundled starter wrangler.toml, with `name` set when given."""
    text = resources.files("mcpdeploy.bundled").joinpath("templates/wrangler.toml").read_text("utf-8")
    if name:
        doc = tomlkit.parse(text)
        doc["name"] = name
        text = doc.as_string()
    return text


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "is not valid UTF-8", line=raw[: exc.start].count(b"\n") + 1) from exc


def _section_data(data: Any, env: str | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    if env is None:
        return data
    envs = data.get("env")
    section = envs.get(env) if isinstance(envs, dict) else None
    return section if isinstance(section, dict) else {}


def _entries(value: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for index, entry in enumerate(value or []):
        if isinstance(entry, Mapping):
            yield index, entry


def _label(env: str | None, kind: str) -> str:
    return f"[[env.{env}.queues.{kind}]]" if env else f"[[queues.{kind}]]"


def _describe(entry: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in entry.items())


def _find(entries: Any, key: str, value: str) -> int | None:
    found = None
    for index, entry in _entries(entries):
        if entry.get(key) == value:
            found = index
    return found


# ---------------------------------------------------------------------------------------------------- TOML


def _parse_toml(path: Path, text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        line = getattr(exc, "line", None)
        problem = re.sub(r"\s*at line \d+ col \d+", "", str(exc))
        raise InputFileError(path, f"invalid TOML: {problem}", line=line,
                             hint="Fix the syntax and run again; nothing was written.") from exc


def _edit_toml(path: Path, text: str, env: str | None, wanted: QueueBindings, summary: list[str]) -> str:
    doc = _parse_toml(path, text)
    section: Any = doc
    if env is not None:
        envs = doc.get("env")
        if envs is None:
            envs = tomlkit.table(is_super_table=True)
            doc["env"] = envs
        _require_table(path, text, envs, "env")
        if env not in envs:
            envs[env] = tomlkit.table(is_super_table=True)
            summary.append(f"add [env.{env}] (queues are not inherited from the top level)")
        section = envs[env]
        _require_table(path, text, section, "env", env)
    queues = section.get("queues")
    if queues is None:
        queues = tomlkit.table(is_super_table=True)
        section["queues"] = queues
    keys = ("env", env, "queues") if env else ("queues",)
    _require_table(path, text, queues, *keys)
    for kind, match_key, entry in (
        ("producers", "binding", wanted.producer()),
        ("consumers", "queue", wanted.consumer()),
    ):
        existing = queues.get(kind)
        if existing is not None and not isinstance(existing, list):
            raise InputFileError(path, f"`{'.'.join([*keys, kind])}` must be a list of tables",
                                 line=line_of_key(text, *keys, kind))
        index = _find(existing, match_key, entry[match_key])
        if index is None or existing is None:
            if existing is None:
                existing = tomlkit.aot()
                queues[kind] = existing
            existing.append(_new_toml_entry(existing, entry))
            summary.append(f"add {_label(env, kind)}: {_describe(entry)}")
            continue
        current = existing[index]
        for key, value in entry.items():
            if current.get(key) != value or isinstance(current.get(key), bool):
                old = current.get(key)
                current[key] = value
                was = "unset" if old is None else repr(_plain(old))
                summary.append(f"update {_label(env, kind)} {match_key} = {entry[match_key]!r}: "
                               f"{key} {was} -> {value!r}")
    rendered = doc.as_string()
    # New tables carry a blank line after them so they do not touch the next header; at the end of the file
    # that would leave an extra blank line the user never wrote.
    if not text.endswith("\n\n") and rendered.endswith("\n\n"):
        rendered = rendered.rstrip("\n") + "\n"
    return rendered


def _new_toml_entry(container: Any, entry: Mapping[str, Any]) -> Any:
    if isinstance(container, tomlkit.items.AoT):
        table = tomlkit.table()
        for key, value in entry.items():
            table[key] = value
        table.add(tomlkit.nl())
        return table
    inline = tomlkit.inline_table()
    inline.update(entry)
    return inline


def _plain(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


def _require_table(path: Path, text: str, value: Any, *keys: str) -> None:
    if not isinstance(value, dict):
        raise InputFileError(path, f"`{'.'.join(keys)}` must be a table", line=line_of_key(text, *keys))


# ---------------------------------------------------------------------------------------------- JSON/JSONC


def _edit_jsonc(path: Path, text: str, env: str | None, wanted: QueueBindings, summary: list[str]) -> str:
    """Each step re-parses the text, applies one splice and starts over, until nothing is left to do."""
    for _ in range(64):
        root = jsonc.parse(text, path)
        step = _next_jsonc_step(path, text, root, env, wanted, summary)
        if step is None:
            return text
        text = step
    raise AssertionError("the JSONC edit did not settle")  # pragma: no cover - each step removes one difference


def _next_jsonc_step(
    path: Path, text: str, root: jsonc.Node, env: str | None, wanted: QueueBindings, summary: list[str]
) -> str | None:
    if root.kind != "object":
        raise InputFileError(path, "the configuration must be a JSON object", line=jsonc.line_of(text, root.start))
    section = root
    if env is not None:
        envs = root.get("env")
        if envs is None:
            summary.extend(_new_section_summary(env, wanted))
            return jsonc.add_member(text, root, "env", {env: {"queues": _full(wanted)}})
        _require_object(path, text, envs, "env")
        target = envs.get(env)
        if target is None:
            summary.extend(_new_section_summary(env, wanted))
            return jsonc.add_member(text, envs, env, {"queues": _full(wanted)})
        _require_object(path, text, target, f"env.{env}")
        section = target
    queues = section.get("queues")
    if queues is None:
        summary.extend(_new_section_summary(env, wanted)[1:])
        return jsonc.add_member(text, section, "queues", _full(wanted))
    _require_object(path, text, queues, "queues")
    for kind, match_key, entry in (
        ("producers", "binding", wanted.producer()),
        ("consumers", "queue", wanted.consumer()),
    ):
        array = queues.get(kind)
        if array is None:
            summary.append(f"add {_label(env, kind)}: {_describe(entry)}")
            return jsonc.add_member(text, queues, kind, [entry])
        if array.kind != "array":
            raise InputFileError(path, f"`queues.{kind}` must be an array", line=jsonc.line_of(text, array.start))
        index = _find(array.value, match_key, entry[match_key])
        if index is None:
            summary.append(f"add {_label(env, kind)}: {_describe(entry)}")
            return jsonc.append_item(text, array, entry)
        current = array.items[index]
        for key, value in entry.items():
            node = current.get(key)
            if node is None:
                summary.append(f"update {_label(env, kind)} {match_key} = {entry[match_key]!r}: {key} unset -> "
                               f"{value!r}")
                return jsonc.add_member(text, current, key, value)
            if node.value != value or isinstance(node.value, bool):
                summary.append(f"update {_label(env, kind)} {match_key} = {entry[match_key]!r}: "
                               f"{key} {node.value!r} -> {value!r}")
                return jsonc.replace_value(text, node, value)
    return None


def _new_section_summary(env: str | None, wanted: QueueBindings) -> list[str]:
    """The summary of a new section: its header line (with env) and one line per queue entry."""
    return [
        f"add [env.{env}] (queues are not inherited from the top level)",
        f"add {_label(env, 'producers')}: {_describe(wanted.producer())}",
        f"add {_label(env, 'consumers')}: {_describe(wanted.consumer())}",
    ]


def _full(wanted: QueueBindings) -> dict[str, Any]:
    return {"producers": [wanted.producer()], "consumers": [wanted.consumer()]}


def _require_object(path: Path, text: str, node: jsonc.Node, name: str) -> None:
    if node.kind != "object":
        raise InputFileError(path, f"`{name}` must be an object", line=jsonc.line_of(text, node.start))
