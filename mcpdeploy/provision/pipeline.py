"""The one flow every mutating command shares: load the spec, read what exists, diff, and hand back the plan
with the executors that can carry it out. The CLI layer only adds flags, prompts and rendering."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, cast

from mcpdeploy.apply import ApplyResult, ChangeExecutor, Progress, apply_plan
from mcpdeploy.apply.cloudflare import CloudflareExecutor
from mcpdeploy.apply.local import FileExecutor, SecretsExecutor
from mcpdeploy.apply.xano import XanoExecutor
from mcpdeploy.files.wrangler import check_queue_settings, read_worker_name
from mcpdeploy.plan.cloudflare import CloudflareState, diff_cloudflare, read_cloudflare_state
from mcpdeploy.plan.local_files import FileRecipe, check_local_files, plan_files
from mcpdeploy.plan.models import Change, Plan
from mcpdeploy.plan.service_credentials import CredentialsResolver, credentials_resolver
from mcpdeploy.plan.worker_secrets import plan_worker_secrets
from mcpdeploy.plan.xano import XanoState, diff_xano, read_xano_state
from mcpdeploy.project.settings import Settings
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.parallel import run_all
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.spec.loader import load_spec, resolve_schema_dir
from mcpdeploy.spec.models import Spec
from mcpdeploy.state import StateBackend, open_state

NO_CREDENTIALS = ("No service credentials configured ([secrets] credentials_file or "
                  "MCPDEPLOY_SERVICE_CREDENTIALS_FILE) and none in .dev.vars: "
                  "the Worker's secrets are left as they are.")
CLOUDFLARE_SKIPPED = ("Cloudflare is not configured (CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID): the queue, "
                      "its consumer and the Worker secrets are skipped; local files are still planned.")


@dataclass
class Pipeline:
    settings: Settings
    spec: Spec
    xano: XanoClient
    cloudflare: CloudflareClient | None
    resolver: CredentialsResolver
    state: StateBackend  # where the lock, the journal and the secret-push record live
    outputs: dict[str, Any] = field(default_factory=dict)
    recipes: dict[str, FileRecipe] = field(default_factory=dict)

    def plan(self, only: Collection[str] | None = None) -> Plan:
        """The changes of every provider, or of the providers in `only` (what verifying after apply re-reads)."""

        def wanted(provider: str) -> bool:
            return only is None or provider in only

        changes: list[Change] = []
        notes: list[str] = []
        workers = self.settings.http.concurrency
        group_name = self.settings.xano.api_group
        cloudflare = self.cloudflare
        reads: list[Callable[[], object]] = []
        if wanted("xano"):
            reads.append(lambda: read_xano_state(self.xano, self.spec, group_name, workers))
        if cloudflare is not None and (wanted("cloudflare") or wanted("secrets")):
            reads.append(lambda: read_cloudflare_state(cloudflare, self.settings, workers))
        # Xano and Cloudflare are read at once (each with its own `workers` in flight); diffed in this order.
        states = run_all(reads, 2 if workers > 1 else 1)
        if wanted("xano"):
            state = cast(XanoState, states.pop(0))
            self._record_group(state)
            changes += diff_xano(self.spec, state, group_name)
            notes += state.notes(group_name)
        worker_exists = False
        if cloudflare is None:
            notes.append(CLOUDFLARE_SKIPPED)
        elif wanted("cloudflare") or wanted("secrets"):
            cf_state = cast(CloudflareState, states.pop(0))
            worker_exists = cf_state.worker_exists
            if cf_state.queue is not None:  # every run's outputs name the queue, not only the run that made it
                self.outputs["queue_id"] = cf_state.queue.queue_id
            if wanted("cloudflare"):
                cf_changes, cf_notes = diff_cloudflare(cloudflare, self.settings, cf_state)
                changes += cf_changes
                notes += cf_notes
        if wanted("file"):
            file_changes, self.recipes = plan_files(self.settings, self.resolver, self.outputs)
            changes += file_changes
        if self.cloudflare is not None and worker_exists and wanted("secrets"):
            if self.resolver.source == "none":
                notes.append(NO_CREDENTIALS)
            else:
                changes += plan_worker_secrets(self.cloudflare, self.settings, self.resolver, self.outputs,
                                               self.state)
        return Plan(changes=tuple(changes), target=self.target(), notes=tuple(notes))

    def target(self) -> dict[str, Any]:
        x, cf = self.settings.xano, self.settings.cloudflare
        target: dict[str, Any] = {
            "environment": self.settings.env_name or "default",
            "xano": {"instance_url": x.instance_url, "workspace_id": x.workspace_id, "branch": x.branch or "live",
                     "api_group": x.api_group},
        }
        if self.cloudflare is not None:
            target["cloudflare"] = {"account_id": cf.account_id, "queue": cf.queue, "worker": cf.worker_name}
        return target

    def apply(self, plan: Plan, progress: Progress | None = None) -> ApplyResult:
        executors: dict[str, ChangeExecutor] = {
            "xano": XanoExecutor(self.xano, self.settings.state_dir / "backups", self.settings.http.concurrency),
            "file": FileExecutor(self.settings, self.recipes, self.settings.state_dir / "backups"),
        }
        if self.cloudflare is not None:
            executors["cloudflare"] = CloudflareExecutor(self.cloudflare)
            executors["secrets"] = SecretsExecutor(self.cloudflare, self.settings, self.resolver, self.state)
        return apply_plan(plan, executors, progress, outputs=self.outputs, workers=self.settings.http.concurrency)

    def verify(self, applied: ApplyResult) -> list[Change]:
        """Read back what this run wrote and plan again: a change still planned for an object the run just
        wrote means the service keeps something other than what was sent. Objects the run did not touch are
        not judged (someone else may be changing them)."""
        done = [step.change for step in applied.applied if step.outcome == "done"]
        if not done:
            return []
        written = {change.subject for change in done}
        again = self.plan(only={change.provider for change in done})
        return [change for change in again.changes if change.subject in written]

    def _record_group(self, state: XanoState) -> None:
        if state.group is not None and state.group.get("canonical"):
            self._set_group_outputs(str(state.group["canonical"]))

    def _set_group_outputs(self, canonical: str) -> None:
        self.outputs["xano_api_group_canonical"] = canonical
        self.outputs["xano_api_base_url"] = self.xano.runtime_base_url(canonical)

    def close(self) -> None:
        """The HTTP clients; the state backend stays open for the lock's release (its owner closes it)."""
        self.xano.close()
        if self.cloudflare is not None:
            self.cloudflare.close()


def open_pipeline(settings: Settings, options: HttpOptions) -> Pipeline:
    """Load and check every local input first: a bad schema or file stops here, before any client exists."""
    spec = load_spec(resolve_schema_dir(settings))
    cf = settings.cloudflare
    check_queue_settings(cf.queue, cf.binding, cf.max_batch_size, cf.max_batch_timeout)
    if settings.cloudflare.worker_name is None:
        name = read_worker_name(settings.project_dir, settings.env_name)
        if name is not None:
            settings = settings.model_copy(update={"cloudflare": settings.cloudflare.model_copy(
                update={"worker_name": name})})
    resolver = credentials_resolver(settings)
    check_local_files(settings)
    instance_url, workspace_id, token = settings.require_xano()
    state = open_state(settings)
    xano = XanoClient(instance_url, token, workspace_id, branch=settings.xano.branch, options=options)
    cloudflare = None
    if cf.api_token is not None and cf.account_id:
        cloudflare = CloudflareClient(cf.api_base_url, cf.api_token.get_secret_value(), cf.account_id, options=options)
    return Pipeline(settings=settings, spec=spec, xano=xano, cloudflare=cloudflare, resolver=resolver,
                    state=state)
