"""The endpoints the sandbox's Xano serves once the checklist's tables and endpoints are provisioned."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox, SandboxRequest
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.sandbox.xano_runtime import add_api_key, lookup_api_key
from tests.sandbox import REFERENCE_ENDPOINTS, REFERENCE_TABLES

BASE = "http://sandbox.test"
WS = "/api:meta/workspace/1"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


@pytest.fixture
def canonical(sandbox: Sandbox) -> str:
    """Provision the reference tables and endpoints through the Metadata API; the new group's canonical."""
    meta = httpx.Client(transport=SandboxTransport(sandbox), base_url=BASE,
                        headers={"Authorization": f"Bearer {credentials.XANO_METADATA_TOKEN}"})
    xs = {"Content-Type": "text/x-xanoscript"}
    for document in REFERENCE_TABLES:
        assert meta.post(f"{WS}/table", content=document, headers=xs).status_code == 200
    group = meta.post(f"{WS}/apigroup", json={"name": "mcp", "description": "", "swagger": True}).json()
    for document in REFERENCE_ENDPOINTS:
        assert meta.post(f"{WS}/apigroup/{group['id']}/api", content=document, headers=xs).status_code == 200
    return str(group["canonical"])


@pytest.fixture
def api(sandbox: Sandbox, canonical: str) -> httpx.Client:
    return httpx.Client(transport=SandboxTransport(sandbox), base_url=f"{BASE}/api:{canonical}")


def test_post_creates_a_session_with_its_defaults(api: httpx.Client) -> None:
    response = api.post("/mcp_sessions", json={"session_id": "  s-1 ", "user_id": "7", "client_info": {"n": "x"}})

    session = response.json()
    assert response.status_code == 200
    assert {k: session[k] for k in ("id", "session_id", "user_id", "client_info", "status")} == {
        "id": 1, "session_id": "s-1", "user_id": "7", "client_info": {"n": "x"}, "status": "active"}
    assert all(isinstance(session[k], int) for k in ("last_active", "created_at", "updated_at"))


def test_get_returns_the_session_or_404(api: httpx.Client) -> None:
    created = api.post("/mcp_sessions", json={"session_id": "s-1", "user_id": "7"}).json()

    found = api.get("/mcp_sessions/s-1")
    missing = api.get("/mcp_sessions/nope")

    assert found.json() == created
    assert missing.status_code == 404
    assert missing.json() == {"code": "ERROR_CODE_NOT_FOUND", "message": "Session not found"}


def test_put_updates_last_active_and_status(api: httpx.Client) -> None:
    api.post("/mcp_sessions", json={"session_id": "s-1", "user_id": "7"})

    updated = api.put("/mcp_sessions/s-1", json={"status": "closed", "last_active": 1700000000000}).json()

    assert (updated["status"], updated["last_active"]) == ("closed", 1700000000000)
    assert api.get("/mcp_sessions/s-1").json()["status"] == "closed"
    assert api.put("/mcp_sessions/nope", json={"status": "closed"}).status_code == 404


def test_a_left_out_optional_text_input_arrives_empty_not_null(api: httpx.Client) -> None:
    # Xano's documented trap: `first_notnull` does not fall back for a text input the caller left out.
    api.post("/mcp_sessions", json={"session_id": "s-1", "user_id": "7"})

    touched = api.put("/mcp_sessions/s-1", json={"last_active": 1700000000000}).json()

    assert touched["status"] == ""


def test_usage_log_is_created_with_typed_values(api: httpx.Client) -> None:
    body = {"session_id": "s-1", "user_id": "7", "tool_name": "search", "params": {"q": "x"}, "duration": "42",
            "cost": 0.25}

    log = api.post("/usage_logs", json=body).json()

    assert {k: log[k] for k in ("id", "tool_name", "params", "duration", "cost", "error")} == {
        "id": 1, "tool_name": "search", "params": {"q": "x"}, "duration": 42, "cost": 0.25, "error": None}
    assert isinstance(log["timestamp"], int)


