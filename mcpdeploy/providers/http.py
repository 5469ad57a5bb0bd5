"""The only module that imports httpx: client factory, bearer auth, retries, tracing and error mapping.

Every service client (Xano, Cloudflare, the MCP smoke client) builds on `ServiceClient`, so retries, the
`--trace` file, redaction and the mapping of failures onto `mcpdeploy.errors` behave the same everywhere.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from mcpdeploy import __version__
from mcpdeploy.errors import ApiError, RateLimited, ServiceUnreachable
from mcpdeploy.redaction import Redactor

USER_AGENT = f"mcpdeploy/{__version__}"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Transport = httpx.BaseTransport
Response = httpx.Response
Request = httpx.Request


def join_url(base: str, path: str) -> str:
    """Join a service base URL and a path by plain string building.

    httpx's URL join treats `api:abc` in `https://host/api:abc` like a scheme and drops it, so Xano URLs
    are built by hand: exactly one slash between the two parts, the base's path kept whole.
    """
    if not base:
        raise ValueError("empty base URL")
    if path.startswith(("http://", "https://")):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


class BearerAuth(httpx.Auth):
    """Keeps the token out of call sites, reprs and tracebacks."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class TraceWriter:
    """Writes each HTTP exchange as one JSON line, with every secret redacted. Safe to share between threads."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self._redactor = redactor
        self._lock = threading.Lock()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file: IO[str] = os.fdopen(fd, "a", encoding="utf-8")

    def _body(self, content: bytes, content_type: str) -> Any:
        text = content.decode("utf-8", errors="replace")
        text = self._redactor.redact(text)
        if "json" in content_type:
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text

    def record(self, request: httpx.Request, response: httpx.Response | None, seconds: float, error: str = "") -> None:
        if response is None:
            self.record_answer(request, None, "", b"", seconds, error)
        else:
            self.record_answer(request, response.status_code, response.headers.get("content-type", ""),
                               response.content, seconds, error)

    def record_answer(self, request: httpx.Request, status: int | None, content_type: str, body: bytes,
                      seconds: float, error: str = "") -> None:
        """One exchange from its already decoded body: a streamed answer is never rebuilt into a response whose
        `Content-Encoding` header would make httpx decode its bytes a second time."""
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "method": request.method,
            "url": self._redactor.redact(str(request.url)),
            "request_headers": self._redactor.redact_headers(request.headers.items()),
            "request_content_type": request.headers.get("content-type", ""),
            "request_body": self._body(request.content, request.headers.get("content-type", "")),
            "status": status,
            "response_body": self._body(body, content_type) if status is not None else None,
            "seconds": round(seconds, 4),
        }
        if error:
            entry["error"] = self._redactor.redact(error)
        with self._lock:
            self._file.write(json.dumps(entry, sort_keys=True) + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    value = response.headers.get("retry-after")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # a malformed header: back off as if there were none
        return default
    return max(0.0, parsed.timestamp() - time.time()) if parsed else default


@dataclass
class HttpOptions:
    """How every client talks HTTP. Tests inject `transport` (the sandbox or respx) and a no-op `sleep`."""

    timeout: float = 30.0
    # Six backoffs without Retry-After add up to ~16-32 s: enough for Xano's 20-second rate window.
    max_retries: int = 6
    max_retry_wait: float = 60.0
    trace: TraceWriter | None = None
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    redactor: Redactor = field(default_factory=Redactor)
    on_write: Callable[[str, str], None] | None = None
    # Logical calls made through every client sharing these options (retries not counted), for the reports.
    counts: dict[str, int] = field(default_factory=lambda: {"requests": 0, "writes": 0})
    _network: httpx.HTTPTransport | None = field(default=None, repr=False)

    def network_transport(self) -> httpx.BaseTransport:
        """The injected transport, or one real transport shared by every client of the run: building the TLS
        context of a new one costs ~50 ms, which used to be most of a no-op provision."""
        if self.transport is not None:
            return self.transport
        if self._network is None:
            self._network = httpx.HTTPTransport(retries=0)
        return _Unclosable(self._network)

    def close(self) -> None:
        if self._network is not None:
            self._network.close()
            self._network = None


class _Unclosable(httpx.BaseTransport):
    """A shared transport handed to one client: closing that client must not close it for the others."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        pass


