"""The Cloudflare token, its permissions as far as reads show them, and the queue and the Worker.

Token verification says only whether the token is active and when it expires, never what it may do; so each
permission mcpdeploy needs is probed with a read of what it guards: the queue (Queues), the Worker's settings
(Workers Scripts) and a one-minute analytics query (Account Analytics, for `status`). A refused read can come back
as 401/403 or as a 200 whose envelope or GraphQL answer carries errors; both are handled. Whether the token may
*edit* cannot be seen without writing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from mcpdeploy.doctor.check import MISSING, Check, Target, from_error, ok, problem, warning
from mcpdeploy.errors import ApiError, McpdeployError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.cloudflare import CloudflareApiError, CloudflareClient, TokenStatus
from mcpdeploy.providers.http import HttpOptions

T = TypeVar("T")
REFUSED = ExitCode.API_REJECTED
# Codes the v4 API answers a token that may not do something: not a user token / invalid token, unauthorized to
# access the resource, authentication error.
_REFUSAL_CODES = frozenset({1000, 9109, 10000})
EXPIRY_WARNING = timedelta(days=7)
EDIT_UNSEEN = "Edit cannot be seen without writing"
NEW_TOKEN = ("Make a new API token (Cloudflare dashboard: My Profile > API Tokens, or the account's API Tokens) with "
             "Workers Scripts: Edit, Queues: Edit and Account Analytics: Read on the account, and set "
             "CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_TOKEN_FILE).")


def _attempt(call: Callable[[], T]) -> tuple[T | None, McpdeployError | None]:
    try:
        return call(), None
    except McpdeployError as exc:
        return None, exc


def refused(exc: McpdeployError) -> bool:
    """Whether an error says "this token may not" rather than "this thing is not there"."""
    if not isinstance(exc, ApiError):
        return False
    if isinstance(exc, CloudflareApiError) and _REFUSAL_CODES.intersection(exc.codes):
        return True
    return exc.status in (401, 403)


def cloudflare_checks(target: Target, options: HttpOptions) -> list[Check]:
    cf = target.settings.cloudflare
    if cf.api_token is None or not cf.account_id:
        return [problem("cloudflare", "not configured: the queue, its consumer, the Worker's secrets and deploys "
                                      "need it", "Set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_TOKEN_FILE) and "
                                                 "CLOUDFLARE_ACCOUNT_ID.", ExitCode.USAGE)]
    token = cf.api_token.get_secret_value()
    with CloudflareClient(cf.api_base_url, token, cf.account_id, options) as client:
        checks = [_token_check(client)]
        if checks[0].status == "problem":
            return checks
        checks += _queue_checks(client, target)
        checks += _worker_checks(client, target)
    checks.append(_analytics_check(target, token, options))
    return checks


def _token_check(client: CloudflareClient) -> Check:
    name = "cloudflare token"
    status, error = _attempt(client.verify_token)
    if error is not None:
        if refused(error):
            return problem(name, f"refused: revoked, expired or mistyped ({error.message})", NEW_TOKEN, REFUSED)
        return from_error(name, error)
    assert status is not None
    return _token_status_check(name, status)


def _token_status_check(name: str, status: TokenStatus) -> Check:
    owner = "account" if status.owner == "account" else "user"
    if not status.active:
        return problem(name, f"the {owner} token is {status.status}", NEW_TOKEN, REFUSED)
    now = datetime.now(timezone.utc)
    not_before = _moment(status.not_before)
    if not_before is not None and not_before > now:
        return problem(name, f"the {owner} token is not valid before {status.not_before}",
                       "Wait until then, or make a token without a start date.", REFUSED)
    expires = _moment(status.expires_on)
    if expires is not None and expires - now < EXPIRY_WARNING:
        return warning(name, f"active {owner} token, but it expires on {status.expires_on}",
                       "Roll the token (or make a new one) before then, and update CLOUDFLARE_API_TOKEN.")
    return ok(name, f"active {owner} token" + (f", expires on {status.expires_on}" if expires else ""))


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _permission_refused(permission: str, what: str, error: McpdeployError, account: str) -> Check:
    return problem(f"cloudflare permission: {permission}", f"reading {what} was refused ({error.message})",
                   f"Give the token the permission Account > {permission} > Edit ({permission}: Edit) on account "
                   f"{account}, or check CLOUDFLARE_ACCOUNT_ID.", REFUSED)


def _queue_checks(client: CloudflareClient, target: Target) -> list[Check]:
    queue_name = target.settings.cloudflare.queue
    queue, error = _attempt(lambda: client.find_queue(queue_name))
    if error is not None:
        if refused(error):
            return [_permission_refused("Queues", "the account's queues", error, client.account_id)]
        return [from_error("queue", error)]
    checks = [ok("cloudflare permission: Queues", f"read allowed; {EDIT_UNSEEN}")]
    if queue is None:
        checks.append(problem("queue", f"no queue {queue_name!r} on account {client.account_id}",
                              target.command("provision") + " creates it", MISSING))
    else:
        checks.append(ok("queue", f"{queue_name} ({queue.queue_id})"))
    return checks


def _worker_checks(client: CloudflareClient, target: Target) -> list[Check]:
    worker = target.worker_name
    if not worker:
        return [problem("worker", "no Worker name: neither the wrangler config's `name` nor [cloudflare] "
                                  "worker_name (MCPDEPLOY_WORKER_NAME) gives one",
                        "Set `name` in the wrangler config.", ExitCode.USAGE)]
    exists, error = _attempt(lambda: client.script_exists(worker))
    if error is not None:
        if refused(error):
            return [_permission_refused("Workers Scripts", f"the Worker {worker!r}", error, client.account_id)]
        return [from_error("worker", error)]
    checks = [ok("cloudflare permission: Workers Scripts", f"read allowed; {EDIT_UNSEEN}")]
    if exists:
        checks.append(ok("worker", f"{worker} is deployed"))
    else:
        # The step after provision, not a fault: a project between `provision` and its first deploy can run, and
        # is told what comes next.
        checks.append(warning("worker", f"the Worker {worker!r} was never deployed to account {client.account_id}",
                              target.deploy_command + ", then " + target.command("provision") + " for its consumer "
                              "and secrets"))
    return checks


def _analytics_check(target: Target, token: str, options: HttpOptions) -> Check:
    from mcpdeploy.providers.cloudflare_graphql import PERMISSION, AnalyticsClient, AnalyticsPermissionMissing

    name = "cloudflare permission: Account Analytics"
    cf = target.settings.cloudflare
    assert cf.account_id is not None
    end = datetime.now(timezone.utc)
    client = AnalyticsClient(cf.api_base_url, token, cf.account_id, options)
    try:
        client.status_analytics(target.worker_name or "mcpdeploy-doctor", None, end - timedelta(minutes=1), end,
                                "datetimeMinute")
    except AnalyticsPermissionMissing as exc:
        return warning(name, f"analytics refused ({exc.detail}); only `mcpdeploy status` needs them",
                       f"Give the token the permission Account > Account Analytics > Read ({PERMISSION}).")
    except McpdeployError as exc:
        return warning(name, f"analytics could not be read: {exc.message}", exc.hint)
    finally:
        client.close()
    return ok(name, "read allowed")
