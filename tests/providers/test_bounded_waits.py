"""Bounded, visible waits and capped answers, against real sockets on loopback (a server that accepts and never
answers, one that drips, a refused port, a gzip bomb) or answers faked at the transport. Nothing here measures
time: attempts are counted by the servers, and benchmarks/network_waits.py measures the waits."""

from __future__ import annotations

import gzip
import json
import socket
import tracemalloc
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpdeploy.errors import RateLimited, ResponseTooLarge, ServiceUnreachable
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.http import HttpOptions, ServiceClient, TraceWriter
from mcpdeploy.providers.mcp_http import AnswerTooLarge, HttpCall, McpHttpClient, NoAnswer
from mcpdeploy.redaction import Redactor
from tests.support.hostile_servers import Drip, Fixed, Silent, refused_port

TOKEN = "tok-PLANTED-5e1d77aa"


def client(base: str, **options: object) -> tuple[ServiceClient, list[str]]:
    lines: list[str] = []
    opts = HttpOptions(on_retry=lines.append, **options)  # type: ignore[arg-type]
    return ServiceClient(base, TOKEN, opts), lines


def test_a_server_that_never_answers_is_tried_twice_and_reported_as_a_timeout() -> None:
    with Silent() as server:
        http, lines = client(server.url, timeout=0.2, sleep=lambda s: None)
        with pytest.raises(ServiceUnreachable) as caught:
            http.send("GET", "workspace/1/table")
    assert server.connections == 2  # one retry: each try costs a whole timeout
    assert "timed out after 0.2s" in caught.value.message
    assert caught.value.hint and "--timeout" in caught.value.hint
    assert lines and lines[0].startswith("retrying in ") and "(1/1): no answer within the timeout from service GET" \
        in lines[0] and lines[0].endswith("…/1/table")


def test_the_deadline_cuts_the_retries_short_and_says_so() -> None:
    with Silent() as server:
        http, _ = client(server.url, timeout=5, deadline=0.3)
        with pytest.raises(ServiceUnreachable) as caught:
            http.send("GET", "things")
    assert server.connections == 1
    assert "deadline of 0.3s" in caught.value.message
    assert caught.value.hint and "--deadline" in caught.value.hint


def test_a_request_after_the_deadline_is_not_sent() -> None:
    with Silent() as server:
        http, _ = client(server.url, timeout=5, deadline=0.001)
        with pytest.raises(ServiceUnreachable, match="not sent, the deadline"):
            http.send("GET", "things")
    assert server.connections == 0


def test_a_drip_fed_answer_is_bounded_by_the_timeout_although_every_read_succeeds() -> None:
    with Drip(interval=0.02) as server:
        http, _ = client(server.url, timeout=0.25, sleep=lambda s: None, max_retries=0)
        with pytest.raises(ServiceUnreachable, match="timed out"):
            http.send("GET", "things")


def test_a_refused_port_is_retried_twice_and_each_retry_is_a_line() -> None:
    http, lines = client(f"http://127.0.0.1:{refused_port()}", sleep=lambda s: None)
    with pytest.raises(ServiceUnreachable) as caught:
        http.send("GET", "things")
    assert caught.value.exit_code == ExitCode.UNREACHABLE
    assert [line.split(": ", 1)[0].split(" (")[1] for line in lines] == ["1/2)", "2/2)"]
    assert all("connection refused or failed from service GET /things" in line for line in lines)


class Unresolvable(httpx.BaseTransport):
    """What the real transport raises for a name the resolver does not know, counted."""

    def __init__(self) -> None:
        self.tries = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.tries += 1
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request) from exc


def test_a_name_that_does_not_resolve_is_final() -> None:
    transport = Unresolvable()
    http, lines = client("https://xano.invalid/api:meta", transport=transport, sleep=lambda s: None)
    with pytest.raises(ServiceUnreachable) as caught:
        http.send("GET", "workspace/1/table")
    assert transport.tries == 1 and lines == []
    assert "the host name xano.invalid does not resolve (DNS); not retried" in caught.value.message


@given(st.lists(st.sampled_from([429, 500, 502, 503, 504]), min_size=1, max_size=4),
       st.sampled_from(["api:meta/workspace/1/table", "client/v4/accounts/x/queues", "a"]))
