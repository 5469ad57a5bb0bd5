from __future__ import annotations

from mcpdeploy.smoke.sse import SseEvent, SseParser, parse_sse


def test_an_mcp_response_event_as_the_python_sdk_sends_it() -> None:
    body = b'event: message\r\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\r\n\r\n'
    assert parse_sse(body) == [SseEvent(data='{"jsonrpc":"2.0","id":1,"result":{}}')]


def test_multi_line_data_is_joined_with_newlines_and_fields_are_kept() -> None:
    body = b"id: 42\nretry: 3000\nevent: message\ndata: {\"a\":\ndata: 1}\n\n"
    assert parse_sse(body) == [SseEvent(data='{"a":\n1}', id="42", retry=3000)]


def test_comments_and_a_priming_event_with_empty_data_are_harmless() -> None:
    body = b": keep-alive\n\nid: prime-1\ndata:\n\n: ping\ndata: {\"id\":2}\n\n"
    events = parse_sse(body)
    assert [e.data for e in events] == ["", '{"id":2}']
    assert events[1].id == "prime-1"  # the last event id carries over, as the format says


def test_chunks_may_split_lines_crlf_pairs_and_utf8_characters() -> None:
    body = 'data: {"text":"héllo"}\r\n\r\ndata: second\r\r'.encode()
    parser = SseParser()
    events = []
    for i in range(len(body)):
        events += parser.feed(body[i:i + 1])
    events += parser.close()  # the last CR could have been half of a CRLF until the stream ended
    assert [e.data for e in events] == ['{"text":"héllo"}', "second"]


def test_an_event_without_its_closing_blank_line_is_not_dispatched() -> None:
    assert parse_sse(b"data: cut short") == []


def test_a_byte_order_mark_and_a_field_without_colon_are_understood() -> None:
    assert parse_sse("\ufeffdata\n\n".encode()) == [SseEvent(data="")]
