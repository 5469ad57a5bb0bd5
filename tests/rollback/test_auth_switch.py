"""The auth switch: its value rules, the limits on how long auth may be off, disable/enable/status as plain
functions against the sandbox's Cloudflare API, and the sandbox's /mcp letting a keyless request through only
inside the window. Time is a clock the tests set; nothing sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from mcpdeploy.errors import LockHeld, ServiceError, UsageError
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.redaction import Redactor
from mcpdeploy.rollback.auth_switch import (
    RESPONSE_HEADER,
    SWITCH_SECRET,
    SwitchStatus,
    checked_duration,
    disabled_until,
    encode_expiry,
    format_duration,
    max_disable,
    parse_duration,
    read_status,
    run_disable,
    run_enable,
)
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.cloudflare import deployed_secret_value
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.mcp_endpoint import McpEndpoint
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.state.journal import Journal
from mcpdeploy.state.lock import Lock

WORKER = credentials.WORKER_NAME
T0 = datetime(2026, 11, 23, 3, 0, 0, tzinfo=timezone.utc)
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t"}}}
NO_KEY = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(None)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[CloudflareClient]:
    options = HttpOptions(transport=SandboxTransport(sandbox), sleep=lambda _: None)
    with CloudflareClient("http://sandbox/client/v4", credentials.CLOUDFLARE_API_TOKEN,
                          credentials.CLOUDFLARE_ACCOUNT_ID, options) as cloudflare:
        cloudflare.upload_worker(WORKER, "export default {}", "deployed")
        yield cloudflare


def endpoint_of(sandbox: Sandbox) -> McpEndpoint:
    return next(s for s in sandbox.services if isinstance(s, McpEndpoint))


def disable_for(client: CloudflareClient, state_dir: Path, duration: timedelta, clock: Clock) -> datetime:
    outcome = run_disable(client, state_dir, None, Redactor(), worker=WORKER, duration=duration,
                          argv=["auth", "disable"], confirm=lambda status, until: None, on_warning=lambda _: None,
                          clock=clock)
    assert outcome.change.until is not None
    return outcome.change.until


# --- values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400),
                                               (" 2S ", 2)])
def test_durations_read_as_people_write_them(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "1d", "0m", "-5m", "m", "1.5h"])
def test_other_durations_are_refused_with_the_format(text: str) -> None:
    with pytest.raises(UsageError, match="duration"):
        parse_duration(text)


def test_format_duration_is_short() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (0, 42, 900, 3725)] == ["0s", "42s", "15m", "1h2m5s"]


def test_auth_is_off_only_strictly_before_the_expiry() -> None:
    value = encode_expiry(T0 + timedelta(minutes=15))
    assert disabled_until(value, T0) == T0 + timedelta(minutes=15)
    assert disabled_until(value, T0 + timedelta(minutes=15, microseconds=-1)) is not None
    assert disabled_until(value, T0 + timedelta(minutes=15)) is None


@pytest.mark.parametrize("value", [None, "", "soon", "2026-11-23T03:15:00Z", "-1", "1e10",
                                   str(int((T0 + timedelta(minutes=5)).timestamp() * 1000)),  # milliseconds
                                   encode_expiry(T0 + timedelta(hours=25))])
def test_absent_malformed_or_too_far_ahead_means_auth_on(value: str | None) -> None:
    assert disabled_until(value, T0) is None


def test_whitespace_around_the_value_is_ignored_as_wrangler_trims_it() -> None:
    assert disabled_until(f" {encode_expiry(T0 + timedelta(minutes=1))}\n", T0) is not None


def test_the_expiry_is_rounded_up_never_shortening_the_window() -> None:
    assert encode_expiry(T0 + timedelta(seconds=1, microseconds=1)) == str(int(T0.timestamp()) + 2)


def test_the_limit_is_one_hour_unless_configured_and_never_beyond_a_day() -> None:
    assert checked_duration("1h", None) == timedelta(hours=1)
    with pytest.raises(UsageError, match="at most 1h"):
        checked_duration("61m", "1h")
    assert checked_duration("2h", "3h") == timedelta(hours=2)
    assert max_disable("24h") == timedelta(hours=24)
    with pytest.raises(UsageError, match="max_disable"):
        max_disable("25h")


def test_status_counts_an_expired_switch_as_on() -> None:
    until = T0 + timedelta(minutes=10)
    off = SwitchStatus(WORKER, True, until, T0)
    assert (off.state, off.time_left) == ("off", timedelta(minutes=10))
    expired = SwitchStatus(WORKER, True, until, until)
    assert (expired.state, expired.time_left, expired.expired_leftover) == ("on", None, True)
    assert SwitchStatus(WORKER, False, None, T0).state == "on"
    assert SwitchStatus(WORKER, True, None, T0).state == "unknown"


# --- disable / enable / status ----------------------------------------------------------------------------------


def test_disable_sets_the_expiry_and_status_reads_it_back_from_the_journal(client: CloudflareClient,
                                                                            sandbox: Sandbox,
                                                                            tmp_path: Path) -> None:
    clock = Clock(T0)
    until = disable_for(client, tmp_path, timedelta(minutes=15), clock)

    assert until == T0 + timedelta(minutes=15)
    assert deployed_secret_value(sandbox, WORKER, SWITCH_SECRET) == encode_expiry(until)
    status = read_status(client, WORKER, Journal(tmp_path, None), T0 + timedelta(minutes=5))
    assert (status.state, status.time_left) == ("off", timedelta(minutes=10))
    later = read_status(client, WORKER, Journal(tmp_path, None), until)
    assert later.state == "on" and later.expired_leftover


def test_the_journal_keeps_the_expiry_but_never_the_secret_text(client: CloudflareClient, tmp_path: Path) -> None:
    until = disable_for(client, tmp_path, timedelta(minutes=15), Clock(T0))
    text = (tmp_path / "journal" / "default.jsonl").read_text()
    assert encode_expiry(until) not in text
    assert "2026-11-23T03:15:00Z" in text


def test_enable_removes_the_switch_and_a_second_enable_writes_nothing(client: CloudflareClient, sandbox: Sandbox,
                                                                      tmp_path: Path) -> None:
    disable_for(client, tmp_path, timedelta(minutes=15), Clock(T0))

    first = run_enable(client, tmp_path, None, Redactor(), worker=WORKER, argv=[], on_warning=lambda _: None)
    writes = len(sandbox.writes())
    second = run_enable(client, tmp_path, None, Redactor(), worker=WORKER, argv=[], on_warning=lambda _: None)

    assert first.change.changed and first.status_before.secret_set
    assert not second.change.changed
    assert len(sandbox.writes()) == writes
    assert SWITCH_SECRET not in client.list_secret_names(WORKER)
    assert [r.outcome for r in Journal(tmp_path, None).runs()][:2] == ["no_changes", "succeeded"]


def test_after_a_rollback_the_switch_cannot_be_set_and_says_what_to_do(client: CloudflareClient,
                                                                        tmp_path: Path) -> None:
    first = client.list_deployments(WORKER)[0].sole_version_id
    assert first is not None
    client.upload_worker(WORKER, "export default {}", "second")
    client.create_deployment(WORKER, first, "rollback")

    with pytest.raises(ServiceError) as refused:
        disable_for(client, tmp_path, timedelta(minutes=15), Clock(T0))

    assert "latest version is the one serving all traffic" in refused.value.message
    assert f"serving: {first} at 100%" in refused.value.message and "10215" in refused.value.message
    assert refused.value.hint is not None and "wrangler deploy" in refused.value.hint
    assert Journal(tmp_path, None).runs()[0].outcome == "failed"


def test_disable_waits_for_the_lock(client: CloudflareClient, tmp_path: Path) -> None:
    with Lock(tmp_path, None, command="rollback"), pytest.raises(LockHeld):
        disable_for(client, tmp_path, timedelta(minutes=15), Clock(T0))
    assert SWITCH_SECRET not in client.list_secret_names(WORKER)


# --- the sandbox's /mcp honours it ------------------------------------------------------------------------------


def test_the_sandbox_endpoint_lets_a_keyless_request_through_only_inside_the_window(
        client: CloudflareClient, sandbox: Sandbox, tmp_path: Path) -> None:
    endpoint = endpoint_of(sandbox)
    clock = Clock(T0)
    endpoint.clock = clock
    http = httpx.Client(transport=SandboxTransport(sandbox), base_url="http://sandbox")

    def keyless_status() -> int:
        return http.post("/mcp", headers=NO_KEY, json=INITIALIZE).status_code

    assert keyless_status() == 401
    until = disable_for(client, tmp_path, timedelta(seconds=2), clock)

    clock.now = T0 + timedelta(seconds=1)
    inside = http.post("/mcp", headers=NO_KEY, json=INITIALIZE)
    assert inside.status_code == 200
    assert inside.headers[RESPONSE_HEADER] == "2026-11-23T03:00:02Z"
    clock.now = until
    assert keyless_status() == 401
    keyed = http.post("/mcp", headers={**NO_KEY, "Authorization": f"Bearer {credentials.MCP_API_KEY}"},
                      json=INITIALIZE)
    assert keyed.status_code == 200 and RESPONSE_HEADER not in keyed.headers
    http.close()
