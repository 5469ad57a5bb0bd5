"""Starting the CLI stays cheap: registering the commands, `--version` and `--help` import none of the heavy
libraries the commands use (each costs tens of milliseconds at every start). A command imports its work when it
runs. Each check runs in a fresh interpreter, so modules other tests imported do not count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# What made `mcpdeploy --version` take most of a second: the HTTP stack, the settings and journal models
# (pydantic), the encryption library, rich, and the modules that do a command's work.
HEAVY_MODULES = (
    "httpx",
    "cryptography",
    "pydantic",
    "rich",
    "mcpdeploy.project.settings",
    "mcpdeploy.provision.pipeline",
    "mcpdeploy.project.secrets",
    "mcpdeploy.smoke.checks",
    "boto3",  # the S3 state backend's client: imported only by a command that uses that backend
    "botocore",
)

# Runs in the child interpreter: does what the CLI does at start, then writes which heavy modules are loaded.
CHILD = """
import json, sys
from mcpdeploy.cli import app
{action}
heavy = [name for name in {heavy!r} if name in sys.modules]
with open({report!r}, "w", encoding="utf-8") as report:
    json.dump({{"heavy": heavy, "code": code}}, report)
"""


def heavy_modules_loaded(action: str, tmp_path: Path) -> tuple[list[str], int | None, str]:
    """Run `action` in a new interpreter and return the heavy modules it left imported, the exit code that
    `run` returned (None when the action does not call it) and what the CLI printed."""
    report = tmp_path / "report.json"
    code = CHILD.format(action=action, heavy=HEAVY_MODULES, report=str(report))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(report.read_text("utf-8"))
    return result["heavy"], result["code"], done.stdout + done.stderr


def culprits(heavy: list[str], tmp_path: Path) -> str:
    """For a failure message: which module of mcpdeploy/cli/ imports each heavy module at import time."""
    import mcpdeploy.cli as package

    lines = []
    for module in sorted(p.stem for p in Path(package.__path__[0]).glob("*.py") if p.stem != "__init__"):
        found, _, _ = heavy_modules_loaded(f"import mcpdeploy.cli.{module}\ncode = None", tmp_path)
        if found:
            lines.append(f"mcpdeploy/cli/{module}.py imports {', '.join(found)} at module level")
    return "; ".join(lines) or f"{', '.join(heavy)} (no single module: look at mcpdeploy/cli/app.py)"


def test_registering_every_command_imports_no_heavy_module(tmp_path: Path) -> None:
    heavy, _, _ = heavy_modules_loaded("app._register_commands()\ncode = None", tmp_path)

    assert heavy == [], (
        "Move these imports inside the command functions that use them: " + culprits(heavy, tmp_path)
    )


@pytest.mark.parametrize("argv", [["--version"], ["--help"]], ids=["version", "help"])
def test_version_and_help_import_no_heavy_module(argv: list[str], tmp_path: Path) -> None:
    heavy, code, printed = heavy_modules_loaded(f"code = app.run({argv!r})", tmp_path)

    assert code == 0
    assert heavy == [], "imported while printing " + " ".join(argv) + ": " + culprits(heavy, tmp_path)
    assert "mcpdeploy" in printed


def test_a_command_still_imports_its_work_when_it_runs(tmp_path: Path) -> None:
    """The lazy imports are real imports: running a command loads what it needs (here the spec models)."""
    heavy, code, printed = heavy_modules_loaded("code = app.run(['schema', 'validate'])", tmp_path)

    assert code == 0, printed
    assert "valid" in printed
    assert "pydantic" in heavy
