"""The wrangler configuration wrangler itself will read, and whether it agrees with mcpdeploy's settings.

wrangler looks for each of its names in turn *up the folder tree* from where it runs (wrangler.json anywhere above
wins over a wrangler.toml right here), and `wrangler deploy` then follows a `.wrangler/deploy/config.json`
redirect found the same way (a build tool's generated config). mcpdeploy edits the config in the project folder
only, so any other outcome means wrangler deploys something mcpdeploy never wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

from mcpdeploy.doctor.check import Check, Target, from_error, ok, problem, warning
from mcpdeploy.errors import McpdeployError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.files.wrangler import CONFIG_NAMES

REDIRECT = Path(".wrangler") / "deploy" / "config.json"
WRONG_FILE = ExitCode.INPUT_ERROR


def _find_up(start: Path, relative: Path | str) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / relative
        if os.path.lexists(candidate):
            return candidate
    return None


def wrangler_reads(project_dir: Path) -> Path | None:
    """The config wrangler run in `project_dir` reads, before any redirect."""
    for name in CONFIG_NAMES:
        found = _find_up(project_dir, name)
        if found is not None:
            return found
    return None


def redirected_config(project_dir: Path) -> tuple[Path, Path | None] | None:
    """The redirect file `wrangler deploy` would follow, and where it points (None if unreadable)."""
    from mcpdeploy.files import jsonc

    redirect = _find_up(project_dir, REDIRECT)
    if redirect is None:
        return None
    try:
        value = jsonc.parse(redirect.read_text("utf-8"), redirect).value
    except (OSError, UnicodeDecodeError, McpdeployError):
        return redirect, None
    target = value.get("configPath") if isinstance(value, dict) else None
    return redirect, (redirect.parent / target).resolve() if isinstance(target, str) else None


def config_file_check(target: Target) -> Check:
    """Which file wrangler reads, and that it is the one mcpdeploy edits."""
    from mcpdeploy.files.wrangler import find_wrangler_config

    name = "wrangler config"
    try:
        edited = find_wrangler_config(target.project_dir)
    except McpdeployError as exc:
        return from_error(name, exc)
    read = wrangler_reads(target.project_dir)
    if read is not None and read != edited:
        return problem(name, f"wrangler will read {read}, not {edited or 'a config in ' + str(target.project_dir)}, "
                             "which is where mcpdeploy writes the queue bindings",
                       f"Keep one wrangler config, in {target.project_dir}: move or remove {read}.", WRONG_FILE)
    if edited is None:
        return warning(name, f"no wrangler.json, wrangler.jsonc or wrangler.toml in {target.project_dir} or above",
                       target.command("provision") + " writes wrangler.toml")
    redirect = redirected_config(target.project_dir)
    if redirect is not None:
        source, points_to = redirect
        return warning(name, f"wrangler reads {edited.name}, but `wrangler deploy` follows {source} to "
                             f"{points_to or 'a configPath it cannot read'}",
                       f"Check that {points_to or source} carries the same name and queue bindings, or remove "
                       f"{source} (a build tool writes it).")
    ignored = [n for n in CONFIG_NAMES if n != edited.name and os.path.lexists(target.project_dir / n)]
    if ignored:
        return warning(name, f"wrangler reads {edited.name}; {', '.join(ignored)} next to it is ignored",
                       f"Merge what you need into {edited.name} and remove {', '.join(ignored)}.")
    return ok(name, f"wrangler reads {edited}")


def bindings_check(target: Target) -> Check:
    """The Worker name and queue bindings in the config against mcpdeploy's settings."""
    from mcpdeploy.files.wrangler import (
        find_wrangler_config,
        read_queue_consumer_settings,
        read_queue_producer,
        read_worker_name,
    )

    name = "wrangler bindings"
    cf, env, folder = target.settings.cloudflare, target.env, target.project_dir
    try:
        if find_wrangler_config(folder) is None:
            return warning(name, "no wrangler config to compare with the settings",
                           target.command("provision") + " writes one")
        worker = read_worker_name(folder, env)
        producer = read_queue_producer(folder, env, cf.binding)
        consumer = read_queue_consumer_settings(folder, env, cf.queue)
    except McpdeployError as exc:
        return from_error(name, exc)
    section = f"[env.{env}] " if env else ""
    differences: list[str] = []
    if worker is None:
        differences.append("no Worker `name`")
    elif cf.worker_name and worker != cf.worker_name:
        differences.append(f"Worker `name` is {worker!r}, mcpdeploy manages {cf.worker_name!r}")
    if producer is None:
        differences.append(f"no {section}[[queues.producers]] with binding {cf.binding!r}")
    elif producer.get("queue") != cf.queue:
        differences.append(f"binding {cf.binding!r} sends to queue {producer.get('queue')!r}, not {cf.queue!r}")
    if consumer is None:
        differences.append(f"no {section}[[queues.consumers]] for queue {cf.queue!r}")
    else:
        for key, wanted in (("max_batch_size", cf.max_batch_size), ("max_batch_timeout", cf.max_batch_timeout)):
            if key in consumer and consumer[key] != wanted:
                differences.append(f"consumer {key} is {consumer[key]!r}, the settings say {wanted!r}")
    if differences:
        return problem(name, "the wrangler config disagrees with mcpdeploy's settings: " + "; ".join(differences),
                       f"{target.command('provision')} writes the queue bindings; make the Worker name the same in "
                       "the wrangler config and [cloudflare] worker_name (or MCPDEPLOY_WORKER_NAME).", WRONG_FILE)
    return ok(name, f"Worker {worker!r}, {section}producer {cf.binding} -> {cf.queue}, consumer of {cf.queue}")
