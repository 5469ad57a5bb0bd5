"""`mcpdeploy completion SHELL`: the shell's completion script for mcpdeploy, printed or installed."""

from __future__ import annotations

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.errors import UsageError

SHELLS = ("bash", "zsh", "fish", "powershell")
# The variable the script sets when it asks mcpdeploy for completions; the CLI answers it before parsing.
COMPLETE_VAR = "_MCPDEPLOY_COMPLETE"


@app.command("completion", epilog=examples("mcpdeploy completion bash > ~/.mcpdeploy-completion.bash",
                                           "mcpdeploy completion zsh --install"))
def completion(
    shell: str = typer.Argument(..., metavar="SHELL", help=f"One of {', '.join(SHELLS)}."),
    install: bool = typer.Option(False, "--install", help="Add the script to the shell's start-up file instead of "
                                                          "printing it."),
) -> None:
    """Print (or --install) the shell completion script: commands, options and values complete on TAB."""
    # typer's completion support (and shellingham, which it imports) is loaded only by this command.
    from typer._completion_shared import get_completion_script
    from typer._completion_shared import install as install_script

    if shell not in SHELLS:
        raise UsageError(f"completion: unknown shell {shell!r}", hint=f"Use one of {', '.join(SHELLS)}.")
    if install:
        installed, path = install_script(shell=shell, prog_name="mcpdeploy", complete_var=COMPLETE_VAR)
        from mcpdeploy.cli.output import make_console

        make_console().print(f"{installed} completion installed in {path}; it takes effect in a new shell.",
                             markup=False)
        return
    from mcpdeploy.cli.output import write_text

    write_text(get_completion_script(prog_name="mcpdeploy", complete_var=COMPLETE_VAR, shell=shell) + "\n")
