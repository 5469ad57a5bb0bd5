"""Worker rollback: send all traffic back to an earlier version, chosen much as `wrangler rollback` chooses it
but without forcing past changed secrets unless asked.

- Target: `--to VERSION_ID` (it must be one of the Worker's versions), else the newest deployment older than the
  live one that had a single version at 100%, minus the ones skipped below. "Older" is by `created_on`; equal times
  keep the API's order.
- Where we differ from wrangler, on purpose. wrangler takes the previous 100% deployment whatever it was. mcpdeploy
  itself deploys versions that change only secrets (provision's secrets push, `auth disable/enable`), so "previous"
  is often the same code with older credentials, and a rollback after a bad deploy plus a secrets push would bring
  back the bad code (and, forced past 10220, revert the credentials instead). And after one rollback, wrangler's
  "previous" is the deployment just rolled away from, so running it twice flips back to the bad version. So without
  `--to` we skip, and report in `RollbackPlan.skipped`:
  - `live_version`: deployments of the version serving now (deploying it again changes nothing);
  - `same_code_as_live`: versions that differ from the live one only by secret changes;
  - `rolled_back_from`: code that a later rollback moved traffic away from (a rollback deployment replaces the
    deployment just before it), unless it was deployed again after that rollback.
- "Same code" follows version history: a version whose `workers/triggered_by` annotation (on the version or on the
  deployment that introduced it) is "secret" runs the code of the version numbered just before it; the API only
  allows a secret edit while the latest version is deployed (10215), so that is the version it was made from.
  Cloudflare was recorded writing "secret" on both for `wrangler secret put` and `secret bulk`.
- A deployment is a rollback when the versions it points at say so: all of them are older than the newest version
  that existed when it was made, and none is newer than what it replaced. Its annotation cannot tell: a rollback
  made through `POST …/deployments` (wrangler rollback, the dashboard, mcpdeploy) is annotated "deployment", the
  same as any `wrangler versions deploy`; "rollback" belonged to the 2023 deployments API only. The second
  condition keeps a deliberate deploy of a newer, not newest, version (after several `wrangler versions upload`)
  from counting as one. Only when a version is one Cloudflare no longer lists do we fall back to this project's
  journal (rollbacks we made) and to a rollback's default message ("mcpdeploy rollback…", wrangler's "Rollback")
  on a deployment that uploaded nothing.
- `plan_rollback` only reads. `execute_rollback` creates one deployment (`POST …/deployments`), and on code 10220
  (secrets changed since the target version) stops unless `force`, then re-POSTs with `?force=true`. It checks
  afterwards that the live deployment is the target at 100%.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mcpdeploy.errors import McpdeployError, ServiceError, UsageError
from mcpdeploy.providers.cloudflare import CloudflareClient, SecretsChangedSinceVersion
from mcpdeploy.providers.cloudflare_models import MAX_MESSAGE_BYTES, Deployment, WorkerVersion, annotation_message
from mcpdeploy.redaction import Redactor
from mcpdeploy.state import StateBackend
from mcpdeploy.state.journal import Journal, RunHandle
from mcpdeploy.state.lock import Lock
from mcpdeploy.state.secret_pushes import forget_pushed_secrets

DEFAULT_MESSAGE = "mcpdeploy rollback"
JOURNAL_KIND = "worker_deployment"
TRIGGERED_BY = "workers/triggered_by"
SECRET_CHANGE = "secret"
# Default messages of a rollback: ours (DEFAULT_MESSAGE, or the checklist's "mcpdeploy rollback: 1.4.2 -> 1.4.1")
# and wrangler's ("Rollback"). A user's own -m text is recognised through the journal instead.
_ROLLBACK_MESSAGE = re.compile(r"^\s*(mcpdeploy\s+)?rollback\b", re.IGNORECASE)
SKIP_REASONS = {
    "live_version": "it is the version serving now",
    "same_code_as_live": "same code as the live version, only secrets differ (a secrets change, not a code deploy)",
    "rolled_back_from": "a later rollback moved traffic away from this code",
}
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)?$")


class SecretsChangedRefusal(ServiceError):
    """10220 without --force: the target version would bring back older secret values."""


@dataclass(frozen=True)
class SkippedDeployment:
    """An older deployment passed over when choosing the target automatically, and why (a SKIP_REASONS key)."""

    deployment_id: str
    version_id: str
    deployed_on: str
    reason: str

    @property
    def explanation(self) -> str:
        return SKIP_REASONS[self.reason]

    def to_json(self) -> dict[str, str]:
        return {"version_id": self.version_id, "reason": self.reason, "deployment_id": self.deployment_id,
                "deployed_on": self.deployed_on}


@dataclass(frozen=True)
class RollbackPlan:
    worker: str
    live: Deployment | None  # the deployment serving traffic now ([0] of the list)
    target: WorkerVersion | None  # None: nothing to roll back to
    target_deployment: Deployment | None  # the older deployment it was chosen from (None with --to)
    message: str  # the annotation that will be sent (already cut to the API's limit)
    message_cut: bool
    chosen_by: str  # "previous_deployment" | "to"
    skipped: tuple[SkippedDeployment, ...] = field(default=())  # newest first; always empty with --to

    @property
    def live_version_id(self) -> str | None:
        return self.live.sole_version_id if self.live else None

    @property
    def nothing_to_roll_back_to(self) -> bool:
        return self.target is None

    @property
    def already_there(self) -> bool:
        return self.target is not None and self.live_version_id == self.target.id

    @property
    def target_deployed_on(self) -> str | None:
        """When the target last served all traffic (with --to: when that version was created, if never)."""
        if self.target_deployment is not None:
            return self.target_deployment.created_on
        return self.target.created_on if self.target else None

    @property
    def target_message(self) -> str | None:
        found = self.target_deployment.message if self.target_deployment else None
        return found or (self.target.message if self.target else None)

    def before(self) -> dict[str, Any]:
        """What was live, as undoing this rollback would need it."""
        if self.live is None:
            return {"deployment_id": None, "versions": []}
        return {"deployment_id": self.live.id, "version_id": self.live_version_id,
                "versions": [v.model_dump() for v in self.live.versions]}

    def to_json(self) -> dict[str, Any]:
        target = self.target
        return {
            "worker": self.worker,
            "current": {"deployment_id": self.live.id if self.live else None, "version_id": self.live_version_id,
                        "versions": [v.model_dump() for v in self.live.versions] if self.live else [],
                        "deployed_on": self.live.created_on if self.live else None,
                        "message": self.live.message if self.live else None},
            "target": None if target is None else {
                "version_id": target.id, "version_number": target.number, "deployed_on": self.target_deployed_on,
                "message": self.target_message, "chosen_by": self.chosen_by},
            "skipped": [s.to_json() for s in self.skipped],
            "message": self.message, "message_cut": self.message_cut,
            "nothing_to_roll_back_to": self.nothing_to_roll_back_to, "already_there": self.already_there,
        }


def newest_first(deployments: list[Deployment]) -> list[Deployment]:
    """By created_on, newest first; the sort is stable, so equal times keep the API's order ([0] is live)."""
    return sorted(deployments, key=lambda d: _moment(d.created_on), reverse=True)


