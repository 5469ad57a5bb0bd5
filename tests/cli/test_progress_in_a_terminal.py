"""What a person sees while mcpdeploy waits, in a real terminal (tmux), against a sandbox served on its own
(`mcpdeploy sandbox serve`) with latency injected, the variables pointing at it as a user would export them:
a spinner naming the step, the request in flight and the seconds taken; under CI=true the same run writes one
line per step and not one escape sequence. `smoke-test --wait-for` tells each retry: on a terminal in its
spinner, in a log as a line. NO_COLOR is set or unset explicitly in each test: it changes what is written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
from tests.support.terminal import COLOURS, CURSOR_MOVES, SECONDS, Terminal, TerminalRun

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MCPDEPLOY = f"{shlex.quote(sys.executable)} -m mcpdeploy"
# What must not reach a person's screen or a CI log, whatever progress is shown.
SECRETS = (credentials.XANO_METADATA_TOKEN, credentials.CLOUDFLARE_API_TOKEN, credentials.MCP_API_KEY)
# The environment of the machine running the tests must not decide what the command shows.
NOT_INHERITED = ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "FORCE_COLOR")
SLOW = 2.5  # seconds one chosen request takes: long enough for the seconds shown to move
EVERY_CALL_LATENCY = 0.3  # every other call to Xano and Cloudflare: each apply step lasts a while
SERVE_TIMEOUT = 60.0
PLANNING = "Planning: reading what exists in Xano and Cloudflare"


@dataclass
class ServedSandbox:
    url: str

    def fault(self, **fault: Any) -> None:
        assert httpx.post(f"{self.url}/__sandbox/faults", json=fault, timeout=10).status_code == 200

    def slow_services(self) -> None:
        """Make planning wait on the table list, applying on the API group's creation, and every call a little."""
        self.fault(match=r"^GET /api:meta/workspace/1/table$", latency=SLOW, times=1)
        self.fault(match=r"^POST /api:meta/workspace/1/apigroup$", latency=SLOW, times=1)
        self.fault(match=r"^(GET|POST|PUT|PATCH|DELETE) /(api:meta|client/v4)/", latency=EVERY_CALL_LATENCY,
                   times=100_000)

    def environment(self) -> dict[str, str]:
        """What `mcpdeploy sandbox serve` tells a user to export, and this work tree's code for the command."""
        return {
            "PYTHONPATH": str(REPO),
            "XANO_INSTANCE_URL": self.url,
            "XANO_WORKSPACE_ID": str(credentials.XANO_WORKSPACE_ID),
            "XANO_METADATA_TOKEN": credentials.XANO_METADATA_TOKEN,
            "CLOUDFLARE_API_BASE_URL": f"{self.url}/client/v4",
            "CLOUDFLARE_ACCOUNT_ID": credentials.CLOUDFLARE_ACCOUNT_ID,
            "CLOUDFLARE_API_TOKEN": credentials.CLOUDFLARE_API_TOKEN,
            "MCP_API_KEY": credentials.MCP_API_KEY,
        }

    def smoke_test_flags(self, wait_for: int) -> str:
        return f"--url {self.url}/mcp --xano-url {self.url}/{AUTH_API_GROUP} --wait-for {wait_for}"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[ServedSandbox]:
    """`mcpdeploy sandbox serve` in a folder of its own, on a free port."""
    folder = tmp_path / "sandbox"
    folder.mkdir()
    log = tmp_path / "sandbox.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "mcpdeploy", "sandbox", "serve", "--port", "0"],
                                   cwd=folder, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while (serving := re.search(r"Sandbox serving on (http://\S+)", log.read_text())) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`mcpdeploy sandbox serve` did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.05)
        yield ServedSandbox(serving[1])
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends: it stops serving and removes its server file
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    folder = tmp_path / "terminal"
    folder.mkdir()
    term = Terminal(folder)
    try:
        yield term
    finally:
        term.kill()