def test_every_retry_is_one_line_naming_status_service_and_call_and_no_secret(statuses: list[int], path: str) -> None:
    answers = iter(statuses)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers, 200), json={"echo": TOKEN})

    http, lines = client(f"https://host.test/{TOKEN}", transport=httpx.MockTransport(answer), sleep=lambda s: None)
    http.send("GET", path, params={"token": TOKEN})
    assert len(lines) == len(statuses)
    for n, (line, status) in enumerate(zip(lines, statuses, strict=True), start=1):
        assert "\n" not in line and TOKEN not in line
        assert f"({n}/6): {status} from service GET " in line


def test_the_deadline_stops_a_retry_whose_wait_would_pass_it() -> None:
    waits: list[float] = []
    transport = httpx.MockTransport(lambda r: httpx.Response(503, headers={"Retry-After": "30"}))
    http, lines = client("https://host.test", transport=transport, sleep=waits.append, deadline=10)
    with pytest.raises(RateLimited) as caught:
        http.send("GET", "things")
    assert waits == [] and lines == []
    assert "deadline of 10s would pass" in caught.value.message
    assert caught.value.exit_code == ExitCode.TEMPORARY


BOMB = gzip.compress(b"\0" * 50_000_000, compresslevel=9, mtime=0)


def test_a_gzip_bomb_stops_at_the_cap_without_taking_the_memory() -> None:
    with Fixed(b"") as server:
        server.body = BOMB
        server.head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                       f"Content-Length: {len(BOMB)}\r\nConnection: close\r\n\r\n").encode()
        http, _ = client(server.url, max_response_bytes=2_000_000, max_retries=0)
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge) as caught:
                http.send("GET", "things")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 12_000_000, f"peak {peak} bytes"  # the cap plus one decoded piece, not the 50 MB
    assert "larger than 2 MB, the cap on answers" in caught.value.message
    assert caught.value.hint and "max_response_mb" in caught.value.hint
    assert caught.value.exit_code == ExitCode.API_REJECTED


def test_an_answer_within_the_cap_arrives_whole_and_decoded_once() -> None:
    body = json.dumps({"rows": ["x" * 100] * 1000}).encode()
    with Fixed(body, gzipped=True) as server:
        http, _ = client(server.url, max_response_bytes=len(body))
        response = http.send("GET", "things")
    assert response.content == body and "content-encoding" not in response.headers


def test_the_smoke_client_reports_a_large_answer_as_too_large_not_as_a_timeout() -> None:
    with Fixed(b"[" + b" " * 3_000_000 + b"]") as server:
        mcp = McpHttpClient("k" * 20, HttpOptions(max_response_bytes=1_000_000, timeout=30))
        with pytest.raises(AnswerTooLarge) as caught:
            mcp.send(HttpCall("POST", server.url + "/mcp", body=b"{}"), stop_reading=lambda chunk: False)
    assert isinstance(caught.value, NoAnswer) and not caught.value.timed_out
    assert "larger than 1 MB" in caught.value.message and "max_response_mb" in (caught.value.hint or "")


def test_the_smoke_client_is_bounded_by_the_deadline() -> None:
    with Silent() as server:
        mcp = McpHttpClient(None, HttpOptions(timeout=30, deadline=0.3))
        with pytest.raises(NoAnswer) as caught:
            mcp.send(HttpCall("POST", server.url + "/mcp", body=b"{}"))
    assert caught.value.timed_out and "deadline of 0.3s" in caught.value.message


def test_the_trace_keeps_a_capped_part_of_each_body_with_secrets_masked_before_the_cut(tmp_path: Path) -> None:
    # The token straddles the cut: masking first leaves none of it.
    body = {"pad": "p" * 985, "echo": TOKEN, "more": "m" * 5000}
    redactor = Redactor([TOKEN])
    trace = TraceWriter(tmp_path / "trace.jsonl", redactor, max_body_bytes=1000)
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=body))
    ServiceClient("https://host.test", TOKEN, HttpOptions(transport=transport, trace=trace, redactor=redactor)) \
        .send("POST", "things", json_body=body)
    trace.close()
    text = (tmp_path / "trace.jsonl").read_text()
    entry = json.loads(text)
    assert "PLANTED" not in text and "5e1d77" not in text
    for side in ("request_body", "response_body"):
        assert isinstance(entry[side], str) and "[cut: " in entry[side] and len(entry[side]) < 1200
