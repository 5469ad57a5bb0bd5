"""Verdicts of `run_smoke_test` against real MCP SDK servers and against servers that misbehave."""

from __future__ import annotations

import socket

import pytest

from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.mcp_http import McpHttpClient
from mcpdeploy.smoke.checks import run_smoke_test
from mcpdeploy.smoke.model import SmokeOptions, SmokeReport, Status
from mcpdeploy.smoke.titles import CHECK_IDS
from tests.smoke.servers import API_KEY, RunningServer, canned, send_answer, start, stop


def smoke(server: RunningServer, *, key: str = API_KEY, timeout: float = 5.0, **options: object) -> SmokeReport:
    settings = SmokeOptions(mcp_url=server.mcp_url, xano_url=server.xano_url, **options)  # type: ignore[arg-type]
    with McpHttpClient(key, HttpOptions(timeout=timeout)) as client:
        return run_smoke_test(client, settings)


def statuses(report: SmokeReport) -> dict[str, str]:
    return {c.id: c.status.value for c in report.checks}


def reason(report: SmokeReport, check_id: str) -> str:
    return next(c.reason for c in report.checks if c.id == check_id)


def test_a_stateful_sdk_server_answering_in_sse_passes_every_check(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["sse_stateful"], call_tool="echo", tool_args={"text": "hello"},
                   expect_tools=("echo",), min_tools=1)
    assert report.exit_code is ExitCode.OK
    assert [c.id for c in report.checks] == list(CHECK_IDS)
    assert statuses(report) == dict.fromkeys(CHECK_IDS, "pass")
    assert (report.era, report.protocol_version, report.session) == ("legacy", "2025-11-25", True)
    assert report.response_formats == ["sse"]
    assert report.server_info == {"name": "smoke-fixture", "version": "1.2.3"}
    assert report.tools == ["echo", "explode"]
    assert reason(report, "mcp.tools_call") == "echo answered: hello"
    assert "Missing session ID" in reason(report, "mcp.seed_curl")


def test_a_stateless_sdk_server_answering_in_json_passes_and_keeps_no_session(
        servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["json_stateless"], call_tool="echo", tool_args={"text": "hi"})
    assert report.exit_code is ExitCode.OK
    assert report.response_formats == ["json"] and report.session is False
    assert statuses(report)["mcp.session_delete"] == "skip"
    assert reason(report, "mcp.seed_curl").startswith("answered 200 with 2 tool(s)")


def test_a_server_speaking_only_2026_07_28_is_detected_and_driven_with_meta(
        servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["modern_only"], call_tool="echo", tool_args={"text": "hi"})
    assert report.exit_code is ExitCode.OK
    assert (report.era, report.protocol_version) == ("modern", "2026-07-28")
    assert "detected from its answer to initialize" in reason(report, "mcp.initialize")
    assert report.tools == ["echo", "explode"]


def test_protocol_era_modern_skips_initialize_and_legacy_refuses_to_switch(
        servers: dict[str, RunningServer]) -> None:
    assert smoke(servers["sse_stateful"], era="modern").era == "modern"  # the SDK serves both eras
    legacy = smoke(servers["modern_only"], era="legacy")
    assert legacy.exit_code is ExitCode.CHECKS_FAILED
    assert "-32022" in reason(legacy, "mcp.initialize")


def test_a_public_endpoint_fails_the_auth_checks(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["public"])
    assert report.exit_code is ExitCode.CHECKS_FAILED
    assert statuses(report)["mcp.auth.no_token"] == "fail"
    assert statuses(report)["mcp.auth.wrong_token"] == "fail"
    assert "the MCP endpoint is public" in reason(report, "mcp.auth.no_token")
    assert statuses(report)["mcp.tools_list"] == "pass"  # the rest still works, and is reported as such


def test_http_500_fails_and_a_key_the_server_echoes_back_is_masked(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["error_500"])
    assert report.exit_code is ExitCode.CHECKS_FAILED
    assert "answered 500" in reason(report, "mcp.reachable")
    assert all(API_KEY not in c.reason for c in report.checks)
    assert "Bearer ***" in reason(report, "mcp.initialize")


def test_an_html_page_is_called_out_as_not_an_mcp_endpoint(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["html_page"])
    assert report.exit_code is ExitCode.CHECKS_FAILED
    assert "HTML page titled 'Welcome to my site'" in reason(report, "mcp.reachable")
    assert "not an MCP endpoint" in reason(report, "mcp.reachable")
    assert statuses(report)["mcp.seed_curl"] == "warn"


def test_a_cloudflare_error_page_is_named_with_its_code(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["cloudflare_1101"])
    assert report.exit_code is ExitCode.CHECKS_FAILED
    assert reason(report, "mcp.reachable").startswith("Cloudflare error 1101")
    assert "wrangler tail" in reason(report, "mcp.reachable")


