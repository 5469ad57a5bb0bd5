"""Shared fixtures: every test runs with a clean environment (no real tokens, no colour) in a temp project."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcpdeploy.config import EnvVars

_OUR_VARS = [v for k, v in vars(EnvVars).items() if k.isupper()]


@pytest.fixture(autouse=True)
def isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for var in [*_OUR_VARS, "CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "FORCE_COLOR"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    yield


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Worker project folder, made the current directory."""
    folder = tmp_path / "worker"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


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
