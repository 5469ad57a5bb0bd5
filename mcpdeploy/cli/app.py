"""The root command and the one error policy: our errors print a message and a hint and exit with their code;
anything else is a bug, printed without local variables (they may hold secrets) unless MCPDEPLOY_DEBUG=1."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup

from mcpdeploy import __version__
from mcpdeploy.cli.output import emit_json, json_emitted, make_console, reset_json_emitted
from mcpdeploy.errors import McpdeployError
from mcpdeploy.exit_codes import ExitCode

# What a shell reports for a program that stopped writing because its reader went away (`| head`): 128 + SIGPIPE.
OUTPUT_CLOSED = 128 + int(getattr(signal, "SIGPIPE", 13))


class OutputClosed(Exception):
    """stdout or stderr was closed by its reader (`mcpdeploy history show last | head -c1`): not a bug."""


class _Group(TyperGroup):
    """Click turns a broken pipe into `sys.exit(1)` and wraps stdout/stderr for good; it is taken first here, in
    parsing (`--help`, `--version`) and in the command, so that `run` can stop quietly with the shell's code."""

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


app = typer.Typer(
    cls=_Group,
    name="mcpdeploy",
    help="Provision, smoke-test and roll back an MCP server on Cloudflare Workers with a Xano backend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"mcpdeploy {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Exit codes: 0 ok, 1 bug, 2 plan has changes (--detailed-exitcode), 3 destructive change blocked,
    4 locked, 5 checks failed, 6 API refused, 7 unreachable, 8 invalid input file, 64 usage, 75 retry later,
    130 interrupted."""


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

    A reader that closes our output early (`| head`) ends the run quietly with 141, as it would end `cat`: the
    output was cut, which is what that reader asked for, and there is nobody left to tell anything to."""
    try:
        return _run(argv)
    except (OutputClosed, BrokenPipeError):
        _discard_output()
        return OUTPUT_CLOSED


def _discard_output() -> None:
    """Point stdout and stderr at /dev/null, so that the flush at exit does not fail again on the closed pipe
    (Python would print "Exception ignored" and exit 120). Streams without a file descriptor are left alone."""
    for stream in (sys.stdout, sys.stderr):
        try:
            descriptor = stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
        except (OSError, ValueError, AttributeError):
            continue
        try:
            os.dup2(null, descriptor)
        except OSError:
            pass
        finally:
            os.close(null)


def _run(argv: list[str] | None) -> int:
    """The console for our error messages is made only when there is one to print: a successful `--version` or
    `--help` then never imports rich."""
    _register_commands()
    reset_json_emitted()
    words = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=argv, prog_name="mcpdeploy", standalone_mode=False)
    except (OutputClosed, BrokenPipeError):
        raise
    except McpdeployError as exc:
        from mcpdeploy.redaction import printable

        console = make_console()
        # Messages quote services and files: none may move the cursor or rewrite a line of the terminal or CI log.
        console.print(f"error: {printable(exc.message, keep_newlines=True)}", markup=False)
        if exc.hint:
            console.print(f"hint: {printable(exc.hint, keep_newlines=True)}", markup=False)
        return _json_error(words, exc.message, exc.hint, int(exc.exit_code))
    except typer.TyperException as exc:  # usage errors from the parser
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            make_console().print(f"error: {exc}", markup=False)
        code = getattr(exc, "exit_code", 2)
        return _json_error(words, f"usage: {exc}", "See --help.", int(ExitCode.USAGE) if code == 2 else int(code))
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
    return int(result) if isinstance(result, int) else 0


def _json_error(words: list[str], message: str, hint: str | None, code: int) -> int:
    """With --json, a pipeline reading stdout gets a document even when the command stopped before its own."""
    if "--json" in words and not json_emitted():
        emit_json({"ok": False, "error": {"message": message, "hint": hint, "exit_code": code}})
    return code


def main() -> None:
    sys.exit(run())