def test_an_empty_tool_list_warns_and_fails_with_min_tools(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["empty_tools"])
    assert report.exit_code is ExitCode.OK
    assert statuses(report)["mcp.tools_list"] == "warn"
    strict = smoke(servers["empty_tools"], min_tools=1)
    assert strict.exit_code is ExitCode.CHECKS_FAILED
    assert reason(strict, "mcp.tools_list") == "0 tool(s), fewer than --min-tools 1"


def test_a_missing_expected_tool_fails_and_names_what_is_there(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["json_stateless"], expect_tools=("echo", "search"))
    assert reason(report, "mcp.tools_list") == "missing expected tool(s) search; the server lists echo, explode"
    assert report.exit_code is ExitCode.CHECKS_FAILED


def test_a_tool_that_reports_is_error_fails_the_call_check(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["sse_stateful"], call_tool="explode")
    assert statuses(report)["mcp.tools_call"] == "fail"
    assert "explode returned isError" in reason(report, "mcp.tools_call")
    assert "the tool blew up" in reason(report, "mcp.tools_call")


def test_a_tools_list_slower_than_the_timeout_fails_that_check_only(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["slow_tools_list"], timeout=0.3)
    assert report.exit_code is ExitCode.CHECKS_FAILED
    assert statuses(report)["mcp.initialize"] == "pass"
    assert statuses(report)["mcp.tools_list"] == "fail"
    assert "no answer within 0.3s" in reason(report, "mcp.tools_list")


def test_an_sse_stream_left_open_is_read_only_until_our_response(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["sse_lingering"], timeout=1.0)
    assert statuses(report)["mcp.tools_list"] == "pass"
    assert report.tools == ["lingering"]
    assert (report.protocol_version, report.session) == ("2025-06-18", False)


def test_an_endpoint_that_never_answers_is_unreachable_and_the_rest_is_skipped(
        servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["hanging"], timeout=0.3)
    assert report.exit_code is ExitCode.UNREACHABLE
    assert statuses(report)["mcp.reachable"] == "fail"
    assert {statuses(report)[i] for i in CHECK_IDS[CHECK_IDS.index("mcp.reachable") + 1:]} == {"skip"}


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_for_retries_a_cold_start_until_the_endpoint_answers() -> None:
    answers = iter([503, 503])
    auth_app = canned(401, '{"error":"invalid_token"}', "application/json")

    async def cold_start(scope, receive, send):  # type: ignore[no-untyped-def]
        status = next(answers, None) if scope["type"] == "http" else None
        if status is not None:
            await send_answer(send, status, b"warming up", "text/plain")
            return
        await auth_app(scope, receive, send)

    server = start("cold", cold_start)
    try:
        clock = FakeClock()
        options = SmokeOptions(mcp_url=server.mcp_url, wait_for=30)
        told: list[tuple[str, float, float]] = []
        with McpHttpClient(API_KEY, HttpOptions(timeout=5)) as client:
            report = run_smoke_test(client, options, clock=clock, sleep=clock.sleep,
                                    on_wait=lambda *notice: told.append(notice))
    finally:
        stop(server)
    assert statuses(report)["mcp.reachable"] == "pass"
    assert "after 3 attempts" in reason(report, "mcp.reachable")
    assert clock.sleeps == [1.0, 1.0]
    # Each pause is told before it is taken: why, the pause, and what is left of --wait-for.
    assert told == [(f"POST {server.mcp_url} answered 503", 1.0, 30.0),
                    (f"POST {server.mcp_url} answered 503", 1.0, 29.0)]


def test_wait_for_gives_up_at_its_deadline_on_a_closed_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    clock = FakeClock()
    options = SmokeOptions(mcp_url=f"http://127.0.0.1:{port}/mcp", wait_for=3)
    with McpHttpClient(API_KEY, HttpOptions(timeout=1)) as client:
        report = run_smoke_test(client, options, clock=clock, sleep=clock.sleep)
    assert report.exit_code is ExitCode.UNREACHABLE
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert "after 4 attempts" in reason(report, "mcp.reachable")


@pytest.mark.parametrize("check_id", ["xano.auth_me", "xano.auth_me.no_token"])
def test_xano_checks_are_skipped_without_an_auth_url(servers: dict[str, RunningServer], check_id: str) -> None:
    server = servers["json_stateless"]
    with McpHttpClient(API_KEY, HttpOptions(timeout=5)) as client:
        report = run_smoke_test(client, SmokeOptions(mcp_url=server.mcp_url))
    check = next(c for c in report.checks if c.id == check_id)
    assert check.status is Status.SKIP and "--xano-url" in check.reason


def test_a_wrong_key_fails_xano_and_the_handshake(servers: dict[str, RunningServer]) -> None:
    report = smoke(servers["sse_stateful"], key="not-the-key")
    assert statuses(report)["xano.auth_me"] == "fail"
    assert "not a valid Xano auth token" in reason(report, "xano.auth_me")
    assert statuses(report)["mcp.initialize"] == "fail"
    assert "the key was refused" in reason(report, "mcp.initialize")
