"""`mcpdeploy smoke-test` as people and CI run it: verdicts, exit codes, reports, and the key kept secret."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.sandbox.session import record_served
from mcpdeploy.smoke.titles import CHECK_IDS
from tests.conftest import CliResult
from tests.smoke.servers import API_KEY, RunningServer, fixture_servers, stop_fixture_servers

Cli = Callable[..., CliResult]


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, RunningServer]]:
    yield fixture_servers()
    stop_fixture_servers()


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_API_KEY", API_KEY)


def target(server: RunningServer) -> list[str]:
    return ["--url", server.mcp_url, "--xano-url", server.xano_url]


def test_a_healthy_server_passes_with_a_table_on_stderr_and_nothing_on_stdout(
        cli: Cli, project: Path, servers: dict[str, RunningServer], key_env: None) -> None:
    result = cli("smoke-test", *target(servers["sse_stateful"]), "--call-tool", "echo",
                 "--tool-args", '{"text": "hello"}', "--expect-tool", "echo")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    for check_id in CHECK_IDS:
        assert check_id in result.stderr
    assert result.stderr.rstrip().splitlines()[-1] == "11 passed, 0 failed"
    assert "protocol 2025-11-25 (legacy), tools: echo, explode" in result.stderr


def test_json_is_a_versioned_document_holding_every_check(
        cli: Cli, project: Path, servers: dict[str, RunningServer], key_env: None) -> None:
    result = cli("smoke-test", *target(servers["json_stateless"]), "--json")
    document = json.loads(result.stdout)
    assert document["schema_version"] == "1"
    assert document["command"] == "smoke-test"
    assert document["target"] == {"mcp_url": servers["json_stateless"].mcp_url,
                                  "xano_url": servers["json_stateless"].xano_url}
    assert document["protocol"] == {"era": "legacy", "version": "2025-11-25", "session": False,
                                    "response_formats": ["json"]}
    assert document["server"] == {"name": "smoke-fixture", "version": "1.2.3"}
    assert document["tools"] == ["echo", "explode"]
    assert [c["id"] for c in document["checks"]] == list(CHECK_IDS)
    assert document["summary"] == {"passed": 9, "failed": 0, "warned": 0, "skipped": 2, "exit_code": 0}
    first = document["checks"][0]
    assert set(first) == {"id", "title", "status", "duration_ms", "reason", "http", "reproducer"}


def test_a_failed_check_exits_5_and_prints_a_curl_that_reproduces_it(
        cli: Cli, project: Path, servers: dict[str, RunningServer], key_env: None) -> None:
    result = cli("smoke-test", "--url", servers["json_stateless"].mcp_url, "--expect-tool", "search")
    assert result.exit_code == 5
    assert "FAIL  mcp.tools_list" in result.stderr
    assert "Reproduce mcp.tools_list:" in result.stderr
    curl = result.stderr.split("Reproduce mcp.tools_list:\n", 1)[1].split("\n\n", 1)[0]
    curl = curl.split("\nprotocol ")[0]
    assert '-H "Authorization: Bearer $MCP_API_KEY"' in curl
    assert API_KEY not in result.stderr
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    ran = subprocess.run(["sh", "-c", curl], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "MCP_API_KEY": API_KEY})
    assert "HTTP/1.1 200" in ran.stdout
    assert '"name":"echo"' in ran.stdout


def test_exit_codes_tell_apart_a_public_endpoint_an_unreachable_one_and_a_usage_error(
        cli: Cli, project: Path, servers: dict[str, RunningServer], key_env: None) -> None:
    assert cli("smoke-test", "--url", servers["public"].mcp_url).exit_code == 5
    hanging = cli("smoke-test", "--url", servers["hanging"].mcp_url, "--timeout", "0.3")
    assert hanging.exit_code == 7
    assert "no answer within 0.3s" in hanging.stderr
    assert cli("smoke-test").exit_code == 64


@pytest.mark.parametrize(("args", "message"), [
    (["--url", "http://127.0.0.1:9/mcp"], "no MCP API key: set MCP_API_KEY or pass --api-key-file FILE"),
    ([], "no MCP URL: pass --url, set MCP_URL"),
    (["--url", "x.workers.dev/mcp"], "expected an http:// or https:// URL"),
    (["--url", "http://h/mcp", "--call-tool", "echo", "--tool-args", "{nope"], "--tool-args is not valid JSON"),
    (["--url", "http://h/mcp", "--call-tool", "echo", "--tool-args", "[1]"], "--tool-args must be a JSON object"),
    (["--url", "http://h/mcp", "--tool-args", "{}"], "--tool-args needs --call-tool NAME"),
    (["--url", "http://h/mcp", "--protocol-era", "future"], "choose one of auto, legacy, modern"),
    (["--sandbox", "--url", "http://h/mcp"], "--sandbox takes the URLs and the key from the sandbox"),
])
def test_usage_errors_exit_64_and_say_what_to_do(cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch,
                                                 args: list[str], message: str) -> None:
    if "no MCP API key" not in message:
        monkeypatch.setenv("MCP_API_KEY", API_KEY)
    result = cli("smoke-test", *args)
    assert result.exit_code == 64
    assert message in result.stderr
    assert result.stdout == ""


def test_there_is_no_flag_for_the_key_itself(cli: Cli, project: Path) -> None:
    result = cli("smoke-test", "--url", "http://h/mcp", "--api-key", API_KEY)
    assert result.exit_code == 64
    assert "No such option" in result.stderr


def test_url_and_key_file_come_from_the_environment_section_of_mcpdeploy_toml(
        cli: Cli, project: Path, servers: dict[str, RunningServer]) -> None:
    (project / "staging.key").write_text(API_KEY + "\n")
    (project / "staging.key").chmod(0o600)
    server = servers["json_stateless"]
    (project / "mcpdeploy.toml").write_text(
        f'[env.staging.smoke]\nmcp_url = "{server.mcp_url}"\nxano_auth_url = "{server.xano_url}"\n'
        'api_key_file = "staging.key"\n')
    result = cli("smoke-test", "--env", "staging", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["target"]["mcp_url"] == server.mcp_url
    assert {c["id"]: c["status"] for c in document["checks"]}["xano.auth_me"] == "pass"


def test_junit_xml_holds_one_testcase_per_check_with_failures_and_skips(
        cli: Cli, project: Path, servers: dict[str, RunningServer], key_env: None) -> None:
    result = cli("smoke-test", *target(servers["public"]), "--junit-xml", "reports/smoke.xml")
    assert result.exit_code == 5
    suite = ET.parse(project / "reports" / "smoke.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == list(CHECK_IDS)
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {"xano.auth_me", "xano.auth_me.no_token", "mcp.auth.no_token", "mcp.auth.wrong_token"}
    assert suite.get("failures") == "4" and suite.get("tests") == str(len(CHECK_IDS))
    failure = cases["mcp.auth.no_token"].find("failure")
    assert failure is not None and "the MCP endpoint is public" in (failure.get("message") or "")
    assert "Reproduce with:\ncurl -i -N" in (failure.text or "")
    assert cases["mcp.auth.www_authenticate"].find("skipped") is not None


def test_in_github_actions_failures_become_annotations_and_a_step_summary(
        cli: Cli, project: Path, servers: dict[str, RunningServer], key_env: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    summary = project / "summary.md"
    summary.write_text("## earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("smoke-test", "--url", servers["empty_tools"].mcp_url, "--min-tools", "1", "--json")
    assert result.exit_code == 5
    assert "::error title=smoke-test mcp.tools_list::0 tool(s), fewer than --min-tools 1" in result.stderr
    assert "::" not in result.stdout  # stdout is the JSON document alone
    json.loads(result.stdout)
    text = summary.read_text()
    assert text.startswith("## earlier step\n### mcpdeploy smoke-test: FAILED")
    assert "| `mcp.tools_list` | ❌ fail |" in text
    assert "<summary>Reproduce <code>mcp.tools_list</code></summary>" in text


def test_the_key_appears_nowhere_even_when_the_server_echoes_it(
        cli: Cli, project: Path, servers: dict[str, RunningServer], monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "key.txt").write_text(API_KEY)
    (project / "key.txt").chmod(0o600)
    summary = project / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    outputs = []
    for name in ("error_500", "sse_stateful"):  # one reflects the Authorization header in its error body
        result = cli("smoke-test", *target(servers[name]), "--api-key-file", "key.txt", "--json",
                     "--junit-xml", f"{name}.xml", "--trace", f"{name}.jsonl", "--call-tool", "echo",
                     "--tool-args", '{"text": "x"}')
        assert result.exit_code in (0, 5)
        outputs += [result.stdout, result.stderr, (project / f"{name}.xml").read_text(),
                    (project / f"{name}.jsonl").read_text()]
    outputs.append(summary.read_text())
    assert "Bearer ***" in outputs[0]  # the echoed header was there, masked
    assert len(outputs[3].splitlines()) >= 5  # the trace recorded the exchanges
    for text in outputs:
        assert API_KEY not in text
        assert API_KEY[4:20] not in text


def test_sandbox_passes_against_a_fresh_project(cli: Cli, project: Path) -> None:
    result = cli("smoke-test", "--sandbox", "--call-tool", "echo", "--tool-args", '{"text": "hi"}', "--json",
                 "--trace", "trace.jsonl")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["failed"] == 0
    # The sandbox gzips its answers as Workers do; the trace holds them decoded.
    exchanges = [json.loads(line) for line in (project / "trace.jsonl").read_text().splitlines()]
    auth_me = next(e for e in exchanges if e["url"].endswith("/auth/me") and e["status"] == 200)
    assert isinstance(auth_me["response_body"], dict) and "id" in auth_me["response_body"]
    assert document["target"]["mcp_url"].endswith("/mcp")
    assert document["target"]["xano_url"].endswith("/api:e6emygx3")
    assert document["tools"] == ["echo", "whoami"]


def test_sandbox_uses_a_running_sandbox_serve(cli: Cli, project: Path) -> None:
    from mcpdeploy.project.settings import load_settings
    from mcpdeploy.sandbox.session import sandbox_dir

    settings = load_settings(project)
    sandbox = Sandbox(sandbox_dir(settings))
    with SandboxServer(sandbox) as server:
        record_served(settings, server.url)
        result = cli("smoke-test", "--sandbox", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["target"]["mcp_url"] == f"{server.url}/mcp"
    assert any(r.path == "/mcp" for r in sandbox.requests)


@pytest.mark.parametrize(("mode", "content", "words"), [
    (0o644, API_KEY.encode(), "readable by others (mode 0644)"),
    (0o600, b"\xff\xfe not text", "not valid UTF-8"),
])
def test_an_api_key_file_others_can_read_or_that_is_not_text_is_refused_by_name(
        cli: Cli, project: Path, mode: int, content: bytes, words: str) -> None:
    (project / "key.txt").write_bytes(content)
    (project / "key.txt").chmod(mode)
    result = cli("smoke-test", "--url", "http://127.0.0.1:9/mcp", "--api-key-file", "key.txt")
    assert result.exit_code == 8, result.stderr
    assert "key.txt" in result.stderr and words in result.stderr
    assert API_KEY not in result.stderr + result.stdout
