"""Clients on a served sandbox, for tests that set up or inspect what a command did (see the conftest fixtures
`served_sandbox` and `served_cloudflare`)."""

from __future__ import annotations

from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox


def xano_client(box: Sandbox) -> XanoClient:
    assert box.url is not None, "the sandbox is not served"
    return XanoClient(box.url, credentials.XANO_METADATA_TOKEN, credentials.XANO_WORKSPACE_ID)


def cloudflare_client(box: Sandbox) -> CloudflareClient:
    assert box.url is not None, "the sandbox is not served"
    return CloudflareClient(f"{box.url}/client/v4", credentials.CLOUDFLARE_API_TOKEN, credentials.CLOUDFLARE_ACCOUNT_ID)
