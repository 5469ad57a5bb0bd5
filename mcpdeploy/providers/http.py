"""The only module that imports httpx: client factory, bearer auth, retries, tracing and error mapping.

Every service client (Xano, Cloudflare, the MCP smoke client) builds on `ServiceClient`, so retries, the
`--trace` file, redaction and the mapping of failures onto `mcpdeploy.errors` behave the same everywhere.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import os
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from mcpdeploy import __version__
from mcpdeploy.errors import (
    ApiError,
    InputFileError,
    RateLimited,
    ResponseTooLarge,
    ServiceUnreachable,
    WriteOutcomeUnknown,
)
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.redaction import Redactor

USER_AGENT = f"mcpdeploy/{__version__}"
# 500 included: Xano and Cloudflare answer it for passing faults as often as 502-504, and a read is safe to repeat.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_TIMEOUT = 30.0  # seconds per exchange
DEFAULT_DEADLINE = 300.0  # seconds per command
DEFAULT_MAX_RESPONSE_BYTES = 32_000_000  # far above any page Xano or Cloudflare sends, far below a 1 GB bomb
DEFAULT_TRACE_BODY_BYTES = 64_000  # of each body, in the --trace file
CONNECT_RETRIES = 2
TIMEOUT_RETRIES = 1
# Where people raise the limits; every command that talks HTTP has --timeout and --deadline.
TIMEOUT_HINT = "Check the URL and the network, or raise --timeout (or [http] timeout, MCPDEPLOY_HTTP_TIMEOUT)."
DEADLINE_HINT = ("Run again when the service is quicker (it is safe), or allow more time with --deadline (or "
                 "[http] deadline, MCPDEPLOY_HTTP_DEADLINE).")
MAX_RESPONSE_HINT = ("If an answer this large is expected, raise [http] max_response_mb in mcpdeploy.toml (or "
                     "MCPDEPLOY_HTTP_MAX_RESPONSE_MB); otherwise check the URL: it may not point at the API.")
_RAW_PIECE = 16_384  # compressed bytes inflated at a time
_DECODED_PIECE = 1 << 20  # at most this many decoded bytes come out of one inflate step
# The only encoding `decoded_chunks` inflates piece by piece: asking for no other keeps every answer bounded.
ACCEPT_ENCODING = "gzip"

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

    def __init__(self, path: Path, redactor: Redactor, max_body_bytes: int = DEFAULT_TRACE_BODY_BYTES) -> None:
        self.path = path
        self._redactor = redactor
        self._max_body = max_body_bytes
        self._lock = threading.Lock()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file: IO[str] = os.fdopen(fd, "a", encoding="utf-8")

    def _body(self, content: bytes, content_type: str) -> Any:
        text = content.decode("utf-8", errors="replace")
        text = self._redactor.redact(text)
        if len(text) > self._max_body:
            # Masked before the cut, so a secret the cut goes through is already gone; kept as text, not JSON.
            return (text[:self._max_body] + f"… [cut: {len(content)} bytes in all; the trace keeps "
                    f"{self._max_body} characters of a body, [http] trace_body_kb raises it]")
        if "json" in content_type:
            try:
                # Each string once more after decoding: one that holds JSON itself hid its secrets one escape deeper.
                return self._redact_strings(json.loads(text))
            except ValueError:
                return text
        return text

    def _redact_strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redactor.redact(value)
        if isinstance(value, list):
            return [self._redact_strings(v) for v in value]
        if isinstance(value, dict):
            return {k: self._redact_strings(v) for k, v in value.items()}
        return value

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

    # Seconds one exchange may take, from sending the request to the last byte of the answer (a server that
    # trickles its answer a byte at a time is bounded too, not only one that goes silent).
    timeout: float = DEFAULT_TIMEOUT
    # Seconds the whole command may spend talking HTTP, retries and their waits included, counted from `started`;
    # None: no bound but the retries'.
    deadline: float | None = None
    started: float = field(default_factory=time.monotonic)
    # Decoded bytes an answer may hold: reading stops there, so a small gzip that expands without end (or a
    # server that never stops sending) cannot take the memory.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # Six backoffs without Retry-After add up to ~16-32 s: enough for Xano's 20-second rate window.
    max_retries: int = 6
    max_retry_wait: float = 60.0
    trace: TraceWriter | None = None
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    redactor: Redactor = field(default_factory=Redactor)
    on_write: Callable[[str, str], None] | None = None
    # Told one line per retry ("retrying in 2 s (3/6): 503 from xano GET …/table"), to show people why a
    # command is waiting; the line holds no secret.
    on_retry: Callable[[str], None] | None = None
    # Told ("xano GET workspace/1/table", True) as each logical call starts and (the same words, False) when it
    # ends, so a person sees what a slow command waits on; the words are redacted and carry no query string.
    on_request: Callable[[str, bool], None] | None = None
    # Logical calls made through every client sharing these options (retries not counted), for the reports.
    counts: dict[str, int] = field(default_factory=lambda: {"requests": 0, "writes": 0})
    # Per service, "requests/seconds" to pace to (see `Pacer`); a service not named here is not paced. The CLI
    # fills it from [http] (DEFAULT_RATES unless raised); tests that inject a transport leave it empty.
    rates: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    # Where the requests of the last runs are kept, so that a command run right after another (a provision, then
    # its no-op rerun) does not spend the budget the first one used; None keeps them for this run only.
    pace_file: Path | None = None
    _pacers: dict[str, Pacer] = field(default_factory=dict, repr=False)
    _pacers_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _network: httpx.HTTPTransport | None = field(default=None, repr=False)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once it has passed), or None without one."""
        if self.deadline is None:
            return None
        return self.started + self.deadline - time.monotonic()

    def exchange_timeout(self) -> float:
        """What the next exchange may take: the per-request timeout, or less when the deadline is nearer."""
        left = self.remaining()
        return self.timeout if left is None else max(min(self.timeout, left), 0.001)

    def pacer(self, service: str) -> Pacer | None:
        """The one pacer of a service, shared by every client of the run; None when it is not paced."""
        rate = self.rates.get(service)
        if rate is None:
            return None
        with self._pacers_lock:
            if service not in self._pacers:
                pacer = Pacer(*parse_rate(rate), clock=self.clock)
                pacer.remember([self.clock() - (time.time() - sent) for sent in self._paced_before().get(service, [])])
                self._pacers[service] = pacer
            return self._pacers[service]

    def _paced_before(self) -> dict[str, list[float]]:
        """The send times (wall clock) the pace file holds; nothing when it is missing or unreadable (it is only an
        aid: at worst a run meets a 429 it waits out)."""
        if self.pace_file is None:
            return {}
        try:
            loaded = json.loads(self.pace_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {str(k): [float(t) for t in v if isinstance(t, (int, float)) and not isinstance(t, bool)]
                for k, v in loaded.items() if isinstance(v, list)}

    def save_pace(self) -> None:
        """Keep this run's recent requests for the next run (best effort: a read-only folder only loses the aid)."""
        if self.pace_file is None or not self._pacers:
            return
        offset = time.time() - self.clock()
        sent = {service: [offset + t for t in pacer.history()] for service, pacer in self._pacers.items()}
        if not any(sent.values()):
            return  # nothing was paced (a service on this machine): no file where none is needed
        kept = self._paced_before() | {service: times for service, times in sent.items() if times}
        # Atomic like every file mcpdeploy writes: two runs ending at once leave one whole record, not a mix.
        with contextlib.suppress(InputFileError):
            write_atomic(self.pace_file, json.dumps(kept), mode=0o600)

    def network_transport(self) -> httpx.BaseTransport:
        """The injected transport, or one real transport shared by every client of the run: building the TLS
        context of a new one costs ~50 ms, which used to be most of a no-op provision."""
        if self.transport is not None:
            return self.transport
        if self._network is None:
            self._network = httpx.HTTPTransport(retries=0)
        return _Unclosable(self._network)

    def close(self) -> None:
        self.save_pace()
        if self._network is not None:
            self._network.close()
            self._network = None


# The published limits, the stricter where plans differ: Xano's free plan allows 10 requests per 20 seconds (paid
# plans more), Cloudflare's API 1,200 per 5 minutes. `[http] xano_rate`/`cloudflare_rate` raise them.
DEFAULT_RATES = {"xano": "10/20s", "cloudflare": "1200/300s"}
RATE_HINT = "Write it as requests/seconds, e.g. 10/20s ([http] xano_rate, MCPDEPLOY_HTTP_XANO_RATE)."
# Added to the window: a request counts where the service receives it, which the network can delay by this much.
PACE_MARGIN = 1.0
# What a 429 the pacer did not prevent does to the rest of the run: each later window is this much longer, up to
# MAX_SLOWDOWN times the configured one (a run that keeps meeting 429s shares the budget with someone; its
# Retry-After already says how long to wait, so the slowdown only has to stop the next burst).
SLOWDOWN = 1.25
MAX_SLOWDOWN = 2.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


_RATELIMIT_REMAINING = re.compile(r"(?:^|[;,\s])(?:r|remaining)=([0-9]+)")
_RATELIMIT_RESET = re.compile(r"(?:^|[;,\s])(?:t|reset)=([0-9]+)")


def spent_budget_seconds(response: httpx.Response) -> float | None:
    """Seconds until the budget renews when the answer says none is left: Cloudflare's `Ratelimit` header
    (`"default";r=0;t=30`, the IETF draft's fields, or its older `remaining=0, reset=30` form). None otherwise."""
    value = response.headers.get("ratelimit")
    if not value:
        return None
    remaining, reset = _RATELIMIT_REMAINING.search(value), _RATELIMIT_RESET.search(value)
    if remaining is None or reset is None or int(remaining.group(1)) > 0:
        return None
    return min(float(reset.group(1)), 3600.0)


def parse_rate(text: str) -> tuple[int, float]:
    """`10/20s` (or `10/20`): 10 requests in any 20 seconds. ValueError for anything else."""
    count, sep, seconds = text.strip().partition("/")
    if not sep:
        raise ValueError(f"{text!r} is not requests/seconds. {RATE_HINT}")
    try:
        parsed = int(count), float(seconds.strip().removesuffix("s"))
    except ValueError:
        raise ValueError(f"{text!r} is not requests/seconds. {RATE_HINT}") from None
    if parsed[0] < 1 or not 0 < parsed[1] <= 86_400:
        raise ValueError(f"{text!r}: at least 1 request in more than 0 and at most 86400 seconds. {RATE_HINT}")
    return parsed


class Pacer:
    """At most `count` requests of one service in any `window` seconds, so that its rate limit never answers 429.

    Each request takes the next free slot (the moment the request `count` places back left the window) and waits
    for it; slots are taken under a lock, so requests from several threads queue in turn. A 429 that gets through
    anyway (another client spending the same budget) lengthens the window for the rest of the run, and its
    Retry-After holds every request of the service, not only the one refused."""

    def __init__(self, count: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.window = window
        self._longest = window * MAX_SLOWDOWN
        self._clock = clock
        self._sent: list[float] = []  # the last `count` slots taken, oldest first
        self._hold_until = 0.0
        self._lock = threading.Lock()
        self.slowdowns = 0

    def remember(self, sent: list[float]) -> None:
        """Requests an earlier run sent (on this clock), which still count against the service's window."""
        with self._lock:
            self._sent = sorted(self._sent + sent)[-self.count:]

    def history(self) -> list[float]:
        with self._lock:
            return list(self._sent)

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._hold_until)
            if len(self._sent) >= self.count:
                slot = max(slot, self._sent[-self.count] + self.window + PACE_MARGIN)
            self._sent.append(slot)
            del self._sent[:-self.count]
            return slot - now

    def hold(self, seconds: float) -> None:
        """No request of the service before `seconds` from now (the service said its budget is spent)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    def refused(self, retry_after: float | None) -> None:
        with self._lock:
            self.slowdowns += 1
            self.window = min(self.window * SLOWDOWN, self._longest)
            if retry_after is not None:
                self._hold_until = max(self._hold_until, self._clock() + retry_after)


class _Unclosable(httpx.BaseTransport):
    """A shared transport handed to one client: closing that client must not close it for the others."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        pass


def is_dns_failure(exc: BaseException) -> bool:
    """Whether a connection failed because the host name did not resolve. httpx keeps the resolver's error in the
    chain of causes; a name that does not resolve now will not resolve a second later, so it is never retried."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, socket.gaierror):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def decoded_chunks(response: httpx.Response, request: httpx.Request) -> Iterator[bytes]:
    """The body of a streamed response, decoded, in pieces of bounded size.

    httpx inflates each network read whole, so one 64 KiB read of a gzip bomb becomes ~64 MB at once; gzip (the
    only encoding our clients ask for) is inflated here instead, at most `_DECODED_PIECE` bytes at a time, so a
    size cap is enforced before the memory is taken. Any other encoding a server sends anyway goes to httpx."""
    if response.is_stream_consumed:
        # Built in memory (a test or sandbox transport): httpx has already decoded it.
        yield response.content
        return
    encodings = [e.strip().lower() for e in response.headers.get_list("content-encoding", split_commas=True)]
    encodings = [e for e in encodings if e and e != "identity"]
    if not encodings:
        yield from response.iter_raw()
        return
    if encodings != ["gzip"]:
        yield from response.iter_bytes()
        return
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for raw in response.iter_raw(_RAW_PIECE):
            data = raw
            while data:
                piece = inflater.decompress(data, _DECODED_PIECE)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
        while True:
            piece = inflater.decompress(b"", _DECODED_PIECE) if not inflater.eof else b""
            if not piece:
                break
            yield piece
    except zlib.error as exc:
        raise httpx.DecodingError(f"the gzip answer is corrupt: {exc}", request=request) from exc


def read_body(response: httpx.Response, request: httpx.Request, *, cap: int, until: float, what: str) -> bytes:
    """The whole decoded body, or `ResponseTooLarge` past `cap` bytes, or a read timeout past `until`
    (time.monotonic()): httpx's read timeout restarts with every chunk, so a drip would never trip it."""
    chunks: list[bytes] = []
    size = 0
    for chunk in decoded_chunks(response, request):
        size += len(chunk)
        if size > cap:
            raise ResponseTooLarge(
                f"{what}: the answer is larger than {_size(cap)}, the cap on answers; reading stopped there",
                hint=MAX_RESPONSE_HINT,
            )
        chunks.append(chunk)
        if time.monotonic() > until:
            raise httpx.ReadTimeout("the answer did not arrive in full within the timeout", request=request)
    return b"".join(chunks)


class DeadlineReached(ServiceUnreachable):
    """The command's deadline passed before this request could be sent (or sent again)."""

    def __init__(self, options: HttpOptions, what: str) -> None:
        super().__init__(f"{what}: not sent, the deadline of {options.deadline:g}s for the whole command has passed",
                         hint=DEADLINE_HINT)


def _size(count: int) -> str:
    mb = count / 1_000_000
    return f"{mb:g} MB" if mb >= 1 else f"{count} bytes"


class RetryingTransport(httpx.BaseTransport):
    """Retries 429 and 500/502/503/504 (honouring Retry-After) and failed connections, within the deadline.

    httpx's own `retries=` covers connection set-up only. A request that may have reached the server is
    retried only when its method is idempotent, so a POST is never sent twice by us: a 5xx on a write may mean
    it was applied, and only the caller can look that up (as `ensure_queue` and `create_once` do). A name that
    does not resolve is final; a refused connection is tried `CONNECT_RETRIES` more times (a service restarting)
    and a timed-out one `TIMEOUT_RETRIES` more (a server that did not answer in 30 s rarely answers the next try
    in time): each costs a whole timeout, and they are what made a dead host hold a command for minutes.
    """

    def __init__(self, inner: httpx.BaseTransport, options: HttpOptions, service: str = "service") -> None:
        self._inner = inner
        self._options = options
        self._service = service
        self._pacer = options.pacer(service)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            left = self._options.remaining()
            if left is not None and left <= 0:
                raise DeadlineReached(self._options, f"{self._service}: {request.method} {self._where(request)}")
            self._wait_for_slot(request)
            timeout = self._options.exchange_timeout()
            request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
            started = time.monotonic()
            try:
                response = self._exchange(request, started + timeout)
            except ResponseTooLarge as exc:
                self._trace(request, None, started, exc.message)
                raise
            except httpx.TransportError as exc:
                self._trace(request, None, started, repr(exc))
                limit = self._retries_for(request, exc)
                if attempt >= limit or not self._pause(request, attempt, limit, None, _failure(exc)):
                    raise
                attempt += 1
                continue
            response.extensions["mcpdeploy_attempts"] = attempt + 1
            self._trace(request, response, started)
            if self._pacer is not None:
                if response.status_code == 429:
                    after = retry_after_seconds(response, default=-1.0)
                    self._pacer.refused(after if after >= 0 else None)
                else:
                    renews = spent_budget_seconds(response)
                    if renews is not None:
                        self._pacer.hold(renews)
            if response.status_code in RETRY_STATUSES and attempt < self._options.max_retries:
                if response.status_code != 429 and request.method not in IDEMPOTENT_METHODS:
                    return response
                wait = retry_after_seconds(response, default=-1.0)
                if wait > self._options.max_retry_wait:
                    return response
                if not self._pause(request, attempt, self._options.max_retries, wait if wait >= 0 else None,
                                   str(response.status_code)):
                    response.extensions["mcpdeploy_deadline"] = True
                    return response
                attempt += 1
                continue
            return response

    def _wait_for_slot(self, request: httpx.Request) -> None:
        """Wait for the service's pace, within the deadline. A service on this machine (the sandbox, a dev server)
        has no rate limit to respect."""
        if self._pacer is None or request.url.host in LOOPBACK_HOSTS:
            return
        wait = self._pacer.reserve()
        if wait <= 0:
            return
        left = self._options.remaining()
        if left is not None and wait >= left:
            raise DeadlineReached(self._options, f"{self._service}: {request.method} {self._where(request)}")
        self._options.sleep(wait)

    def _exchange(self, request: httpx.Request, until: float) -> httpx.Response:
        """One attempt, its answer read whole within the timeout and the size cap, and rebuilt decoded (without
        Content-Encoding, so that httpx does not decode it a second time)."""
        response = self._inner.handle_request(request)
        try:
            body = read_body(response, request, cap=self._options.max_response_bytes, until=until,
                             what=f"{self._service}: {request.method} {self._where(request)}")
        finally:
            response.close()
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request,
                              extensions=dict(response.extensions))

    def _retries_for(self, request: httpx.Request, exc: httpx.TransportError) -> int:
        if isinstance(exc, httpx.ConnectError) and is_dns_failure(exc):
            return 0
        if isinstance(exc, httpx.ConnectTimeout):
            return min(TIMEOUT_RETRIES, self._options.max_retries)
        if isinstance(exc, httpx.ConnectError):
            return min(CONNECT_RETRIES, self._options.max_retries)
        if request.method not in IDEMPOTENT_METHODS:
            return 0  # it may have reached the server
        if isinstance(exc, httpx.TimeoutException):
            return min(TIMEOUT_RETRIES, self._options.max_retries)
        if isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)):
            return self._options.max_retries
        return 0

    def _pause(self, request: httpx.Request, attempt: int, limit: int, retry_after: float | None, why: str) -> bool:
        """Wait before the next attempt and say so; False (no wait) when the deadline would pass meanwhile."""
        wait = retry_after
        if wait is None:
            wait = min(self._options.max_retry_wait, 0.5 * (2**attempt)) * (0.5 + random.random() / 2)
        left = self._options.remaining()
        if left is not None and wait >= left:
            return False
        if self._options.on_retry is not None:
            shown = f"{wait:.0f} s" if wait >= 1 else f"{wait:.1f} s"
            # Masked here, once, for every place the line goes (stderr, --json-stream): `why` quotes the service.
            self._options.on_retry(self._options.redactor.redact(
                f"retrying in {shown} ({attempt + 1}/{limit}): {why} from {self._service} "
                f"{request.method} {self._where(request, short=True)}"))
        self._options.sleep(wait)
        return True

    def _where(self, request: httpx.Request, *, short: bool = False) -> str:
        url = request.url.copy_with(query=None, fragment=None)
        if not short:
            return self._options.redactor.redact(str(url))
        parts = [p for p in url.path.split("/") if p]
        path = "/".join(parts[-2:])
        return self._options.redactor.redact(("…/" if len(parts) > 2 else "/") + path)

    def _trace(self, request: httpx.Request, response: httpx.Response | None, started: float, error: str = "") -> None:
        if self._options.trace is not None:
            self._options.trace.record(request, response, time.monotonic() - started, error)

    def close(self) -> None:
        self._inner.close()


