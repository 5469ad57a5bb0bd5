"""The CI workflow template only uses mcpdeploy commands and flags that exist (checked against --help)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).parents[2] / "templates" / "ci" / "github-actions.yml"
COMMAND = re.compile(r"mcpdeploy ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)((?: --?[a-z][a-z-]*(?: [^ -][^ ]*)?)*)")


def mcpdeploy_lines() -> list[tuple[str, list[str]]]:
    found = []
    for line in WORKFLOW.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        for match in COMMAND.finditer(line):
            flags = re.findall(r"--?[a-z][a-z-]*", match.group(2))
            found.append((match.group(1), flags))
    return found


def test_the_workflow_runs_plan_provision_and_smoke_test() -> None:
    commands = {command.split()[0] for command, _ in mcpdeploy_lines()}
    assert {"plan", "provision", "smoke-test"} <= commands


@pytest.mark.parametrize(("command", "flags"), mcpdeploy_lines())
def test_every_flag_the_workflow_uses_exists(cli, command: str, flags: list[str]) -> None:  # type: ignore[no-untyped-def]
    words = [w for w in command.split() if w in {"plan", "provision", "smoke-test"}] or command.split()[:1]
    help_text = cli(*words, "--help").stdout
    for flag in flags:
        assert flag in help_text, f"`mcpdeploy {' '.join(words)}` has no {flag}"
