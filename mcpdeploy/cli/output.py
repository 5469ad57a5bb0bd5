"""Where output goes: people's messages to stderr (rich, colour unless NO_COLOR), data to stdout (JSON, and the
listings a user pipes: history, secrets decrypt, schema validate, auth status, xanoscript).

One place decides colour, interactivity and CI detection, so every command behaves the same in a terminal
and in a pipeline.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

JSON_SCHEMA_VERSION = "1"


def running_in_ci() -> bool:
    return any(os.environ.get(v, "").lower() in {"1", "true"} for v in ("CI", "GITHUB_ACTIONS"))


def color_allowed() -> bool:
    if "NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "":
        return False
    return os.environ.get("TERM") != "dumb"


def make_console(*, data: bool = False) -> Console:
    """A console on stderr for messages, or with `data` on stdout for what a user pipes on (`history | grep`).
    Without colour it emits no ANSI sequences at all, even under GITHUB_ACTIONS."""
    # rich costs ~40 ms to import: imported on first use so `--version` and `--help` never pay for it.
    from rich.console import Console

    stderr = not data
    if not color_allowed():
        console = Console(stderr=stderr, no_color=True, color_system=None, highlight=False, emoji=False,
                          force_terminal=False, soft_wrap=True)
    else:
        console = Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True)
    # rich answers a closed pipe with `SystemExit(1)`; the CLI's error policy ends such a run quietly instead.
    console.on_broken_pipe = _output_closed  # type: ignore[method-assign]
    return console


def _output_closed() -> None:
    raise BrokenPipeError(errno.EPIPE, "the reader of mcpdeploy's output closed it")


# Under --sandbox there is no wrangler: the sandbox's own command does what the hint asks for.
_SANDBOX_WORDS = {"`wrangler deploy`": "`mcpdeploy sandbox deploy-worker`"}


def for_sandbox(text: str, sandbox: bool) -> str:
    """A hint or note as a `--sandbox` run must read it: the commands it names are those that work there."""
    if sandbox:
        for real, local in _SANDBOX_WORDS.items():
            text = text.replace(real, local)
    return text


class Activity:
    """What the run is waiting on, shown while it waits: on a terminal (and not in CI) a spinner on stderr with the
    task and the seconds it has taken; elsewhere nothing beyond the command's own lines (one per step), so CI logs
    and pipes get no cursor movement. Stopped before anything that needs the screen (the plan, a prompt)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = console.is_terminal and not running_in_ci()
        self._status: Any = None
        self._text = ""
        self._started = 0.0
        self._ticker: Any = None

    def show(self, text: str) -> None:
        if not self._live:
            return
        import threading
        import time

        self._text, self._started = text, time.monotonic()
        if self._status is None:
            self._status = self._console.status(text)
            self._status.start()
            self._ticker = threading.Event()
            threading.Thread(target=self._tick, args=(self._ticker,), daemon=True).start()
        else:
            self._status.update(text)

    def _tick(self, stop: Any) -> None:
        import time

        while not stop.wait(0.5):
            status = self._status
            if status is not None:
                status.update(f"{self._text} ({time.monotonic() - self._started:.0f}s)")

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.set()
            self._ticker = None
        if self._status is not None:
            self._status.stop()
            self._status = None


def is_interactive() -> bool:
    """Prompts only with a person at a terminal: stdin and stderr are TTYs and no CI is detected."""
    return sys.stdin.isatty() and sys.stderr.isatty() and not running_in_ci()


# Exit codes after which a command did what it was asked: plan --detailed-exitcode says "changes" with 2.
OK_EXIT_CODES = frozenset({0, 2})

_pending: dict[str, Any] | None = None  # this run's JSON document, written by `run` once the exit code is known
_pending_kind = ""  # the kind of that document: its schema is docs/json/<kind>.schema.json

# Set by the tests: a document that differs from its model stops the run there instead of being printed.
STRICT_JSON_VARIABLE = "MCPDEPLOY_STRICT_JSON"


def emit_json(document: dict[str, Any], kind: str) -> None:
    """Hold the one JSON document of a command, of `kind` (see mcpdeploy.cli.documents.catalog); `write_json`
    prints it when the run ends, so that it can carry the run's exit code, and an error that stops the command
    after this call joins the same document."""
    global _pending, _pending_kind
    _pending, _pending_kind = dict(document), kind


def json_emitted() -> bool:
    return _pending is not None


def reset_json_emitted() -> None:
    global _pending, _pending_kind
    _pending, _pending_kind = None, ""


def json_document(document: dict[str, Any], *, command: str, exit_code: int,
                  error: dict[str, Any] | None = None) -> dict[str, Any]:
    """The contract every `--json` document keeps: `schema_version`, `command`, `ok`, `exit_code` and `outputs`
    (the values a next step reads; `{}` when the command has none) first, then the command's own fields."""
    ok = error is None and exit_code in OK_EXIT_CODES and document.get("ok", True) is not False
    head = {"schema_version": JSON_SCHEMA_VERSION, "command": document.get("command") or command, "ok": ok,
            "exit_code": exit_code, "outputs": document.get("outputs") or {}}
    return {**head, **{k: v for k, v in document.items() if k not in head}, **({"error": error} if error else {})}


def write_json(*, command: str, exit_code: int, error: dict[str, Any] | None = None, wanted: bool) -> None:
    """Write the held document, or with `wanted` (--json was given) an error-only one: a pipeline reading stdout
    gets a document even when the command stopped before its own."""
    global _pending
    document, _pending = _pending, None
    if document is None and not wanted:
        return
    payload = json_document(document or {}, command=command, exit_code=exit_code, error=error)
    text = json.dumps(payload, indent=2, sort_keys=False, default=str)
    if document is not None:
        _check_document(_pending_kind, text)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class DocumentMismatch(AssertionError):
    """A command wrote a document its published schema does not allow: a bug in mcpdeploy."""


def _check_document(kind: str, text: str) -> None:
    """The document against its model. A difference is a bug: the tests (which set MCPDEPLOY_STRICT_JSON) fail on
    it; a user gets the document as it is and a warning, rather than no document at all."""
    from mcpdeploy.cli.documents.catalog import mismatch

    problem = mismatch(kind, text)
    if problem is None:
        return
    message = f"the --json document does not match docs/json/{kind}.schema.json: {problem}"
    if os.environ.get(STRICT_JSON_VARIABLE) == "1":
        raise DocumentMismatch(message)
    make_console().print(f"warning: {message}. This is a bug in mcpdeploy; please report it.", markup=False)
