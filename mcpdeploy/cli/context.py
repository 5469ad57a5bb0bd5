"""One command context for every command: the shared flags (`--project-dir`, `--env`, `--sandbox`, `--json`,
`--json-stream`, `--trace`, `--timeout`, `--deadline`, `--yes`), the console, the progress display, the settings
and the HTTP policy, set up the same way for all. A command module declares its own flags and renders its own
results; `@command` adds the shared flags it asks for to its signature and hands it the context.

Everything heavy (settings, httpx, rich) is imported when a command runs, not when the CLI starts: every start
imports the command modules, `--version` included.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

import typer

from mcpdeploy.cli import common
from mcpdeploy.cli.output import Activity, emit_event, emit_json, for_sandbox, make_console, stream_events

if TYPE_CHECKING:
    from rich.console import Console

    from mcpdeploy.project.settings import Settings
    from mcpdeploy.providers.http import HttpOptions

# The shared flags: (type, typer option). Their names are the context's fields.
SHARED: dict[str, tuple[Any, Any]] = {
    "project_dir": (Path, common.PROJECT_DIR),
    "env": (str | None, common.ENV),
    "sandbox": (bool, common.SANDBOX),
    "json_output": (bool, common.JSON),
    "json_stream": (bool, common.JSON_STREAM),
    "trace": (Path | None, common.TRACE),
    "timeout": (float | None, common.TIMEOUT),
    "deadline": (float | None, common.DEADLINE),
    "yes": (bool, common.YES),
}
# The sets commands ask for.
LOCAL = ("project_dir", "env", "json_output")
SERVICES = ("project_dir", "env", "sandbox", "json_output", "trace", "timeout", "deadline")
LONG_RUNNING = (*SERVICES, "json_stream")

Function = TypeVar("Function", bound=Callable[..., Any])


@dataclass
class CommandContext:
    """What a command run shares with every other: who it is, where the project is, how it talks."""

    command: str
    project_dir: Path = Path(".")
    env: str | None = None
    sandbox: bool = False
    json_output: bool = False
    json_stream: bool = False
    trace: Path | None = None
    timeout: float | None = None
    deadline: float | None = None
    yes: bool = False
    _console: Console | None = field(default=None, init=False, repr=False)
    _activity: Activity | None = field(default=None, init=False, repr=False)

    @property
    def console(self) -> Console:
        """People's output: stderr, colour unless NO_COLOR."""
        if self._console is None:
            self._console = make_console()
        return self._console

    @property
    def activity(self) -> Activity:
        """What the run waits on: a spinner on a terminal, an event with --json-stream, nothing in a CI log."""
        if self._activity is None:
            self._activity = Activity(self.console, on_show=self._progress_event)
        return self._activity

    def _progress_event(self, text: str) -> None:
        self.event("progress", message=text)

    @property
    def wants_json(self) -> bool:
        return self.json_output or self.json_stream

    def say(self, text: str) -> None:
        """A line for people, printed as written (no markup: it may quote services and files)."""
        self.console.print(text, markup=False, highlight=False)

    def warn(self, text: str) -> None:
        self.say(f"warning: {text}")
        self.event("warning", message=text)

    def local(self, text: str) -> str:
        """A hint as this run must read it: under --sandbox, the commands that work there."""
        return for_sandbox(text, self.sandbox)

    def target_flags(self) -> list[str]:
        """The words that select this project and environment, to repeat in hints and the journal."""
        words: list[str] = []
        with contextlib.suppress(OSError):
            if self.project_dir.resolve() != Path.cwd().resolve():
                words += ["--project-dir", str(self.project_dir)]
        return words + (["--env", self.env] if self.env else []) + (["--sandbox"] if self.sandbox else [])

    def confirm(self, question: str) -> None:
        """Ask on a terminal; without one, --yes is required."""
        self.activity.stop()
        common.confirm(question, yes=self.yes)

    @contextlib.contextmanager
    def settings(self, flags: dict[str, Any] | None = None) -> Iterator[Settings]:
        """The run's settings (flags > environment > mcpdeploy.toml > defaults), pointed at the local sandbox
        under --sandbox for as long as the block runs."""
        with common.command_settings(self.project_dir, self.env, self.sandbox, flags) as settings:
            yield settings

    @contextlib.contextmanager
    def http(self, settings: Settings, *, default_timeout: float | None = None) -> Iterator[HttpOptions]:
        """The run's HTTP policy: --timeout/--deadline over [http] over defaults, --trace, secrets redacted; each
        retry is a line for people and an event for --json-stream."""
        with common.http_options(self.trace, settings, timeout=self.timeout, deadline=self.deadline,
                                 default_timeout=default_timeout) as options:
            say = options.on_retry

            def retried(line: str) -> None:
                if say is not None:
                    say(line)
                self.event("retry", message=line)

            options.on_retry = retried
            yield options

    @contextlib.contextmanager
    def services(self, flags: dict[str, Any] | None = None, *,
                 default_timeout: float | None = None) -> Iterator[tuple[Settings, HttpOptions]]:
        """Settings and HTTP policy together, for a command that talks to Xano or Cloudflare."""
        with self.settings(flags) as settings, self.http(settings, default_timeout=default_timeout) as options:
            yield settings, options

    def emit(self, document: dict[str, Any], kind: str | None = None) -> None:
        """The command's JSON document, when --json or --json-stream asked for one (printed as the run ends). Its
        kind names its published schema, docs/json/<kind>.schema.json: by default the command's words
        (`auth-status`)."""
        if self.wants_json:
            emit_json({"command": self.command, **document}, kind or self.command.replace(" ", "-"))

    def event(self, kind: str, **fields: Any) -> None:
        """One JSON line on stdout while the run goes on, with --json-stream only."""
        if self.json_stream:
            emit_event(self.command, kind, fields)


def command(group: typer.Typer, name: str, *, shared: Sequence[str] = SERVICES,
            **options: Any) -> Callable[[Function], Function]:
    """Register `function(ctx, **own_flags)` as command `name` of `group`, with the shared flags in `shared`
    added after its own (the order `--help` lists them in) and gathered into its `CommandContext`."""
    unknown = set(shared) - set(SHARED)
    if unknown:
        raise ValueError(f"unknown shared flags: {sorted(unknown)}")

    def register(function: Function) -> Function:
        signature = inspect.signature(function, eval_str=True)
        hints = get_type_hints(function)
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in list(signature.parameters.values())[1:]]
        added = [inspect.Parameter(flag, inspect.Parameter.KEYWORD_ONLY, default=SHARED[flag][1],
                                   annotation=SHARED[flag][0]) for flag in shared]

        @functools.wraps(function)
        def run(**values: Any) -> Any:
            context = CommandContext(" ".join([*_group_words(group), name]),
                                     **{flag: values.pop(flag) for flag in shared})
            if context.json_stream:
                stream_events()
            return function(context, **values)

        run.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        run.__annotations__ = {**{p.name: hints.get(p.name, p.annotation) for p in own},
                               **{p.name: p.annotation for p in added}, "return": hints.get("return", Any)}
        group.command(name, **options)(run)
        return function

    return register


def _group_words(group: typer.Typer) -> list[str]:
    """The name a group was added to the root under (`auth`), none for the root: a group knows no name of its own
    until it is added, so it is looked up when a command runs."""
    from mcpdeploy.cli.app import app

    if group is app:
        return []
    for info in app.registered_groups:
        if info.typer_instance is group and info.name:
            return [info.name]
    return [group.info.name] if group.info.name else []