def seconds_shown(texts: Iterable[str]) -> set[int]:
    return {int(match[1]) for text in texts if (match := SECONDS.search(text))}


def assert_no_secret(*outputs: str | bytes) -> None:
    for output in outputs:
        text = output.decode(errors="replace") if isinstance(output, bytes) else output
        for secret in SECRETS:
            assert secret not in text


def assert_spinner_gone(run: TerminalRun) -> None:
    """The spinner is cleared when its step ends: the final screen holds only the command's own lines."""
    assert not [line for line in run.last_screen.splitlines() if re.match(r"^[\u2800-\u28ff] ", line)]


def test_plan_at_a_terminal_shows_what_it_is_reading_and_for_how_long(terminal: Terminal, sandbox: ServedSandbox,
                                                                     project: Path) -> None:
    sandbox.slow_services()
    run = terminal.run(f"{MCPDEPLOY} plan --json > plan.json", cwd=project,
                       env={**sandbox.environment(), "NO_COLOR": "1"}, unset=NOT_INHERITED)
    assert run.exit_code == 0, run.last_screen

    spinner = run.spinner_lines()
    planning = [text for _, text in spinner if text.startswith(f"{PLANNING} (")]
    assert planning, "\n---\n".join(run.screens)
    assert len({frame for frame, _ in spinner}) >= 2  # the spinner turned
    assert len(seconds_shown(planning)) >= 2  # and its seconds counted up during the slow read
    assert any("· xano GET workspace/1/table" in text for text in planning)  # the read it waited on
    assert_spinner_gone(run)
    assert "Plan: 11 to create, 0 to update, 0 to delete." in run.last_screen

    assert CURSOR_MOVES.search(run.raw)  # drawn in place, as a spinner is
    assert not COLOURS.search(run.raw)  # NO_COLOR: not one colour, spinner included
    assert json.loads((project / "plan.json").read_text())["command"] == "plan"  # stdout: the document alone
    assert_no_secret(run.raw)


def test_provision_at_a_terminal_shows_each_change_being_applied(terminal: Terminal, sandbox: ServedSandbox,
                                                                project: Path) -> None:
    sandbox.slow_services()
    run = terminal.run(f"{MCPDEPLOY} provision --yes", cwd=project, env={**sandbox.environment(), "NO_COLOR": "1"},
                       unset=NOT_INHERITED)
    assert run.exit_code == 0, run.last_screen

    spinner = [text for _, text in run.spinner_lines()]
    assert any(text.startswith(f"{PLANNING} (") for text in spinner)
    applying: dict[int, list[str]] = {}  # the spinner's texts by the number of changes done
    for text in spinner:
        if match := re.match(r"Applying changes, (\d+) of 11 done \(", text):
            applying.setdefault(int(match[1]), []).append(text)
    assert len(applying) >= 2, "\n---\n".join(run.screens)  # it counted the changes as they were done
    assert any("· xano POST workspace/1/apigroup" in text for texts in applying.values() for text in texts)
    assert len(seconds_shown(applying[0])) >= 2  # the seconds moved while the slow write was under way
    assert_spinner_gone(run)
    assert re.search(r"Applied 11 change\(s\) in [0-9.]+s", run.last_screen)
    assert_no_secret(run.raw)


