"""The sandbox's Cloudflare API under `/client/v4`: token verification, Queues and consumers, Worker versions,
deployments and secrets, all in the v4 envelope with Cloudflare's documented error codes.

Tokens: `credentials.CLOUDFLARE_API_TOKEN` is a user token. ACCOUNT_TOKEN is an account-owned token, so the
user-then-account verification path can be exercised: `/user/tokens/verify` answers it with code 1000, as the
real API does. Any other token gets 10000. Only `credentials.CLOUDFLARE_ACCOUNT_ID` exists (others: 9109).
"""

from __future__ import annotations

from typing import Any

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.cloudflare_envelope import (
    AUTHENTICATION,
    NO_ROUTE,
    NOT_A_USER_TOKEN,
    UNAUTHORIZED_RESOURCE,
    CloudflareFailure,
    ok,
)
from mcpdeploy.sandbox.cloudflare_graphql import NO_ANALYTICS_TOKEN
from mcpdeploy.sandbox.cloudflare_graphql import PATH as GRAPHQL_PATH
from mcpdeploy.sandbox.cloudflare_queues import handle_queues
from mcpdeploy.sandbox.cloudflare_workers import (
    READABLE_SECRET_NAMES,
    deployed_secret,
    handle_script,
    handle_service,
    handle_subdomain,
    handle_worker,
)
from mcpdeploy.sandbox.messages import SandboxHost, SandboxRequest, SandboxResponse
from mcpdeploy.sandbox.queue_delivery import handle_queue_runtime

PREFIX = "/client/v4"
ACCOUNT_TOKEN = "sandbox-cloudflare-account-token"
_TOKEN_IDS = {credentials.CLOUDFLARE_API_TOKEN: "ed17574386854bf78a67040be0a770b0",
              ACCOUNT_TOKEN: "4c5e9d0a1b2c3d4e5f60718293a4b5c6",
              # Everything but Account Analytics: the GraphQL Analytics API refuses it (cloudflare_graphql.py).
              NO_ANALYTICS_TOKEN: "9d8c7b6a5f4e3d2c1b0a998877665544"}


class CloudflareService:
    prefix = PREFIX

    def __init__(self, sandbox: SandboxHost) -> None:
        self.sandbox = sandbox

    @property
    def state(self) -> dict[str, Any]:
        return self.sandbox.section("cloudflare", lambda: {"queues": [], "scripts": {}})

    def claims(self, path: str) -> bool:
        # The GraphQL Analytics endpoint is its own service (cloudflare_graphql.py).
        return (path == PREFIX or path.startswith(PREFIX + "/")) and path != GRAPHQL_PATH

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        try:
            return self._route(request, [p for p in request.path[len(PREFIX):].split("/") if p])
        except CloudflareFailure as failure:
            return failure.response()

    def _route(self, request: SandboxRequest, parts: list[str]) -> SandboxResponse:
        token = request.bearer()
        if token not in _TOKEN_IDS:
            raise CloudflareFailure(401, AUTHENTICATION, "Authentication error")
        if parts == ["user", "tokens", "verify"] and request.method == "GET":
            if token == ACCOUNT_TOKEN:
                raise CloudflareFailure(401, NOT_A_USER_TOKEN, "Invalid API Token")
            return ok(_token_status(token))
        if len(parts) < 3 or parts[0] != "accounts":
            raise CloudflareFailure(404, NO_ROUTE, "No route for the URI")
        if parts[1] != credentials.CLOUDFLARE_ACCOUNT_ID:
            raise CloudflareFailure(403, UNAUTHORIZED_RESOURCE, "Unauthorized to access requested resource")
        rest = parts[2:]
        if rest == ["tokens", "verify"] and request.method == "GET":
            if token != ACCOUNT_TOKEN:
                raise CloudflareFailure(401, NOT_A_USER_TOKEN, "Invalid API Token")
            return ok(_token_status(token))
        if rest[0] == "queues" and len(rest) >= 3 and rest[2] in ("messages", "metrics"):
            return handle_queue_runtime(self.sandbox, request, rest[1], rest[2:])
        if rest[0] == "queues":
            return handle_queues(self.state, request, rest[1:])
        if rest[:2] == ["workers", "scripts"] and len(rest) >= 3:
            return handle_script(self.state, request, rest[2], rest[3:])
        if rest[:2] == ["workers", "services"] and len(rest) == 3 and request.method == "GET":
            return handle_service(self.state, rest[2])
        if rest[:2] == ["workers", "workers"] and len(rest) == 3 and request.method == "GET":
            return handle_worker(self.state, request, rest[2])
        if rest == ["workers", "subdomain"] and request.method == "GET":
            return handle_subdomain(self.state)
        raise CloudflareFailure(404, NO_ROUTE, "No route for the URI")


def _token_status(token: str) -> dict[str, Any]:
    return {"id": _TOKEN_IDS[token], "status": "active"}


def mount(sandbox: SandboxHost) -> CloudflareService:
    return CloudflareService(sandbox)


def deployed_secret_value(sandbox: SandboxHost, script: str, name: str) -> str | None:
    """The value of a switch secret (READABLE_SECRET_NAMES) on the deployed version of `script`, for the
    sandbox's own MCP endpoint. Other secrets are never readable, here or over HTTP."""
    if name not in READABLE_SECRET_NAMES:
        raise ValueError(f"{name} is a secret: the sandbox keeps only its fingerprint")
    with sandbox.lock:
        worker = sandbox.state.get("cloudflare", {}).get("scripts", {}).get(script)
        stored = deployed_secret(worker, name)
    return str(stored["value"]) if stored and "value" in stored else None


def deployed_secret_names(sandbox: SandboxHost, script: str) -> list[str]:
    with sandbox.lock:
        worker = sandbox.state.get("cloudflare", {}).get("scripts", {}).get(script)
        if not worker or not worker["deployments"]:
            return []
        live = max(worker["deployments"][-1]["versions"], key=lambda v: v["percentage"])["version_id"]
        version = next((v for v in worker["versions"] if v["id"] == live), None)
        return sorted(version["secrets"]) if version else []
