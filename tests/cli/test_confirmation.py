"""At a real terminal, provision asks before it changes anything; "no" changes nothing and says so."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcpdeploy.exit_codes import ExitCode


def run_at_a_terminal(project: Path, answer: bytes, *args: str) -> tuple[int, str]:
    """Run mcpdeploy with stdin, stdout and stderr on a pseudo-terminal, typing `answer` at the prompt."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    proc = subprocess.Popen([sys.executable, "-m", "mcpdeploy", *args], cwd=project, stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 60
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[y/N]" in output:
            os.write(master, answer)
            answered = True
    os.close(master)
    return proc.wait(timeout=30), output.decode(errors="replace")


@pytest.mark.slow
def test_answering_no_changes_nothing_and_exits_with_its_own_code(project: Path) -> None:
    code, output = run_at_a_terminal(project, b"n\n", "provision", "--sandbox")
    assert "Apply these changes?" in output
    assert "you answered no: nothing was changed" in output
    assert code == ExitCode.DECLINED
    assert not (project / "wrangler.toml").exists()
    assert not (project / ".dev.vars").exists()


@pytest.mark.slow
def test_answering_yes_applies(project: Path) -> None:
    code, output = run_at_a_terminal(project, b"y\n", "provision", "--sandbox")
    assert code == 0, output
    assert "Applied" in output
    assert (project / ".dev.vars").exists()
