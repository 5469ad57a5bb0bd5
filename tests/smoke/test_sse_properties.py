"""Properties of the event-stream parser: the same events however the stream is cut into chunks, the events a
plain reading of the format gives, and a bound on how much one line or event may hold."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpdeploy.smoke.sse import SseEvent, SseParser, SseTooLarge, parse_sse

LINE_ENDS = st.sampled_from(["\n", "\r", "\r\n"])
FIELD_NAMES = st.sampled_from(["data", "event", "id", "retry", "", "dat", ":comment"])
VALUES = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """Event-stream text as servers write it, and as they should not: every line end, comments, blank lines,
    fields without a colon or a space, odd fields, a byte-order mark, unterminated last lines, stray bytes."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            line = ""
        else:
            name, sep = draw(FIELD_NAMES), draw(st.sampled_from([":", ": ", ""]))
            line = name + sep + draw(VALUES) if sep or kind == 3 else name
        lines.append(line + draw(LINE_ENDS))
    text = ("\ufeff" if draw(st.booleans()) else "") + "".join(lines) + draw(VALUES)
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        raw += draw(st.binary(max_size=3))  # a cut UTF-8 sequence or stray bytes at the end
    return raw


def reference(body: bytes) -> list[SseEvent]:
    """The format read the plain way, all at once: lines split on any line end, the last unterminated one
    dropped, fields applied in order, an event dispatched at each blank line."""
    text = body.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)[:-1]
    events, data, kind, last_id, retry, fields = [], [], "", None, None, False
    for line in lines:
        if line == "":
            if data or fields:
                events.append(SseEvent("\n".join(data), kind or "message", last_id, retry))
            data, kind, fields = [], "", False
            continue
        if line.startswith(":"):
            continue
        name, sep, value = line.partition(":")
        value = value[1:] if sep and value.startswith(" ") else value
        if name == "data":
            data.append(value)
            fields = True
        elif name == "event":
            kind, fields = value, True
        elif name == "id":
            last_id = value if "\0" not in value else last_id
            fields = True
        elif name == "retry" and re.fullmatch(r"[0-9]+", value):
            retry = int(value)
    return events


def in_chunks(body: bytes, cuts: list[int]) -> list[SseEvent]:
    parser = SseParser()
    events: list[SseEvent] = []
    previous = 0
    for cut in sorted({min(c, len(body)) for c in cuts}):
        events += parser.feed(body[previous:cut])
        previous = cut
    events += parser.feed(body[previous:])
    return events + parser.close()


@given(streams())
def test_the_parser_reads_what_the_format_says(body: bytes) -> None:
    assert parse_sse(body) == reference(body)


@given(streams(), st.lists(st.integers(0, 200), max_size=20))
def test_the_events_do_not_depend_on_where_chunks_are_cut(body: bytes, cuts: list[int]) -> None:
    assert in_chunks(body, cuts) == parse_sse(body)


@given(st.lists(st.tuples(st.sampled_from(["message", "ping", "x"]), VALUES), max_size=8), LINE_ENDS,
       st.integers(1, 7))
def test_events_written_by_a_server_come_back_whole_from_byte_sized_chunks(
        sent: list[tuple[str, str]], end: str, size: int) -> None:
    body = "".join(f"event: {kind}{end}data: {data}{end}{end}" for kind, data in sent).encode()
    assert in_chunks(body, list(range(0, len(body), size))) == [SseEvent(data, kind) for kind, data in sent]


@given(st.integers(1, 50), st.integers(1, 9))
def test_a_line_or_an_event_past_the_bound_is_refused_not_held(limit: int, chunk: int) -> None:
    endless_line = b"data: " + b"x" * (limit + 10)
    parser = SseParser(max_event_chars=limit)
    with pytest.raises(SseTooLarge):
        for i in range(0, len(endless_line), chunk):
            parser.feed(endless_line[i:i + chunk])
    many_lines = b"".join(b"data: " + b"y" * (limit // 3) + b"\n" for _ in range(10))
    parser = SseParser(max_event_chars=limit)
    with pytest.raises(SseTooLarge):
        parser.feed(many_lines)


def test_a_long_line_cut_into_many_chunks_comes_out_whole_once_it_ends() -> None:
    # The pieces are kept apart and joined once, when the line ends (benchmarks/network_waits.py times a 4 MB one).
    line = b"data: " + b"z" * 200_000
    parser = SseParser()
    for i in range(0, len(line), 1000):
        assert parser.feed(line[i:i + 1000]) == []
    assert parser.feed(b"\n\n") == [SseEvent("z" * 200_000)]
