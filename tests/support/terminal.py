"""A real terminal for the tests of what mcpdeploy shows while it works: tmux on a private socket, the screen
captured again and again while a command runs, and every byte the command wrote to the terminal.

Nothing here skips: without tmux the tests fail, since a skipped terminal test looks the same as a passing one.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

RUN_TIMEOUT = 180.0
_EXITED = "terminal-test: exited with"
# rich's spinners draw with braille patterns; nothing else mcpdeploy prints uses them.
SPINNER_LINE = re.compile(r"^([\u2800-\u28ff]) (.*)$")
# Where a spinner line says how long its step has taken: "Planning: … (3s)".
SECONDS = re.compile(r"\((\d+)s\)")
# Escape sequences that move the cursor or clear what was drawn (CSI ... A-H, J, K; hide/show the cursor).
CURSOR_MOVES = re.compile(rb"\x1b\[[0-9;?]*[ABCDEFGHJKl]|\x1b\[\?25[hl]|\r(?!\n)")
# A colour in a Select Graphic Rendition sequence: 30-37/90-97 (foreground), 40-47/100-107 (background), 38/48.
COLOURS = re.compile(rb"\x1b\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]*)*m")


@dataclass
class TerminalRun:
    screens: list[str]  # each different screen seen while the command ran, in order
    raw: bytes  # every byte the command wrote to the terminal
    exit_code: int

    def spinner_lines(self) -> list[tuple[str, str]]:
        """(frame, text) of every spinner line seen on any screen."""
        found = []
        for screen in self.screens:
            for line in screen.splitlines():
                match = SPINNER_LINE.match(line.rstrip())
                if match:
                    found.append((match[1], match[2]))
        return found

    @property
    def last_screen(self) -> str:
        return self.screens[-1]


class Terminal:
    """tmux on a socket of its own (`kill` ends its server and every command it still runs)."""

    def __init__(self, folder: Path, *, width: int = 200, height: int = 50) -> None:
        binary = shutil.which("tmux")
        if binary is None:
            pytest.fail("tmux is not installed: the terminal tests need it (apt-get install tmux)")
        self._tmux = [binary, "-f", "/dev/null", "-L", f"mcpdeploy-test-{uuid.uuid4().hex[:12]}"]
        self._folder = folder
        self._size = (width, height)
        self._runs = 0
        self._socket: Path | None = None

    def run(self, command: str, *, cwd: Path, env: Mapping[str, str], unset: tuple[str, ...] = (),
            timeout: float = RUN_TIMEOUT, answer: tuple[str, float, str] | None = None) -> TerminalRun:
        """Run shell `command` in a new tmux window with exactly `env` added and `unset` removed, capturing its
        screen until it exits. `answer` is a person at the keyboard: (a question, seconds spent reading before
        answering, the keys typed, then Enter)."""
        self._runs += 1
        name = f"run{self._runs}"
        go, raw = self._folder / f"{name}.go", self._folder / f"{name}.raw"
        script = self._folder / f"{name}.sh"
        # The command waits for `go`, so the pipe collecting its raw output is in place before its first byte.
        lines = [f"while [ ! -e {shlex.quote(str(go))} ]; do sleep 0.02; done",
                 *(f"unset {var}" for var in unset),
                 *(f"export {key}={shlex.quote(value)}" for key, value in env.items()),
                 f"cd {shlex.quote(str(cwd))}",
                 command,
                 f'echo "{_EXITED} $?"',
                 "exec sleep 3600"]
        script.write_text("\n".join(lines) + "\n")
        width, height = self._size
        self._tmux_do("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), f"sh {script}")
        self._tmux_do("pipe-pane", "-o", "-t", name, f"cat >> {shlex.quote(str(raw))}")
        if self._socket is None:
            self._socket = Path(self._tmux_do("display-message", "-p", "-t", name, "#{socket_path}").strip())
        go.touch()
        screens: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            screen = self._tmux_do("capture-pane", "-p", "-t", name)
            if not screens or screen != screens[-1]:
                screens.append(screen)
            if answer is not None and answer[0] in screen:
                _, reading, keys = answer
                time.sleep(reading)
                self._tmux_do("send-keys", "-t", name, keys, "Enter")
                answer = None
            exited = re.search(rf"{_EXITED} (\d+)", screen)
            if exited and _EXITED.encode() in _read(raw):
                return TerminalRun(screens, _read(raw), int(exited[1]))
            if time.monotonic() > deadline:
                pytest.fail(f"`{command}` did not finish within {timeout:.0f}s; its screen:\n{screen}")
            time.sleep(0.05)

    def kill(self) -> None:
        """End the server and whatever it runs, and remove its socket (tmux leaves it behind)."""
        subprocess.run([*self._tmux, "kill-server"], capture_output=True, timeout=30)
        if self._socket is not None:
            self._socket.unlink(missing_ok=True)

    def _tmux_do(self, *args: str) -> str:
        done = subprocess.run([*self._tmux, *args], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            pytest.fail(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