class RetryingTransport(httpx.BaseTransport):
    """Retries 429 and 502/503/504 (honouring Retry-After) and dropped connections.

    httpx's own `retries=` covers connection set-up only. A request that may have reached the server is
    retried only when its method is idempotent, so a POST is never sent twice by us.
    """

    def __init__(self, inner: httpx.BaseTransport, options: HttpOptions) -> None:
        self._inner = inner
        self._options = options

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._inner.handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                self._trace(request, None, started, repr(exc))
                if attempt >= self._options.max_retries:
                    raise
                self._pause(attempt, None)
                attempt += 1
                continue
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteError) as exc:
                self._trace(request, None, started, repr(exc))
                if request.method not in IDEMPOTENT_METHODS or attempt >= self._options.max_retries:
                    raise
                self._pause(attempt, None)
                attempt += 1
                continue
            response.read()
            response.extensions["mcpdeploy_attempts"] = attempt + 1
            self._trace(request, response, started)
            if response.status_code in RETRY_STATUSES and attempt < self._options.max_retries:
                if response.status_code != 429 and request.method not in IDEMPOTENT_METHODS:
                    return response
                wait = retry_after_seconds(response, default=-1.0)
                if wait > self._options.max_retry_wait:
                    return response
                self._pause(attempt, wait if wait >= 0 else None)
                attempt += 1
                continue
            return response

    def _pause(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is None:
            retry_after = min(self._options.max_retry_wait, 0.5 * (2**attempt)) * (0.5 + random.random() / 2)
        self._options.sleep(retry_after)

    def _trace(self, request: httpx.Request, response: httpx.Response | None, started: float, error: str = "") -> None:
        if self._options.trace is not None:
            self._options.trace.record(request, response, time.monotonic() - started, error)

    def close(self) -> None:
        self._inner.close()


ErrorParser = Callable[[httpx.Response], tuple[str | None, str]]


def default_error_parser(response: httpx.Response) -> tuple[str | None, str]:
    text = response.text.strip()
    return None, (text[:300] if text else response.reason_phrase)


class ServiceClient:
    """A base URL, an optional bearer token and the shared HTTP policy. Subclasses add the service's calls."""

    service = "service"

    def __init__(self, base_url: str, token: str | None, options: HttpOptions | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.options = options or HttpOptions()
        if token:
            self.options.redactor.add(token)
        inner = self.options.network_transport()
        self._http = httpx.Client(
            auth=BearerAuth(token) if token else None,
            transport=RetryingTransport(inner, self.options),
            timeout=self.options.timeout,
            headers={"User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parse_error(self, response: httpx.Response) -> tuple[str | None, str]:
        return default_error_parser(response)

    def hint_for(self, status: int, code: str | None) -> str | None:
        return None

    def url(self, path: str) -> str:
        return join_url(self.base_url, path)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: str | bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request; return the response when it is 2xx (or in ok_statuses), raise our errors otherwise."""
        url = self.url(path)
        send_headers = dict(headers or {})
        if content_type:
            send_headers["Content-Type"] = content_type
        self.options.counts["requests"] += 1
        if method.upper() in WRITE_METHODS:
            self.options.counts["writes"] += 1
            if self.options.on_write:
                self.options.on_write(method.upper(), url)
        try:
            response = self._http.request(
                method,
                url,
                params={k: _param(v) for k, v in (params or {}).items() if v is not None},
                json=json_body if content is None else None,
                content=content,
                headers=send_headers,
            )
        except httpx.TimeoutException as exc:
            raise ServiceUnreachable(
                f"{self.service}: {method} {self._safe(url)} timed out after {self.options.timeout:g}s",
                hint="Check the URL and the network, or raise --timeout.",
            ) from exc
        except httpx.TransportError as exc:
            raise ServiceUnreachable(
                f"{self.service}: {method} {self._safe(url)} failed: {self._safe(str(exc)) or type(exc).__name__}",
                hint="Check the base URL (and that the service or sandbox is running), then run again: "
                "every step is idempotent.",
            ) from exc
        if response.is_success or response.status_code in ok_statuses:
            return response
        if method.upper() == "DELETE" and response.status_code == 404 \
                and response.extensions.get("mcpdeploy_attempts", 1) > 1:
            return response  # the first attempt deleted it and its answer was lost: the goal is reached
        code, detail = self.parse_error(response)
        detail = self._safe(detail)
        attempts = int(response.extensions.get("mcpdeploy_attempts", 1))
        tried = f"after {attempts} attempts" if attempts > 1 else "not retried"
        if response.status_code == 429 or (response.status_code in RETRY_STATUSES
                                           and method.upper() in IDEMPOTENT_METHODS):
            raise RateLimited(
                f"{self.service}: {method} {self._safe(url)} answered {response.status_code}"
                f"{' ' + code if code else ''}: {detail} ({tried})",
                hint="Wait a minute and run again; every step is idempotent.",
            )
        if response.status_code in RETRY_STATUSES:  # a write that may or may not have been applied
            raise ApiError(
                service=self.service, method=method, url=self._safe(url), status=response.status_code, code=code,
                detail=f"{detail} (not retried: it may have been applied)",
                hint="Run `mcpdeploy plan` to see what exists now, then run the command again.",
            )
        raise ApiError(
            service=self.service,
            method=method,
            url=self._safe(url),
            status=response.status_code,
            code=code,
            detail=detail,
            hint=self.hint_for(response.status_code, code),
        )

    def _safe(self, text: str) -> str:
        return self.options.redactor.redact(text)


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def decode_json(response: httpx.Response, service: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ApiError(
            service=service,
            method=response.request.method,
            url=str(response.request.url),
            status=response.status_code,
            code=None,
            detail=f"expected JSON, got {response.headers.get('content-type', 'no content type')}: "
            f"{response.text[:120]!r}",
        ) from exc
