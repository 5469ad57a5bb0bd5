"""Every sandbox answer carries one `Date` header, as Xano's and Cloudflare's do; the `clock_offset_seconds` option
shifts it, so a client's clock-skew handling can be shown without touching any clock."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.sandbox.transport import SandboxTransport

XANO_AUTH = {"authorization": f"Bearer {credentials.XANO_METADATA_TOKEN}"}


def _offset(response: httpx.Response) -> float:
    return parsedate_to_datetime(response.headers["date"]).timestamp() - time.time()


def test_a_served_answer_has_exactly_one_date_header_close_to_now(tmp_path: Path) -> None:
    with SandboxServer(Sandbox(tmp_path)) as server:
        answer = httpx.get(f"{server.url}/api:meta/auth/me", headers=XANO_AUTH)
        refused = httpx.get(f"{server.url}/client/v4/user/tokens/verify")
    assert answer.status_code == 200 and refused.status_code == 401
    for response in (answer, refused):
        assert len(response.headers.get_list("date")) == 1
        assert abs(_offset(response)) < 5


def test_the_clock_offset_option_shifts_the_date_of_every_answer(tmp_path: Path) -> None:
    with SandboxServer(Sandbox(tmp_path)) as server:
        changed = httpx.post(f"{server.url}/__sandbox/options", json={"clock_offset_seconds": -600})
        answer = httpx.get(f"{server.url}/api:meta/auth/me", headers=XANO_AUTH)
        refused = httpx.post(f"{server.url}/__sandbox/options", json={"clock_offset_seconds": "late"})
    assert changed.status_code == 200 and changed.json()["clock_offset_seconds"] == -600
    assert -605 < _offset(answer) < -595
    assert refused.status_code == 400 and "clock_offset_seconds" in refused.json()["message"]


def test_the_in_process_transport_dates_its_answers_too(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.options = box.options.changed({"clock_offset_seconds": 3600})
    with httpx.Client(transport=SandboxTransport(box), base_url="http://sandbox") as client:
        answer = client.get("/api:meta/auth/me", headers=XANO_AUTH)
    assert 3595 < _offset(answer) < 3605
