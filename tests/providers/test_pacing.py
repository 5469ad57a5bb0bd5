"""Each service is paced to its published rate limit, so a run never meets a 429 it could have waited out; a 429
that gets through anyway (another client spending the same budget) slows the rest of the run. Time is a fake
clock here: the waits are counted, never slept."""

from __future__ import annotations

import collections
import threading

import httpx
import pytest

from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import DEFAULT_RATES, HttpOptions, Pacer, ServiceClient, parse_rate
from mcpdeploy.providers.parallel import run_all


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now = max(self.now, self.now + seconds)


class FreePlan(httpx.BaseTransport):
    """Xano's free plan on the fake clock: an 11th request within 20 seconds is answered 429."""

    def __init__(self, clock: FakeClock, limit: int = 10, window: float = 20.0, retry_after: str | None = None) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.retry_after = retry_after
        self.seen: collections.deque[float] = collections.deque()
        self.answered_429 = 0
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        now = self.clock()
        while self.seen and self.seen[0] <= now - self.window:
            self.seen.popleft()
        if len(self.seen) >= self.limit:
            self.answered_429 += 1
            headers = {"retry-after": self.retry_after} if self.retry_after else {}
            return httpx.Response(429, headers=headers, json={"message": "Whoa there!"}, request=request)
        self.seen.append(now)
        return httpx.Response(200, json={"ok": True}, request=request)


class Xano(ServiceClient):
    service = "xano"


def client(transport: httpx.BaseTransport, clock: FakeClock, rate: str = DEFAULT_RATES["xano"],
           base: str = "https://x.xano.io") -> Xano:
    options = HttpOptions(transport=transport, sleep=clock.sleep, clock=clock, rates={"xano": rate})
    return Xano(base, "token", options)


def test_thirty_requests_on_the_free_plan_meet_no_429_and_take_the_windows_they_need() -> None:
    clock = FakeClock()
    server = FreePlan(clock)
    xano = client(server, clock)
    for _ in range(30):
        xano.send("GET", "/api:meta/workspace/1/table")
    assert server.answered_429 == 0
    assert server.calls == 30
    # The first ten at once, then ten per window (and its margin for the network's delay), never faster.
    assert 40 <= clock.now - 1000.0 <= 45


def test_requests_from_several_threads_share_one_pace() -> None:
    clock = FakeClock()
    server = FreePlan(clock)
    xano = client(server, clock)
    run_all([lambda: xano.send("GET", "/api:meta/workspace/1/table") for _ in range(25)], workers=4)
    assert server.answered_429 == 0 and server.calls == 25


def test_a_429_honours_retry_after_for_every_request_and_slows_the_rest_of_the_run() -> None:
    clock = FakeClock()
    # Someone else spent half of the budget: the server allows five where the pacer expects ten.
    server = FreePlan(clock, limit=5, retry_after="21")
    options = HttpOptions(transport=server, sleep=clock.sleep, clock=clock, rates={"xano": "10/20s"})
    xano = Xano("https://x.xano.io", "token", options)
    for _ in range(6):
        xano.send("GET", "/api:meta/workspace/1/table")
    pacer = options.pacer("xano")
    assert pacer is not None and pacer.slowdowns == 1 and pacer.window == pytest.approx(25.0)
    assert 21 in clock.slept  # Retry-After, waited once
    refused_before = server.answered_429
    for _ in range(20):
        xano.send("GET", "/api:meta/workspace/1/table")
    # Paced to ten per 25 s now, then slower with each 429 (up to 40 s): the server refuses fewer and fewer.
    assert server.answered_429 - refused_before < 10
    assert pacer.window <= 40.0


def test_a_service_on_this_machine_is_not_paced() -> None:
    clock = FakeClock()
    server = FreePlan(clock, limit=1000)
    xano = client(server, clock, base="http://127.0.0.1:8787")
    for _ in range(30):
        xano.send("GET", "/api:meta/workspace/1/table")
    assert clock.slept == []