def previous_stable_deployment(deployments: list[Deployment]) -> Deployment | None:
    """wrangler's choice, for comparison: skip the live deployment, then the newest with a single version at
    100%. plan_rollback uses choose_previous_deployment."""
    return next((d for d in newest_first(deployments)[1:] if d.sole_version_id is not None), None)


def choose_previous_deployment(deployments: list[Deployment], versions: Iterable[WorkerVersion],
                               rollbacks: Collection[str] = ()) -> tuple[Deployment | None, list[SkippedDeployment]]:
    """mcpdeploy's choice (the module docstring says how and why it differs from wrangler's): the newest older
    100% deployment that is not skipped, and the skipped ones, newest first. `rollbacks`: ids of deployments
    the journal records as rollbacks we made, consulted only where the versions cannot tell."""
    ordered = newest_first(deployments)
    if not ordered:
        return None, []
    versions = list(versions)
    code_of = _code_lineage(versions, ordered)
    history = _VersionHistory.of(versions)
    live = ordered[0]
    live_version = live.sole_version_id
    live_code = code_of.get(live_version, live_version) if live_version else None
    rolled_away: set[str] = set()
    skipped: list[SkippedDeployment] = []
    for newer, candidate in itertools.pairwise(ordered):
        if _is_rollback(newer, candidate, history, rollbacks):
            rolled_away.update(code_of.get(v.version_id, v.version_id) for v in candidate.versions)
        version_id = candidate.sole_version_id
        if version_id is None:
            continue  # a split of traffic is no stable state to return to (wrangler's rule too)
        code = code_of.get(version_id, version_id)
        reason = ("live_version" if version_id == live_version else
                  "same_code_as_live" if code == live_code else
                  "rolled_back_from" if code in rolled_away else None)
        if reason is None:
            return candidate, skipped
        skipped.append(SkippedDeployment(candidate.id, version_id, candidate.created_on, reason))
    return None, skipped


