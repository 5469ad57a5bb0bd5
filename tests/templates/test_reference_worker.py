"""The reference Worker (templates/worker/) under real `wrangler dev`, against the sandbox's Xano: the key check,
sessions in mcp_sessions, and usage events through the local usage-queue and its consumer into usage_logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault
from tests.conftest import CliResult
from tests.support.mcp_session import McpSession
from tests.templates.conftest import OTHER_KEY, ReferenceWorker

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow
KEY = credentials.MCP_API_KEY
USAGE_WRITES = r"^POST /api:[^/]+/usage_logs$"


def logs_of(worker: ReferenceWorker, session_id: str) -> list[dict[str, Any]]:
    return [row for row in worker.rows("usage_logs") if row["session_id"] == session_id]


def session_row(worker: ReferenceWorker, session_id: str) -> dict[str, Any]:
    (row,) = [row for row in worker.rows("mcp_sessions") if row["session_id"] == session_id]
    return row


@pytest.mark.parametrize("era", ["auto", "modern"])
def test_smoke_test_passes_in_both_protocol_eras(cli: Cli, reference_worker: ReferenceWorker, era: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_API_KEY", KEY)
    result = cli("smoke-test", "--url", reference_worker.url, "--xano-url", reference_worker.xano_url, "--json",
                 "--protocol-era", era, "--expect-tool", "echo", "--call-tool", "add", "--tool-args",
                 '{"a": 2, "b": 3}')
    report = json.loads(result.stdout)
    assert (result.exit_code, [c["id"] for c in report["checks"] if c["status"] == "fail"]) == (0, [])
    assert report["server"]["name"] == "mcpdeploy-reference-worker"
    assert report["protocol"]["session"] is (era == "auto")


def test_no_key_and_a_wrong_key_are_401_with_a_bearer_challenge(reference_worker: ReferenceWorker) -> None:
    before = len(reference_worker.rows("mcp_sessions"))
    for key in (None, "not-a-key"):
        response = McpSession(reference_worker.url, key).initialize()
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert len(reference_worker.rows("mcp_sessions")) == before


def test_accepted_keys_are_cached_and_refused_ones_are_not(reference_worker: ReferenceWorker) -> None:
    session = McpSession(reference_worker.url, KEY)
    assert session.initialize().status_code == 200
    checks = reference_worker.requests_to("/auth/me")
    for _ in range(3):
        assert session.request("tools/list")[0].status_code == 200
    assert reference_worker.requests_to("/auth/me") == checks  # the key was checked once, a moment ago

    for _ in range(3):
        assert McpSession(reference_worker.url, "refused-key").initialize().status_code == 401
    assert reference_worker.requests_to("/auth/me") == checks + 3


def test_xano_down_during_the_key_check_is_503_not_401(reference_worker: ReferenceWorker) -> None:
    reference_worker.sandbox.add_fault(Fault(match=r"/auth/me$", status=502, times=1))
    response = McpSession(reference_worker.url, "a-key-never-seen-before").initialize()
    assert response.status_code == 503


def test_a_session_is_recorded_touched_and_closed(reference_worker: ReferenceWorker) -> None:
    session = McpSession(reference_worker.url, KEY, client_name="session-test")
    assert session.initialize().status_code == 200
    assert session.session_id is not None
    created = session_row(reference_worker, session.session_id)
    assert (created["user_id"], created["status"]) == ("1", "active")
    assert created["client_info"] == {"name": "session-test", "version": "1.0"}

    # SESSION_TOUCH_SECONDS is 0 here: every request moves last_active, in the background.
    assert session.call("echo", {"text": "x"})[1]["result"]["content"][0]["text"] == "x"
    assert reference_worker.wait_for(
        lambda: session_row(reference_worker, session.session_id)["last_active"] > created["last_active"])
    assert session_row(reference_worker, session.session_id)["status"] == "active"

    assert session.delete().status_code == 200
    assert session_row(reference_worker, session.session_id)["status"] == "closed"
    assert session.request("tools/list")[0].status_code == 404


def test_a_session_this_isolate_never_saw_is_resumed_from_xano(reference_worker: ReferenceWorker) -> None:
    """Another isolate (another location) started it: the Worker reads it with GET /mcp_sessions/{id}."""
    started = McpSession(reference_worker.url, KEY)
    started.session_id = "started-elsewhere-0001"
    group_url = reference_worker_group_url(reference_worker)
    created = httpx.post(f"{group_url}/mcp_sessions", json={"session_id": started.session_id, "user_id": "1",
                                                             "client_info": {"name": "elsewhere"}})
    assert created.status_code == 200
    gets = reference_worker.requests_to(f"/mcp_sessions/{started.session_id}", "GET")

    assert started.request("tools/list")[0].status_code == 200
    assert reference_worker.requests_to(f"/mcp_sessions/{started.session_id}", "GET") == gets + 1


def test_an_unknown_or_foreign_session_is_404(reference_worker: ReferenceWorker) -> None:
    mine = McpSession(reference_worker.url, KEY)
    assert mine.initialize().status_code == 200
    thief = McpSession(reference_worker.url, OTHER_KEY)
    thief.session_id = mine.session_id
    assert thief.request("tools/list")[0].status_code == 404
    unknown = McpSession(reference_worker.url, KEY)
    unknown.session_id = "no-such-session"
    assert unknown.request("tools/list")[0].status_code == 404


def test_every_tool_call_becomes_one_usage_row(reference_worker: ReferenceWorker) -> None:
    session = McpSession(reference_worker.url, KEY, client_name="usage-test")
    assert session.initialize().status_code == 200
    session.call("echo", {"text": "one"})
    session.call("add", {"a": 1, "b": 2})
    session.call("add", {"a": "not a number"})  # invalid arguments: still a call, recorded with its error
    session.call("no-such-tool", {})
    session.request("tools/list")  # not a tool call: no row
    assert session.session_id is not None

    assert reference_worker.wait_for(lambda: len(logs_of(reference_worker, session.session_id)) >= 4)
    rows = sorted(logs_of(reference_worker, session.session_id), key=lambda r: r["timestamp"])
    assert [r["tool_name"] for r in rows] == ["echo", "add", "add", "no-such-tool"]
    assert {r["user_id"] for r in rows} == {"1"}
    assert all(isinstance(r["duration"], int) and r["duration"] >= 0 for r in rows)
    assert rows[0]["params"] == {"text": "one"} and rows[0]["error"] is None
    assert rows[0]["result"]["content"] == [{"type": "text", "text": "one"}]
    assert rows[1]["cost"] == pytest.approx(0.001) and rows[1]["result"]["structuredContent"] == {"sum": 3}
    assert rows[2]["error"] and rows[3]["error"]
    assert {r["ai_model"] for r in rows} == {"usage-test"}


def test_xano_failing_part_of_a_batch_loses_and_duplicates_nothing(reference_worker: ReferenceWorker) -> None:
    """Two writes refused (500), one stored but its answer lost (the connection dropped after the write): the
    consumer acks what was stored and retries only the rest."""
    session = McpSession(reference_worker.url, KEY)
    assert session.initialize().status_code == 200
    reference_worker.sandbox.add_fault(Fault(match=USAGE_WRITES, status=500, times=2))
    reference_worker.sandbox.add_fault(Fault(match=USAGE_WRITES, drop_after=True, times=1))
    calls = 8
    for number in range(calls):
        assert session.call("echo", {"text": f"call {number}"})[0].status_code == 200
    assert session.session_id is not None

    assert reference_worker.wait_for(lambda: len(logs_of(reference_worker, session.session_id)) >= calls)
    assert reference_worker.wait_for(lambda: not any(f.times for f in reference_worker.sandbox.faults))
    rows = logs_of(reference_worker, session.session_id)
    assert sorted(r["params"]["text"] for r in rows) == sorted(f"call {n}" for n in range(calls))
    assert len(rows) == calls


def reference_worker_group_url(worker: ReferenceWorker) -> str:
    with worker.sandbox.lock:
        group = next(g for g in worker.sandbox.state["xano"]["apigroups"].values() if g["name"] == "mcp")
    return worker.xano_url.rsplit("/", 1)[0] + f"/api:{group['canonical']}"
