"""Carry out local file edits (with a backup of each previous file) and the Worker secrets push."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcpdeploy.apply import AppliedChange, Progress
from mcpdeploy.errors import ApiError, InputFileError, McpdeployError, ServiceUnreachable
from mcpdeploy.files.edits import apply_edit, read_current
from mcpdeploy.plan.local_files import XANO_URL_OUTPUT, FileRecipe
from mcpdeploy.plan.models import Change
from mcpdeploy.plan.service_credentials import CredentialsResolver
from mcpdeploy.project import secrets
from mcpdeploy.project.settings import Settings
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.state import StateBackend
from mcpdeploy.state.secret_pushes import newest_version, secrets_pushed_since, write_intent, write_record


class FileExecutor:
    def __init__(self, settings: Settings, recipes: dict[str, FileRecipe], backup_dir: Path) -> None:
        self.settings = settings
        self.recipes = recipes
        self.backup_dir = backup_dir

    def execute(self, changes: Sequence[Change], record: Progress, outputs: dict[str, Any]) -> None:
        for change in changes:
            recipe = self.recipes[change.params["file"]]
            try:
                edit = recipe.build(outputs)
                current, _ = read_current(edit.path)
                if current != recipe.planned_before:
                    raise InputFileError(edit.path, "changed since the plan was made; nothing was written to it",
                                         hint="Run provision again to plan from its new content.")
                backup = apply_edit(edit, self.backup_dir)
            except McpdeployError as exc:
                record(AppliedChange(change, "failed", error=exc.message))
                raise
            record(AppliedChange(change, "done", {
                "path": str(edit.path),
                "backup": str(backup) if backup else None,  # None: the file did not exist before
                "written_sha256": hashlib.sha256(edit.after).hexdigest(),  # to tell later edits from ours
            }))


class SecretsExecutor:
    def __init__(self, client: CloudflareClient, settings: Settings, resolver: CredentialsResolver,
                 state: StateBackend) -> None:
        self.client = client
        self.settings = settings
        self.resolver = resolver
        self.state = state

    def execute(self, changes: Sequence[Change], record: Progress, outputs: dict[str, Any]) -> None:
        for change in changes:
            script = change.params["script"]
            try:
                key, value = self.resolver.resolve(outputs.get(XANO_URL_OUTPUT))
                plaintext = self.resolver.desired(outputs.get(XANO_URL_OUTPUT))
                values = {secrets.SERVICE_CREDENTIALS_VAR: value, secrets.KEY_VAR: key}
                before = newest_version(self.client, script)
                write_intent(self.state, self.settings.env_name, script, values, key, plaintext, before)
                try:
                    self.client.put_secrets_bulk(script, values)
                except (ServiceUnreachable, ApiError) as exc:
                    # An answer lost or a server error is not a push that did not happen: a new secrets version
                    # says it did.
                    if isinstance(exc, ApiError) and exc.status < 500:
                        raise
                    if not secrets_pushed_since(self.client, script, before):
                        raise
                write_record(self.state, self.settings.env_name, script, values, key, plaintext)
            except McpdeployError as exc:
                record(AppliedChange(change, "failed", error=exc.message))
                raise
            record(AppliedChange(change, "done", {"script": script, "names": sorted(values)}))