def test_an_unpaced_service_never_waits() -> None:
    clock = FakeClock()
    server = FreePlan(clock, limit=1000)
    options = HttpOptions(transport=server, sleep=clock.sleep, clock=clock)
    xano = Xano("https://x.xano.io", "token", options)
    for _ in range(30):
        xano.send("GET", "/x")
    assert clock.slept == [] and options.pacer("xano") is None


def test_the_defaults_are_the_published_limits_and_settings_raise_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(tmp_path, environ={})
    assert parse_rate(settings.http.xano_rate) == (10, 20.0)
    assert parse_rate(settings.http.cloudflare_rate) == (1200, 300.0)
    raised = load_settings(tmp_path, environ={"MCPDEPLOY_HTTP_XANO_RATE": "100/20s"})
    assert parse_rate(raised.http.xano_rate) == (100, 20.0)
    (tmp_path / "mcpdeploy.toml").write_text('[http]\ncloudflare_rate = "600/300"\n')
    assert parse_rate(load_settings(tmp_path, environ={}).http.cloudflare_rate) == (600, 300.0)


@pytest.mark.parametrize("text", ["fast", "10", "0/20s", "10/0s", "-1/20"])
def test_a_rate_that_is_not_requests_per_seconds_is_refused(tmp_path, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="xano_rate"):
        load_settings(tmp_path, environ={"MCPDEPLOY_HTTP_XANO_RATE": text})
    with pytest.raises(ValueError):
        parse_rate(text)


def test_a_pacer_hands_out_slots_in_turn() -> None:
    clock = FakeClock()
    pacer = Pacer(2, 10.0, clock=clock)
    assert [pacer.reserve() for _ in range(4)] == [0.0, 0.0, 11.0, 11.0]


def test_the_next_command_counts_the_requests_the_last_one_sent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A provision and its no-op rerun are two processes: the rerun must not spend the budget the first one used."""
    clock = FakeClock()
    server = FreePlan(clock)
    pace_file = tmp_path / ".mcpdeploy" / "pace.json"
    for _ in range(2):
        options = HttpOptions(transport=server, sleep=clock.sleep, clock=clock, rates={"xano": "10/20s"},
                              pace_file=pace_file)
        xano = Xano("https://x.xano.io", "token", options)
        for _ in range(10):
            xano.send("GET", "/api:meta/workspace/1/table")
        options.close()
    assert server.answered_429 == 0 and server.calls == 20
    assert sum(clock.slept) == pytest.approx(21.0, abs=0.5)


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"xano": ["soon", true]}'])
def test_an_unreadable_pace_file_is_only_a_lost_aid(tmp_path, content: str) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    pace_file = tmp_path / "pace.json"
    pace_file.write_text(content)
    options = HttpOptions(transport=FreePlan(clock), sleep=clock.sleep, clock=clock, rates={"xano": "10/20s"},
                          pace_file=pace_file)
    Xano("https://x.xano.io", "token", options).send("GET", "/x")
    options.close()
    assert clock.slept == []


class SpentBudget(httpx.BaseTransport):
    """Cloudflare saying, on a 200, that the budget is spent until 30 seconds from now."""

    def __init__(self, header: str) -> None:
        self.header = header

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"ratelimit": self.header}, json={"success": True}, request=request)


class Cloudflare(ServiceClient):
    service = "cloudflare"


@pytest.mark.parametrize(("header", "held"), [('"default";r=0;t=30', 30.0), ("limit=1200, remaining=0, reset=30", 30.0),
                                               ('"default";r=5;t=30', 0.0), ("nonsense", 0.0)])
def test_cloudflares_ratelimit_header_holds_the_next_request_when_the_budget_is_spent(header: str,
                                                                                       held: float) -> None:
    clock = FakeClock()
    options = HttpOptions(transport=SpentBudget(header), sleep=clock.sleep, clock=clock,
                          rates={"cloudflare": DEFAULT_RATES["cloudflare"]})
    cloudflare = Cloudflare("https://api.cloudflare.com/client/v4", "token", options)
    cloudflare.send("GET", "/user/tokens/verify")
    cloudflare.send("GET", "/user/tokens/verify")
    assert sum(clock.slept) == pytest.approx(held)
