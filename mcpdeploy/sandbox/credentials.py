"""The sandbox's fixed, public credentials. They open only the local sandbox, so they are not secrets."""

from __future__ import annotations

XANO_METADATA_TOKEN = "sandbox-xano-metadata-token"
XANO_WORKSPACE_ID = 1
CLOUDFLARE_API_TOKEN = "sandbox-cloudflare-api-token"
CLOUDFLARE_ACCOUNT_ID = "5a9d0b7c1e2f34a6b8c0d1e2f3a4b5c6"
WORKER_NAME = "mcp-server"
# An API key that the sandbox's `auth/me` accepts, as a Xano auth endpoint would for a real user.
MCP_API_KEY = "sandbox-mcp-api-key"
MCP_USER = {"id": 1, "name": "Sandbox User", "email": "sandbox@example.com"}


def environment(base_url: str = "http://sandbox.test", *, worker_name: str | None = WORKER_NAME) -> dict[str, str]:
    """The variables a user would export to point mcpdeploy at a sandbox answering at `base_url` (in-process
    transports answer any host; `http://sandbox.test` names none that resolves), with these credentials."""
    variables = {
        "XANO_INSTANCE_URL": base_url, "XANO_WORKSPACE_ID": str(XANO_WORKSPACE_ID),
        "XANO_METADATA_TOKEN": XANO_METADATA_TOKEN,
        "CLOUDFLARE_API_BASE_URL": f"{base_url}/client/v4",
        "CLOUDFLARE_API_TOKEN": CLOUDFLARE_API_TOKEN,
        "CLOUDFLARE_ACCOUNT_ID": CLOUDFLARE_ACCOUNT_ID,
    }
    return variables | ({"MCPDEPLOY_WORKER_NAME": worker_name} if worker_name else {})