def _code_lineage(versions: list[WorkerVersion], deployments: list[Deployment]) -> dict[str, str]:
    """Version id -> id of the version whose code it runs: itself, or for a secrets change the code of the
    version numbered just before it."""
    secret_changes = {v.id for v in versions if v.annotations.get(TRIGGERED_BY) == SECRET_CHANGE}
    secret_changes.update(d.sole_version_id for d in deployments
                          if d.annotations.get(TRIGGERED_BY) == SECRET_CHANGE and d.sole_version_id)
    code_of: dict[str, str] = {}
    by_number = {v.number: v.id for v in versions if v.number is not None}
    for number in sorted(by_number):
        version_id = by_number[number]
        made_from = by_number.get(number - 1)
        code_of[version_id] = (code_of[made_from] if version_id in secret_changes and made_from is not None
                               else version_id)
    return code_of


@dataclass(frozen=True)
class _VersionHistory:
    """Version numbers, and when each version was created, to tell what was newest at a given moment."""

    number_of: dict[str, int]
    created: tuple[tuple[datetime, int], ...]

    @classmethod
    def of(cls, versions: Iterable[WorkerVersion]) -> _VersionHistory:
        numbered = [v for v in versions if v.number is not None]
        return cls({v.id: v.number for v in numbered if v.number is not None},
                   tuple((_moment(v.created_on), v.number) for v in numbered
                         if v.created_on is not None and v.number is not None))

    def numbers(self, deployment: Deployment) -> list[int] | None:
        found = [self.number_of.get(v.version_id) for v in deployment.versions]
        known = [n for n in found if n is not None]
        return known if known and len(known) == len(found) else None

    def newest_at(self, moment: datetime) -> int | None:
        return max((number for created, number in self.created if created <= moment), default=None)


def _moved_back(deployment: Deployment, replaced: Deployment, history: _VersionHistory) -> bool | None:
    """Whether `deployment` sent traffic back to older versions (see the module docstring), or None when the
    versions cannot tell (one of them is no longer listed)."""
    numbers = history.numbers(deployment)
    newest = history.newest_at(_moment(deployment.created_on))
    if numbers is None or newest is None:
        return None
    if max(numbers) >= newest:
        return False
    before = history.numbers(replaced)
    return before is None or max(numbers) < max(before)


def _is_rollback(deployment: Deployment, replaced: Deployment, history: _VersionHistory,
                 rollbacks: Collection[str]) -> bool:
    told = _moved_back(deployment, replaced, history)
    if told is not None:
        return told
    if deployment.id in rollbacks:
        return True
    uploaded = deployment.annotations.get(TRIGGERED_BY) in ("upload", SECRET_CHANGE)
    return not uploaded and bool(_ROLLBACK_MESSAGE.match(deployment.message or ""))


