"""The whole system on one machine, as the README's quick start runs it: `mcpdeploy init` in a fresh folder,
`provision --sandbox`, `mcpdeploy dev --sandbox` (the Worker under real `wrangler dev`, with the usage queue and
its consumer run locally by wrangler, against the sandbox's Xano), then `smoke-test`, tool calls, usage rows,
refused keys, a Xano failure during a consumer batch, and the auth switch.

The npm packages come from the reference Worker's shared install (tests/templates/conftest.py), linked into the
project: `mcpdeploy dev` finds them current and does not run npm again. The stages' times and the usage rows seen
against the tool calls made are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
from tests.conftest import CliResult
from tests.support.mcp_session import McpSession
from tests.support.node import free_port, stop
from tests.templates.conftest import INSTALL_DIR, installed_packages

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow
KEY = credentials.MCP_API_KEY
USAGE_WRITES = r"^POST /api:[^/]+/usage_logs$"
READY_TIMEOUT = 120.0
ROWS_TIMEOUT = 60.0


@dataclass
class System:
    project: Path
    mcp_url: str
    sandbox_url: str
    log: Path
    timings: dict[str, float] = field(default_factory=dict)

    def table(self, name: str) -> list[dict[str, Any]]:
        """The sandbox's rows, from its state file (the serving process writes it after every change)."""
        state = json.loads((self.project / ".mcpdeploy" / "sandbox" / "state.json").read_text())
        table = next(t for t in state["xano"]["tables"].values() if t["name"] == name)
        return list(table["rows"])

    def usage_of(self, session_id: str | None) -> list[dict[str, Any]]:
        return [row for row in self.table("usage_logs") if row["session_id"] == session_id]

    def session(self, session_id: str | None) -> dict[str, Any]:
        (row,) = [row for row in self.table("mcp_sessions") if row["session_id"] == session_id]
        return row

    def fault(self, **fault: Any) -> None:
        assert httpx.post(f"{self.sandbox_url}/__sandbox/faults", json=fault).status_code == 200


