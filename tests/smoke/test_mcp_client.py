from __future__ import annotations

from mcpdeploy.providers.mcp_http import HttpAnswer
from mcpdeploy.smoke.mcp_client import encode_header_value, modern_error_code, read_reply


def answer(body: str, content_type: str, status: int = 200) -> HttpAnswer:
    return HttpAnswer(status, "OK", {"content-type": content_type}, body.encode(), 0.01, True)


def test_the_response_is_found_among_notifications_on_an_sse_stream() -> None:
    stream = (
        'id: 1\ndata:\n\n'
        'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n'
        'event: message\ndata: {"jsonrpc":"2.0","id":9,"result":{"tools":[]}}\n\n'
    )
    reply = read_reply(answer(stream, "text/event-stream"), 9)
    assert reply.result == {"tools": []}
    assert reply.body_format == "sse"


def test_a_json_answer_and_a_batch_array_are_both_read() -> None:
    assert read_reply(answer('{"jsonrpc":"2.0","id":3,"result":{"ok":1}}', "application/json"), 3).result == {"ok": 1}
    batch = '[{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"x"}}]'
    assert read_reply(answer(batch, "application/json"), 3).error == {"code": -1, "message": "x"}


def test_an_html_page_or_a_stream_without_our_response_says_why() -> None:
    assert "text/html" in (read_reply(answer("<html></html>", "text/html"), 1).problem or "")
    assert "ended without" in (read_reply(answer("data: {}\n\n", "text/event-stream"), 1).problem or "")


def test_a_2026_07_28_error_is_recognised_from_the_body() -> None:
    body = '{"jsonrpc":"2.0","id":null,"error":{"code":-32022,"message":"Unsupported protocol version"}}'
    assert modern_error_code(read_reply(answer(body, "application/json", 400), 1)) == -32022
    legacy = '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request: Missing session ID"}}'
    assert modern_error_code(read_reply(answer(legacy, "application/json", 400), 1)) is None


def test_header_values_that_would_not_survive_http_are_base64_wrapped() -> None:
    assert encode_header_value("get_weather") == "get_weather"
    assert encode_header_value("météo") == "=?base64?bcOpdMOpbw==?="
    assert encode_header_value(" padded") == "=?base64?IHBhZGRlZA==?="
