"""`mcpdeploy smoke-test` against a real Worker: Cloudflare's Agents SDK on workerd, run by `wrangler dev`.

The Worker (agents_worker/src/index.js) checks every key with the sandbox's Xano `auth/me`, answers in SSE from
a Durable Object and gzips its JSON, as a deployed one does. Its routes are four Workers: a good one, one whose
key check was left out, one whose tool throws, and a good one built with the SDK's newer stateless handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mcpdeploy.sandbox import credentials
from tests.conftest import CliResult
from tests.workerd.conftest import Workerd

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key the sandbox's auth/me accepts, given the way CI gives it."""
    monkeypatch.setenv("MCP_API_KEY", credentials.MCP_API_KEY)


def smoke_test(cli: Cli, workerd: Workerd, route: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("smoke-test", "--url", f"{workerd.url}{route}", "--xano-url", workerd.xano_url, "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def failed(report: dict[str, Any]) -> list[str]:
    return [check["id"] for check in report["checks"] if check["status"] == "fail"]


def test_a_good_agents_sdk_worker_passes_every_check_and_its_tool_answers(cli: Cli, workerd: Workerd) -> None:
    code, report = smoke_test(cli, workerd, "/mcp", "--expect-tool", "echo", "--call-tool", "echo",
                              "--tool-args", '{"text": "hello from workerd"}')
    assert (code, failed(report)) == (0, [])
    assert report["server"] == {"name": "workerd-echo", "version": "1.0.0"}
    assert report["protocol"]["session"] is True
    assert report["protocol"]["response_formats"] == ["sse"]
    call = next(check for check in report["checks"] if check["id"] == "mcp.tools_call")
    assert "hello from workerd" in call["reason"]


def test_a_worker_without_its_key_check_fails_on_the_refusals(cli: Cli, workerd: Workerd) -> None:
    code, report = smoke_test(cli, workerd, "/unguarded/mcp")
    assert code == 5
    assert failed(report) == ["mcp.auth.no_token", "mcp.auth.wrong_token"]


def test_a_worker_whose_tool_throws_fails_the_tool_call(cli: Cli, workerd: Workerd) -> None:
    code, report = smoke_test(cli, workerd, "/failing-tool/mcp", "--call-tool", "echo",
                              "--tool-args", '{"text": "hello"}')
    assert code == 5
    assert failed(report) == ["mcp.tools_call"]
    call = next(check for check in report["checks"] if check["id"] == "mcp.tools_call")
    assert "the echo backend is down" in call["reason"]


@pytest.mark.parametrize(("era", "version"), [("auto", "2025-11-25"), ("modern", "2026-07-28")])
def test_a_stateless_worker_passes_in_both_protocol_eras(cli: Cli, workerd: Workerd, era: str, version: str) -> None:
    code, report = smoke_test(cli, workerd, "/stateless/mcp", "--protocol-era", era, "--call-tool", "echo",
                              "--tool-args", '{"text": "hello"}')
    assert (code, failed(report)) == (0, [])
    assert report["protocol"]["version"] == version
    assert report["protocol"]["session"] is False
    assert report["server"]["name"] == "workerd-echo-stateless"
