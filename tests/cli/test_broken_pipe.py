"""A reader that closes mcpdeploy's output early (`mcpdeploy history show last | head -c1`) changes nothing about
the run: the command finishes what it started and exits with its own code (0 when it succeeded), quietly: no
traceback, no "unexpected error", no "Exception ignored" from Python at exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


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
                                  ("history",), ("--version",), ("--help",), ("history", "--help"),
                                  ("history", "show", "nope")])
def test_a_closed_pipe_leaves_the_exit_code_to_the_command(journal: Path, monkeypatch: pytest.MonkeyPatch,
                                                           stream: str, args: tuple[str, ...]) -> None:
    from mcpdeploy.cli.app import run

    monkeypatch.setattr(sys, stream, ClosedPipe())
    code = run(list(args))
    monkeypatch.undo()
    assert code == (64 if "nope" in args else 0)


def _run_with_closed(words: list[str], closed: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run mcpdeploy in a real process whose `closed` streams are pipes nobody reads any more (`| head -c1`
    after its byte), so that the flush at exit meets the closed pipe too."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    streams = {name: (write_end if name in closed else subprocess.PIPE) for name in ("stdout", "stderr")}
    try:
        return subprocess.run([sys.executable, "-m", "mcpdeploy", *words], cwd=cwd, timeout=120, check=False,
                              **streams)  # type: ignore[call-overload, no-any-return]
    finally:
        os.close(write_end)


@pytest.mark.parametrize(("closed", "words"), [
    (("stdout",), ["history", "show", "last"]),  # writes only to stdout
    (("stderr",), ["unlock"]),  # writes only to stderr (the environment is not locked)
    (("stdout",), ["history"]),
    (("stdout", "stderr"), ["--help"]),
])
def test_a_real_closed_pipe_exits_0_without_a_word(journal: Path, closed: tuple[str, ...],
                                                    words: list[str]) -> None:
    done = _run_with_closed(words, closed, journal)
    assert done.returncode == 0
    if "stderr" not in closed:
        assert b"Exception ignored" not in done.stderr and b"error" not in done.stderr


def test_provision_cut_off_by_its_reader_still_finishes_and_journals(served_sandbox, project: Path) -> None:
    """`mcpdeploy provision --yes --json | head -c1` in a pipeline: the writes were not stopped halfway, and the
    exit code says they succeeded."""
    done = _run_with_closed(["provision", "--yes", "--json"], ("stdout", "stderr"), project)
    assert done.returncode == 0
    again = subprocess.run([sys.executable, "-m", "mcpdeploy", "plan", "--json"], cwd=project,
                           capture_output=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr.decode()
    assert json.loads(again.stdout)["changes"] == []
