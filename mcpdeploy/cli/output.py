"""Where output goes: people's messages to stderr (rich, colour unless NO_COLOR), data to stdout (JSON, and the
listings a user pipes: history, secrets decrypt, schema validate, auth status, xanoscript).

One place decides colour, interactivity and CI detection, so every command behaves the same in a terminal
and in a pipeline.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

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
    Without colour it emits no colour or style sequence, and no ANSI sequence at all in a pipe or a log (even
    under FORCE_COLOR); the messages console still counts as a terminal on a real one, where a spinner moves the
    cursor (NO_COLOR turns colours off, not progress)."""
    # rich costs ~40 ms to import: imported on first use so `--version` and `--help` never pay for it.
    from rich.console import Console

    stderr = not data
    if not color_allowed():
        terminal = stderr and os.environ.get("TERM") != "dumb" and _isatty(sys.stderr)
        console = Console(stderr=stderr, no_color=True, color_system=None, highlight=False, emoji=False,
                          force_terminal=terminal, soft_wrap=True)
    else:
        console = Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True)
    # rich answers a closed pipe with `SystemExit(1)`, which would stop a provision halfway through its writes.
    def closed() -> None:
        console.quiet = True
        silence("stdout" if data else "stderr")

    console.on_broken_pipe = closed  # type: ignore[method-assign]
    return console


Stream = Literal["stdout", "stderr"]


def silence(name: Stream) -> None:
    """The reader of this stream went away (`mcpdeploy provision | head -c1`): what is left to say goes to
    /dev/null and the run goes on. A command cut off mid-output still finishes the work it started and exits with
    its own code; stopping it there would leave a half-applied change behind for the sake of a closed pipe."""
    stream = getattr(sys, name)
    try:
        descriptor = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        # A stream without a descriptor of its own (replaced in-process): replaced in turn.
        setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the run
        return
    try:
        os.dup2(null, descriptor)
    except OSError:
        setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the run
    finally:
        os.close(null)


def write_text(text: str, name: Stream = "stdout") -> bool:
    """Write and flush; False once the reader has closed the stream (the rest goes nowhere, see `silence`), so a
    command that only streams output (`logs`) knows to stop."""
    stream = getattr(sys, name)
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        silence(name)
        return False
    return True


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no stream (pythonw), or a closed one
        return False


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
    step, the seconds it has taken and the request in flight; elsewhere nothing beyond the command's own lines (one
    per step, and a `note` for each wait worth a line), so CI logs and pipes get no cursor movement. Stopped before
    anything that needs the screen (the plan, a prompt). `request`, `detail` and `note` may be called from any
    thread."""

    def __init__(self, console: Console, on_show: Callable[[str], None] | None = None) -> None:
        import threading

        self._console = console
        self._on_show = on_show
        self._live = console.is_terminal and not running_in_ci()
        self._lock = threading.Lock()
        self._display: Any = None  # a rich Live holding `_spinner` while shown
        self._spinner: Any = None
        self._step = ""
        self._detail = ""
        self._in_flight: list[str] = []  # the requests under way, oldest first
        self._started = 0.0
        self._ticker: threading.Event | None = None

    @property
    def live(self) -> bool:
        """Whether a spinner is shown (a terminal, not CI): otherwise a wait must be told in lines."""
        return self._live

    def show(self, text: str) -> None:
        """Start showing step `text`; its seconds count from now (and tell --json-stream, through `on_show`)."""
        if self._on_show is not None:
            self._on_show(text)
        if not self._live:
            return
        import threading
        import time

        from rich.live import Live
        from rich.spinner import Spinner

        with self._lock:
            self._step, self._detail, self._started = text, "", time.monotonic()
            if self._display is None:
                self._spinner = Spinner("dots", text=self._line(), style="status.spinner")
                # stdout is never redirected into the spinner's stream: it carries `--json` documents alone.
                self._display = Live(self._spinner, console=self._console, refresh_per_second=12.5,
                                     transient=True, redirect_stdout=False)
                self._display.start()
                self._ticker = threading.Event()
                threading.Thread(target=self._tick, args=(self._ticker,), daemon=True).start()
            else:
                self._spinner.update(text=self._line())

    def request(self, words: str, started: bool) -> None:
        """A request starts or ends (`HttpOptions.on_request`): the step shows the oldest one under way, the one
        it has waited on longest, when it has no other detail."""
        with self._lock:
            if started:
                self._in_flight.append(words)
            elif words in self._in_flight:
                self._in_flight.remove(words)
            if self._display is not None:
                self._spinner.update(text=self._line())

    def detail(self, text: str) -> None:
        """What the step is doing now, after its seconds; shown on a terminal only."""
        with self._lock:
            if self._display is None:
                return
            self._detail = text
            self._spinner.update(text=self._line())

    def note(self, line: str) -> None:
        """A wait worth telling: on a terminal it becomes the spinner's detail, elsewhere one line on stderr."""
        if self._live:
            self.detail(line)
        else:
            self._console.print(line, markup=False, highlight=False)

    def _line(self) -> Any:
        import time

        from rich.text import Text

        # Text, not markup: a path or a server's words may hold brackets.
        seconds = time.monotonic() - self._started
        detail = self._detail
        if not detail and self._in_flight:
            more = len(self._in_flight) - 1
            detail = self._in_flight[0] + (f" (+{more} more)" if more else "")
        return Text(f"{self._step} ({seconds:.0f}s)" + (f" · {detail}" if detail else ""))

    def _tick(self, stop: Any) -> None:
        while not stop.wait(0.5):
            with self._lock:
                if self._display is not None:
                    self._spinner.update(text=self._line())

    def stop(self) -> None:
        with self._lock:
            if self._ticker is not None:
                self._ticker.set()
                self._ticker = None
            if self._display is not None:
                self._display.stop()
                self._display = None


