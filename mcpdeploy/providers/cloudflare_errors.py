"""Cloudflare v4 failures as our exceptions: every `errors[].code` kept, a hint for the codes Cloudflare
documents and for the Queues codes the real API was seen answering, and distinct
types for the answers callers branch on."""

from __future__ import annotations

from dataclasses import dataclass

from mcpdeploy.errors import ApiError

SERVICE = "cloudflare"

# Codes callers act on.
ACCOUNT_TOKEN_ON_USER_VERIFY = 1000
WORKER_NOT_FOUND = 10007
SETTINGS_NOT_DEPLOYED = 10214
LATEST_VERSION_NOT_DEPLOYED = 10215
SECRETS_CHANGED_SINCE_VERSION = 10220
QUEUE_NOT_FOUND = 11000  # HTTP 404, as the real API answered it
INVALID_QUEUE_NAME = 11003
CONSUMER_EXISTS = 11004
QUEUE_NAME_TAKEN = 11009  # HTTP 409, as the real API answered it

_TOKEN_HELP = (
    "Check CLOUDFLARE_API_TOKEN: an API token (not the Global API Key), not expired, with Workers Scripts:Edit "
    "and Queues:Edit on the account CLOUDFLARE_ACCOUNT_ID."
)
HINTS: dict[int, str] = {
    7003: "No such API route: check CLOUDFLARE_API_BASE_URL and CLOUDFLARE_ACCOUNT_ID.",
    9109: "The token may not access this resource: " + _TOKEN_HELP,
    10000: "Authentication error. " + _TOKEN_HELP,
    10002: "Cloudflare's internal error; it is known to happen when a queue and its producer binding share a name "
    "(use binding = \"USAGE_QUEUE\"). Otherwise run again later.",
    WORKER_NOT_FOUND: "The Worker does not exist on this account: deploy it once (`wrangler deploy`), or check the "
    "Worker name and CLOUDFLARE_ACCOUNT_ID.",
    10056: "That secret is not set on the Worker.",
    SETTINGS_NOT_DEPLOYED: "The Worker's latest settings are not deployed, so secrets cannot be edited. Deploy the "
    "latest version first (`wrangler deploy` or `wrangler versions deploy`), then run again.",
    LATEST_VERSION_NOT_DEPLOYED: "The Worker's latest version is not the deployed one (after `wrangler versions "
    "upload` or a gradual deployment), so secrets cannot be edited. Deploy the latest version first, then run again.",
    SECRETS_CHANGED_SINCE_VERSION: "Secrets changed since that version: deploying it brings back its older secret "
    "values. Run again with --force to deploy it anyway, then push the current secrets again.",
    10222: "The Worker has no uploaded version yet: deploy it once with `wrangler deploy`.",
    QUEUE_NOT_FOUND: "That queue does not exist on this account (deleted since, or CLOUDFLARE_ACCOUNT_ID names another "
    "account). Run `mcpdeploy provision` to create it again.",
    QUEUE_NAME_TAKEN: "A queue with this name already exists on the account (names are unique per account), yet "
    "listing the queues did not show it: check that the token can read Queues (Queues: Edit) on "
    "CLOUDFLARE_ACCOUNT_ID.",
    INVALID_QUEUE_NAME: "Queue names are 1-63 lowercase letters, digits and dashes, starting and ending with a "
    "letter or digit.",
    CONSUMER_EXISTS: "A queue has only one Worker consumer, and another Worker already consumes this queue. Give "
    "each environment its own queue (for example usage-queue-staging), or remove the other consumer.",
    100127: "Invalid consumer settings: max_batch_size must be 1-100 and max_batch_timeout 0-60 seconds.",
    100128: "Invalid queue settings (delivery delay 0-86400 s, retention 60-1209600 s).",
}


@dataclass(frozen=True)
class CloudflareErrorItem:
    code: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.message} [code {self.code}]" if self.code is not None else self.message


class CloudflareApiError(ApiError):
    """The v4 API said `success: false` (or answered 4xx); `errors` holds every `errors[]` entry."""

    def __init__(
        self, *, method: str, url: str, status: int, errors: list[CloudflareErrorItem], hint: str | None = None
    ) -> None:
        self.errors = errors
        first = next((e.code for e in errors if e.code is not None), None)
        detail = "; ".join(str(e) for e in errors) or "success: false with no errors[]"
        super().__init__(
            service=SERVICE, method=method, url=url, status=status,
            code=str(first) if first is not None else None, detail=detail,
            hint=hint or hint_for_codes([e.code for e in errors]),
        )

    @property
    def codes(self) -> list[int]:
        return [e.code for e in self.errors if e.code is not None]


class SecretsChangedSinceVersion(CloudflareApiError):
    """10220: the target version's secrets differ from the current ones; `?force=true` deploys it anyway."""


class LatestVersionNotDeployed(CloudflareApiError):
    """10214/10215: secrets cannot be edited while the latest version is not the deployed one."""


class ConsumerConflict(CloudflareApiError):
    """11004: the queue already has a Worker consumer (another script)."""


def hint_for_codes(codes: list[int | None]) -> str | None:
    return next((HINTS[c] for c in codes if c is not None and c in HINTS), None)


def error_for(
    *, method: str, url: str, status: int, errors: list[CloudflareErrorItem], hint: str | None = None
) -> CloudflareApiError:
    """The most specific exception type for these errors."""
    codes = {e.code for e in errors}
    cls: type[CloudflareApiError] = CloudflareApiError
    if SECRETS_CHANGED_SINCE_VERSION in codes:
        cls = SecretsChangedSinceVersion
    elif codes & {SETTINGS_NOT_DEPLOYED, LATEST_VERSION_NOT_DEPLOYED}:
        cls = LatestVersionNotDeployed
    elif CONSUMER_EXISTS in codes:
        cls = ConsumerConflict
    return cls(method=method, url=url, status=status, errors=errors, hint=hint)


def parse_error_items(body: object) -> list[CloudflareErrorItem]:
    """`errors[]` of a v4 envelope; tolerant of odd items (a string, a missing code)."""
    if not isinstance(body, dict):
        return []
    items: list[CloudflareErrorItem] = []
    for raw in body.get("errors") or []:
        if isinstance(raw, dict):
            code = raw.get("code")
            items.append(CloudflareErrorItem(int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
                                             str(raw.get("message", "")).strip() or "(no message)"))
        else:
            items.append(CloudflareErrorItem(None, str(raw)))
    return items
