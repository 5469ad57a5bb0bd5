"""The sandbox served on loopback behaves like the in-process one: same answers, faults, persisted state."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from mcpdeploy.sandbox.core import Fault, Sandbox
from mcpdeploy.sandbox.server import SandboxServer


def test_served_sandbox_answers_health_and_unknown_routes_like_xano(tmp_path: Path) -> None:
    with SandboxServer(Sandbox(tmp_path)) as server:
        assert httpx.get(f"{server.url}/__sandbox/health").json() == {"ok": True}
        missing = httpx.get(f"{server.url}/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"code": "ERROR_CODE_NOT_FOUND", "message": "Unable to locate request."}


def test_a_fault_added_over_http_answers_429_with_retry_after_once(tmp_path: Path) -> None:
    with SandboxServer(Sandbox(tmp_path)) as server:
        httpx.post(f"{server.url}/__sandbox/faults", json={"match": "GET /__sandbox/health", "status": 429,
                                                           "retry_after": 2, "times": 1})
        first = httpx.get(f"{server.url}/__sandbox/health")
        second = httpx.get(f"{server.url}/__sandbox/health")
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert first.json()["code"] == "ERROR_CODE_TOO_MANY_REQUESTS"
    assert second.status_code == 200


def test_a_dropped_connection_fault_closes_the_socket_without_an_answer(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    sandbox.add_fault(Fault(match="health", drop=True))
    with SandboxServer(sandbox) as server:
        try:
            httpx.get(f"{server.url}/__sandbox/health")
        except httpx.HTTPError as exc:
            dropped = exc
        else:  # pragma: no cover - the assertion below reports it
            dropped = None
    assert isinstance(dropped, httpx.RemoteProtocolError)


def test_state_is_written_atomically_and_read_back_by_a_new_sandbox(tmp_path: Path) -> None:
    first = Sandbox(tmp_path)
    first.state["probe"] = {"kept": True}
    first.save()
    assert json.loads((tmp_path / "state.json").read_text())["probe"] == {"kept": True}
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    assert Sandbox(tmp_path).state["probe"] == {"kept": True}


def test_the_project_port_is_kept_between_runs_and_a_damaged_record_is_replaced(tmp_path: Path) -> None:
    from mcpdeploy.project.settings import load_settings
    from mcpdeploy.sandbox.session import project_port, sandbox_dir

    settings = load_settings(tmp_path, environ={})
    first = project_port(settings)
    assert project_port(settings) == first  # the same URL next time
    (sandbox_dir(settings) / "port").write_text("")  # e.g. a run killed mid-write by an older version
    replaced = project_port(settings)
    assert 0 < replaced < 65536
    assert (sandbox_dir(settings) / "port").read_text().strip() == str(replaced)


def test_answers_are_gzip_encoded_when_the_client_accepts_it_as_workers_answer(tmp_path: Path) -> None:
    with SandboxServer(Sandbox(tmp_path)) as server, httpx.Client() as client:
        with client.stream("GET", f"{server.url}/nowhere", headers={"accept-encoding": "gzip"}) as raw:
            wire = b"".join(raw.iter_raw())
            encoding = raw.headers.get("content-encoding")
        plain = client.get(f"{server.url}/nowhere", headers={"accept-encoding": "identity"})
    assert encoding == "gzip"
    assert wire[:2] == b"\x1f\x8b"  # the gzip magic number: these are the bytes on the wire
    assert "content-encoding" not in plain.headers
    assert plain.json()["code"] == "ERROR_CODE_NOT_FOUND"