def test_a_missing_required_input_is_an_input_error_naming_it(api: httpx.Client) -> None:
    response = api.post("/usage_logs", json={"session_id": "s-1", "user_id": "7"})

    assert response.status_code == 400
    assert response.json() == {"code": "ERROR_CODE_INPUT_ERROR", "message": "Missing param: tool_name",
                               "payload": {"param": "tool_name"}}


def test_a_badly_typed_input_is_an_input_error(api: httpx.Client) -> None:
    response = api.post("/usage_logs", json={"session_id": "s", "user_id": "7", "tool_name": "t", "duration": "soon"})

    assert response.status_code == 400
    assert response.json()["payload"] == {"param": "duration"}


def test_the_unique_session_id_is_enforced_at_run_time(api: httpx.Client) -> None:
    api.post("/mcp_sessions", json={"session_id": "s-1", "user_id": "7"})

    again = api.post("/mcp_sessions", json={"session_id": "s-1", "user_id": "8"})

    assert again.status_code == 400
    assert again.json()["code"] == "ERROR_CODE_INPUT_ERROR"


def test_unknown_paths_verbs_and_groups_are_404(api: httpx.Client, sandbox: Sandbox) -> None:
    plain = httpx.Client(transport=SandboxTransport(sandbox), base_url=BASE)
    for response in (api.get("/nothing"), api.delete("/mcp_sessions/s-1"), plain.get("/api:nogroup/mcp_sessions/x")):
        assert response.status_code == 404
        assert response.json() == {"code": "ERROR_CODE_NOT_FOUND", "message": "Unable to locate request."}


def test_the_live_branch_can_be_named_in_the_url(sandbox: Sandbox, canonical: str) -> None:
    branch = httpx.Client(transport=SandboxTransport(sandbox), base_url=f"{BASE}/api:{canonical}:v1")

    assert branch.post("/mcp_sessions", json={"session_id": "s-1", "user_id": "7"}).status_code == 200
    assert branch.get("/mcp_sessions/s-1").status_code == 200


def test_rows_written_at_run_time_persist_for_the_next_process(sandbox: Sandbox, canonical: str,
                                                               tmp_path: Path) -> None:
    httpx.Client(transport=SandboxTransport(sandbox), base_url=f"{BASE}/api:{canonical}").post(
        "/mcp_sessions", json={"session_id": "s-1", "user_id": "7"})

    later = httpx.Client(transport=SandboxTransport(Sandbox(tmp_path)), base_url=f"{BASE}/api:{canonical}")

    assert later.get("/mcp_sessions/s-1").json()["user_id"] == "7"


# ---- auth/me -----------------------------------------------------------------------------------------------------


def auth_me(sandbox: Sandbox, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(transport=SandboxTransport(sandbox), base_url=BASE).get("/api:e6emygx3/auth/me",
                                                                                 headers=headers)


def test_auth_me_answers_the_seeded_user_for_the_seeded_key(sandbox: Sandbox) -> None:
    response = auth_me(sandbox, credentials.MCP_API_KEY)

    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("id", "name", "email")} == credentials.MCP_USER


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_auth_me_refuses_a_missing_or_unknown_key(sandbox: Sandbox, key: str | None) -> None:
    response = auth_me(sandbox, key)

    assert response.status_code == 401
    assert response.json() == {"code": "ERROR_CODE_UNAUTHORIZED", "message": "Unauthorized - Authentication Required"}


def test_added_keys_open_auth_me_and_are_not_stored_in_clear(sandbox: Sandbox, tmp_path: Path) -> None:
    add_api_key(sandbox, "team-key-123", {"id": 2, "name": "Ada", "email": "ada@example.com"})

    response = auth_me(Sandbox(tmp_path), "team-key-123")

    assert response.json()["email"] == "ada@example.com"
    assert lookup_api_key(sandbox, "team-key-123") == response.json()
    assert lookup_api_key(sandbox, "other") is None
    assert "team-key-123" not in (tmp_path / "state.json").read_text()


def test_auth_me_can_be_called_in_process_like_a_worker_would(sandbox: Sandbox) -> None:
    request = SandboxRequest("GET", "/api:e6emygx3/auth/me", {},
                             {"authorization": f"Bearer {credentials.MCP_API_KEY}"})

    response = sandbox.handle(request)

    assert response.status == 200
