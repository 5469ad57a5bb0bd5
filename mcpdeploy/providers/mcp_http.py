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
from mcpdeploy.providers.http import USER_AGENT, HttpOptions


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

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class NoAnswer(ServiceUnreachable):
    """No HTTP answer at all: refused, DNS, TLS, dropped, or nothing within the timeout."""

    def __init__(self, message: str, *, timed_out: bool, seconds: float) -> None:
        super().__init__(message, hint="Check the URL and that the Worker is deployed; raise --timeout or "
                         "use --wait-for for a cold start.")
        self.timed_out = timed_out
        self.seconds = seconds


# Called with each chunk of the body as it arrives; returning True stops reading (the rest is not needed).
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
            headers={"User-Agent": USER_AGENT},
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
        started = time.monotonic()
        deadline = started + self.options.timeout
        chunks: list[bytes] = []
        try:
            response = self._http.send(request, stream=True)
            complete = True
            try:
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    if stop_reading is not None and stop_reading(chunk):
                        complete = False
                        break
                    # httpx's read timeout restarts with every chunk; a server trickling keep-alive comments
                    # must still not hold the smoke test past --timeout.
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("no complete answer within the timeout", request=request)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            seconds = time.monotonic() - started
            self._trace(request, None, seconds, repr(exc))
            raise NoAnswer(
                f"{call.method} {self.redact(call.url)}: no answer within {self.options.timeout:g}s",
                timed_out=True, seconds=seconds,
            ) from exc
        except httpx.TransportError as exc:
            seconds = time.monotonic() - started
            self._trace(request, None, seconds, repr(exc))
            detail = self.redact(str(exc)) or type(exc).__name__
            raise NoAnswer(
                f"{call.method} {self.redact(call.url)}: {detail}", timed_out=False, seconds=seconds
            ) from exc
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
        )

    def _trace(self, request: httpx.Request, response: httpx.Response | None, seconds: float,
               error: str = "") -> None:
        if self.options.trace is not None:
            self.options.trace.record(request, response, seconds, error)
