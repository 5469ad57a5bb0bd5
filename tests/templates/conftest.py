"""The reference Worker (templates/worker/) on real workerd: `wrangler dev` serves it against a sandbox the tests
hold, with its queue and consumer running locally as wrangler runs them.

Its npm packages are installed once, by `npm ci` from the template's own package.json and package-lock.json,
into tests/templates/.reference-worker/ (kept between runs, reinstalled when the lockfile changes); each test
session gets a fresh project folder that links to them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.sandbox.xano_runtime import add_api_key
from mcpdeploy.sandbox.xano_state import table_by_name, xano_state
from tests.support.node import find_node, install_packages, wrangler_dev

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "worker"
INSTALL_DIR = Path(__file__).parent / ".reference-worker"
OTHER_KEY = "another-users-key"
OTHER_USER = {"id": 2, "name": "Other User", "email": "other@example.com"}


def installed_packages() -> tuple[Any, Path]:
    """Node, and wrangler's script in INSTALL_DIR, whose node_modules matches the template's lockfile."""
    node = find_node()
    INSTALL_DIR.mkdir(exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        source = (TEMPLATE / name).read_bytes()
        target = INSTALL_DIR / name
        if not target.is_file() or target.read_bytes() != source:
            target.write_bytes(source)
    return node, install_packages(node, INSTALL_DIR)


def assemble_project(folder: Path) -> None:
    """The Worker as a project holds it: the modules in src/, its schemas (usage_logs with event_id), the packages
    linked from INSTALL_DIR."""
    (folder / "src").mkdir(parents=True)
    for module in TEMPLATE.iterdir():
        if module.suffix in (".js", ".mjs"):
            shutil.copy(module, folder / "src" / module.name)
    shutil.copytree(TEMPLATE / "schemas", folder / "schemas")
    shutil.copy(TEMPLATE / "package.json", folder / "package.json")
    os.symlink(INSTALL_DIR / "node_modules", folder / "node_modules")
    (folder / "wrangler.toml").write_text(
        'name = "reference-worker"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n'
        'compatibility_flags = ["nodejs_compat"]\n')
    # The consumer's batch wait is the time a usage row takes to appear: short, so the tests are quick.
    (folder / "mcpdeploy.toml").write_text("[cloudflare]\nmax_batch_timeout = 1\n")


@dataclass
class ReferenceWorker:
    url: str  # the Worker's /mcp
    sandbox: Sandbox
    xano_url: str  # the sandbox's auth API group

    def rows(self, table: str) -> list[dict[str, Any]]:
        with self.sandbox.lock:
            found = table_by_name(xano_state(self.sandbox), credentials.XANO_WORKSPACE_ID, table)
            assert found is not None, f"no table {table} in the sandbox"
            return [dict(row) for row in found["rows"]]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.1)
        return condition()

    def requests_to(self, fragment: str, method: str | None = None) -> int:
        with self.sandbox.lock:
            return sum(1 for r in self.sandbox.requests
                       if fragment in r.path and (method is None or r.method == method))


@pytest.fixture(scope="session")
def reference_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceWorker]:
    from mcpdeploy.cli.app import run

    node, script = installed_packages()
    state = tmp_path_factory.mktemp("reference-worker")
    project = state / "project"
    assemble_project(project)
    (project / ".mcpdeploy" / "sandbox").mkdir(parents=True)
    sandbox = Sandbox(project / ".mcpdeploy" / "sandbox")
    with SandboxServer(sandbox) as server:
        # provision --sandbox uses a served sandbox of the project when it finds one: this one, which the tests hold.
        (project / ".mcpdeploy" / "sandbox" / "server.json").write_text(json.dumps({"url": server.url}))
        code = run(["provision", "--sandbox", "--yes", "--project-dir", str(project)])
        assert code == 0, "provision --sandbox failed"
        add_api_key(sandbox, OTHER_KEY, OTHER_USER)
        xano_url = f"{server.url}/{AUTH_API_GROUP}"
        variables = {"XANO_AUTH_URL": xano_url, "SESSION_TOUCH_SECONDS": "0"}
        with wrangler_dev(node, script, project, state, variables) as origin:
            yield ReferenceWorker(f"{origin}/mcp", sandbox, xano_url)
