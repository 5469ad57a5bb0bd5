"""Real Node, npm and `wrangler dev` for the tests that run Workers on workerd (tests/workerd, tests/templates,
tests/e2e), on top of mcpdeploy.worker.node_tools (which `mcpdeploy dev` uses too).

Nothing here skips: a missing or too old Node, or a failed install, fails the tests, since a skipped end-to-end
test looks the same as a passing one in CI. Installs are guarded by a file lock, so two test runs in one
checkout do not both rewrite a node_modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mcpdeploy.worker.node_tools import Node, NodeToolError
from mcpdeploy.worker.node_tools import find_node as _find_node
from mcpdeploy.worker.node_tools import install_packages as _install_packages
from mcpdeploy.worker.node_tools import node_env as _node_env

READY_TIMEOUT = 90.0


def find_node() -> Node:
    try:
        return _find_node()
    except NodeToolError as exc:
        pytest.fail(f"{exc.message}. {exc.hint or ''}")


def node_env(node: Node) -> dict[str, str]:
    """The environment for npm and wrangler, without any Cloudflare account of the machine running the tests."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    return _node_env(node, base) | {"NO_COLOR": "1"}


def install_packages(node: Node, folder: Path) -> Path:
    """`npm ci` in `folder` unless its node_modules already holds its lockfile's packages; wrangler's script."""
    with open(folder / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _install_packages(node, folder)
        except NodeToolError as exc:
            pytest.fail(exc.message)


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


@contextlib.contextmanager
def wrangler_dev(node: Node, script: Path, folder: Path, state: Path, variables: dict[str, str]) -> Iterator[str]:
    """`wrangler dev` of the Worker in `folder` on a free loopback port, until the block ends; yields its origin.
    Its output goes to `state/wrangler.log`, which a failed start shows."""
    port = free_port()
    log = state / "wrangler.log"
    env = node_env(node) | {"WRANGLER_LOG_PATH": str(state / "wrangler-logs")}
    command = [str(node.node), str(script), "dev", "--ip", "127.0.0.1", "--port", str(port),
               "--inspector-port", str(free_port()), "--persist-to", str(state / "persist"),
               "--show-interactive-dev-session=false"]
    for name, value in variables.items():
        command += ["--var", f"{name}:{value}"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        origin = f"http://127.0.0.1:{port}"
        wait_until_ready(process, origin, log)
        yield origin
    finally:
        stop(process)