def wait_for(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until `condition()` held; fails the test when it does not within `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not true within {timeout:.0f}s")
        time.sleep(0.1)
    return time.monotonic() - started


def keyless_initialize(system: System) -> httpx.Response:
    return McpSession(system.mcp_url, None).initialize()


@pytest.fixture
def system(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[System]:
    """init -> provision --sandbox -> mcpdeploy dev --sandbox, in a fresh folder."""
    started = time.monotonic()
    installed_packages()  # npm ci of the pinned packages, once per lockfile
    timings = {"npm packages ready": time.monotonic() - started}

    project = tmp_path / "demo"
    assert cli("init", str(project)).exit_code == 0
    os.symlink(INSTALL_DIR / "node_modules", project / "node_modules")
    monkeypatch.chdir(project)
    result = cli("provision", "--sandbox", "--yes")
    assert result.exit_code == 0, result.stderr
    timings["init + provision"] = time.monotonic() - started - timings["npm packages ready"]

    port = free_port()
    log = tmp_path / "dev.log"
    # SESSION_TOUCH_SECONDS=1 (through to wrangler dev): last_active may move every second, not every minute, so
    # the test sees it move without waiting.
    command = [sys.executable, "-m", "mcpdeploy", "dev", "--sandbox", "--port", str(port), "--",
               "--var", "SESSION_TOUCH_SECONDS:1", "--persist-to", str(tmp_path / "persist")]
    dev_started = time.monotonic()
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=project, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        origin = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"mcpdeploy dev exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                httpx.get(origin, timeout=2.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"mcpdeploy dev did not serve within {READY_TIMEOUT:.0f}s:\n{log.read_text()[-4000:]}")
                time.sleep(0.25)
        timings["mcpdeploy dev ready"] = time.monotonic() - dev_started
        sandbox_url = json.loads((project / ".mcpdeploy" / "sandbox" / "server.json").read_text())["url"]
        yield System(project, f"{origin}/mcp", sandbox_url, log, timings)
    finally:
        # SIGTERM to mcpdeploy dev stops the wrangler it started (its own process group) before it exits.
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            stop(process)
        assert not (project / ".mcpdeploy" / "sandbox" / "server.json").exists()


def test_the_whole_system_end_to_end(cli: Cli, system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    timings = system.timings
    xano_auth = f"{system.sandbox_url}/{AUTH_API_GROUP}"

    # smoke-test passes against the running Worker.
    monkeypatch.setenv("MCP_API_KEY", KEY)
    result = cli("smoke-test", "--url", system.mcp_url, "--xano-url", xano_auth, "--json", "--expect-tool", "echo",
                 "--call-tool", "echo", "--tool-args", '{"text": "smoke"}')
    report = json.loads(result.stdout)
    assert (result.exit_code, [c["id"] for c in report["checks"] if c["status"] == "fail"]) == (0, [])

    # N tool calls in one session: exactly N usage rows, with the session, user, tool and a duration.
    session = McpSession(system.mcp_url, KEY, client_name="e2e")
    assert session.initialize().status_code == 200
    created = system.session(session.session_id)
    time.sleep(1.1)  # past SESSION_TOUCH_SECONDS
    calls = 10
    tools = ["echo", "add"] * (calls // 2)
    mark = time.monotonic()
    for number, tool in enumerate(tools):
        arguments = {"text": f"call {number}"} if tool == "echo" else {"a": number, "b": 1}
        response, answer = session.call(tool, arguments)
        assert response.status_code == 200 and "error" not in answer
    timings[f"{calls} tool calls answered"] = time.monotonic() - mark
    timings[f"{calls} usage rows stored after the last call"] = wait_for(
        lambda: len(system.usage_of(session.session_id)) >= calls, ROWS_TIMEOUT)
    rows = system.usage_of(session.session_id)
    assert len(rows) == calls
    assert sorted(r["tool_name"] for r in rows) == sorted(tools)
    assert {r["user_id"] for r in rows} == {"1"}
    assert all(isinstance(r["duration"], int) and r["duration"] >= 0 for r in rows)
    assert system.session(session.session_id)["last_active"] > created["last_active"]

    # A wrong key is 401 and leaves no row (counted below, once the next batch is in).
    for key in ("wrong-key", None):
        refused = McpSession(system.mcp_url, key)
        refused.session_id = session.session_id
        response, _ = refused.call("echo", {"text": "refused"})
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")

    # Xano fails part of a consumer batch: two writes refused, one stored with its answer lost.
    system.fault(match=USAGE_WRITES, status=500, times=2)
    system.fault(match=USAGE_WRITES, drop_after=True, times=1)
    more = 6
    for number in range(more):
        assert session.call("echo", {"text": f"faulted {number}"})[0].status_code == 200
    timings[f"{more} usage rows stored through 3 Xano failures"] = wait_for(
        lambda: len(system.usage_of(session.session_id)) >= calls + more, ROWS_TIMEOUT)
    time.sleep(2)  # a duplicate would arrive with the retries, moments later
    rows = system.usage_of(session.session_id)
    texts = sorted(r["params"]["text"] for r in rows if "text" in r["params"])
    assert texts == sorted([f"call {n}" for n in range(0, calls, 2)] + [f"faulted {n}" for n in range(more)])
    assert len(rows) == calls + more
    assert not any(r["params"].get("text") == "refused" for r in system.table("usage_logs"))
    usage_seen = {"tool calls": calls + more, "usage rows": len(rows),
                  "distinct event ids": len({r["event_id"] for r in rows})}

    # The auth switch: `auth disable --for 1m` on the sandbox's Worker lets a keyless call through, marked.
    assert cli("sandbox", "deploy-worker").exit_code == 0
    result = cli("auth", "disable", "--for", "1m", "--sandbox", "--yes")
    assert result.exit_code == 0, result.stderr
    mark = time.monotonic()
    timings["auth disable seen by the Worker"] = wait_for(lambda: keyless_initialize(system).status_code == 200, 30)
    keyless = McpSession(system.mcp_url, None)
    response = keyless.initialize()
    assert response.status_code == 200 and "mcp-auth-disabled-until" in response.headers
    response, answer = keyless.call("echo", {"text": "keyless"})
    assert response.status_code == 200 and "mcp-auth-disabled-until" in response.headers
    assert answer["result"]["content"][0]["text"] == "keyless"
    wait_for(lambda: len(system.usage_of(keyless.session_id)) == 1, ROWS_TIMEOUT)
    assert system.usage_of(keyless.session_id)[0]["user_id"] == "anonymous"
    # ... and it ends by itself: nobody runs `auth enable`.
    timings["auth back on by itself after"] = time.monotonic() - mark + wait_for(
        lambda: keyless_initialize(system).status_code == 401, 90)

    timings["end-to-end (after dev was ready)"] = time.monotonic() - started
    print("\ne2e timings (s):", json.dumps({k: round(v, 2) for k, v in timings.items()}, indent=1))
    print("e2e usage:", json.dumps(usage_seen))
    assert usage_seen["usage rows"] == usage_seen["tool calls"] == usage_seen["distinct event ids"]
