"""While a command waits, a terminal shows what it waits on (a spinner on stderr); CI logs and pipes get none."""

from __future__ import annotations

import io
import os
import pty
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console


def terminal(monkeypatch: pytest.MonkeyPatch, module: str) -> io.StringIO:
    """Make `module`'s console a terminal writing into the returned buffer."""
    screen = io.StringIO()

    def make_console(**_: Any) -> Console:
        return Console(file=screen, force_terminal=True, width=100, no_color=True)

    monkeypatch.setattr(f"mcpdeploy.cli.{module}.make_console", make_console)
    return screen


@pytest.mark.parametrize("command", ["plan", "provision"])
def test_a_terminal_sees_what_is_being_read(cli, project: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                             command: str) -> None:
    screen = terminal(monkeypatch, "context")
    assert cli(command, "--sandbox", "--yes" if command == "provision" else "--json").exit_code == 0
    assert "Planning: reading what exists in Xano and Cloudflare" in screen.getvalue()


@pytest.mark.parametrize("command", ["plan", "provision"])
def test_ci_gets_no_spinner(cli, project: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CI", "true")
    screen = terminal(monkeypatch, "context")
    assert cli(command, "--sandbox", "--yes" if command == "provision" else "--json").exit_code == 0
    assert "Planning:" not in screen.getvalue() and "Applying the" not in screen.getvalue()
    assert "\x1b[?25l" not in screen.getvalue()  # the cursor was never hidden for a spinner


def test_no_color_turns_colours_off_not_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR (set for every test) leaves a real terminal one, so a spinner can still draw, without colour."""
    from mcpdeploy.cli.output import make_console

    master, slave = pty.openpty()
    with open(slave, "w", closefd=True) as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        console = make_console()
        assert console.is_terminal
        console.print("[bold red]failed[/]")
        terminal.flush()
        written = os.read(master, 4096)
    os.close(master)
    assert written.strip() == b"failed"  # not one escape sequence


def test_without_colour_a_pipe_is_never_taken_for_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcpdeploy.cli.output import make_console

    monkeypatch.setenv("FORCE_COLOR", "1")  # rich would take any stream for a terminal
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not make_console().is_terminal
