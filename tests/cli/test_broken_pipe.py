"""A reader that closes mcpdeploy's output early (`mcpdeploy history show last | head -c1`) ends the run quietly:
exit 141 as for any program cut off by its pipe, no traceback, no "unexpected error"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcpdeploy.cli.app import OUTPUT_CLOSED


class ClosedPipe:
    """A stream whose reader went away: every write fails as it does on a closed pipe."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("no file descriptor")


@pytest.fixture
def journal(cli, served_sandbox, project: Path) -> Path:
    assert cli("provision", "--yes").exit_code == 0
    return project


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
@pytest.mark.parametrize("args", [("history", "show", "last"), ("history", "show", "last", "--json"),
                                  ("history",), ("--version",), ("--help",), ("history", "show", "nope")])
def test_a_closed_pipe_ends_the_run_quietly(journal: Path, monkeypatch: pytest.MonkeyPatch, stream: str,
                                            args: tuple[str, ...]) -> None:
    from mcpdeploy.cli.app import run

    monkeypatch.setattr(sys, stream, ClosedPipe())
    code = run(list(args))
    monkeypatch.undo()
    # An unknown run is still a usage error when only stdout is gone: its message goes to stderr.
    assert code in ((64, OUTPUT_CLOSED) if "nope" in args else (0, OUTPUT_CLOSED))


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_real_closed_pipe_exits_141_without_a_word(journal: Path, closed: str) -> None:
    """In a real process, where the flush at exit would fail again on the closed pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    other = subprocess.PIPE
    streams = {"stdout": write_end, "stderr": other} if closed == "stdout" else {"stdout": other, "stderr": write_end}
    # `history show` writes only to stdout; `unlock` of an unlocked environment only to stderr.
    words = ["history", "show", "last"] if closed == "stdout" else ["unlock"]
    try:
        done = subprocess.run([sys.executable, "-m", "mcpdeploy", *words],
                              cwd=journal, timeout=60, check=False, **streams)  # type: ignore[call-overload]
    finally:
        os.close(write_end)
    assert done.returncode == OUTPUT_CLOSED
    assert (done.stderr if closed == "stdout" else done.stdout) == b""
