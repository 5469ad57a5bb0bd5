"""An incremental parser for `text/event-stream` bodies (the WHATWG event-stream format MCP servers use).

Handles what real MCP servers send: `event`, `id` and `retry` fields, several `data` lines joined by newlines,
events whose data is empty (the 2025-11-25 "priming" event), comment lines starting with `:` (keep-alives),
and any of CRLF, LF or CR as line ends, also when a chunk boundary falls inside one.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SseParser:
    """Feed bytes as they arrive; each call returns the events completed by them."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # text after the last complete line
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._has_fields = False
        self._first_line = True

    def feed(self, chunk: bytes) -> list[SseEvent]:
        text = self._pending + self._decoder.decode(chunk)
        events: list[SseEvent] = []
        start = 0
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\r":
                if i + 1 == len(text):
                    break  # a CR at the end may be half of a CRLF: wait for the next chunk
                line_end = i + 2 if text[i + 1] == "\n" else i + 1
            elif ch == "\n":
                line_end = i + 1
            else:
                i += 1
                continue
            event = self._line(text[start:i])
            if event is not None:
                events.append(event)
            start = i = line_end
        self._pending = text[start:]
        return events

    def close(self) -> list[SseEvent]:
        """End of stream: a held-back final CR ends its line; an event not followed by a blank line is dropped."""
        pending, self._pending = self._pending, ""
        if pending.endswith("\r"):
            event = self._line(pending[:-1])
            return [event] if event is not None else []
        return []

    def _line(self, line: str) -> SseEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_fields = True
        elif name == "event":
            self._event = value
            self._has_fields = True
        elif name == "id":
            if "\0" not in value:
                self._id = value
            self._has_fields = True
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data and not self._has_fields:
            return None
        event = SseEvent(data="\n".join(self._data), event=self._event or "message", id=self._id,
                         retry=self._retry)
        # The last event id persists across events by the format's rules; type and data do not.
        self._data = []
        self._event = ""
        self._has_fields = False
        return event


def parse_sse(body: bytes) -> list[SseEvent]:
    parser = SseParser()
    return parser.feed(body) + parser.close()
