"""Help that teaches: commands in the order a project meets them, the exit codes in the root help, `-h`, an example
in each main command's help, help as wide as the terminal (up to 120 columns), and shell completion."""

from __future__ import annotations

import pytest

MAIN_COMMANDS = ["init", "plan", "provision", "deploy", "smoke-test", "status", "logs", "rollback", "auth", "history"]


def listed_commands(help_text: str) -> list[str]:
    section = help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in section.splitlines() if line.strip()]


def test_commands_are_listed_in_workflow_order_with_unlock_last(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("--help")
    assert result.exit_code == 0
    names = listed_commands(result.stdout)
    assert names[:len(MAIN_COMMANDS)] == MAIN_COMMANDS
    assert names[-1] == "unlock" and "completion" in names


def test_root_help_has_the_exit_code_table(cli) -> None:  # type: ignore[no-untyped-def]
    text = cli("-h").stdout
    assert "Exit codes:" in text
    for line in ("  0    success", "  64   usage error", "  75   temporary", "  130  interrupted"):
        assert line in text


@pytest.mark.parametrize("command", [*MAIN_COMMANDS, "unlock", "history show", "auth disable", "completion", "doctor"])
def test_each_main_command_has_examples_and_short_help(cli, command: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(*command.split(), "-h")
    assert result.exit_code == 0, result.stderr
    examples = result.stdout.split("Examples:\n", 1)[1]
    assert examples.lstrip().startswith(f"mcpdeploy {command.split()[0]}")


def test_help_uses_the_terminal_width_up_to_120(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")
    wide = cli("provision", "--help").stdout
    assert max(len(line) for line in wide.splitlines()) <= 120
    assert max(len(line) for line in wide.splitlines()) > 100
    monkeypatch.setenv("COLUMNS", "70")
    narrow = cli("provision", "--help").stdout
    assert max(len(line) for line in narrow.splitlines() if "mcpdeploy " not in line) <= 70


def test_completion_prints_a_script_that_asks_mcpdeploy(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("completion", "bash")
    assert result.exit_code == 0
    assert "_MCPDEPLOY_COMPLETE=complete_bash" in result.stdout
    assert cli("completion", "tcsh").exit_code == 64


def test_the_shell_gets_completions(cli, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from mcpdeploy.cli.app import run

    monkeypatch.setenv("_MCPDEPLOY_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "mcpdeploy prov")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit) as stopped:
        run([])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.split() == ["provision"]



def every_command() -> list[tuple[str, object]]:
    """(full name, click command) for every command and subcommand of the CLI."""
    import typer.main

    from mcpdeploy.cli.app import _register_commands, app

    _register_commands()
    found: list[tuple[str, object]] = []

    def walk(name: str, command: object) -> None:
        found.append((name, command))
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(f"{name} {sub_name}".strip(), sub)

    walk("", typer.main.get_command(app))
    return found


def test_every_value_is_named_in_one_style_capital_words(cli) -> None:  # type: ignore[no-untyped-def]
    """`--trace FILE`, `--env NAME`, `--limit N`: never click's `<file>` or `<int range>` beside them."""
    import re

    odd = []
    for name, command in every_command():
        for param in getattr(command, "params", []):
            if getattr(param, "is_flag", False) or getattr(param, "hidden", False) or param.name == "help":
                continue
            metavar = param.metavar
            if metavar is None or not re.fullmatch(r"\[?(-- )?[A-Z][A-Z0-9_]*(\|[a-z]+)?\]?(\.\.\.)?", metavar):
                odd.append(f"mcpdeploy {name} {param.opts[0] if param.opts else param.name}: {metavar!r}")
    assert not odd, "\n".join(odd)
