"""`mcpdeploy init`: a ready project from templates/worker, never overwriting a file, merging only wrangler.toml
and .gitignore."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import tomlkit

from mcpdeploy.files.wrangler import starter_wrangler_toml
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "worker"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_writes_a_whole_project_named_after_its_folder(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", str(tmp_path / "My_Demo"), "--json")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "My_Demo"
    written = set(json.loads(result.stdout)["written"])

    modules = {f"src/{p.name}" for p in TEMPLATE.iterdir() if p.suffix in (".js", ".mjs")}
    assert {"src/index.js", "src/auth-switch.mjs", "src/decrypt-credentials.mjs"} <= modules <= written
    assert {"package.json", "package-lock.json", "wrangler.toml", "mcpdeploy.toml", ".gitignore",
            "schemas/usage_logs.toml", "schemas/mcp_sessions.toml", "schemas/schema-format.json"} <= written
    for module in modules:
        assert (folder / module).read_bytes() == (TEMPLATE / Path(module).name).read_bytes()

    wrangler = tomlkit.parse((folder / "wrangler.toml").read_text()).unwrap()
    assert (wrangler["name"], wrangler["main"]) == ("my-demo", "src/index.js")
    assert "nodejs_compat" in wrangler["compatibility_flags"]
    package = json.loads((folder / "package.json").read_text())
    assert package["name"] == "my-demo"
    pinned = {**package["dependencies"], **package["devDependencies"]}
    assert set(pinned) >= {"agents", "@modelcontextprotocol/server", "zod", "wrangler"}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in pinned.values()), pinned
    lock = json.loads((folder / "package-lock.json").read_text())
    assert lock["packages"][""]["name"] == "my-demo"
    assert lock["packages"]["node_modules/wrangler"]["version"] == pinned["wrangler"]
    ignored = (folder / ".gitignore").read_text().splitlines()
    assert {"node_modules/", ".wrangler/", ".dev.vars*", ".mcpdeploy/"} <= set(ignored)


def test_the_project_is_what_schema_validate_and_plan_read(cli: Cli, tmp_path: Path) -> None:
    assert cli("init", str(tmp_path / "demo")).exit_code == 0
    result = cli("schema", "validate", "--project-dir", str(tmp_path / "demo"))
    assert result.exit_code == 0 and "demo/schemas: 2 tables, 22 fields, 4 endpoints" in result.stdout


def test_an_existing_file_is_named_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "busy"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "index.js").write_text("// mine\n")
    (folder / "package.json").write_text("{}\n")
    before = snapshot(folder)

    result = cli("init", str(folder))

    assert result.exit_code == 64
    assert "package.json, src/index.js; nothing was written" in result.stderr
    assert snapshot(folder) == before


def test_a_starter_wrangler_toml_and_a_gitignore_are_merged_keeping_what_they_hold(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "merge"
    folder.mkdir()
    (folder / "wrangler.toml").write_text(starter_wrangler_toml("kept-name") + "\n[vars]\nMINE = \"1\"\n")
    (folder / ".gitignore").write_text("dist/\n.dev.vars*\n")

    result = cli("init", str(folder), "--json")

    assert result.exit_code == 0, result.stderr
    merged = json.loads(result.stdout)["merged"]
    assert set(merged) == {"wrangler.toml", ".gitignore"}
    text = (folder / "wrangler.toml").read_text()
    wrangler = tomlkit.parse(text).unwrap()
    assert (wrangler["name"], wrangler["main"], wrangler["vars"]) == ("kept-name", "src/index.js", {"MINE": "1"})
    assert "nodejs_compat" in wrangler["compatibility_flags"]
    assert text.startswith(starter_wrangler_toml("kept-name").splitlines()[0])  # its comments are kept
    assert (folder / ".gitignore").read_text().startswith("dist/\n.dev.vars*\n")
    assert ".dev.vars*" not in merged[".gitignore"] and "node_modules/" in merged[".gitignore"]


def test_a_wrangler_toml_running_another_worker_is_a_conflict(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "wrangler.toml").write_text('name = "x"\nmain = "dist/worker.js"\n')
    result = cli("init", str(folder))
    assert result.exit_code == 64
    assert "its main is 'dist/worker.js'" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["wrangler.toml"]
