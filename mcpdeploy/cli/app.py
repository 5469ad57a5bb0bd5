"""The root command and the one error policy: our errors print a message and a hint and exit with their code;
anything else is a bug, printed without local variables (they may hold secrets) unless MCPDEPLOY_DEBUG=1."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup

from mcpdeploy import __version__
from mcpdeploy.cli.output import (
    Stream,
    for_sandbox,
    make_console,
    reset_json_emitted,
    silence,
    stream_events,
    write_json,
    write_text,
)
from mcpdeploy.errors import McpdeployError
from mcpdeploy.exit_codes import ExitCode


class OutputClosed(Exception):
    """Click's own output (help, usage) met a stream its reader had closed (`mcpdeploy --help | head -c1`)."""


# `mcpdeploy --help` lists the commands in the order a project meets them, not in the order their modules are
# imported; a command missing here is listed after these, by name, with `unlock` (the rescue) always last.
COMMAND_ORDER = ("init", "plan", "provision", "deploy", "smoke-test", "status", "logs", "rollback", "auth",
                 "history", "doctor", "dev", "xanoscript", "schema", "secrets", "state", "sandbox", "completion")
LAST_COMMANDS = ("unlock",)


class _Group(TyperGroup):
    """Click turns a broken pipe into `sys.exit(1)` and wraps stdout/stderr for good; it is taken first here, in
    parsing (`--help`, `--version`) and in the command, so that `run` can end quietly."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        if ctx.parent is not None:  # a group below the root (`history`, `secrets`...): the order it was given
            return names
        first = [name for name in COMMAND_ORDER if name in names]
        last = [name for name in LAST_COMMANDS if name in names]
        return [*first, *sorted(set(names) - set(first) - set(last)), *last]

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _closed_output_raised():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _closed_output_raised():
            return super().invoke(ctx)


@contextlib.contextmanager
def _closed_output_raised() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise OutputClosed from exc
        raise


# Shown under the root help. Click rewraps paragraphs; a paragraph after a "\b" line is printed as written.
EXIT_CODES_HELP = """\b
Exit codes:
  0    success (or no changes)
  1    unexpected error: a bug, please report it
  2    plan --detailed-exitcode: the plan has changes
  3    destructive changes blocked: review, then --allow-destructive
  4    another run holds the environment's lock
  5    smoke-test: a check failed; doctor: something is missing
  6    a remote API refused a request (auth, validation)
  7    a service could not be reached
  8    a local file is invalid or cannot be written (file and line named)
  9    you answered no at the confirmation: nothing was changed
  10   provision --plan FILE: what exists changed since the plan was saved
  11   after apply, a service holds something other than what was sent
  12   status: degraded
  64   usage error: bad flags, missing configuration, --yes needed
  75   temporary (rate limited, server errors): safe to run again
  130  interrupted

Start: mcpdeploy init, then mcpdeploy plan --sandbox. Help on a command: mcpdeploy COMMAND -h."""

# -h as well as --help, and help wrapped to the terminal up to 120 columns (click stops at 80 otherwise); both
# are inherited by every command and group below the root.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 120}

app = typer.Typer(
    cls=_Group,
    name="mcpdeploy",
    help="Provision, smoke-test and roll back an MCP server on Cloudflare Workers with a Xano backend.",
    epilog=EXIT_CODES_HELP,
    context_settings=CONTEXT_SETTINGS,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        write_text(f"mcpdeploy {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """The exit codes are listed in the root help's epilog (EXIT_CODES_HELP) and in the README."""


