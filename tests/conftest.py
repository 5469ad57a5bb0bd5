"""Shared fixtures: every test runs with a clean environment (no real tokens, no colour) in a temp project."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from mcpdeploy.project.settings import EnvVars
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.server import SandboxServer

# Property tests draw the same examples on every run and keep no example database: CI stays deterministic and no
# `.hypothesis/` folder appears in the work tree.
settings.register_profile("mcpdeploy", database=None, derandomize=True, deadline=None)
settings.load_profile("mcpdeploy")

_OUR_VARS = [v for k, v in vars(EnvVars).items() if k.isupper()]


@pytest.fixture(autouse=True)
def isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for var in [*_OUR_VARS, "CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "FORCE_COLOR"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # A `--json` document that its published schema does not allow fails the test that made it.
    monkeypatch.setenv("MCPDEPLOY_STRICT_JSON", "1")
    monkeypatch.setenv("COLUMNS", "120")
    yield


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Worker project folder, made the current directory."""
    folder = tmp_path / "worker"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def served_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path) -> Iterator[Sandbox]:
    """A sandbox served on loopback, and the Xano variables a user would export to point mcpdeploy at it."""
    box = Sandbox(tmp_path / "sandbox-state")
    with SandboxServer(box) as server:
        monkeypatch.setenv("XANO_INSTANCE_URL", server.url)
        monkeypatch.setenv("XANO_WORKSPACE_ID", str(credentials.XANO_WORKSPACE_ID))
        monkeypatch.setenv("XANO_METADATA_TOKEN", credentials.XANO_METADATA_TOKEN)
        yield box


@pytest.fixture
def served_cloudflare(served_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The same sandbox with the Cloudflare variables (wrangler's names) pointing at it too."""
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", f"{served_sandbox.url}/client/v4")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", credentials.CLOUDFLARE_API_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", credentials.CLOUDFLARE_ACCOUNT_ID)
    return served_sandbox


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `mcpdeploy ARGS...` in-process and return its exit code, stdout and stderr."""
    from mcpdeploy.cli.app import run

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        code = run(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke
