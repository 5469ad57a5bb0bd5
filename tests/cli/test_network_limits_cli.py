"""Every networked command takes --timeout and --deadline (or [http] / MCPDEPLOY_HTTP_*), stops within them
against a server that never answers or a refused port, prints each retry on stderr, and only ever hints at
flags it really has. Real sockets on loopback; no timing asserted (benchmarks/network_waits.py measures)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from mcpdeploy.cli.app import _register_commands, app
from mcpdeploy.errors import InputFileError
from mcpdeploy.project.settings import EnvVars, load_settings
from mcpdeploy.sandbox import credentials
from tests.support.hostile_servers import Fixed, Silent, refused_port

# Each networked command, as it is typed after `mcpdeploy`.
COMMANDS = [
    ["plan"],
    ["provision", "--yes"],
    ["rollback", "--dry-run"],
    ["rollback", "--run", "last", "--dry-run"],
    ["auth", "status"],
    ["auth", "enable"],
    ["auth", "disable", "--for", "5m", "--yes"],
    ["smoke-test"],
]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def command_options(words: list[str]) -> set[str]:
    _register_commands()
    command: Any = typer.main.get_command(app)
    for word in words:
        if word not in getattr(command, "commands", {}):
            break
        command = command.commands[word]
    return {opt for param in command.params for opt in param.opts if opt.startswith("--")}


def point_everything_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("XANO_INSTANCE_URL", url)
    monkeypatch.setenv("XANO_WORKSPACE_ID", "1")
    monkeypatch.setenv("XANO_METADATA_TOKEN", credentials.XANO_METADATA_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", f"{url}/client/v4")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", credentials.CLOUDFLARE_API_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", credentials.CLOUDFLARE_ACCOUNT_ID)
    monkeypatch.setenv("MCPDEPLOY_WORKER_NAME", "mcp-server")
    monkeypatch.setenv("MCP_URL", f"{url}/mcp")
    monkeypatch.setenv("MCP_API_KEY", "smoke-key-0123456789")


def hinted_flags(stderr: str) -> set[str]:
    """The flags named in what mcpdeploy advises (not in the curl commands smoke-test prints to reproduce)."""
    advice = [line for line in stderr.splitlines() if line.startswith(("hint:", "error:", "retrying in "))]
    return set(FLAG.findall("\n".join(advice)))


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_networked_command_has_both_flags(words: list[str]) -> None:
    assert {"--timeout", "--deadline"} <= command_options(words)


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_a_silent_server_ends_the_command_within_its_limits_and_its_hints_name_real_flags(
        cli, project: Path, monkeypatch: pytest.MonkeyPatch, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    with Silent() as server:
        point_everything_at(monkeypatch, server.url)
        result = cli(*words, "--timeout", "0.2", "--deadline", "0.6")
    assert result.exit_code in (ExitCodes.UNREACHABLE, ExitCodes.CHECKS_FAILED, ExitCodes.USAGE), result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code != ExitCodes.USAGE:
        assert server.connections >= 1
    hinted = hinted_flags(result.stderr)
    assert hinted <= command_options(words), f"hints name flags {words} lacks: {hinted - command_options(words)}"


@pytest.mark.parametrize("words", [["plan"], ["auth", "status"]], ids=" ".join)
def test_a_refused_port_prints_each_retry_and_exits_unreachable(
        cli, project: Path, monkeypatch: pytest.MonkeyPatch, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    point_everything_at(monkeypatch, f"http://127.0.0.1:{refused_port()}")
    monkeypatch.setenv(EnvVars.HTTP_DEADLINE, "3")
    result = cli(*words)
    assert result.exit_code == ExitCodes.UNREACHABLE, result.stderr
    retries = [line for line in result.stderr.splitlines() if line.startswith("retrying in ")]
    assert retries and all("connection refused or failed from " in line for line in retries)
    assert credentials.XANO_METADATA_TOKEN not in result.stderr
    assert hinted_flags(result.stderr) <= command_options(words)


def test_a_500_on_every_read_exits_with_the_safe_to_run_again_code(
        cli, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with Fixed(b'{"message": "internal"}', status=500) as server:
        point_everything_at(monkeypatch, server.url)
        result = cli("plan", "--deadline", "1.5")
    assert result.exit_code == 75, result.stderr
    assert server.connections >= 2  # retried, not refused at once
    assert "run again" in result.stderr


def test_the_settings_come_from_flags_then_environment_then_the_file(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "mcpdeploy.toml").write_text("[http]\ntimeout = 12\ndeadline = 90\nmax_response_mb = 4\n")
    settings = load_settings(project)
    assert (settings.http.timeout, settings.http.deadline, settings.http.max_response_mb) == (12, 90, 4)
    monkeypatch.setenv(EnvVars.HTTP_DEADLINE, "45")
    assert load_settings(project).http.deadline == 45
    assert load_settings(project, flags={"http.deadline": 7}).http.deadline == 7


@pytest.mark.parametrize("bad", ["timeout = 0", "deadline = -1", "timeout = true", "max_response_mb = \"lots\""])
def test_a_bad_http_setting_names_the_file_and_line(project: Path, bad: str) -> None:
    (project / "mcpdeploy.toml").write_text(f"[http]\n{bad}\n")
    with pytest.raises(InputFileError) as caught:
        load_settings(project)
    assert caught.value.line == 2 and "http." in caught.value.problem


class ExitCodes:
    UNREACHABLE = 7
    CHECKS_FAILED = 5
    USAGE = 64