def _failure(exc: httpx.TransportError) -> str:
    """A few words for a failed attempt, for the retry line."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "no connection within the timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or failed"
    return "connection dropped"


_COUNTS_LOCK = threading.Lock()
ErrorParser = Callable[[httpx.Response], tuple[str | None, str]]


# How much of what a service said goes into an error message; `Redactor.excerpt` cuts it, after masking.
DETAIL_LIMIT = 300


def default_error_parser(response: httpx.Response) -> tuple[str | None, str]:
    """The code and message of an error answer, whole: `ServiceClient.send` masks secrets and then cuts."""
    text = response.text.strip()
    return None, (text if text else response.reason_phrase)


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
            transport=RetryingTransport(inner, self.options, self.service),
            timeout=self.options.timeout,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
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
        with _COUNTS_LOCK:  # clients send from several threads at once
            self.options.counts["requests"] += 1
            if method.upper() in WRITE_METHODS:
                self.options.counts["writes"] += 1
        if method.upper() in WRITE_METHODS and self.options.on_write:
            self.options.on_write(method.upper(), url)
        try:
            response = self._announced_request(
                method,
                path,
                url,
                params={k: _param(v) for k, v in (params or {}).items() if v is not None},
                json=json_body if content is None else None,
                content=content,
                headers=send_headers,
            )
        except httpx.TimeoutException as exc:
            left = self.options.remaining()
            if left is not None and left <= 0.01:
                raise ServiceUnreachable(
                    f"{self.service}: {method} {self._safe(url)}: no answer before the deadline of "
                    f"{self.options.deadline:g}s for the whole command", hint=DEADLINE_HINT,
                ) from exc
            raise ServiceUnreachable(
                f"{self.service}: {method} {self._safe(url)} timed out after {self.options.timeout:g}s",
                hint=TIMEOUT_HINT,
            ) from exc
        except httpx.ConnectError as exc:
            if not is_dns_failure(exc):
                raise self._unreachable(method, url, exc) from exc
            host = self._safe(httpx.URL(url).host)
            raise ServiceUnreachable(
                f"{self.service}: {method} {self._safe(url)}: the host name {host} does not resolve (DNS); not "
                "retried", hint="Check the host name in the URL (a typo?) and that this machine's DNS works.",
            ) from exc
        except httpx.DecodingError as exc:
            raise ApiError(service=self.service, method=method, url=self._safe(url), status=0, code=None,
                           detail=f"the answer could not be decoded: {self._safe(str(exc))}") from exc
        except httpx.TransportError as exc:
            raise self._unreachable(method, url, exc) from exc
        if response.is_success or response.status_code in ok_statuses:
            return response
        if method.upper() == "DELETE" and response.status_code == 404 \
                and response.extensions.get("mcpdeploy_attempts", 1) > 1:
            return response  # the first attempt deleted it and its answer was lost: the goal is reached
        code, detail = self.parse_error(response)
        code = self.excerpt(code, 60) if code is not None else None
        detail = self.excerpt(detail, DETAIL_LIMIT)
        attempts = int(response.extensions.get("mcpdeploy_attempts", 1))
        tried = f"after {attempts} attempts" if attempts > 1 else "not retried"
        if response.extensions.get("mcpdeploy_deadline"):
            tried += f"; no more: the deadline of {self.options.deadline:g}s would pass while waiting"
        if response.status_code == 429 or (response.status_code in RETRY_STATUSES
                                           and method.upper() in IDEMPOTENT_METHODS):
            raise RateLimited(
                f"{self.service}: {method} {self._safe(url)} answered {response.status_code}"
                f"{' ' + code if code else ''}: {detail} ({tried})",
                hint="Wait a minute and run again: it is safe, every step is idempotent.",
            )
        if response.status_code in RETRY_STATUSES:  # a write that may or may not have been applied
            raise WriteOutcomeUnknown(
                service=self.service, method=method, url=self._safe(url), status=response.status_code, code=code,
                detail=f"{detail} (not retried: it may have been applied)",
                hint="Run `mcpdeploy plan` to see what exists now, then run the command again: it looks up what "
                "exists before it writes anything.",
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

    def _announced_request(self, method: str, path: str, url: str, **request: Any) -> httpx.Response:
        """The exchange (retries included), told to `on_request` as it starts and as it ends, however it ends."""
        told = self.options.on_request
        if told is None:
            return self._http.request(method, url, **request)
        words = f"{self.service} {method.upper()} {self._safe(_short_path(path))}"
        told(words, True)
        try:
            return self._http.request(method, url, **request)
        finally:
            told(words, False)

    def _safe(self, text: str) -> str:
        return self.options.redactor.redact(text)

    def _unreachable(self, method: str, url: str, exc: httpx.TransportError) -> ServiceUnreachable:
        return ServiceUnreachable(
            f"{self.service}: {method} {self._safe(url)} failed: {self._safe(str(exc)) or type(exc).__name__}",
            hint="Check the base URL (and that the service or sandbox is running), then run again: "
            "every step is idempotent.",
        )

    def excerpt(self, text: str, limit: int | None = None) -> str:
        """What the service sent (a message, a body, a header), fit for an error message."""
        return self.options.redactor.excerpt(text, limit)


def _short_path(path: str) -> str:
    """A call's path as a progress line shows it: no query, and at most its last three segments."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    return "/".join(parts) if len(parts) <= 3 else "…/" + "/".join(parts[-3:])


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def decode_json(response: httpx.Response, service: str, redactor: Redactor) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        content_type = redactor.excerpt(response.headers.get("content-type", "no content type"), 80)
        raise ApiError(
            service=service,
            method=response.request.method,
            url=redactor.redact(str(response.request.url)),
            status=response.status_code,
            code=None,
            detail=f"expected JSON, got {content_type}: '{redactor.excerpt(response.text, 120)}'",
        ) from exc