def _register_commands() -> None:
    """Each module of mcpdeploy.cli adds its commands to `app` when imported; imported here so `app` exists.

    They are all imported on every run, `--version` included, so they must stay light at import time: the work
    of a command (httpx, pydantic models, cryptography, rich, the journal...) is imported inside the command
    function. tests/cli/test_startup.py guards this."""
    import importlib
    import pkgutil

    import mcpdeploy.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name not in {"app", "output"}:
            importlib.import_module(f"{package.__name__}.{info.name}")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this; `main` exits with it).

    A reader that closes our output early (`| head -c1`) changes nothing about the run: every write of ours goes
    through `write_text` or a console that sends the rest to /dev/null (`silence`), the command finishes what it
    started and exits with its own code. What escapes here is click's help or usage text, written before any
    work began: the reader had what it asked for, which is success."""
    try:
        code = _run(argv)
    except (OutputClosed, BrokenPipeError):
        code = int(ExitCode.OK)
        silence("stdout")
        silence("stderr")
    _flush_at_exit()
    return code


def _flush_at_exit() -> None:
    """Flush now what a closed pipe still holds in a buffer: at exit Python would fail on it again, print
    "Exception ignored" and exit 120."""
    streams: tuple[Stream, ...] = ("stdout", "stderr")
    for name in streams:
        try:
            getattr(sys, name).flush()
        except BrokenPipeError:
            silence(name)
        except (OSError, ValueError):
            pass


def _run(argv: list[str] | None) -> int:
    """The console for our error messages is made only when there is one to print: a successful `--version` or
    `--help` then never imports rich."""
    _register_commands()
    reset_json_emitted()
    if "_MCPDEPLOY_COMPLETE" in os.environ:  # the shell asks for completions (`mcpdeploy completion SHELL`)
        from typer._completion_classes import completion_init

        completion_init()
    words = sys.argv[1:] if argv is None else argv
    if "--json-stream" in words:  # from the start: a usage error is a `result` line too
        stream_events()
    try:
        result = app(args=argv, prog_name="mcpdeploy", standalone_mode=False)
    except (OutputClosed, BrokenPipeError):
        raise
    except McpdeployError as exc:
        from mcpdeploy.redaction import printable

        if "--sandbox" in words:
            exc.message = for_sandbox(exc.message, True)
            exc.hint = for_sandbox(exc.hint, True) if exc.hint else exc.hint
        console = make_console()
        # Messages quote services and files: none may move the cursor or rewrite a line of the terminal or CI log.
        console.print(f"error: {printable(exc.message, keep_newlines=True)}", markup=False)
        if exc.hint:
            console.print(f"hint: {printable(exc.hint, keep_newlines=True)}", markup=False)
        return _json_error(words, exc.message, exc.hint, int(exc.exit_code))
    except typer.TyperException as exc:  # usage errors from the parser
        show = getattr(exc, "show", None)
        if callable(show):
            try:
                show()
            except BrokenPipeError:
                silence("stderr")
        else:
            make_console().print(f"error: {exc}", markup=False)
        code = getattr(exc, "exit_code", 2)
        # "Invalid value for '--limit': ..." rather than the bare "...": the document names the option too.
        format_message = getattr(exc, "format_message", None)
        message = format_message() if callable(format_message) else str(exc)
        return _json_error(words, f"usage: {message}", "See --help.",
                           int(ExitCode.USAGE) if code == 2 else int(code), option=_option_of(exc))
    except (KeyboardInterrupt, typer.Abort):
        make_console().print("interrupted", markup=False)
        return _json_error(words, "interrupted", None, int(ExitCode.INTERRUPTED))
    except Exception as exc:  # a bug: say so, without locals
        if os.environ.get("MCPDEPLOY_DEBUG") == "1":
            traceback.print_exc()
        message = (f"unexpected error ({type(exc).__name__}). This is a bug in mcpdeploy; run with "
                   "MCPDEPLOY_DEBUG=1 for a traceback and report it.")
        make_console().print(message, markup=False)
        return _json_error(words, message, None, int(ExitCode.ERROR))
    code = int(result) if isinstance(result, int) else 0
    write_json(command=_command_name(words), exit_code=code, wanted=False)
    return code


def _json_error(words: list[str], message: str, hint: str | None, code: int, *, option: str | None = None) -> int:
    """The command's document (or, with --json, one of its own) with the error that ended the run."""
    error: dict[str, Any] = {"message": message, "hint": hint, "exit_code": code}
    if option is not None:
        error["option"] = option
    wanted = bool({"--json", "--json-stream"} & set(words))
    write_json(command=_command_name(words), exit_code=code, error=error, wanted=wanted)
    return code


def _option_of(exc: Exception) -> str | None:
    """The option a usage error is about: `--bogus` for an unknown one, `--limit` for a bad value."""
    name = getattr(exc, "option_name", None)
    if isinstance(name, str):
        return name
    opts = getattr(getattr(exc, "param", None), "opts", None)
    return str(opts[0]) if opts else None


def _command_name(words: list[str]) -> str:
    """The command a run's words name (`history show`), for the JSON document of a run that stopped before the
    command could say; the words that are no command (options and their values) are skipped."""
    groups = {group.name: {c.name for c in group.typer_instance.registered_commands}
              for group in app.registered_groups if group.name and group.typer_instance}
    commands = {c.name for c in app.registered_commands} | set(groups)
    named = [word for word in words if word in commands]
    if not named:
        return ""
    first = named[0]
    rest = [word for word in words[words.index(first) + 1:] if word in groups.get(first, set())]
    return " ".join([first, *rest[:1]])


def main() -> None:
    sys.exit(run())