def test_in_ci_a_terminal_gets_one_line_per_step_and_no_cursor_movement(terminal: Terminal, sandbox: ServedSandbox,
                                                                       project: Path) -> None:
    sandbox.slow_services()
    # Colours allowed: a CI log may be coloured, but nothing in it may move the cursor.
    run = terminal.run(f"{MCPDEPLOY} plan && {MCPDEPLOY} provision --yes", cwd=project,
                       env={**sandbox.environment(), "CI": "true"}, unset=(*NOT_INHERITED, "NO_COLOR"))
    assert run.exit_code == 0, run.last_screen

    assert run.spinner_lines() == []
    assert not CURSOR_MOVES.search(run.raw)
    assert COLOURS.search(run.raw)  # the run did write escape sequences: the colours, and only those
    # The terminal turns each newline into CR LF; no other CR is written.
    lines = re.sub(r"\x1b\[[0-9;]*m", "", run.raw.decode()).split("\r\n")
    assert "Planning" not in run.raw.decode()
    assert lines.count("Applying:") == 1
    done = [line for line in lines if re.fullmatch(r"  \+ .+: done", line)]
    assert len(done) == len(set(done)) == 11
    assert_no_secret(run.raw)


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "pipe"])
def test_smoke_test_wait_for_without_a_terminal_writes_a_line_per_retry(sandbox: ServedSandbox, project: Path,
                                                                       ci: bool) -> None:
    sandbox.fault(match=r"^POST /mcp$", status=503, times=3)  # a Worker's cold start
    # Colours allowed: without a terminal nothing but text is written anyway.
    env = {k: v for k, v in os.environ.items() if k not in (*NOT_INHERITED, "NO_COLOR")} | sandbox.environment() \
        | ({"CI": "true"} if ci else {})
    done = subprocess.run([sys.executable, "-m", "mcpdeploy", "smoke-test",
                           *shlex.split(sandbox.smoke_test_flags(20)), "--json"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr

    retries = [line for line in done.stderr.splitlines() if line.startswith("not ready:")]
    said = rf"not ready: POST {re.escape(sandbox.url)}/mcp answered 503; retrying in 1s, (\d+)s of --wait-for 20s left"
    assert len(retries) == 3 and all(re.fullmatch(said, line) for line in retries), done.stderr
    left = [int(re.fullmatch(said, line)[1]) for line in retries]  # type: ignore[index]
    assert left == sorted(left, reverse=True) and left[0] > left[-1]
    assert "\x1b" not in done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert_no_secret(done.stdout, done.stderr)


def test_smoke_test_wait_for_at_a_terminal_shows_what_it_waits_for(terminal: Terminal, sandbox: ServedSandbox,
                                                                  project: Path) -> None:
    sandbox.fault(match=r"^POST /mcp$", status=503, times=3)
    # Colours allowed this time (the plan and provision tests set NO_COLOR).
    run = terminal.run(f"{MCPDEPLOY} smoke-test {sandbox.smoke_test_flags(20)} --json > smoke.json", cwd=project,
                       env=sandbox.environment(), unset=(*NOT_INHERITED, "NO_COLOR"))
    assert run.exit_code == 0, run.last_screen

    waiting = [text for _, text in run.spinner_lines()
               if text.startswith(f"Waiting up to 20s for {sandbox.url}/mcp to answer (")]
    assert waiting, "\n---\n".join(run.screens)
    assert any(text.endswith("· last try: answered 503") for text in waiting)
    assert len(seconds_shown(waiting)) >= 2
    assert "not ready:" not in run.raw.decode()  # the lines are for logs; a terminal has the spinner
    assert_spinner_gone(run)
    assert json.loads((project / "smoke.json").read_text())["ok"] is True
    assert_no_secret(run.raw)


def test_applied_in_counts_no_time_spent_at_the_prompt(terminal: Terminal, sandbox: ServedSandbox,
                                                       project: Path) -> None:
    """A person who reads the plan for 2.5 seconds before answering does not make the apply look slow."""
    reading = 2.5
    run = terminal.run(f"{MCPDEPLOY} provision --json > provision.json", cwd=project,
                       env={**sandbox.environment(), "NO_COLOR": "1"}, unset=NOT_INHERITED,
                       answer=("Apply these changes?", reading, "y"))
    assert run.exit_code == 0, run.last_screen
    report = json.loads((project / "provision.json").read_text())
    assert report["changed"] is True and report["seconds"] < reading
    assert f"in {report['seconds']:g}s" in run.last_screen
