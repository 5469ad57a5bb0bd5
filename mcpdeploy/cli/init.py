"""`mcpdeploy init [DIR]`: a ready MCP Worker project (the reference Worker, pinned packages, wrangler.toml,
mcpdeploy.toml, schemas, .gitignore). The work is in mcpdeploy.project.scaffold, imported when the command runs."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import JSON, examples
from mcpdeploy.cli.output import emit_json, make_console


@app.command("init", epilog=examples("mcpdeploy init my-mcp-server", "mcpdeploy init --name notes-mcp ."))
def init(
    folder: Path = typer.Argument(Path("."), metavar="[DIR]", help="Where to write the project (created if missing).",
                                  file_okay=False),
    name: str | None = typer.Option(None, "--name", metavar="NAME",
                                    help="The Worker's name. [default: from the folder's name]"),
    as_json: bool = JSON,
) -> None:
    """Write a ready Worker project; never overwrites a file (names those in the way and writes nothing), and
    merges only wrangler.toml and .gitignore."""
    import os

    from mcpdeploy.project.scaffold import init_project

    result = init_project(folder, name)
    console = make_console()
    for path in result.written:
        console.print(f"  + {path.relative_to(result.folder)}", markup=False)
    for path, added in result.merged.items():
        console.print(f"  ~ {path.relative_to(result.folder)}: added {', '.join(added)}", markup=False)
    here = Path.cwd().resolve()
    go = "" if result.folder == here else f"cd {shlex.quote(os.path.relpath(result.folder, here))} && "
    console.print(f"Worker {result.name} is ready in {result.folder}. Next, try it locally against the sandbox:",
                  markup=False)
    console.print(f"  {go}mcpdeploy provision --sandbox --yes && mcpdeploy dev --sandbox", markup=False)
    if as_json:
        emit_json({"command": "init", "folder": str(result.folder), "name": result.name,
                   "written": [str(p.relative_to(result.folder)) for p in result.written],
                   "merged": {str(p.relative_to(result.folder)): added for p, added in result.merged.items()}}, "init")
