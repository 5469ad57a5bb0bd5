"""The shared HTTP policy: retries that honour Retry-After, no double POST, redacted traces, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from mcpdeploy.errors import ApiError, RateLimited, ServiceUnreachable
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.http import HttpOptions, ServiceClient, TraceWriter, join_url
from mcpdeploy.redaction import Redactor

TOKEN = "tok-PLANTED-3f9a1c"


def client(options: HttpOptions) -> ServiceClient:
    return ServiceClient("https://api.example.test/v1", TOKEN, options)


def test_join_url_keeps_xano_api_group_segments() -> None:
    assert join_url("https://x.xano.io/api:e6emygx3", "auth/me") == "https://x.xano.io/api:e6emygx3/auth/me"
    assert join_url("https://x.xano.io/api:meta/", "/workspace/1/table") == "https://x.xano.io/api:meta/workspace/1/table"
    # What the hand-built join protects against: httpx's own join drops the `api:` segment.
    assert "api:e6emygx3" not in str(httpx.URL("https://x.xano.io/api:e6emygx3").join("auth/me"))


@respx.mock
def test_429_is_retried_after_the_servers_retry_after() -> None:
    route = respx.get("https://api.example.test/v1/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json={"ok": 1})]
    )
    waits: list[float] = []
    response = client(HttpOptions(sleep=waits.append)).send("GET", "things")
    assert response.json() == {"ok": 1}
    assert route.call_count == 2
    assert waits == [3.0]


@respx.mock
def test_persistent_429_gives_up_with_the_retry_later_exit_code() -> None:
    respx.get("https://api.example.test/v1/things").mock(return_value=httpx.Response(429, json={"message": "slow"}))
    with pytest.raises(RateLimited) as caught:
        client(HttpOptions(sleep=lambda s: None, max_retries=2)).send("GET", "things")
    assert caught.value.exit_code == ExitCode.TEMPORARY
    assert "GET https://api.example.test/v1/things answered 429" in caught.value.message


@respx.mock
def test_a_post_whose_connection_dropped_is_not_sent_twice() -> None:
    route = respx.post("https://api.example.test/v1/things").mock(side_effect=httpx.RemoteProtocolError("dropped"))
    with pytest.raises(ServiceUnreachable):
        client(HttpOptions(sleep=lambda s: None)).send("POST", "things", json_body={"a": 1})
    assert route.call_count == 1


@respx.mock
def test_a_get_whose_connection_dropped_is_retried() -> None:
    route = respx.get("https://api.example.test/v1/things").mock(
        side_effect=[httpx.RemoteProtocolError("dropped"), httpx.Response(200, json=[])]
    )
    assert client(HttpOptions(sleep=lambda s: None)).send("GET", "things").json() == []
    assert route.call_count == 2


@respx.mock
def test_an_error_answer_names_the_call_and_never_the_token() -> None:
    respx.get("https://api.example.test/v1/things").mock(
        return_value=httpx.Response(400, text=f"bad token {TOKEN}")
    )
    with pytest.raises(ApiError) as caught:
        client(HttpOptions()).send("GET", "things")
    assert caught.value.status == 400
    assert caught.value.message.startswith("service: GET https://api.example.test/v1/things answered 400")
    assert TOKEN not in caught.value.message


def test_an_unreachable_service_is_reported_as_such() -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    unreachable = ServiceClient("http://127.0.0.1:9", TOKEN, HttpOptions(max_retries=0))
    with pytest.raises(ServiceUnreachable) as caught:
        unreachable.send("GET", "x")
    assert caught.value.exit_code == ExitCode.UNREACHABLE


@respx.mock
def test_the_trace_holds_every_exchange_and_no_secret(tmp_path: Path) -> None:
    respx.post("https://api.example.test/v1/things").mock(
        return_value=httpx.Response(200, json={"echo": TOKEN, "id": 7})
    )
    redactor = Redactor([TOKEN])
    trace = TraceWriter(tmp_path / "trace.jsonl", redactor)
    client(HttpOptions(trace=trace, redactor=redactor)).send("POST", "things", json_body={"secret": TOKEN})
    trace.close()
    text = (tmp_path / "trace.jsonl").read_text()
    assert TOKEN not in text
    entry = json.loads(text.splitlines()[0])
    assert entry["method"] == "POST" and entry["status"] == 200
    assert entry["request_headers"]["authorization"] == "***"
    assert entry["response_body"] == {"echo": "***", "id": 7}
    assert (tmp_path / "trace.jsonl").stat().st_mode & 0o777 == 0o600


@respx.mock
def test_a_delete_whose_answer_was_lost_and_is_then_404_has_reached_its_goal() -> None:
    route = respx.delete("https://api.example.test/v1/things/7").mock(
        side_effect=[httpx.RemoteProtocolError("dropped after the delete"), httpx.Response(404)]
    )
    response = client(HttpOptions(sleep=lambda s: None)).send("DELETE", "things/7")
    assert response.status_code == 404
    assert route.call_count == 2


@respx.mock
def test_a_delete_of_something_that_never_existed_is_still_an_error() -> None:
    respx.delete("https://api.example.test/v1/things/8").mock(return_value=httpx.Response(404))
    with pytest.raises(ApiError):
        client(HttpOptions()).send("DELETE", "things/8")


@respx.mock
def test_a_malformed_retry_after_backs_off_instead_of_crashing() -> None:
    route = respx.get("https://api.example.test/v1/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "soon, please"}), httpx.Response(200, json=[])]
    )
    waits: list[float] = []
    assert client(HttpOptions(sleep=waits.append)).send("GET", "things").json() == []
    assert route.call_count == 2 and len(waits) == 1


@respx.mock
def test_a_502_on_a_post_is_not_retried_and_says_it_may_have_been_applied() -> None:
    route = respx.post("https://api.example.test/v1/things").mock(return_value=httpx.Response(502))
    with pytest.raises(ApiError) as caught:
        client(HttpOptions(sleep=lambda s: None)).send("POST", "things", json_body={})
    assert route.call_count == 1
    assert "may have been applied" in caught.value.message
    assert caught.value.hint and "mcpdeploy plan" in caught.value.hint