def journaled_rollbacks(state: Path | StateBackend, environment: str | None, worker: str) -> frozenset[str]:
    """Ids of the deployments this project's journal records as rollbacks of `worker` (only reads)."""
    reading = Journal(state, environment).read()
    return frozenset(str(change.ids["deployment_id"]) for run in reading.details for change in run.changes
                     if change.kind == JOURNAL_KIND and change.action == "rollback" and change.outcome == "done"
                     and change.ids.get("worker") == worker and change.ids.get("deployment_id"))


def _moment(created_on: str) -> datetime:
    """Timestamps come with 0 to 9 fractional digits and a Z; compare them as times, not as strings."""
    match = _TIMESTAMP.match(created_on.strip())
    if match is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    whole, fraction, zone = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if zone in (None, "Z", "z") else zone
    return datetime.fromisoformat(f"{whole}.{micro}{offset}")


def plan_rollback(client: CloudflareClient, worker: str, *, to: str | None = None,
                  message: str | None = None, rollbacks: Collection[str] = ()) -> RollbackPlan:
    """Read the deployments and versions and decide; changes nothing. `rollbacks`: see journaled_rollbacks."""
    deployments = client.list_deployments(worker)
    live = newest_first(deployments)[0] if deployments else None
    text = message if message is not None else DEFAULT_MESSAGE
    sent = annotation_message(text)
    cut = sent != " ".join(text.split())
    versions = {v.id: v for v in client.list_versions(worker)}
    if to is not None:
        version = versions.get(to.strip())
        if version is None:
            newest = ", ".join(list(versions)[:3]) or "none"
            raise UsageError(f"--to {to}: {worker} has no such version (newest: {newest}).",
                             hint="List them with `wrangler versions list`; Cloudflare keeps the 100 most recent "
                                  "for rollback.")
        return RollbackPlan(worker, live, version, None, sent, cut, "to")
    previous, skipped = choose_previous_deployment(deployments, versions.values(), rollbacks)
    if previous is None or previous.sole_version_id is None:
        return RollbackPlan(worker, live, None, None, sent, cut, "previous_deployment", tuple(skipped))
    version = versions.get(previous.sole_version_id)
    if version is None:
        raise McpdeployError(
            f"the previous deployment of {worker} ({previous.id}, {previous.created_on}) ran version "
            f"{previous.sole_version_id}, which Cloudflare no longer lists.",
            hint="Only the 100 most recent versions can be rolled back to; choose one with --to VERSION_ID.")
    return RollbackPlan(worker, live, version, previous, sent, cut, "previous_deployment", tuple(skipped))


@dataclass(frozen=True)
class RollbackResult:
    deployment: Deployment
    forced: bool
    changed_secrets: str | None  # the API's words about which secrets changed, when --force went past 10220


def execute_rollback(client: CloudflareClient, plan: RollbackPlan, run: RunHandle, *, force: bool,
                     force_command: str) -> RollbackResult:
    """Create the 100% deployment of the plan's target and record it in `run`. `force_command` is the exact
    command to print when 10220 stops us."""
    target = plan.target
    if target is None or plan.already_there:
        raise RuntimeError("execute_rollback needs a plan with a target that is not already live")
    change: dict[str, Any] = {"resource": f"worker:{plan.worker}", "kind": JOURNAL_KIND, "action": "rollback",
                              "ids": {"worker": plan.worker, "version_id": target.id}}
    before = plan.before()
    forced, changed = False, None
    try:
        try:
            deployment = client.create_deployment(plan.worker, target.id, plan.message)
        except SecretsChangedSinceVersion as refusal:
            changed = refusal.detail
            if not force:
                raise SecretsChangedRefusal(
                    f"Cloudflare refused to roll {plan.worker} back to version {target.id}: its secrets differ from "
                    f"the current ones ({refusal.detail}). Deploying it would bring back that version's older "
                    "secret values. Nothing was changed.",
                    hint=f"To deploy it anyway: {force_command}  (then push the current secrets again if the "
                         "old ones are wrong).",
                ) from refusal
            forced = True
            deployment = client.create_deployment(plan.worker, target.id, plan.message, force=True)
    except ServiceError as exc:
        run.change({**change, "outcome": "failed", "error": exc.message}, before=before)
        raise
    run.change({**change, "ids": {**change["ids"], "deployment_id": deployment.id, "forced": forced},
                "outcome": "done"}, before=before)
    _verify_live(client, plan.worker, target.id)
    return RollbackResult(deployment, forced, changed)


