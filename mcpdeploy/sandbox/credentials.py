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
