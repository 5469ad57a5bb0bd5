"""Server errors: a 500 is retried on reads as 502-504 are, never blindly re-sent on a write, and ends with the
"safe to run again" exit code. The answers are faked at the transport; the client under test is the real one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpdeploy.errors import ApiError, RateLimited, ServiceError, WriteOutcomeUnknown
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.http import IDEMPOTENT_METHODS, HttpOptions, ServiceClient
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport

BASE = "https://api.example.test/v1"
SERVER_ERRORS = (500, 502, 503, 504)


class Scripted(httpx.BaseTransport):
    """Answers each request with the next status of a script (200 once the script is used up)."""

    def __init__(self, statuses: list[int]) -> None:
        self._statuses: Iterator[int] = iter(statuses)
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return httpx.Response(next(self._statuses, 200), json={"message": "server trouble"})


def _send(method: str, statuses: list[int], max_retries: int = 3) -> tuple[Scripted, httpx.Response | Exception]:
    transport = Scripted(statuses)
    client = ServiceClient(BASE, "tok-PLANTED-0042", HttpOptions(transport=transport, sleep=lambda s: None,
                                                                 max_retries=max_retries))
    try:
        return transport, client.send(method, "things", json_body={} if method != "GET" else None)
    except ServiceError as exc:
        return transport, exc


@given(method=st.sampled_from(["GET", "PUT", "DELETE", "POST", "PATCH"]),
       statuses=st.lists(st.sampled_from([429, *SERVER_ERRORS]), min_size=1, max_size=6))
def test_server_errors_are_retried_exactly_when_resending_is_safe(method: str, statuses: list[int]) -> None:
    transport, outcome = _send(method, statuses)
    if method in IDEMPOTENT_METHODS:
        # Every 429 and 5xx is retried, up to the limit; then the answer is "try again later".
        assert transport.sent == min(len(statuses) + 1, 4)
        if len(statuses) > 3:
            assert isinstance(outcome, RateLimited) and outcome.exit_code == ExitCode.TEMPORARY
        else:
            assert isinstance(outcome, httpx.Response) and outcome.status_code == 200
        return
    # A write: a 429 was refused before anything happened and is retried; a 5xx may have been applied and stops.
    leading_429s = next((i for i, s in enumerate(statuses) if s != 429), len(statuses))
    first_5xx = leading_429s if leading_429s < len(statuses) else None
    if first_5xx is not None and first_5xx <= 3:
        assert transport.sent == first_5xx + 1
        assert isinstance(outcome, WriteOutcomeUnknown) and outcome.status == statuses[first_5xx]
        assert outcome.exit_code == ExitCode.TEMPORARY
        assert "may have been applied" in outcome.message
    else:
        assert transport.sent == min(len(statuses) + 1, 4)


def test_a_500_on_a_get_is_retried_and_then_succeeds() -> None:
    transport, outcome = _send("GET", [500, 500])
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 200
    assert transport.sent == 3


def test_retries_exhausted_exit_with_the_safe_to_run_again_code_not_refused() -> None:
    _, outcome = _send("GET", [500] * 10, max_retries=2)
    assert isinstance(outcome, RateLimited)
    assert outcome.exit_code == ExitCode.TEMPORARY != ExitCode.API_REJECTED
    assert "after 3 attempts" in outcome.message
    assert outcome.hint and "run again" in outcome.hint


def test_a_write_answered_500_is_still_an_api_error_with_its_status() -> None:
    # Callers that look an object up after a failed create branch on ApiError and its status.
    _, outcome = _send("POST", [500])
    assert isinstance(outcome, ApiError) and outcome.status == 500


def test_ensure_queue_finds_the_queue_its_create_made_before_answering_500(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")

    class AppliedThen500(httpx.BaseTransport):
        """The create reaches the sandbox and is applied; the answer that comes back is a 500."""

        def __init__(self) -> None:
            self.inner = SandboxTransport(sandbox)
            self.methods: list[str] = []

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.methods.append(request.method)
            response = self.inner.handle_request(request)
            if request.method == "POST":
                return httpx.Response(500, json={"success": False, "errors": []}, request=request)
            return response

    transport = AppliedThen500()
    options = HttpOptions(transport=transport, sleep=lambda s: None)
    client = CloudflareClient("http://sandbox.test/client/v4", credentials.CLOUDFLARE_API_TOKEN,
                              credentials.CLOUDFLARE_ACCOUNT_ID, options)
    queue, created = client.ensure_queue("usage-queue")

    assert queue.queue_name == "usage-queue"
    assert transport.methods == ["GET", "POST", "GET"]  # the create was sent once, then looked up
    assert len(sandbox.state["cloudflare"]["queues"]) == 1
    assert created is False  # not claimed as ours: its answer was an error


@pytest.mark.parametrize("status", SERVER_ERRORS)
def test_a_write_answered_5xx_is_sent_once(status: int) -> None:
    transport, outcome = _send("POST", [status, status])
    assert transport.sent == 1
    assert isinstance(outcome, WriteOutcomeUnknown)
