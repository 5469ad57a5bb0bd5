"""An incremental parser for `text/event-stream` bodies (the WHATWG event-stream format MCP servers use).

Handles what real MCP servers send: `event`, `id` and `retry` fields, several `data` lines joined by newlines,
events whose data is empty (the 2025-11-25 "priming" event), comment lines starting with `:` (keep-alives),
and any of CRLF, LF or CR as line ends, also when a chunk boundary falls inside one.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SseTooLarge(ValueError):
    """One line or one event's data grew past the parser's bound."""


# A line or an event this long is not an MCP message anyone sends; the bound keeps a stream without line breaks
# (or an event that never ends) from growing without limit. The answer's own size cap comes first in practice.
MAX_EVENT_CHARS = 64_000_000
_LINE_END = re.compile(r"\r\n|\r|\n")


class SseParser:
    """Feed bytes as they arrive; each call returns the events completed by them.

    Linear in the stream's length however it is cut into chunks: a line is kept as a list of the pieces seen so
    far and joined once, when its end arrives (adding each chunk to a pending string made a long line cost the
    square of its length), and only the new text is searched for line ends."""

    def __init__(self, max_event_chars: int = MAX_EVENT_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max = max_event_chars
        self._line_parts: list[str] = []  # the current line, not yet ended
        self._line_chars = 0
        self._skip_lf = False  # the last chunk ended in CR: an LF starting the next one belongs to that line end
        self._data: list[str] = []
        self._data_chars = 0
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._has_fields = False
        self._first_line = True

    def feed(self, chunk: bytes) -> list[SseEvent]:
        return self._text(self._decoder.decode(chunk))

    def close(self) -> list[SseEvent]:
        """End of stream: an unfinished line, and an event not followed by a blank line, are dropped."""
        events = self._text(self._decoder.decode(b"", final=True))
        self._line_parts, self._line_chars = [], 0
        return events

    def _text(self, text: str) -> list[SseEvent]:
        events: list[SseEvent] = []
        start = 0
        if self._skip_lf and text:
            self._skip_lf = False
            if text.startswith("\n"):
                start = 1
        for match in _LINE_END.finditer(text, start):
            piece = text[start:match.start()]
            if self._line_parts:
                self._line_parts.append(piece)
                line = "".join(self._line_parts)
                self._line_parts, self._line_chars = [], 0
            else:
                line = piece
            event = self._line(line)
            if event is not None:
                events.append(event)
            start = match.end()
        if text.endswith("\r"):
            self._skip_lf = True  # a CR at the very end may be half of a CRLF split across chunks
        rest = text[start:]
        if rest:
            self._line_chars += len(rest)
            if self._line_chars > self._max:
                raise SseTooLarge(f"an event-stream line longer than {self._max} characters")
            self._line_parts.append(rest)
        return events

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
            self._data_chars += len(value) + 1
            if self._data_chars > self._max:
                raise SseTooLarge(f"an event-stream event larger than {self._max} characters")
            self._data.append(value)
            self._has_fields = True
        elif name == "event":
            self._event = value
            self._has_fields = True
        elif name == "id":
            if "\0" not in value:
                self._id = value
            self._has_fields = True
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data and not self._has_fields:
            return None
        event = SseEvent(data="\n".join(self._data), event=self._event or "message", id=self._id,
                         retry=self._retry)
        # The last event id persists across events by the format's rules; type and data do not.
        self._data = []
        self._data_chars = 0
        self._event = ""
        self._has_fields = False
        return event


def parse_sse(body: bytes) -> list[SseEvent]:
    parser = SseParser()
    return parser.feed(body) + parser.close()
