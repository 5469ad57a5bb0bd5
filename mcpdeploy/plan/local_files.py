"""Local files: the queue blocks in the Worker's wrangler config, SERVICE_CREDENTIALS and its key in .dev.vars,
and .gitignore lines that keep both secrets files out of git.

.dev.vars depends on the Xano API group's URL, which a fresh provision only learns when it creates the group, so
its edit is computed again at apply time (`FileRecipe`); the plan shows which keys change, never their values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcpdeploy.files.devvars import dev_vars_path, plan_dev_vars
from mcpdeploy.files.edits import FileEdit, read_current
from mcpdeploy.files.gitignore import plan_gitignore
from mcpdeploy.files.wrangler import plan_queue_bindings
from mcpdeploy.plan.models import Change
from mcpdeploy.plan.service_credentials import CredentialsResolver
from mcpdeploy.project import secrets
from mcpdeploy.project.settings import Settings

PROVIDER = "file"
XANO_URL_OUTPUT = "xano_api_base_url"


@dataclass
class FileRecipe:
    """How to compute a file's edit at apply time, and the bytes the plan saw (to refuse a file changed since)."""

    planned_before: bytes | None
    build: Callable[[dict[str, Any]], FileEdit]


def _change(edit: FileEdit, label: str, reason: str) -> Change:
    return Change(provider=PROVIDER, kind="edit_file", action="create" if edit.before is None else "update",
                  resource=f"file {label}", reason=reason, details=tuple(edit.summary), params={"file": label})


def check_local_files(settings: Settings) -> None:
    """Read and check every local file provision may edit, raising InputFileError (or UsageError) naming it.

    Called before any request: found while planning, after Xano and Cloudflare were read, or worse while
    applying, after remote writes, a bad wrangler config, .gitignore or key file would leave a half-done run."""
    project, env, cf = settings.project_dir, settings.env_name, settings.cloudflare
    plan_queue_bindings(project, env=env, queue=cf.queue, binding=cf.binding, max_batch_size=cf.max_batch_size,
                        max_batch_timeout=cf.max_batch_timeout, name=cf.worker_name)
    plan_gitignore(project)
    read_current(dev_vars_path(project, env))
    secrets.load_key(project, env)


def plan_files(settings: Settings, resolver: CredentialsResolver, outputs: dict[str, Any]
               ) -> tuple[list[Change], dict[str, FileRecipe]]:
    project, env, cf = settings.project_dir, settings.env_name, settings.cloudflare
    changes: list[Change] = []
    recipes: dict[str, FileRecipe] = {}

    def wrangler(_: dict[str, Any]) -> FileEdit:
        return plan_queue_bindings(project, env=env, queue=cf.queue, binding=cf.binding,
                                   max_batch_size=cf.max_batch_size, max_batch_timeout=cf.max_batch_timeout,
                                   name=cf.worker_name)

    def gitignore(_: dict[str, Any]) -> FileEdit:
        return plan_gitignore(project)

    def dev_vars(run_outputs: dict[str, Any]) -> FileEdit:
        key, value = resolver.resolve(run_outputs.get(XANO_URL_OUTPUT))
        return plan_dev_vars(project, env=env,
                             values={secrets.SERVICE_CREDENTIALS_VAR: value, secrets.KEY_VAR: key})

    for build, reason in ((wrangler, "queue producer and consumer for the Worker"),
                          (gitignore, "keep .dev.vars* and .mcpdeploy/ out of git")):
        edit = build(outputs)
        label = edit.path.name
        recipes[label] = FileRecipe(edit.before, build)
        if edit.changed:
            changes.append(_change(edit, label, reason))

    devvars_path = dev_vars_path(project, env)
    before, _mode = read_current(devvars_path)
    recipes[devvars_path.name] = FileRecipe(before, dev_vars)
    preview = _preview_dev_vars(settings, resolver, outputs)
    if preview is not None:
        changes.append(Change(provider=PROVIDER, kind="edit_file", action="create" if before is None else "update",
                              resource=f"file {devvars_path.name}", reason="SERVICE_CREDENTIALS for wrangler dev",
                              details=tuple(preview), params={"file": devvars_path.name}))
    return changes, recipes


def _preview_dev_vars(settings: Settings, resolver: CredentialsResolver, outputs: dict[str, Any]) -> list[str] | None:
    """The summary of the .dev.vars change, without creating a key or encrypting anything; None if unchanged."""
    url = outputs.get(XANO_URL_OUTPUT)
    key = secrets.load_key(settings.project_dir, settings.env_name)
    if key is None:
        return [f"create the credentials key {secrets.key_path(settings.project_dir, settings.env_name)}",
                f"set {secrets.SERVICE_CREDENTIALS_VAR} and {secrets.KEY_VAR}"]
    if url is None:
        return [f"set {secrets.SERVICE_CREDENTIALS_VAR} (Xano base_url known after apply)"]
    current = resolver.existing_value()
    edit = plan_dev_vars(settings.project_dir, env=settings.env_name, values={
        secrets.SERVICE_CREDENTIALS_VAR: current if resolver.up_to_date(url) and current else "<changed>",
        secrets.KEY_VAR: key,
    })
    return edit.summary if edit.changed else None