def is_interactive() -> bool:
    """Prompts only with a person at a terminal: stdin and stderr are TTYs and no CI is detected."""
    return sys.stdin.isatty() and sys.stderr.isatty() and not running_in_ci()


# Exit codes after which a command did what it was asked: plan --detailed-exitcode says "changes" with 2.
OK_EXIT_CODES = frozenset({0, 2})

_pending: dict[str, Any] | None = None  # this run's JSON document, written by `run` once the exit code is known
_pending_kind = ""  # the kind of that document: its schema is docs/json/<kind>.schema.json
_streaming = False  # --json-stream: events as JSON lines, the document in the last one

# Set by the tests: a document that differs from its model stops the run there instead of being printed.
STRICT_JSON_VARIABLE = "MCPDEPLOY_STRICT_JSON"


def stream_events() -> None:
    """From now on this run speaks JSON lines on stdout (--json-stream)."""
    global _streaming
    _streaming = True


def emit_event(command: str, kind: str, fields: dict[str, Any]) -> None:
    """One event line: `type`, `command` and the time first, so a CI system can show progress as it comes."""
    from datetime import datetime, timezone

    head = {"schema_version": JSON_SCHEMA_VERSION, "type": kind, "command": command,
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
    line = {**head, **{key: value for key, value in fields.items() if key not in head}}
    write_text(json.dumps(line, default=str, separators=(",", ":")) + "\n")


def emit_json(document: dict[str, Any], kind: str) -> None:
    """Hold the one JSON document of a command, of `kind` (see mcpdeploy.cli.documents.catalog); `write_json`
    prints it when the run ends, so that it can carry the run's exit code, and an error that stops the command
    after this call joins the same document."""
    global _pending, _pending_kind
    _pending, _pending_kind = dict(document), kind


def json_emitted() -> bool:
    return _pending is not None


def reset_json_emitted() -> None:
    global _pending, _pending_kind, _streaming
    _pending, _pending_kind, _streaming = None, "", False


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
    if _streaming:  # the stream's last line carries the document, exactly as --json prints it, in one line
        emit_event(payload["command"], "result", {"document": payload})
        return
    write_text(text + "\n")


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