@dataclass(frozen=True)
class RollbackOutcome:
    plan: RollbackPlan
    result: RollbackResult | None  # None: nothing was deployed (nothing to roll back to, or already there)
    run_id: str | None


def run_worker_rollback(
    client: CloudflareClient,
    state: Path | StateBackend,
    environment: str | None,
    redactor: Redactor,
    *,
    worker: str,
    to: str | None,
    message: str | None,
    force: bool,
    argv: list[str],
    force_command: Callable[[RollbackPlan], str],
    show_plan: Callable[[RollbackPlan], None],
    confirm: Callable[[RollbackPlan], None],
    on_warning: Callable[[str], None],
) -> RollbackOutcome:
    """Under the environment's lock: plan from what is live now, confirm, deploy, journal. A run that finds
    nothing to do is journaled too (as no_changes), as provision does."""
    journal = Journal(state, environment, redactor=redactor)
    with Lock(state, environment, command="rollback", on_takeover=on_warning) as lock:
        plan = plan_rollback(client, worker, to=to, message=message,
                             rollbacks=journaled_rollbacks(state, environment, worker))
        show_plan(plan)
        digest = plan_digest(plan)
        target = {"worker": worker, "to": to}
        if plan.nothing_to_roll_back_to or plan.already_there:
            with journal.start("rollback", argv, digest, target) as run:
                pass
            return RollbackOutcome(plan, None, run.run_id)
        confirm(plan)
        lock.renew()  # a long look at the prompt must not leave us acting on a lease someone else took over
        with journal.start("rollback", argv, digest, target) as run:
            result = execute_rollback(client, plan, run, force=force, force_command=force_command(plan))
        if forget_pushed_secrets(state, environment, worker):
            on_warning("the Worker now runs with the secrets that version had, not the last SERVICE_CREDENTIALS "
                       "pushed; the next `wrangler deploy` brings the latest ones back, and `mcpdeploy provision` "
                       "then checks and pushes them")
        return RollbackOutcome(plan, result, run.run_id)


def plan_digest(plan: RollbackPlan) -> str:
    text = json.dumps(plan.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _verify_live(client: CloudflareClient, worker: str, version_id: str) -> None:
    """The checklist's step 4: read back that the target now serves 100% of traffic."""
    deployments = client.list_deployments(worker)
    live = newest_first(deployments)[0] if deployments else None
    if live is None or live.sole_version_id != version_id:
        serving = ", ".join(f"{v.version_id} {v.percentage:g}%" for v in live.versions) if live else "nothing"
        raise McpdeployError(f"the rollback deployment of {worker} was accepted, but the live deployment now serves "
                             f"{serving}, not {version_id} at 100%.",
                             hint="Someone may have deployed at the same moment: check `wrangler deployments list`.")


__all__ = ["DEFAULT_MESSAGE", "MAX_MESSAGE_BYTES", "SKIP_REASONS", "RollbackOutcome", "RollbackPlan",
           "RollbackResult", "SecretsChangedRefusal", "SkippedDeployment", "choose_previous_deployment",
           "execute_rollback", "journaled_rollbacks", "plan_rollback", "previous_stable_deployment",
           "run_worker_rollback"]
