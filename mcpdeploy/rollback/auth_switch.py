"""The auth switch: a Worker secret, MCP_AUTH_DISABLED_UNTIL, that turns the MCP Worker's key check off until a
moment in time, so authentication comes back by itself instead of waiting for someone to undo a code change.

The value is the expiry as Unix epoch seconds (UTC by definition), digits only: `1767225600`. Whitespace around it
is ignored (wrangler trims what it stores). Anything else (absent, empty, not digits, in the past, or more than
CEILING ahead, such as a value in milliseconds) means auth is ON: a mistake can only ever leave the door shut.
The Worker side is templates/worker/auth-switch.mjs, which applies these same rules, and the sandbox's /mcp
applies them through `disabled_until`.

Cloudflare never returns a secret's value, so `auth status` knows only whether the secret is set; the expiry it
shows comes from the journal entry of the `auth disable` run that set it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from mcpdeploy.errors import McpdeployError, ServiceError, UsageError
from mcpdeploy.providers.cloudflare import CloudflareClient, LatestVersionNotDeployed
from mcpdeploy.providers.cloudflare_errors import CloudflareApiError
from mcpdeploy.redaction import Redactor
from mcpdeploy.state import StateBackend
from mcpdeploy.state.journal import Journal, RunHandle
from mcpdeploy.state.lock import Lock

SWITCH_SECRET = "MCP_AUTH_DISABLED_UNTIL"
DEFAULT_MAX_DISABLE = timedelta(hours=1)
# The Worker template ignores an expiry further ahead than this, so no configuration may ask for more.
CEILING = timedelta(hours=24)
RESPONSE_HEADER = "mcp-auth-disabled-until"  # set on every response the Worker served without checking a key
JOURNAL_KIND = "auth_switch"
_EPOCH = re.compile(r"^[0-9]{1,11}$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_SECRET_NOT_FOUND = 10056

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --- values ------------------------------------------------------------------------------------------------


def parse_duration(text: str, *, what: str = "--for") -> timedelta:
    """"90s", "15m", "1h", "1h30m" -> a positive timedelta; anything else is a UsageError saying the format."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise UsageError(f"{what} {text!r}: expected a duration such as 90s, 15m, 1h or 1h30m.")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    duration = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise UsageError(f"{what} {text!r}: the duration must be longer than zero.")
    return duration


