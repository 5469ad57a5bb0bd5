"""Raw HTTP exchanges for `smoke-test`: every answer comes back as data, whatever its status.

`ServiceClient` raises on non-2xx and reads whole bodies, which suits provisioning; a smoke test must look at
401s, 406s and HTML error pages, and must stop reading an SSE stream as soon as the answer it waits for has
arrived (a server may keep the stream open). So this sibling shares only the policy pieces of `http.py`
(User-Agent, trace file, redactor, injected transport) and never retries: a retried request would hide the very
cold-start or flakiness the smoke test exists to report (`--wait-for` is the explicit, visible retry).

The bearer key is held here and added at send time; `HttpCall` only says *which* credential to use, so a call
can be shown as a curl reproducer without the key ever being part of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import httpx

from mcpdeploy.errors import ServiceUnreachable
from mcpdeploy.providers.http import (
    ACCEPT_ENCODING,
    DEADLINE_HINT,
    MAX_RESPONSE_HINT,
    USER_AGENT,
    HttpOptions,
    decoded_chunks,
    is_dns_failure,
)
from mcpdeploy.redaction import Redactor


class Credential(Enum):
    KEY = "key"  # the user's API key (MCP_API_KEY)
    NONE = "none"  # no Authorization header at all
    OTHER = "other"  # a made-up token, for the wrong-token check


@dataclass(frozen=True)
class HttpCall:
    """One request as the smoke test means it. Holds no secret: the key is added by `McpHttpClient`."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    credential: Credential = Credential.KEY
    other_token: str = ""  # only with Credential.OTHER; a random value, not a secret


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    seconds: float
    complete: bool  # False when we stopped reading early (the awaited message had arrived)
    # The run's secrets, so that whatever quotes this answer can mask them before it shortens anything.
    redactor: Redactor = field(default_factory=Redactor, repr=False, compare=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def excerpt(self, text: str, limit: int | None = None) -> str:
        """Part of this answer (its body, a header, a message in it), fit for a one-line reason."""
        return self.redactor.excerpt(text, limit)


class NoAnswer(ServiceUnreachable):
    """No HTTP answer at all: refused, DNS, TLS, dropped, or nothing within the timeout."""

    def __init__(self, message: str, *, timed_out: bool, seconds: float) -> None:
        super().__init__(message, hint="Check the URL and that the Worker is deployed; raise --timeout or "
                         "use --wait-for for a cold start.")
        self.timed_out = timed_out
        self.seconds = seconds


class AnswerTooLarge(NoAnswer):
    """The answer grew past the size cap; reading stopped there, so there is no usable answer."""

    def __init__(self, message: str, *, seconds: float) -> None:
        super().__init__(message, timed_out=False, seconds=seconds)
        self.hint = MAX_RESPONSE_HINT


# Called with each chunk of an event-stream body as it arrives; returning True stops reading (the rest is not
# needed). Never called on other bodies: a JSON answer is complete only at its last byte anyway.
StopReading = Callable[[bytes], bool]


class McpHttpClient:
    """Sends `HttpCall`s and returns `HttpAnswer`s. `options.timeout` bounds each whole exchange."""

    def __init__(self, api_key: str | None, options: HttpOptions | None = None) -> None:
        self.options = options or HttpOptions()
        self._api_key = api_key
        if api_key:
            self.options.redactor.add(api_key)
        self._http = httpx.Client(
            transport=self.options.network_transport(),
            timeout=self.options.timeout,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return "McpHttpClient(api_key=***)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> McpHttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        return self.options.redactor.redact(text)

    def send(self, call: HttpCall, stop_reading: StopReading | None = None) -> HttpAnswer:
        headers = dict(call.headers)
        if call.credential is Credential.KEY and self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        elif call.credential is Credential.OTHER:
            headers["Authorization"] = f"Bearer {call.other_token}"
        request = self._http.build_request(call.method, call.url, headers=headers, content=call.body or None)
        self.options.counts["requests"] += 1
        what = f"{call.method} {self.redact(call.url)}"
        left = self.options.remaining()
        if left is not None and left <= 0:
            raise NoAnswer(f"{what}: not sent, the deadline of {self.options.deadline:g}s for the whole command has "
                           "passed", timed_out=True, seconds=0.0)
        timeout = self.options.exchange_timeout()
        request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        started = time.monotonic()
        until = started + timeout
        cap = self.options.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            response = self._http.send(request, stream=True)
            complete = True
            event_stream = response.headers.get("content-type", "").split(";")[0].strip().lower() \
                == "text/event-stream"
            try:
                for chunk in decoded_chunks(response, request):
                    size += len(chunk)
                    if size > cap:
                        seconds = time.monotonic() - started
                        self._trace(request, None, seconds, f"answer larger than {cap} bytes")
                        raise AnswerTooLarge(f"{what}: the answer is larger than {cap / 1_000_000:g} MB, the cap on "
                                             "answers; reading stopped there", seconds=seconds)
                    chunks.append(chunk)
                    if event_stream and stop_reading is not None and stop_reading(chunk):
                        complete = False
                        break
                    # httpx's read timeout restarts with every chunk; a server trickling keep-alive comments
                    # must still not hold the smoke test past --timeout.
                    if time.monotonic() > until:
                        raise httpx.ReadTimeout("no complete answer within the timeout", request=request)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            seconds = time.monotonic() - started
            self._trace(request, None, seconds, repr(exc))
            left = self.options.remaining()
            if left is not None and left <= 0.01:
                error = NoAnswer(f"{what}: no answer before the deadline of {self.options.deadline:g}s for the "
                                 "whole command", timed_out=True, seconds=seconds)
                error.hint = DEADLINE_HINT
                raise error from exc
            raise NoAnswer(f"{what}: no answer within {timeout:g}s", timed_out=True, seconds=seconds) from exc
        except httpx.TransportError as exc:
            seconds = time.monotonic() - started
            self._trace(request, None, seconds, repr(exc))
            detail = self.redact(str(exc)) or type(exc).__name__
            if is_dns_failure(exc):
                detail = f"the host name {self.redact(request.url.host)} does not resolve (DNS)"
            raise NoAnswer(f"{what}: {detail}", timed_out=False, seconds=seconds) from exc
        except httpx.DecodingError as exc:
            seconds = time.monotonic() - started
            raise NoAnswer(f"{what}: the answer could not be decoded: {self.redact(str(exc))}", timed_out=False,
                           seconds=seconds) from exc
        seconds = time.monotonic() - started
        body = b"".join(chunks)
        if self.options.trace is not None:
            self.options.trace.record_answer(request, response.status_code, response.headers.get("content-type", ""),
                                             body, seconds)
        return HttpAnswer(
            status=response.status_code,
            reason=response.reason_phrase,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=body,
            seconds=seconds,
            complete=complete,
            redactor=self.options.redactor,
        )

    def _trace(self, request: httpx.Request, response: httpx.Response | None, seconds: float,
               error: str = "") -> None:
        if self.options.trace is not None:
            self.options.trace.record(request, response, seconds, error)