def format_duration(duration: timedelta) -> str:
    """1h5m, 15m, 42s: what a person reads at 3 a.m., not 0:15:00."""
    total = max(0, int(duration.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{seconds}s" if seconds else ""]
    return "".join(parts) or "0s"


def whole_second_after(moment: datetime) -> datetime:
    """`moment` rounded up to a whole second: the secret holds whole seconds, and the window must not shrink."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def encode_expiry(moment: datetime) -> str:
    """The secret's value for an expiry: epoch seconds, rounded up so the window is never shorter than asked."""
    return str(int(whole_second_after(moment).timestamp()))


def disabled_until(value: str | None, now: datetime) -> datetime | None:
    """When auth comes back, if the switch `value` turns it off at `now`; None means auth is on."""
    if value is None or not _EPOCH.match(value.strip()):
        return None
    until = datetime.fromtimestamp(int(value.strip()), timezone.utc)
    if until <= now or until - now > CEILING:
        return None
    return until


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def max_disable(configured: str | None) -> timedelta:
    """The longest `--for` allowed: `[auth] max_disable` from mcpdeploy.toml (never beyond CEILING), else 1 hour."""
    if configured is None:
        return DEFAULT_MAX_DISABLE
    limit = parse_duration(configured, what="[auth] max_disable")
    if limit > CEILING:
        raise UsageError(f"[auth] max_disable = {configured!r} in mcpdeploy.toml is longer than "
                         f"{format_duration(CEILING)}, which the Worker's auth switch would ignore.",
                         hint=f"Set it to at most {format_duration(CEILING)}.")
    return limit


def checked_duration(text: str, configured_max: str | None) -> timedelta:
    duration = parse_duration(text)
    limit = max_disable(configured_max)
    if duration > limit:
        raise UsageError(f"--for {text}: auth can be switched off for at most {format_duration(limit)}.",
                         hint="Switch it off again when that runs out, or raise the limit with [auth] max_disable "
                              f"in mcpdeploy.toml (at most {format_duration(CEILING)}).")
    return duration


# --- state ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchStatus:
    """What `auth status` reports. `state` is "on", "off" or "unknown" (set, expiry not known to mcpdeploy)."""

    worker: str
    secret_set: bool
    until: datetime | None  # from the journal; None when never recorded
    now: datetime

    @property
    def state(self) -> str:
        if not self.secret_set:
            return "on"
        if self.until is None:
            return "unknown"
        return "off" if self.now < self.until else "on"

    @property
    def time_left(self) -> timedelta | None:
        return self.until - self.now if self.state == "off" and self.until is not None else None

    @property
    def expired_leftover(self) -> bool:
        """The secret is still set but its time has passed: auth is on, the secret is just clutter."""
        return self.secret_set and self.until is not None and self.now >= self.until

    def to_json(self) -> dict[str, Any]:
        left = self.time_left
        return {"worker": self.worker, "auth": self.state, "switch_set": self.secret_set,
                "disabled_until": iso(self.until) if self.until else None,
                "seconds_left": int(left.total_seconds()) if left is not None else None,
                "expired_leftover": self.expired_leftover}


def recorded_expiry(journal: Journal, worker: str) -> datetime | None:
    """The expiry the newest successful `auth disable`/`auth enable` of `worker` left, from the journal."""
    for detail in reversed(journal.read().details):
        for change in reversed(detail.changes):
            if change.kind != JOURNAL_KIND or change.outcome != "done" or change.ids.get("worker") != worker:
                continue
            until = change.ids.get("disabled_until")
            if change.action != "disable" or not isinstance(until, str):
                return None
            return datetime.fromisoformat(until.replace("Z", "+00:00"))
    return None


def read_status(client: CloudflareClient, worker: str, journal: Journal, now: datetime) -> SwitchStatus:
    present = SWITCH_SECRET in client.list_secret_names(worker)
    return SwitchStatus(worker, present, recorded_expiry(journal, worker) if present else None, now)


# --- changes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchChange:
    worker: str
    action: str  # "disable" | "enable"
    until: datetime | None
    was_set: bool
    changed: bool


def disable(client: CloudflareClient, worker: str, until: datetime, run: RunHandle, *, was_set: bool) -> SwitchChange:
    """Set the switch (one new Worker version, deployed) and record it. The value goes through the client's
    redactor; the journal gets the expiry in ISO form, which is not the secret's text."""
    change = _record(worker, "disable", until)
    try:
        client.put_secrets_bulk(worker, {SWITCH_SECRET: encode_expiry(until)})
    except ServiceError as exc:
        run.change({**change, "outcome": "failed", "error": exc.message}, before={"switch_set": was_set})
        raise _explain(exc, worker, client, "switch authentication off") from exc
    run.change({**change, "outcome": "done"}, before={"switch_set": was_set})
    return SwitchChange(worker, "disable", until, was_set, True)


def enable(client: CloudflareClient, worker: str, run: RunHandle, *, recorded_until: datetime | None) -> SwitchChange:
    """Remove the switch (one new Worker version, deployed). A secret already gone counts as done."""
    change = _record(worker, "enable", None)
    before = {"switch_set": True, "disabled_until": iso(recorded_until) if recorded_until else None}
    try:
        client.delete_secret(worker, SWITCH_SECRET)
    except CloudflareApiError as exc:
        if _SECRET_NOT_FOUND not in exc.codes:
            run.change({**change, "outcome": "failed", "error": exc.message}, before=before)
            raise _explain(exc, worker, client, "switch authentication back on", recorded_until) from exc
        return SwitchChange(worker, "enable", None, False, False)
    except ServiceError as exc:
        run.change({**change, "outcome": "failed", "error": exc.message}, before=before)
        raise
    run.change({**change, "outcome": "done"}, before=before)
    return SwitchChange(worker, "enable", None, True, True)


@dataclass(frozen=True)
class SwitchOutcome:
    change: SwitchChange
    status_before: SwitchStatus
    run_id: str


def run_disable(client: CloudflareClient, state: Path | StateBackend, environment: str | None, redactor: Redactor, *,
                worker: str, duration: timedelta, argv: list[str], confirm: Callable[[SwitchStatus, datetime], None],
                on_warning: Callable[[str], None], clock: Clock = utc_now) -> SwitchOutcome:
    """Under the environment's lock: read the switch, confirm, set it to now + duration, journal the run. The
    window starts after the confirmation, so a slow answer at the prompt does not shorten it."""
    journal = Journal(state, environment, redactor=redactor)
    with Lock(state, environment, command="auth disable", on_takeover=on_warning) as lock:
        status = read_status(client, worker, journal, clock())
        confirm(status, clock() + duration)
        lock.renew()
        until = whole_second_after(clock() + duration)
        with journal.start("auth disable", argv, None, {"worker": worker, "disabled_until": iso(until)}) as run:
            change = disable(client, worker, until, run, was_set=status.secret_set)
        return SwitchOutcome(change, status, run.run_id)


def run_enable(client: CloudflareClient, state: Path | StateBackend, environment: str | None, redactor: Redactor, *,
               worker: str, argv: list[str], on_warning: Callable[[str], None],
               clock: Clock = utc_now) -> SwitchOutcome:
    """Under the environment's lock: remove the switch if it is set (journaled either way; no write when absent)."""
    journal = Journal(state, environment, redactor=redactor)
    with Lock(state, environment, command="auth enable", on_takeover=on_warning):
        status = read_status(client, worker, journal, clock())
        with journal.start("auth enable", argv, None, {"worker": worker}) as run:
            if not status.secret_set:
                change = SwitchChange(worker, "enable", None, False, False)
            else:
                change = enable(client, worker, run, recorded_until=status.until)
        return SwitchOutcome(change, status, run.run_id)


def _record(worker: str, action: str, until: datetime | None) -> dict[str, Any]:
    return {"resource": f"worker:{worker}/{SWITCH_SECRET}", "kind": JOURNAL_KIND, "action": action,
            "ids": {"worker": worker, "switch": SWITCH_SECRET, "disabled_until": iso(until) if until else None}}


def _explain(exc: ServiceError, worker: str, client: CloudflareClient, doing: str,
             comes_back: datetime | None = None) -> McpdeployError:
    """10214/10215 deserve more than the API's sentence: which version serves traffic, and what to do."""
    if not isinstance(exc, LatestVersionNotDeployed):
        return exc
    serving, latest = _serving_and_latest(client, worker)
    expiry = (f" The switch still expires by itself at {iso(comes_back)}." if comes_back else "")
    return ServiceError(
        f"Cloudflare refused to {doing} on {worker}: secrets can only be edited when the Worker's latest version is "
        f"the one serving all traffic, and here it is not (serving: {serving}; latest: {latest}) [code "
        f"{exc.code}].{expiry} This is what a rollback, `wrangler versions upload` or a gradual deployment leaves.",
        hint="Either deploy the latest version again (`wrangler versions deploy`, which undoes a rollback), or "
             "deploy the code you want to keep serving with `wrangler deploy` so it becomes the latest version; "
             "then run this command again.",
    )


def _serving_and_latest(client: CloudflareClient, worker: str) -> tuple[str, str]:
    try:
        deployments = client.list_deployments(worker)
        versions = client.list_versions(worker)
    except ServiceError:
        return "unknown", "unknown"
    serving = ", ".join(f"{v.version_id} at {v.percentage:g}%" for v in deployments[0].versions) \
        if deployments else "nothing"
    return serving, versions[0].id if versions else "none"
